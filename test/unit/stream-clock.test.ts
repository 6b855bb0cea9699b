import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StreamClock } from '../../src/time/stream-clock.js';

const TS = 90_000;
const T0 = 1_800_000_000_000;

/** A camera delivering 1 s fragments; `rate` > 1 means its clock runs fast. */
function feed(
  clock: StreamClock,
  timelineId: number,
  seconds: number,
  opts: { rate?: number; delayMs?: number; t0?: number } = {},
) {
  const rate = opts.rate ?? 1;
  const placed = [];
  for (let i = 0; i < seconds; i += 1) {
    const startTicks = Math.round(i * TS * rate);
    const endTicks = Math.round((i + 1) * TS * rate);
    const arrivedAtMs = (opts.t0 ?? T0) + (i + 1) * 1000 + (opts.delayMs ?? 0);
    placed.push(clock.place({ timelineId, startTicks, endTicks, timescale: TS, arrivedAtMs }));
  }
  return placed;
}

test('fragments of a timeline keep the camera’s spacing, anchored at arrival', () => {
  const clock = new StreamClock(null);
  const placed = feed(clock, 1, 5);
  assert.deepEqual(placed[0], { startMs: T0, endMs: T0 + 1000 });
  assert.deepEqual(placed[4], { startMs: T0 + 4000, endMs: T0 + 5000 });
});

test('a burst of buffered fragments at connect moves the first segment earlier', () => {
  const clock = new StreamClock(null);
  // The first three fragments arrive together, 2 s late; the rest in real time.
  const arrivals = [T0 + 3000, T0 + 3000, T0 + 3000, T0 + 4000, T0 + 5000];
  arrivals.forEach((arrivedAtMs, i) =>
    clock.place({ timelineId: 1, startTicks: i * TS, endTicks: (i + 1) * TS, timescale: TS, arrivedAtMs }),
  );
  assert.equal(clock.wallMs(0), T0);
});

test('a new timeline never starts before the last stored end (wall clock stepped back)', () => {
  const clock = new StreamClock(T0 + 10_000);
  const placed = feed(clock, 1, 2);
  assert.equal(placed[0]!.startMs, T0 + 10_000);
});

test('drift beyond the tolerance is corrected at the next segment boundary', () => {
  const clock = new StreamClock(null, 250);
  // Camera clock 1% slow: after 60 s of media, 60.6 s of real time passed.
  feed(clock, 1, 60, { rate: 0.99 });
  const boundaryTicks = Math.round(60 * TS * 0.99);
  const before = clock.wallMs(boundaryTicks);
  const boundary = clock.rollAt(boundaryTicks, T0);
  assert.equal(boundary.closedEndMs, before);
  assert.ok(
    boundary.nextStartMs - before > 250,
    `expected a correction, got ${boundary.nextStartMs - before} ms`,
  );
  assert.ok(boundary.nextStartMs - before < 1000);
});

test('a fast camera clock shortens the closed segment instead of overlapping', () => {
  const clock = new StreamClock(null, 250);
  feed(clock, 1, 60, { rate: 1.01 });
  const boundaryTicks = Math.round(60 * TS * 1.01);
  const boundary = clock.rollAt(boundaryTicks, T0);
  assert.ok(boundary.closedEndMs <= boundary.nextStartMs);
  assert.ok(clock.wallMs(boundaryTicks) === boundary.nextStartMs);
  assert.ok(boundary.nextStartMs < T0 + 60_600 - 250);
});

test('over an hour of 60 s segments, a 100 ppm clock error stays under 1 s', () => {
  const clock = new StreamClock(null, 250);
  const rate = 1.0001;
  let segmentStartMs = T0;
  for (let minute = 0; minute < 60; minute += 1) {
    for (let s = 0; s < 60; s += 1) {
      const i = minute * 60 + s;
      clock.place({
        timelineId: 1,
        startTicks: Math.round(i * TS * rate),
        endTicks: Math.round((i + 1) * TS * rate),
        timescale: TS,
        arrivedAtMs: T0 + (i + 1) * 1000,
      });
    }
    segmentStartMs = clock.rollAt(Math.round((minute + 1) * 60 * TS * rate), segmentStartMs).nextStartMs;
  }
  assert.ok(
    Math.abs(segmentStartMs - (T0 + 3600_000)) < 1000,
    `drift ${segmentStartMs - (T0 + 3600_000)} ms`,
  );
});
