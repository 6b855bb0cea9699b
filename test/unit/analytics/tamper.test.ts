import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TamperDetector, type TamperChange } from '../../../src/analytics/tamper/index.js';
import { correlation, meanAndDeviation, normalisedEdges } from '../../../src/analytics/tamper/features.js';
import { seededRandom } from './helpers.js';

const W = 160;
const H = 120;
const FRAME_MS = 200;
const T_MS = 10_000;

/**
 * A structured scene: blocks of random grey (buildings, a path) with a little sensor noise, wider
 * than the frame so it can be panned. `shiftX` pans it, `gain`/`offset` change the lighting.
 */
function scene(
  random: () => number,
): (opts?: { shiftX?: number; gain?: number; offset?: number }) => Uint8Array {
  const sceneWidth = W * 2;
  const blocks = new Uint8Array(sceneWidth * H);
  for (let by = 0; by < H; by += 12) {
    for (let bx = 0; bx < sceneWidth; bx += 16) {
      const level = 40 + Math.floor(random() * 170);
      for (let y = by; y < Math.min(H, by + 12); y++)
        for (let x = bx; x < Math.min(sceneWidth, bx + 16); x++) blocks[y * sceneWidth + x] = level;
    }
  }
  return ({ shiftX = 0, gain = 1, offset = 0 } = {}) => {
    const frame = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const value = blocks[y * sceneWidth + x + shiftX]! * gain + offset + (random() * 2 - 1) * 3;
        frame[y * W + x] = Math.max(0, Math.min(255, Math.round(value)));
      }
    }
    return frame;
  };
}

/** A 5×5 box blur: a lens out of focus. */
function blur(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(frame.length);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let sum = 0;
      let count = 0;
      for (let dy = -2; dy <= 2; dy++) {
        for (let dx = -2; dx <= 2; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
          sum += frame[yy * W + xx]!;
          count += 1;
        }
      }
      out[y * W + x] = Math.round(sum / count);
    }
  }
  return out;
}

/** Feeds `durationMs` of frames from `frameAt` starting at `startMs`; returns the changes and the next time. */
function run(
  detector: TamperDetector,
  startMs: number,
  durationMs: number,
  frameAt: () => Uint8Array,
): { changes: TamperChange[]; endMs: number } {
  const changes: TamperChange[] = [];
  let timeMs = startMs;
  for (; timeMs < startMs + durationMs; timeMs += FRAME_MS) {
    const change = detector.update(frameAt(), timeMs);
    if (change) changes.push(change);
  }
  return { changes, endMs: timeMs };
}

function setUp(seed: number) {
  const frames = scene(seededRandom(seed));
  const detector = new TamperDetector(W, H, { minDurationMs: T_MS, sensitivity: 0.5 });
  const { changes, endMs } = run(detector, 0, 30_000, () => frames());
  assert.deepEqual(changes, [], 'a steady view raises nothing');
  return { frames, detector, startMs: endMs };
}

test('edge maps correlate whatever the lighting: gain and offset are normalised away', () => {
  const frames = scene(seededRandom(1));
  const edgesOf = (frame: Uint8Array) => {
    const grid = { width: W, height: H, data: Float32Array.from(frame) };
    return normalisedEdges(grid, meanAndDeviation(grid).deviation, new Float32Array(W * H));
  };
  const day = edgesOf(frames());
  assert.ok(correlation(day, edgesOf(frames({ gain: 0.5, offset: 10 }))) > 0.9);
  assert.ok(correlation(day, edgesOf(frames({ shiftX: 24 }))) < 0.5);
});

for (const [name, lighting] of [
  ['lights on', { gain: 1.2, offset: 30 }],
  ['lights off', { gain: 0.5, offset: -15 }],
  ['night mode (darker, flatter)', { gain: 0.6, offset: 20 }],
] as const) {
  test(`${name}: a global brightness and contrast change raises nothing`, () => {
    const { frames, detector, startMs } = setUp(2);
    const { changes } = run(detector, startMs, 3 * T_MS, () => frames(lighting));
    assert.deepEqual(changes, []);
  });
}

