import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  boxArea,
  boxFromCorners,
  boxGap,
  clampBox,
  enclosingBox,
  expandBox,
  intersection,
  intersectionOverMin,
  iou,
  mergeBoxes,
  pointInPolygon,
  rasterisePolygons,
  scaleBox,
  squareAround,
  type NormalisedPolygon,
} from '../../../src/analytics/geometry.js';
import { seededRandom } from './helpers.js';

test('area, intersection, enclosing box and IoU of two overlapping boxes', () => {
  const a = { x: 0, y: 0, width: 10, height: 10 };
  const b = { x: 5, y: 5, width: 10, height: 10 };
  assert.equal(boxArea(a), 100);
  assert.deepEqual(intersection(a, b), { x: 5, y: 5, width: 5, height: 5 });
  assert.deepEqual(enclosingBox(a, b), { x: 0, y: 0, width: 15, height: 15 });
  assert.equal(iou(a, b), 25 / 175);
  assert.equal(iou(a, a), 1);
  assert.equal(intersectionOverMin(a, { x: 2, y: 2, width: 3, height: 3 }), 1);
});

test('boxes that only touch do not intersect', () => {
  const a = { x: 0, y: 0, width: 10, height: 10 };
  const b = { x: 10, y: 0, width: 10, height: 10 };
  assert.equal(intersection(a, b), null);
  assert.equal(iou(a, b), 0);
  assert.equal(boxGap(a, b), 0);
  assert.equal(boxGap(a, { x: 13, y: 4, width: 2, height: 2 }), 3);
});

test('boxFromCorners accepts corners in any order', () => {
  assert.deepEqual(boxFromCorners(10, 20, 4, 2), { x: 4, y: 2, width: 6, height: 18 });
});

test('clampBox keeps the part inside the frame', () => {
  const frame = { width: 100, height: 50 };
  assert.deepEqual(clampBox({ x: -10, y: 40, width: 30, height: 30 }, frame), {
    x: 0,
    y: 40,
    width: 20,
    height: 10,
  });
  assert.equal(boxArea(clampBox({ x: 200, y: 0, width: 10, height: 10 }, frame)), 0);
});

test('expandBox and scaleBox', () => {
  assert.deepEqual(expandBox({ x: 10, y: 10, width: 10, height: 4 }, 2), {
    x: 8,
    y: 8,
    width: 14,
    height: 8,
  });
  assert.deepEqual(
    scaleBox(
      { x: 10, y: 5, width: 20, height: 10 },
      { width: 320, height: 180 },
      { width: 1280, height: 720 },
    ),
    {
      x: 40,
      y: 20,
      width: 80,
      height: 40,
    },
  );
});

test('squareAround adds the margin, keeps a minimum side and shifts into the frame', () => {
  const frame = { width: 1280, height: 720 };
  // 100×200 box, 10 % margin of the longer side on each side → 240 square centred on it.
  assert.deepEqual(squareAround({ x: 500, y: 300, width: 100, height: 200 }, 0.1, frame), {
    x: 430,
    y: 280,
    width: 240,
    height: 240,
  });
  // Near the top-left corner: shifted, not shrunk.
  assert.deepEqual(squareAround({ x: 0, y: 0, width: 50, height: 50 }, 0, frame, 512), {
    x: 0,
    y: 0,
    width: 512,
    height: 512,
  });
  // Near the bottom-right corner.
  assert.deepEqual(squareAround({ x: 1250, y: 700, width: 30, height: 20 }, 0, frame, 512), {
    x: 768,
    y: 208,
    width: 512,
    height: 512,
  });
  // Larger than the frame's height: centred vertically, overhanging both edges.
  assert.deepEqual(squareAround({ x: 600, y: 0, width: 800, height: 720 }, 0, frame), {
    x: 480,
    y: -40,
    width: 800,
    height: 800,
  });
});

test('mergeBoxes joins overlapping and nearby boxes, transitively, and leaves distant ones', () => {
  const boxes = [
    { x: 0, y: 0, width: 10, height: 10 },
    { x: 100, y: 100, width: 10, height: 10 },
    { x: 12, y: 0, width: 10, height: 10 },
    { x: 24, y: 0, width: 10, height: 10 },
  ];
  assert.deepEqual(mergeBoxes(boxes, 0), boxes);
  assert.deepEqual(mergeBoxes(boxes, 2), [
    { x: 0, y: 0, width: 34, height: 10 },
    { x: 100, y: 100, width: 10, height: 10 },
  ]);
  // A merge can make the result overlap a box it did not overlap before: merged again.
  const chain = [
    { x: 0, y: 0, width: 10, height: 10 },
    { x: 5, y: 20, width: 10, height: 10 },
    { x: 8, y: 5, width: 4, height: 20 },
  ];
  assert.deepEqual(mergeBoxes(chain), [{ x: 0, y: 0, width: 15, height: 30 }]);
});

test('pointInPolygon on a concave polygon', () => {
  // A "U": the notch at the top middle is outside.
  const u: NormalisedPolygon = [
    [0, 0],
    [0.3, 0],
    [0.3, 0.6],
    [0.7, 0.6],
    [0.7, 0],
    [1, 0],
    [1, 1],
    [0, 1],
  ];
  assert.equal(pointInPolygon(0.1, 0.1, u), true);
  assert.equal(pointInPolygon(0.5, 0.3, u), false);
  assert.equal(pointInPolygon(0.5, 0.8, u), true);
  assert.equal(pointInPolygon(1.2, 0.5, u), false);
});

test('rasterisePolygons sets exactly the pixels whose centres pointInPolygon puts inside', () => {
  const random = seededRandom(7);
  const width = 37;
  const height = 23;
  for (let round = 0; round < 30; round++) {
    const polygons: NormalisedPolygon[] = [];
    for (let p = 0; p < 2; p++) {
      const points = 3 + Math.floor(random() * 6);
      // Coordinates a little outside 0..1 too: config polygons may be drawn past the edge.
      polygons.push(
        Array.from({ length: points }, () => [random() * 1.2 - 0.1, random() * 1.2 - 0.1] as const),
      );
    }
    const mask = rasterisePolygons(polygons, width, height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const cx = (x + 0.5) / width;
        const cy = (y + 0.5) / height;
        const expected = polygons.some((polygon) => pointInPolygon(cx, cy, polygon)) ? 1 : 0;
        assert.equal(mask[y * width + x], expected, `round ${round} pixel ${x},${y}`);
      }
    }
  }
});

test('rasterisePolygons: a rectangle covering the left half of a 10×4 grid', () => {
  const mask = rasterisePolygons(
    [
      [
        [0, 0],
        [0.5, 0],
        [0.5, 1],
        [0, 1],
      ],
    ],
    10,
    4,
  );
  for (let y = 0; y < 4; y++)
    assert.deepEqual([...mask.subarray(y * 10, y * 10 + 10)], [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
});
