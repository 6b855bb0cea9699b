import type { RuleSchedule, Weekday } from '../contract/rules.js';

export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

const DAY_MINUTES = 24 * 60;
const TIME_RANGE = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/;

/** A time range in minutes after local midnight; end ≤ start runs over midnight. */
export interface MinuteRange {
  startMinute: number;
  endMinute: number;
}

/** "08:00-20:00" → minutes; null when it is not such a range (24:00 only as an end, never empty). */
export function parseTimeRange(text: string): MinuteRange | null {
  const match = TIME_RANGE.exec(text);
  if (!match) return null;
  const startMinute = Number(match[1]) * 60 + Number(match[2]);
  const endMinute = Number(match[3]) * 60 + Number(match[4]);
  if (endMinute > DAY_MINUTES || startMinute === endMinute) return null;
  return { startMinute, endMinute };
}

/** The wall clock of a place at an instant: its weekday and minutes after its midnight. */
export interface LocalTime {
  weekday: Weekday;
  minute: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (!format) {
    // Intl carries the IANA database: the offset of each instant, daylight saving included.
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(timeZone, format);
  }
  return format;
}

export function localTime(timeMs: number, timeZone: string): LocalTime {
  const parts = formatFor(timeZone).formatToParts(new Date(timeMs));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  const weekday = part('weekday').slice(0, 3).toLowerCase() as Weekday;
  return { weekday, minute: Number(part('hour')) * 60 + Number(part('minute')) };
}

function previousDay(day: Weekday): Weekday {
  return WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7] as Weekday;
}

/** Whether a local time falls in a range that starts on one of the days. */
function inRange(range: MinuteRange, days: ReadonlySet<Weekday>, at: LocalTime): boolean {
  if (range.startMinute < range.endMinute) {
    return days.has(at.weekday) && at.minute >= range.startMinute && at.minute < range.endMinute;
  }
  // Over midnight: the evening part on a listed day, the morning part on the day after one.
  if (days.has(at.weekday) && at.minute >= range.startMinute) return true;
  return days.has(previousDay(at.weekday)) && at.minute < range.endMinute;
}

/**
 * Whether the schedule is on at an instant, judged by the wall clock of the time zone: on the
 * spring change a range inside the skipped hour never starts; on the autumn change the repeated
 * hour counts twice (both 01:30s are in "01:00-02:00"). Null schedule: always on.
 */
export function scheduleActive(schedule: RuleSchedule | null, timeMs: number, timeZone: string): boolean {
  if (schedule === null) return true;
  const at = localTime(timeMs, timeZone);
  const days = new Set(schedule.days);
  return schedule.times.some((text) => {
    const range = parseTimeRange(text);
    return range !== null && inRange(range, days, at);
  });
}
