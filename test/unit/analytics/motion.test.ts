import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LumaDownscaler, MotionDetector, lumaFromRgb } from '../../../src/analytics/motion/index.js';
import { greyFrame, paintRect, seededRandom } from './helpers.js';

const W = 320;
const H = 180;

/** Feed a few frames of the static background so the detector has a model of it. */
function warmUp(detector: MotionDetector, frames: () => Uint8Array, count = 5): void {
  for (let i = 0; i < count; i++) detector.detect(frames());
}

test('the first frame calibrates and reports no motion', () => {
  const detector = new MotionDetector(W, H);
  const result = detector.detect(greyFrame(W, H, 100));
  assert.deepEqual(result, { boxes: [], score: 0, changedPx: 0, recalibrated: true });
});

test('a moving rectangle yields one box at its place in every frame', () => {
  const detector = new MotionDetector(W, H);
  const random = seededRandom(3);
  warmUp(detector, () => greyFrame(W, H, 90, 3, random));
  for (let step = 0; step < 10; step++) {
    const rect = { x: 40 + step * 8, y: 60, width: 20, height: 40 };
    const result = detector.detect(paintRect(greyFrame(W, H, 90, 3, random), W, rect, 200));
    assert.equal(result.recalibrated, false);
    assert.equal(result.boxes.length, 1, `step ${step}: ${JSON.stringify(result.boxes)}`);
    const box = result.boxes[0]!;
    // The box covers the rectangle; it may extend back over the fading trail of the last frames.
    assert.ok(
      box.x <= rect.x && box.x + box.width >= rect.x + rect.width,
      `step ${step}: ${JSON.stringify(box)}`,
    );
    assert.equal(box.y, rect.y);
    assert.equal(box.height, rect.height);
    assert.ok(box.x >= rect.x - 8 * 3, `trail too long at step ${step}: ${JSON.stringify(box)}`);
    assert.ok(box.areaPx >= rect.width * rect.height);
    assert.ok(result.score > 0 && result.score < 0.1);
  }
});

test('static noise yields no motion', () => {
  const detector = new MotionDetector(W, H);
  const random = seededRandom(11);
  for (let i = 0; i < 50; i++) {
    const result = detector.detect(greyFrame(W, H, 60, 6, random));
    assert.deepEqual(result.boxes, [], `frame ${i}`);
  }
});

test('noise adaptation: a flickering patch stops counting as motion, a real object still does', () => {
  const detector = new MotionDetector(W, H, { minAreaPx: 4 });
  const random = seededRandom(5);
  const flicker = { x: 250, y: 20, width: 30, height: 30 };
  let last = detector.detect(greyFrame(W, H, 80));
  for (let i = 0; i < 300; i++) {
    const frame = paintRect(greyFrame(W, H, 80, 2, random), W, flicker, i % 2 === 0 ? 70 : 110);
    last = detector.detect(frame);
  }
  assert.deepEqual(last.boxes, []);
  const object = { x: 40, y: 100, width: 16, height: 30 };
  const frame = paintRect(paintRect(greyFrame(W, H, 80, 2, random), W, flicker, 70), W, object, 200);
  const result = detector.detect(frame);
  assert.equal(result.boxes.length, 1);
  assert.deepEqual(
    {
      x: result.boxes[0]!.x,
      y: result.boxes[0]!.y,
      width: result.boxes[0]!.width,
      height: result.boxes[0]!.height,
    },
    object,
  );
});

test('a global brightness jump recalibrates without boxes, then motion works again', () => {
  const detector = new MotionDetector(W, H, { recalibrateFrames: 3 });
  const random = seededRandom(9);
  warmUp(detector, () => greyFrame(W, H, 40, 2, random));
  const lightsOn = () => greyFrame(W, H, 170, 2, random);
  for (let i = 0; i < 3; i++) {
    const result = detector.detect(lightsOn());
    assert.equal(result.recalibrated, true, `frame ${i}`);
    assert.deepEqual(result.boxes, []);
    if (i === 0) assert.ok(result.score > 0.9);
  }
  const quiet = detector.detect(lightsOn());
  assert.equal(quiet.recalibrated, false);
  assert.deepEqual(quiet.boxes, []);
  const moving = detector.detect(paintRect(lightsOn(), W, { x: 100, y: 50, width: 20, height: 20 }, 30));
  assert.equal(moving.boxes.length, 1);
});

