/**
 * Recordings from segments: a recording is the contiguous run of segments of a stream between
 * two gaps. Pure, so the API and the UI timeline share one definition of "gap".
 */

export interface TimedSegment {
  startTimeMs: number;
  endTimeMs: number;
}

export interface Span {
  startTimeMs: number;
  endTimeMs: number;
}

/**
 * Segments of one timeline abut exactly; across reconnects the camera was away. A gap shorter than
 * this is rounding, not a gap.
 */
export const GAP_TOLERANCE_MS = 1000;

/** Merges segments (sorted by start) into recordings, clipped to [fromMs, toMs). */
export function recordingSpans(segments: readonly TimedSegment[], fromMs: number, toMs: number): Span[] {
  const spans: Span[] = [];
  for (const segment of segments) {
    const start = Math.max(segment.startTimeMs, fromMs);
    const end = Math.min(segment.endTimeMs, toMs);
    if (end <= start) continue;
    const last = spans.at(-1);
    if (last && start - last.endTimeMs <= GAP_TOLERANCE_MS) last.endTimeMs = Math.max(last.endTimeMs, end);
    else spans.push({ startTimeMs: start, endTimeMs: end });
  }
  return spans;
}

/** The complement of the spans within [fromMs, toMs). */
export function gapsBetween(spans: readonly Span[], fromMs: number, toMs: number): Span[] {
  const gaps: Span[] = [];
  let cursor = fromMs;
  for (const span of spans) {
    if (span.startTimeMs > cursor) gaps.push({ startTimeMs: cursor, endTimeMs: span.startTimeMs });
    cursor = Math.max(cursor, span.endTimeMs);
  }
  if (cursor < toMs) gaps.push({ startTimeMs: cursor, endTimeMs: toMs });
  return gaps;
}