test('covered: a flat picture for T is reported once, and cleared when the view comes back', () => {
  const { frames, detector, startMs } = setUp(3);
  const random = seededRandom(30);
  const covered = () => Uint8Array.from({ length: W * H }, () => 30 + Math.round(random() * 4));
  const during = run(detector, startMs, T_MS + 2_000, covered);
  assert.deepEqual(
    during.changes.map((c) => c.state),
    ['tamper-covered'],
  );
  const change = during.changes[0]!;
  assert.ok(change.timeMs - startMs >= T_MS, 'not before T');
  assert.match(change.detail, /covered.*contrast fell/);
  assert.equal(detector.state, 'covered');
  const after = run(detector, during.endMs, 5_000, () => frames());
  assert.deepEqual(
    after.changes.map((c) => c.state),
    ['tamper-cleared'],
  );
  assert.equal(detector.state, null);
});

test('covered for less than T raises nothing (a person passing close to the lens)', () => {
  const { frames, detector, startMs } = setUp(4);
  const covered = () => new Uint8Array(W * H).fill(20);
  const brief = run(detector, startMs, T_MS - 2_000, covered);
  const back = run(detector, brief.endMs, 20_000, () => frames());
  assert.deepEqual([...brief.changes, ...back.changes], []);
});

test('defocused: edges fade while brightness stays', () => {
  const { frames, detector, startMs } = setUp(5);
  const during = run(detector, startMs, T_MS + 2_000, () => blur(frames()));
  assert.deepEqual(
    during.changes.map((c) => c.state),
    ['tamper-defocused'],
  );
  assert.match(during.changes[0]!.detail, /out of focus/);
  const after = run(detector, during.endMs, 5_000, () => frames());
  assert.deepEqual(
    after.changes.map((c) => c.state),
    ['tamper-cleared'],
  );
});

test('moved: a structured view whose edges no longer match, even in other lighting', () => {
  const { frames, detector, startMs } = setUp(6);
  const during = run(detector, startMs, T_MS + 2_000, () => frames({ shiftX: 24, gain: 0.8 }));
  assert.deepEqual(
    during.changes.map((c) => c.state),
    ['tamper-moved'],
  );
  assert.match(during.changes[0]!.detail, /moved/);
});

test('moved for good: after a long time the new view becomes the usual one', () => {
  const { frames, detector, startMs } = setUp(7);
  const { changes } = run(detector, startMs, 11 * 60_000, () => frames({ shiftX: 24 }));
  assert.deepEqual(
    changes.map((c) => c.state),
    ['tamper-moved', 'tamper-cleared'],
  );
  assert.match(changes[1]!.detail, /new view/);
  assert.equal(detector.state, null);
});

test('a gap in the frames (stream away) restarts the timer', () => {
  const { detector, startMs } = setUp(8);
  const covered = () => new Uint8Array(W * H).fill(20);
  const first = run(detector, startMs, T_MS - 3_000, covered);
  const second = run(detector, first.endMs + 30_000, T_MS - 3_000, covered);
  assert.deepEqual([...first.changes, ...second.changes], []);
});

test('higher sensitivity reports a milder blur that the default lets pass', () => {
  const mild = (frame: Uint8Array) => {
    const blurred = blur(frame);
    return blurred.map((v, i) => Math.round((v + frame[i]!) / 2));
  };
  const results = [0.5, 1].map((sensitivity) => {
    const frames = scene(seededRandom(9));
    const detector = new TamperDetector(W, H, { minDurationMs: T_MS, sensitivity });
    const warm = run(detector, 0, 30_000, () => frames());
    return run(detector, warm.endMs, T_MS + 2_000, () => mild(frames())).changes.map((c) => c.state);
  });
  assert.deepEqual(results, [[], ['tamper-defocused']]);
});

test('a camera that starts covered is reported, and learns its view once it has one', () => {
  const frames = scene(seededRandom(10));
  const detector = new TamperDetector(W, H, { minDurationMs: T_MS, sensitivity: 0.5 });
  const covered = run(detector, 0, T_MS + 2_000, () => new Uint8Array(W * H).fill(15));
  assert.deepEqual(
    covered.changes.map((c) => c.state),
    ['tamper-covered'],
  );
  const uncovered = run(detector, covered.endMs, 60_000, () => frames());
  assert.deepEqual(
    uncovered.changes.map((c) => c.state),
    ['tamper-cleared'],
  );
});
