import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketStart, formatLocalMinute, zoneOffsetMs } from '../../src/time/zone-buckets.js';

const at = (iso: string) => Date.parse(iso);

test('minutes are UTC minutes', () => {
  assert.equal(
    bucketStart(at('2026-06-01T10:17:42.5Z'), 'minute', 'Europe/Berlin'),
    at('2026-06-01T10:17:00Z'),
  );
});

test('hours and days follow the zone, half-hour offsets included', () => {
  assert.equal(zoneOffsetMs(at('2026-06-01T10:00:00Z'), 'Europe/Berlin'), 2 * 3_600_000);
  assert.equal(bucketStart(at('2026-06-01T10:17:00Z'), 'hour', 'Asia/Kolkata'), at('2026-06-01T09:30:00Z'));
  assert.equal(bucketStart(at('2026-06-01T10:17:00Z'), 'day', 'Europe/Berlin'), at('2026-05-31T22:00:00Z'));
  assert.equal(bucketStart(at('2026-06-01T23:30:00Z'), 'day', 'Europe/Berlin'), at('2026-06-01T22:00:00Z'));
  assert.equal(
    bucketStart(at('2026-06-01T03:00:00Z'), 'day', 'America/New_York'),
    at('2026-05-31T04:00:00Z'),
  );
  assert.equal(bucketStart(at('2026-06-01T03:00:00Z'), 'day', 'UTC'), at('2026-06-01T00:00:00Z'));
});

test('a day across a daylight-saving change starts at local midnight', () => {
  // Europe/Berlin went to summer time on 2026-03-29 at 01:00 UTC: that day starts at 23:00 UTC
  // the day before (winter time), and lasts 23 hours.
  assert.equal(bucketStart(at('2026-03-29T12:00:00Z'), 'day', 'Europe/Berlin'), at('2026-03-28T23:00:00Z'));
  assert.equal(bucketStart(at('2026-03-29T22:30:00Z'), 'day', 'Europe/Berlin'), at('2026-03-29T22:00:00Z'));
  assert.equal(formatLocalMinute(at('2026-03-28T23:00:00Z'), 'Europe/Berlin'), '2026-03-29 00:00');
});
