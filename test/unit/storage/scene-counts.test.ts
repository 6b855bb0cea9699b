import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { SceneFact, SceneObject } from '../../../src/contract/scene.js';
import { openDatabase, type Db } from '../../../src/storage/db.js';
import { SceneCountStore } from '../../../src/storage/scene-counts.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-scene-counts-'));
let db: Db;
let store: SceneCountStore;

before(async () => {
  db = await openDatabase(join(dir, 'index.sqlite'));
  store = new SceneCountStore(db);
});

after(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const at = (iso: string) => Date.parse(iso);
const person: SceneObject = { eventId: 1, trackId: 1, label: 'person', score: 0.9, areaFraction: 0.01 };

function crossed(iso: string, direction: 'a-to-b' | 'b-to-a', cameraId = 'path'): SceneFact {
  return { type: 'line-crossed', cameraId, lineId: 'walk', direction, object: person, timeMs: at(iso) };
}

test('crossings per minute, hour and day; days begin at midnight in the site time zone', async () => {
  // Europe/Berlin is UTC+1 in winter: 22:59 UTC is 23:59 on the 4th, 23:01 UTC is 00:01 on the 5th.
  for (const fact of [
    crossed('2026-12-04T22:59:10Z', 'a-to-b'),
    crossed('2026-12-04T22:59:50Z', 'a-to-b'),
    crossed('2026-12-04T23:01:00Z', 'a-to-b'),
    crossed('2026-12-04T23:01:30Z', 'b-to-a'),
    crossed('2026-12-04T23:01:30Z', 'b-to-a', 'other'),
  ])
    await store.record(fact);
  const from = at('2026-12-04T00:00:00Z');
  const to = at('2026-12-06T00:00:00Z');
  const minutes = await store.counts('path', from, to, 'minute', 'Europe/Berlin');
  const aToB = minutes.lines.find((l) => l.direction === 'a-to-b');
  assert.deepEqual(aToB?.buckets, [
    { startTimeMs: at('2026-12-04T22:59:00Z'), count: 2 },
    { startTimeMs: at('2026-12-04T23:01:00Z'), count: 1 },
  ]);
  const days = await store.counts('path', from, to, 'day', 'Europe/Berlin');
  assert.deepEqual(days.lines.find((l) => l.direction === 'a-to-b')?.buckets, [
    { startTimeMs: at('2026-12-03T23:00:00Z'), count: 2 },
    { startTimeMs: at('2026-12-04T23:00:00Z'), count: 1 },
  ]);
  assert.deepEqual(days.lines.find((l) => l.direction === 'b-to-a')?.buckets, [
    { startTimeMs: at('2026-12-04T23:00:00Z'), count: 1 },
  ]);
  const utcDays = await store.counts('path', from, to, 'day', 'UTC');
  assert.equal(utcDays.lines.find((l) => l.direction === 'a-to-b')?.buckets.length, 1, 'one UTC day');
});

test('zone entries and the peak occupancy of each minute', async () => {
  const zone = (type: 'zone-entered', iso: string): SceneFact => ({
    type,
    cameraId: 'yard',
    zoneId: 'door',
    object: person,
    timeMs: at(iso),
  });
  await store.record(zone('zone-entered', '2026-12-05T10:00:05Z'));
  await store.record(zone('zone-entered', '2026-12-05T10:00:20Z'));
  await store.record({
    type: 'zone-occupancy',
    cameraId: 'yard',
    zoneId: 'door',
    counts: { person: 2 },
    timeMs: at('2026-12-05T10:00:20Z'),
  });
  await store.record({
    type: 'zone-occupancy',
    cameraId: 'yard',
    zoneId: 'door',
    counts: { person: 1 },
    timeMs: at('2026-12-05T10:00:40Z'),
  });
  // Nobody entered in the next minute, but one person was still inside.
  await store.occupancy('yard', 'door', { person: 1 }, at('2026-12-05T10:01:10Z'));
  const counts = await store.counts(
    'yard',
    at('2026-12-05T10:00:00Z'),
    at('2026-12-05T11:00:00Z'),
    'minute',
    'UTC',
  );
  assert.deepEqual(counts.zones, [
    {
      zoneId: 'door',
      label: 'person',
      buckets: [
        { startTimeMs: at('2026-12-05T10:00:00Z'), entries: 2, maxOccupancy: 2 },
        { startTimeMs: at('2026-12-05T10:01:00Z'), entries: 0, maxOccupancy: 1 },
      ],
    },
  ]);
  const hour = await store.counts(
    'yard',
    at('2026-12-05T10:00:00Z'),
    at('2026-12-05T11:00:00Z'),
    'hour',
    'UTC',
  );
  assert.deepEqual(hour.zones[0]?.buckets, [
    { startTimeMs: at('2026-12-05T10:00:00Z'), entries: 2, maxOccupancy: 2 },
  ]);
  assert.deepEqual(hour.lines, []);
});
