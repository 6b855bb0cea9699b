import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  planRetention,
  type RetentionInput,
  type RetentionSegment,
} from '../../src/storage/retention-plan.js';

const HOUR = 3_600_000;
const NOW = 1_800_000_000_000;

function seg(id: number, cameraId: string, ageHours: number, byteLength = 100): RetentionSegment {
  const startTimeMs = NOW - ageHours * HOUR;
  return { id, cameraId, startTimeMs, endTimeMs: startTimeMs + 60_000, byteLength };
}

function input(partial: Partial<RetentionInput>): RetentionInput {
  return {
    nowMs: NOW,
    segments: [],
    holds: [],
    maxAgeMs: () => 72 * HOUR,
    maxBytes: null,
    usedBytes: 0,
    freeBytes: 1e12,
    minFreeBytes: 0,
    ...partial,
  };
}

test('deletes segments older than the camera limit, keeps younger ones', () => {
  const plan = planRetention(input({ segments: [seg(1, 'a', 80), seg(2, 'a', 10), seg(3, 'b', 80)] }));
  assert.deepEqual(plan.deletions, [
    { id: 1, reason: 'age' },
    { id: 3, reason: 'age' },
  ]);
});

test('per-camera age limits apply to their camera only', () => {
  const plan = planRetention(
    input({
      segments: [seg(1, 'a', 30), seg(2, 'b', 30)],
      maxAgeMs: (id) => (id === 'a' ? 24 * HOUR : 72 * HOUR),
    }),
  );
  assert.deepEqual(plan.deletions, [{ id: 1, reason: 'age' }]);
});

test('over the byte budget, deletes the oldest across cameras until under it', () => {
  const segments = [seg(1, 'a', 5), seg(2, 'b', 4), seg(3, 'a', 3), seg(4, 'b', 2)];
  const plan = planRetention(input({ segments, maxBytes: 250, usedBytes: 400 }));
  assert.deepEqual(plan.deletions, [
    { id: 1, reason: 'quota' },
    { id: 2, reason: 'quota' },
  ]);
  assert.equal(plan.shortfallBytes, 0);
});

test('below the free-space floor, deletes oldest until the floor is met', () => {
  const segments = [seg(1, 'a', 5, 1000), seg(2, 'a', 4, 1000), seg(3, 'a', 3, 1000)];
  const plan = planRetention(input({ segments, freeBytes: 500, minFreeBytes: 2000 }));
  assert.deepEqual(
    plan.deletions.map((d) => [d.id, d.reason]),
    [
      [1, 'free-space'],
      [2, 'free-space'],
    ],
  );
});

test('held segments survive age and quota, and the shortfall is reported', () => {
  const segments = [seg(1, 'a', 100), seg(2, 'a', 90)];
  const held = {
    cameraId: 'a',
    startTimeMs: segments[0]!.startTimeMs,
    endTimeMs: segments[1]!.endTimeMs,
    untilMs: null,
  };
  const plan = planRetention(input({ segments, holds: [held], maxBytes: 50, usedBytes: 200 }));
  assert.deepEqual(plan.deletions, []);
  assert.equal(plan.shortfallBytes, 150);
});

test('a lapsed hold or another camera’s hold protects nothing', () => {
  const segments = [seg(1, 'a', 100), seg(2, 'b', 100)];
  const lapsed = { cameraId: 'a', startTimeMs: 0, endTimeMs: NOW, untilMs: NOW - 1 };
  const other = { cameraId: 'c', startTimeMs: 0, endTimeMs: NOW, untilMs: null };
  const plan = planRetention(input({ segments, holds: [lapsed, other] }));
  assert.deepEqual(
    plan.deletions.map((d) => d.id),
    [1, 2],
  );
});

test('a hold for all cameras (null camera) protects every camera', () => {
  const segments = [seg(1, 'a', 100), seg(2, 'b', 100)];
  const plan = planRetention(
    input({ segments, holds: [{ cameraId: null, startTimeMs: 0, endTimeMs: NOW, untilMs: null }] }),
  );
  assert.deepEqual(plan.deletions, []);
});

test('nothing to do within limits', () => {
  const plan = planRetention(input({ segments: [seg(1, 'a', 1)], maxBytes: 1000, usedBytes: 100 }));
  assert.deepEqual(plan, { deletions: [], shortfallBytes: 0, evidenceOnlyCameras: [] });
});

test('under pressure, a camera whose recordings are all held must stop; one with its own to give back records on', () => {
  const segments = [seg(1, 'locked', 5), seg(2, 'locked', 4), seg(3, 'free', 5), seg(4, 'free', 4)];
  const holds = [{ cameraId: 'locked', startTimeMs: NOW - 6 * HOUR, endTimeMs: NOW, untilMs: null }];
  const squeezed = planRetention(input({ segments, holds, maxBytes: 300, usedBytes: 400 }));
  assert.deepEqual(squeezed.deletions, [{ id: 3, reason: 'quota' }]);
  assert.deepEqual(squeezed.evidenceOnlyCameras, ['locked']);
  // Everything the free camera had is gone and the budget is still not met: still only 'locked'
  // (a camera with no recording at all has nothing locked either).
  const full = planRetention(input({ segments: segments.slice(0, 3), holds, maxBytes: 100, usedBytes: 300 }));
  assert.equal(full.shortfallBytes, 100);
  assert.deepEqual(full.evidenceOnlyCameras, ['locked']);
  // No pressure: nobody stops, however much is held.
  assert.deepEqual(
    planRetention(input({ segments, holds, maxBytes: 1000, usedBytes: 400 })).evidenceOnlyCameras,
    [],
  );
  // Age deletions alone are no pressure either.
  const aged = planRetention(input({ segments: [...segments, seg(5, 'free', 100)], holds, usedBytes: 500 }));
  assert.deepEqual(aged.evidenceOnlyCameras, []);
  // An expired hold protects nothing: the camera has its own to give back.
  const lapsed = [{ ...holds[0]!, untilMs: NOW - 1 }];
  assert.deepEqual(
    planRetention(input({ segments, holds: lapsed, maxBytes: 300, usedBytes: 400 })).evidenceOnlyCameras,
    [],
  );
  // A stopped camera stays stopped until there is room to spare, not merely no pressure now.
  const stoppedCameras = new Set(['locked']);
  const calm = { segments, holds, stoppedCameras, maxBytes: 1000 };
  assert.deepEqual(planRetention(input({ ...calm, usedBytes: 950 })).evidenceOnlyCameras, ['locked']);
  assert.deepEqual(planRetention(input({ ...calm, usedBytes: 400 })).evidenceOnlyCameras, []);
  const floor = { segments, holds, stoppedCameras, minFreeBytes: 100 };
  assert.deepEqual(planRetention(input({ ...floor, freeBytes: 150 })).evidenceOnlyCameras, ['locked']);
  assert.deepEqual(planRetention(input({ ...floor, freeBytes: 200 })).evidenceOnlyCameras, []);
});
