import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RuleSchedule } from '../../../src/contract/rules.js';
import { localTime, parseTimeRange, scheduleActive } from '../../../src/rules/schedule.js';

const MINUTE_MS = 60_000;
const everyDay: RuleSchedule['days'] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** Instants one minute apart from `fromIso` for `minutes`, and which of them the schedule covers. */
function activeMinutes(schedule: RuleSchedule, fromIso: string, minutes: number, zone: string): number {
  const startMs = Date.parse(fromIso);
  let active = 0;
  for (let i = 0; i < minutes; i += 1)
    if (scheduleActive(schedule, startMs + i * MINUTE_MS, zone)) active += 1;
  return active;
}

describe('rule schedules', () => {
  test('time ranges: HH:MM-HH:MM, 24:00 only as an end, never empty', () => {
    assert.deepEqual(parseTimeRange('08:00-20:00'), { startMinute: 480, endMinute: 1200 });
    assert.deepEqual(parseTimeRange('22:00-06:30'), { startMinute: 1320, endMinute: 390 });
    assert.deepEqual(parseTimeRange('00:00-24:00'), { startMinute: 0, endMinute: 1440 });
    for (const bad of ['8:00-20:00', '24:00-01:00', '10:00-10:00', '10:60-11:00', '10:00', '10:00-24:01']) {
      assert.equal(parseTimeRange(bad), null, bad);
    }
  });

  test('no schedule: always on', () => {
    assert.ok(scheduleActive(null, Date.parse('2026-03-29T01:30:00Z'), 'Europe/Berlin'));
  });

  test('days and hours in the site time zone, not UTC', () => {
    const schedule: RuleSchedule = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], times: ['08:00-20:00'] };
    // Friday 2026-01-09 19:30 in Berlin is 18:30 UTC: on. 20:30 Berlin (19:30 UTC): off.
    assert.ok(scheduleActive(schedule, Date.parse('2026-01-09T18:30:00Z'), 'Europe/Berlin'));
    assert.ok(!scheduleActive(schedule, Date.parse('2026-01-09T19:30:00Z'), 'Europe/Berlin'));
    // The same instant is 13:30 in New York: on; 07:30 Berlin time on Friday is before 08:00: off.
    assert.ok(scheduleActive(schedule, Date.parse('2026-01-09T18:30:00Z'), 'America/New_York'));
    assert.ok(!scheduleActive(schedule, Date.parse('2026-01-09T06:30:00Z'), 'Europe/Berlin'));
    // Saturday is not listed.
    assert.ok(!scheduleActive(schedule, Date.parse('2026-01-10T12:00:00Z'), 'Europe/Berlin'));
  });

  test('a range over midnight belongs to the day it starts on', () => {
    const schedule: RuleSchedule = { days: ['fri'], times: ['22:00-06:00'] };
    const zone = 'Europe/Berlin';
    // Friday 23:00 and Saturday 05:00 Berlin time: on; Saturday 23:00 and Friday 05:00: off.
    assert.ok(scheduleActive(schedule, Date.parse('2026-01-09T22:00:00Z'), zone));
    assert.ok(scheduleActive(schedule, Date.parse('2026-01-10T04:00:00Z'), zone));
    assert.ok(!scheduleActive(schedule, Date.parse('2026-01-10T22:00:00Z'), zone));
    assert.ok(!scheduleActive(schedule, Date.parse('2026-01-09T04:00:00Z'), zone));
    assert.deepEqual(localTime(Date.parse('2026-01-10T04:00:00Z'), zone), { weekday: 'sat', minute: 300 });
  });

  test('Berlin, spring (29 March 2026): 02:30 does not exist, so a range inside the gap never starts', () => {
    const zone = 'Europe/Berlin';
    // 00:00 UTC is 01:00 CET; at 01:00 UTC the clocks go from 02:00 CET to 03:00 CEST.
    assert.deepEqual(localTime(Date.parse('2026-03-29T00:59:00Z'), zone), { weekday: 'sun', minute: 119 });
    assert.deepEqual(localTime(Date.parse('2026-03-29T01:00:00Z'), zone), { weekday: 'sun', minute: 180 });
    const gap: RuleSchedule = { days: everyDay, times: ['02:15-02:45'] };
    assert.equal(activeMinutes(gap, '2026-03-28T23:00:00Z', 300, zone), 0);
    // 02:30-03:30 on that day is the half hour from 03:00 to 03:30: 30 minutes, not 60.
    const across: RuleSchedule = { days: everyDay, times: ['02:30-03:30'] };
    assert.equal(activeMinutes(across, '2026-03-28T23:00:00Z', 300, zone), 30);
    // 01:00-04:00 that night lasts two real hours.
    const night: RuleSchedule = { days: everyDay, times: ['01:00-04:00'] };
    assert.equal(activeMinutes(night, '2026-03-28T23:00:00Z', 300, zone), 120);
  });

  test('Berlin, autumn (25 October 2026): 02:30 happens twice, and both count', () => {
    const zone = 'Europe/Berlin';
    // 00:30 UTC is 02:30 CEST; 01:30 UTC is 02:30 CET.
    assert.deepEqual(localTime(Date.parse('2026-10-25T00:30:00Z'), zone).minute, 150);
    assert.deepEqual(localTime(Date.parse('2026-10-25T01:30:00Z'), zone).minute, 150);
    const hour: RuleSchedule = { days: ['sun'], times: ['02:00-03:00'] };
    assert.ok(scheduleActive(hour, Date.parse('2026-10-25T00:30:00Z'), zone));
    assert.ok(scheduleActive(hour, Date.parse('2026-10-25T01:30:00Z'), zone));
    assert.equal(activeMinutes(hour, '2026-10-24T22:00:00Z', 300, zone), 120);
  });

  test('New York, spring (8 March 2026) and autumn (1 November 2026)', () => {
    const zone = 'America/New_York';
    // Spring: at 07:00 UTC, 02:00 EST becomes 03:00 EDT; 02:30 does not exist.
    assert.deepEqual(localTime(Date.parse('2026-03-08T06:59:00Z'), zone), { weekday: 'sun', minute: 119 });
    assert.deepEqual(localTime(Date.parse('2026-03-08T07:00:00Z'), zone), { weekday: 'sun', minute: 180 });
    const gap: RuleSchedule = { days: ['sun'], times: ['02:00-03:00'] };
    assert.equal(activeMinutes(gap, '2026-03-08T04:00:00Z', 360, zone), 0);
    // Autumn: at 06:00 UTC, 02:00 EDT becomes 01:00 EST; 01:30 happens at 05:30 and 06:30 UTC.
    assert.equal(localTime(Date.parse('2026-11-01T05:30:00Z'), zone).minute, 90);
    assert.equal(localTime(Date.parse('2026-11-01T06:30:00Z'), zone).minute, 90);
    const repeated: RuleSchedule = { days: ['sun'], times: ['01:00-02:00'] };
    assert.equal(activeMinutes(repeated, '2026-11-01T03:00:00Z', 360, zone), 120);
    // A whole evening-to-morning range over the change: 22:00 Sat to 06:00 Sun is 9 real hours.
    const overnight: RuleSchedule = { days: ['sat'], times: ['22:00-06:00'] };
    assert.equal(activeMinutes(overnight, '2026-10-31T20:00:00Z', 16 * 60, zone), 9 * 60);
  });
});
