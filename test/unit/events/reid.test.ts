import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  appearanceOf,
  assignNewcomers,
  blendAppearance,
  colourBin,
  distanceFromWay,
  DEFAULT_REID_OPTIONS,
  HISTOGRAM_BINS,
  predictedBox,
  reidScore,
  similarity,
  type LostObject,
  type Newcomer,
} from '../../../src/events/reid.js';
import type { RgbImage } from '../../../src/events/snapshot.js';

const options = DEFAULT_REID_OPTIONS;

/** A 200×200 grey picture with solid rectangles painted on it. */
function picture(
  rects: Array<{ x: number; y: number; width: number; height: number; rgb: number[] }>,
): RgbImage {
  const width = 200;
  const height = 200;
  const data = new Uint8Array(width * height * 3).fill(128);
  for (const r of rects)
    for (let y = r.y; y < r.y + r.height; y++)
      for (let x = r.x; x < r.x + r.width; x++) data.set(r.rgb, (y * width + x) * 3);
  return { data, width, height };
}

const RED = [200, 30, 30];
const BLACK = [20, 20, 25];
const BLUE = [30, 60, 190];

function lost(overrides: Partial<LostObject> = {}): LostObject {
  return {
    label: 'person',
    box: { x: 100, y: 200, width: 30, height: 80 },
    seenMs: 10_000,
    velocity: { x: 0, y: 0 },
    appearance: null,
    ...overrides,
  };
}

function newcomer(overrides: Partial<Newcomer> = {}): Newcomer {
  return {
    label: 'person',
    box: { x: 100, y: 200, width: 30, height: 80 },
    timeMs: 11_000,
    appearance: null,
    ...overrides,
  };
}

test('the predicted place at the end of a gap follows the last velocity; the size stays', () => {
  const walking = lost({ velocity: { x: 0.1, y: -0.02 } });
  const box = predictedBox(walking, 12_000);
  assert.deepEqual(box, { x: 300, y: 160, width: 30, height: 80 });
  const at = (x: number, y: number) => ({ x, y, width: 30, height: 80 });
  // Anywhere on the way from the last sighting to the prediction is on course: people slow down.
  assert.ok(distanceFromWay(walking, at(300, 160), 12_000) < 1e-9);
  assert.ok(distanceFromWay(walking, at(200, 180), 12_000) < 1e-9);
  // Beyond the prediction, or back where it came from, counts from the nearer end, in box sizes (80 px).
  assert.ok(Math.abs(distanceFromWay(walking, at(380, 160), 12_000) - 1) < 1e-9);
  assert.ok(Math.abs(distanceFromWay(walking, at(20, 200), 12_000) - 1) < 1e-9);
  assert.ok((reidScore(walking, newcomer({ box: at(300, 160), timeMs: 12_000 }), options) ?? 0) > 0.9);
  assert.equal(
    reidScore(walking, newcomer({ box: at(-100, 232), timeMs: 12_000 }), options),
    null,
    'going the other way for 2 s is another object',
  );
});

test('reach grows with the gap, and a gap longer than maxGapMs never matches', () => {
  // 96 px aside is 1.2 box sizes: beyond reach right after the loss, within it 2 s later.
  const aside = (timeMs: number) => newcomer({ box: { x: 196, y: 200, width: 30, height: 80 }, timeMs });
  assert.equal(reidScore(lost(), aside(10_200), options), null);
  assert.ok(reidScore(lost(), aside(12_000), options) !== null);
  assert.equal(reidScore(lost(), newcomer({ timeMs: 10_000 + options.maxGapMs + 1 }), options), null);
  assert.equal(reidScore(lost(), newcomer({ timeMs: 9_000 }), options), null, 'no match back in time');
});

test('labels must be equal, and sizes alike', () => {
  assert.equal(reidScore(lost(), newcomer({ label: 'car' }), options), null);
  const near = newcomer({ box: { x: 85, y: 160, width: 60, height: 160 } });
  assert.equal(reidScore(lost(), near, options), null, 'four times the area is another object');
});

test('colour histograms: the same clothes are alike, different ones are not', () => {
  const image = picture([
    { x: 10, y: 10, width: 30, height: 80, rgb: RED },
    { x: 60, y: 10, width: 30, height: 80, rgb: RED },
    { x: 110, y: 10, width: 30, height: 80, rgb: BLACK },
    { x: 160, y: 10, width: 30, height: 80, rgb: BLUE },
  ]);
  const box = (x: number) => ({ x, y: 10, width: 30, height: 80 });
  const [redA, redB, black, blue] = [10, 60, 110, 160].map((x) => appearanceOf(image, box(x))!);
  assert.equal(redA!.length, HISTOGRAM_BINS);
  assert.ok(Math.abs(redA!.reduce((s, v) => s + v, 0) - 1) < 1e-5, 'normalised');
  assert.ok(similarity(redA!, redB!) > 0.99);
  assert.ok(similarity(redA!, black!) < 0.1);
  assert.ok(similarity(black!, blue!) < 0.1);
  assert.notEqual(colourBin(200, 30, 30), colourBin(30, 60, 190));
  assert.notEqual(colourBin(20, 20, 25), colourBin(240, 240, 240), 'black and white are different greys');
  assert.equal(appearanceOf(image, { x: 10, y: 10, width: 2, height: 3 }), null, 'too small to say');
  assert.equal(appearanceOf(image, { x: 250, y: 10, width: 30, height: 80 }), null, 'outside the frame');

  // Same place and time: the colours decide.
  assert.ok(reidScore(lost({ appearance: redA! }), newcomer({ appearance: redB! }), options) !== null);
  assert.equal(reidScore(lost({ appearance: redA! }), newcomer({ appearance: black! }), options), null);

  // The running average moves towards new views without forgetting at once.
  const running = blendAppearance(null, redA!, 0.2);
  assert.notEqual(running, redA, 'a copy: the view is not changed later');
  blendAppearance(running, black!, 0.2);
  assert.ok(similarity(running, redA!) > similarity(running, black!));
});

test('competing newcomers: each lost object goes to its best match, one-to-one', () => {
  const image = picture([
    { x: 10, y: 10, width: 30, height: 80, rgb: RED },
    { x: 60, y: 10, width: 30, height: 80, rgb: BLACK },
  ]);
  const red = appearanceOf(image, { x: 10, y: 10, width: 30, height: 80 })!;
  const black = appearanceOf(image, { x: 60, y: 10, width: 30, height: 80 })!;
  // Two people lost side by side; two new tracks appear between them, each colour nearer the other's place.
  const at = (x: number) => ({ x, y: 200, width: 30, height: 80 });
  const redLost = lost({ box: at(100), appearance: red });
  const blackLost = lost({ box: at(140), appearance: black });
  const blackNew = newcomer({ box: at(110), appearance: black });
  const redNew = newcomer({ box: at(130), appearance: red });
  const stranger = newcomer({ label: 'dog' });
  assert.deepEqual(assignNewcomers([redLost, blackLost], [blackNew, redNew, stranger], options).sort(), [
    [0, 1],
    [1, 0],
  ]);
  assert.deepEqual(assignNewcomers([redLost], [], options), []);
});
