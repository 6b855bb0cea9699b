import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BoxKalmanFilter,
  Tracker,
  assignMinCost,
  type TrackerDetection,
} from '../../../src/analytics/tracking/index.js';
import { invert4 } from '../../../src/analytics/tracking/kalman.js';
import { seededRandom } from './helpers.js';

function permutations(n: number, k: number): number[][] {
  // All injective maps from k rows into n columns.
  if (k === 0) return [[]];
  const out: number[][] = [];
  for (const rest of permutations(n, k - 1)) {
    for (let c = 0; c < n; c++) if (!rest.includes(c)) out.push([...rest, c]);
  }
  return out;
}

function bruteForceMinCost(cost: number[][]): number {
  const rows = cost.length;
  const columns = cost[0]!.length;
  if (rows <= columns) {
    return Math.min(
      ...permutations(columns, rows).map((cols) => cols.reduce((sum, c, r) => sum + cost[r]![c]!, 0)),
    );
  }
  return Math.min(
    ...permutations(rows, columns).map((rs) => rs.reduce((sum, r, c) => sum + cost[r]![c]!, 0)),
  );
}

test('Hungarian assignment matches brute force on random rectangular matrices', () => {
  const random = seededRandom(42);
  for (let round = 0; round < 300; round++) {
    const rows = 1 + Math.floor(random() * 5);
    const columns = 1 + Math.floor(random() * 5);
    // Integer costs with ties, sometimes, to exercise degenerate cases.
    const integers = random() < 0.5;
    const cost = Array.from({ length: rows }, () =>
      Array.from({ length: columns }, () => (integers ? Math.floor(random() * 4) : random() * 10)),
    );
    const assignment = assignMinCost(cost);
    const used = new Set<number>();
    let total = 0;
    let assigned = 0;
    assignment.forEach((c, r) => {
      if (c < 0) return;
      assert.ok(!used.has(c), 'a column is assigned twice');
      used.add(c);
      total += cost[r]![c]!;
      assigned += 1;
    });
    assert.equal(assigned, Math.min(rows, columns));
    assert.ok(Math.abs(total - bruteForceMinCost(cost)) < 1e-9, `round ${round}: ${JSON.stringify(cost)}`);
  }
});

test('Hungarian assignment of an empty matrix', () => {
  assert.deepEqual([...assignMinCost([])], []);
  assert.deepEqual([...assignMinCost([[], []])], [-1, -1]);
});

test('invert4 inverts a well-conditioned matrix', () => {
  const a = Float64Array.from([4, 1, 0, 2, 1, 3, 1, 0, 0, 1, 5, 1, 2, 0, 1, 6]);
  const inv = invert4(a);
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      let sum = 0;
      for (let k = 0; k < 4; k++) sum += a[i * 4 + k]! * inv[k * 4 + j]!;
      assert.ok(Math.abs(sum - (i === j ? 1 : 0)) < 1e-12);
    }
  }
});

test('Kalman filter learns a constant velocity and predicts ahead', () => {
  const box = (t: number) => ({ x: 100 + 10 * t, y: 50 + 4 * t, width: 40, height: 80 });
  const filter = new BoxKalmanFilter(box(0));
  for (let t = 1; t <= 15; t++) {
    filter.predict(1);
    filter.update(box(t));
  }
  const ahead = filter.peek(2);
  const expected = box(17);
  assert.ok(Math.abs(ahead.x - expected.x) < 1, JSON.stringify(ahead));
  assert.ok(Math.abs(ahead.y - expected.y) < 1, JSON.stringify(ahead));
  assert.ok(Math.abs(ahead.width - 40) < 1 && Math.abs(ahead.height - 80) < 1, JSON.stringify(ahead));
});

const person = (x: number, y: number, score = 0.8): TrackerDetection => ({
  box: { x, y, width: 30, height: 80 },
  label: 'person',
  score,
});

test('a track is confirmed after minHits and gets a stable id; ended after maxMisses misses', () => {
  const tracker = new Tracker({ minHits: 3, maxMisses: 2 });
  let t = 0;
  const first = tracker.update([person(100, 100)], t);
  assert.equal(first.active.length, 0);
  assert.equal(first.tentative.length, 1);
  const id = first.tentative[0]!.id;
  assert.equal(tracker.update([person(105, 100)], (t += 200)).confirmedNow.length, 0);
  const third = tracker.update([person(110, 100)], (t += 200));
  assert.deepEqual(
    third.confirmedNow.map((track) => track.id),
    [id],
  );
  assert.equal(third.active[0]!.state, 'confirmed');
  // Two misses are survived, the third ends the track.
  assert.equal(tracker.update([], (t += 200)).active.length, 1);
  assert.equal(tracker.update([], (t += 200)).active.length, 1);
  const gone = tracker.update([], (t += 200));
  assert.equal(gone.active.length, 0);
  assert.deepEqual(
    gone.ended.map((track) => [track.id, track.state]),
    [[id, 'ended']],
  );
});

