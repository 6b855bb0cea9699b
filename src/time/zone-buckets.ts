/**
 * Calendar buckets (minute, hour, day) in an IANA time zone, daylight-saving changes included:
 * a day in Europe/Berlin starts at 23:00 or 22:00 UTC, an hour in Asia/Kolkata at :30 UTC.
 */
export type BucketSize = 'minute' | 'hour' | 'day';

const MINUTE_MS = 60_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** The wall-clock reading in the zone at `timeMs`, as if it were UTC (epoch ms, whole seconds). */
function localAsUtc(timeMs: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(timeMs)))
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  return Date.UTC(
    parts['year']!,
    parts['month']! - 1,
    parts['day']!,
    parts['hour']!,
    parts['minute']!,
    parts['second']!,
  );
}

/** The zone's offset from UTC at `timeMs` (positive east of Greenwich). */
export function zoneOffsetMs(timeMs: number, timeZone: string): number {
  const whole = Math.floor(timeMs / 1000) * 1000;
  return localAsUtc(whole, timeZone) - whole;
}

/** Start (epoch ms) of the minute, hour or day in `timeZone` that holds `timeMs`. */
export function bucketStart(timeMs: number, size: BucketSize, timeZone: string): number {
  if (size === 'minute') return Math.floor(timeMs / MINUTE_MS) * MINUTE_MS;
  const local = timeMs + zoneOffsetMs(timeMs, timeZone);
  const day = new Date(local);
  const truncated =
    size === 'hour'
      ? Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), day.getUTCHours())
      : Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate());
  // The offset at the bucket's start may differ (a day that starts before a DST change).
  const guess = truncated - zoneOffsetMs(timeMs, timeZone);
  const start = truncated - zoneOffsetMs(guess, timeZone);
  return start <= timeMs ? start : guess;
}

/** The bucket's start as the zone's wall clock reads it: "2026-03-29 00:00". */
export function formatLocalMinute(timeMs: number, timeZone: string): string {
  return new Date(localAsUtc(timeMs, timeZone)).toISOString().slice(0, 16).replace('T', ' ');
}
