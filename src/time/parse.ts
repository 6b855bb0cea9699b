import { VigilError } from '../errors/catalogue.js';

/** Epoch milliseconds from an API time parameter: ISO-8601 text or epoch milliseconds. */
export function parseTimeParam(name: string, value: string): number {
  const trimmed = value.trim();
  if (/^-?\d+$/.test(trimmed)) return Number(trimmed);
  // Date.parse accepts many loose forms; insist on ISO-8601 so "yesterday" is an error, not NaN later.
  if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed)) {
    const ms = Date.parse(trimmed);
    if (Number.isFinite(ms)) return ms;
  }
  throw new VigilError(
    'TIME_INVALID',
    `'${name}' must be an ISO-8601 time (2026-11-26T10:00:00Z) or epoch milliseconds, got '${value}'`,
    { parameter: name },
  );
}

export interface TimeRange {
  fromMs: number;
  toMs: number;
}

/** A validated [from, to) range; `to` defaults to now, `from` to `to - defaultSpanMs`. */
export function parseRangeParams(
  query: { from?: string; to?: string },
  nowMs: number,
  opts: { defaultSpanMs: number; maxSpanMs: number },
): TimeRange {
  const toMs = query.to !== undefined ? parseTimeParam('to', query.to) : nowMs;
  const fromMs = query.from !== undefined ? parseTimeParam('from', query.from) : toMs - opts.defaultSpanMs;
  if (toMs <= fromMs) {
    throw new VigilError('RANGE_INVALID', `'to' (${toMs}) must be after 'from' (${fromMs})`);
  }
  if (toMs - fromMs > opts.maxSpanMs) {
    throw new VigilError(
      'RANGE_INVALID',
      `the range is ${Math.round((toMs - fromMs) / 3600000)} h long; at most ${opts.maxSpanMs / 3600000} h per request`,
    );
  }
  return { fromMs, toMs };
}