test('a missed frame or two does not end a track, and it keeps its id', () => {
  const tracker = new Tracker();
  let id = 0;
  for (let frame = 0; frame < 20; frame++) {
    // The detector misses the person in frames 8, 9 and 14.
    const detections = [8, 9, 14].includes(frame) ? [] : [person(100 + frame * 6, 200)];
    const result = tracker.update(detections, frame * 200);
    assert.deepEqual(result.ended, []);
    if (frame >= 2) {
      assert.equal(result.active.length, 1, `frame ${frame}`);
      if (id === 0) id = result.active[0]!.id;
      assert.equal(result.active[0]!.id, id);
    }
  }
  const track = tracker.liveTracks[0]!;
  assert.equal(track.hits, 17);
  assert.equal(track.path.length, 17);
});

test('a false single-frame detection never confirms and is never reported as ended', () => {
  const tracker = new Tracker();
  const seen = [tracker.update([person(300, 300, 0.9)], 0)];
  for (let frame = 1; frame < 10; frame++) seen.push(tracker.update([], frame * 200));
  for (const result of seen) {
    assert.deepEqual(result.active, []);
    assert.deepEqual(result.confirmedNow, []);
    assert.deepEqual(result.ended, []);
  }
  assert.equal(tracker.liveTracks.length, 0);
});

test('two people crossing each other keep their ids', () => {
  const tracker = new Tracker();
  const ids = new Map<string, number>();
  for (let frame = 0; frame <= 30; frame++) {
    // A walks right, B walks left, on nearly the same row; they cross around frame 15.
    const a = person(100 + frame * 10, 200);
    const b = person(400 - frame * 10, 206);
    const result = tracker.update(frame % 2 === 0 ? [a, b] : [b, a], frame * 200);
    if (frame < 2) continue;
    assert.equal(result.active.length, 2, `frame ${frame}`);
    for (const track of result.active) {
      const name = track.box.x + track.box.width / 2 < 250 === frame < 15 ? 'A' : 'B';
      if (frame === 2) ids.set(name, track.id);
      else if (Math.abs(frame - 15) > 1) assert.equal(track.id, ids.get(name), `frame ${frame} ${name}`);
    }
  }
  assert.notEqual(ids.get('A'), ids.get('B'));
});

test('a person detection does not update a car track; car and truck do match', () => {
  const tracker = new Tracker({ minHits: 1 });
  const car: TrackerDetection = { box: { x: 100, y: 100, width: 120, height: 60 }, label: 'car', score: 0.7 };
  const carTrack = tracker.update([car], 0).active[0]!;
  // A person at exactly the car's place: a new track, the car track is missed.
  const result = tracker.update([{ ...car, label: 'person' }], 200);
  assert.equal(result.active.length, 2);
  assert.equal(carTrack.misses, 1);
  assert.equal(carTrack.label, 'car');
  // The same vehicle seen as a truck continues the car track; the label follows the votes.
  tracker.update([{ ...car, label: 'truck', score: 0.9 }], 400);
  assert.equal(carTrack.misses, 0);
  assert.equal(carTrack.label, 'truck');
  assert.equal(carTrack.bestScore, 0.9);
});

test('a standing person becomes stationary; a walking one does not', () => {
  const tracker = new Tracker({ stationaryAfterMs: 3000 });
  const random = seededRandom(1);
  let standing = undefined as boolean | undefined;
  let walking = undefined as boolean | undefined;
  for (let frame = 0; frame <= 25; frame++) {
    const jitter = () => (random() - 0.5) * 4;
    const result = tracker.update(
      [person(100 + jitter(), 100 + jitter()), person(400 + frame * 3, 300)],
      frame * 200,
    );
    for (const track of result.active) {
      if (track.box.x < 250) standing = track.stationary;
      else walking = track.stationary;
    }
    if (frame === 10) assert.equal(standing, false, 'too young to be stationary');
  }
  assert.equal(standing, true);
  assert.equal(walking, false);
});

test('predict() reports where tracks will be without changing them', () => {
  const tracker = new Tracker();
  for (let frame = 0; frame < 10; frame++) tracker.update([person(100 + frame * 10, 100)], frame * 200);
  const before = { ...tracker.liveTracks[0]!.box };
  const [predicted] = tracker.predict(10 * 200);
  assert.ok(Math.abs(predicted!.box.x - 200) < 3, JSON.stringify(predicted!.box));
  assert.deepEqual(tracker.liveTracks[0]!.box, before);
});

test('updates must come in time order; flush ends confirmed tracks', () => {
  const tracker = new Tracker({ minHits: 1 });
  tracker.update([person(0, 0)], 1000);
  assert.throws(() => tracker.update([], 500), RangeError);
  const ended = tracker.flush();
  assert.equal(ended.length, 1);
  assert.equal(ended[0]!.state, 'ended');
  assert.equal(tracker.liveTracks.length, 0);
});