test('motion inside a masked area is ignored; the score counts unmasked pixels only', () => {
  // Mask the right half of the frame.
  const masks = [
    [
      [0.5, 0],
      [1, 0],
      [1, 1],
      [0.5, 1],
    ] as const,
  ];
  const detector = new MotionDetector(W, H, { masks });
  warmUp(detector, () => greyFrame(W, H, 100));
  const inMask = detector.detect(
    paintRect(greyFrame(W, H, 100), W, { x: 200, y: 50, width: 40, height: 40 }, 250),
  );
  assert.deepEqual(inMask.boxes, []);
  assert.equal(inMask.changedPx, 0);
  // Straddling the mask's edge: only the unmasked part is seen.
  const across = detector.detect(
    paintRect(greyFrame(W, H, 100), W, { x: 140, y: 50, width: 40, height: 40 }, 250),
  );
  assert.equal(across.boxes.length, 1);
  assert.deepEqual({ x: across.boxes[0]!.x, width: across.boxes[0]!.width }, { x: 140, width: 20 });
  assert.equal(across.score, (20 * 40) / ((W / 2) * H));
});

test('two separate objects give two boxes, largest first; small blobs are dropped', () => {
  const detector = new MotionDetector(W, H, { minAreaPx: 16 });
  warmUp(detector, () => greyFrame(W, H, 100));
  const frame = greyFrame(W, H, 100);
  paintRect(frame, W, { x: 20, y: 20, width: 10, height: 30 }, 10);
  paintRect(frame, W, { x: 200, y: 100, width: 40, height: 30 }, 220);
  paintRect(frame, W, { x: 300, y: 10, width: 3, height: 3 }, 220);
  const result = detector.detect(frame);
  assert.deepEqual(result.boxes, [
    { x: 200, y: 100, width: 40, height: 30, areaPx: 1200 },
    { x: 20, y: 20, width: 10, height: 30, areaPx: 300 },
  ]);
});

test('dilation joins nearby pieces of one object into one box', () => {
  const detector = new MotionDetector(W, H, { dilationRadiusPx: 2, minAreaPx: 1 });
  warmUp(detector, () => greyFrame(W, H, 100));
  const frame = greyFrame(W, H, 100);
  // Two parts 3 px apart (a person's legs and torso split by a background-coloured belt).
  paintRect(frame, W, { x: 50, y: 50, width: 10, height: 10 }, 200);
  paintRect(frame, W, { x: 50, y: 63, width: 10, height: 10 }, 200);
  const result = detector.detect(frame);
  assert.deepEqual(result.boxes, [{ x: 50, y: 50, width: 10, height: 23, areaPx: 200 }]);
});

test('connected components: a U shape is one component, 8-connected diagonals join', () => {
  const detector = new MotionDetector(40, 20, { dilationRadiusPx: 0, minAreaPx: 1, recalibrateFraction: 1 });
  detector.detect(greyFrame(40, 20, 0));
  const frame = greyFrame(40, 20, 0);
  // U: two columns joined at the bottom (needs label merging in the first pass).
  paintRect(frame, 40, { x: 2, y: 2, width: 1, height: 10 }, 255);
  paintRect(frame, 40, { x: 8, y: 2, width: 1, height: 10 }, 255);
  paintRect(frame, 40, { x: 2, y: 11, width: 7, height: 1 }, 255);
  // A diagonal line.
  for (let i = 0; i < 6; i++) frame[(2 + i) * 40 + 20 + i] = 255;
  const boxes = detector.detect(frame).boxes;
  assert.deepEqual(boxes, [
    { x: 2, y: 2, width: 7, height: 10, areaPx: 25 },
    { x: 20, y: 2, width: 6, height: 6, areaPx: 6 },
  ]);
});

test('LumaDownscaler averages each output pixel over its footprint', () => {
  const src = new Uint8Array(6 * 4);
  for (let i = 0; i < src.length; i++) src[i] = i * 10;
  const down = new LumaDownscaler(6, 4, 3, 2);
  const dst = down.downscale({ data: src, width: 6, height: 4 }, new Uint8Array(6));
  // Output (0,0) averages source (0..1, 0..1): 0, 10, 60, 70 → 35.
  assert.deepEqual([...dst], [35, 55, 75, 155, 175, 195]);
  // 3×2 blocks (the general path): (0,0) averages 0, 10, 20, 60, 70, 80 → 40.
  const thirds = new LumaDownscaler(6, 4, 2, 2).downscale(
    { data: src, width: 6, height: 4 },
    new Uint8Array(4),
  );
  assert.deepEqual([...thirds], [40, 70, 160, 190]);
  // Non-integer ratio and a padded stride.
  const padded = new Uint8Array(8 * 5).fill(9);
  for (let y = 0; y < 5; y++) for (let x = 0; x < 5; x++) padded[y * 8 + x] = 100;
  const odd = new LumaDownscaler(5, 5, 2, 2).downscale(
    { data: padded, width: 5, height: 5, stride: 8 },
    new Uint8Array(4),
  );
  assert.deepEqual([...odd], [100, 100, 100, 100]);
});

test('lumaFromRgb uses BT.601 weights', () => {
  const rgb = new Uint8Array([255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255]);
  assert.deepEqual([...lumaFromRgb(rgb, 5, 1, new Uint8Array(5))], [255, 0, 77, 149, 29]);
});
