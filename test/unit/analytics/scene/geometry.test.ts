import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  distanceToPolygonEdge,
  distanceToSegment,
  LineCrossing,
  pointInPolygon,
  referencePointOf,
  selfIntersections,
  signedDistance,
} from '../../../../src/analytics/scene/geometry.js';

const square: Array<[number, number]> = [
  [0.2, 0.2],
  [0.6, 0.2],
  [0.6, 0.6],
  [0.2, 0.6],
];

test('point in polygon: inside, outside, concave notch', () => {
  assert.equal(pointInPolygon(0.4, 0.4, square), true);
  assert.equal(pointInPolygon(0.7, 0.4, square), false);
  const u: Array<[number, number]> = [
    [0.1, 0.1],
    [0.3, 0.1],
    [0.3, 0.5],
    [0.7, 0.5],
    [0.7, 0.1],
    [0.9, 0.1],
    [0.9, 0.9],
    [0.1, 0.9],
  ];
  assert.equal(pointInPolygon(0.5, 0.3, u), false, 'in the notch of the U');
  assert.equal(pointInPolygon(0.5, 0.7, u), true);
});

test('self-intersection names the crossing edges', () => {
  assert.deepEqual(selfIntersections(square), []);
  const bowTie: Array<[number, number]> = [
    [0.2, 0.2],
    [0.6, 0.6],
    [0.6, 0.2],
    [0.2, 0.6],
  ];
  assert.deepEqual(selfIntersections(bowTie), [[0, 2]]);
});

test('side of a directed line: right-hand side positive, y down', () => {
  // A horizontal line from left to right: looking from a to b (east), "below" on screen is right.
  const a: [number, number] = [0.1, 0.5];
  const b: [number, number] = [0.9, 0.5];
  assert.ok(Math.abs(signedDistance(a, b, [0.5, 0.7]) - 0.2) < 1e-12);
  assert.ok(Math.abs(signedDistance(a, b, [0.5, 0.3]) + 0.2) < 1e-12);
  assert.equal(signedDistance(a, b, [0.5, 0.5]), 0);
});

test('distances to a segment and to a polygon edge', () => {
  assert.ok(Math.abs(distanceToSegment([0, 0], [1, 0], [0.5, 0.25]) - 0.25) < 1e-12);
  assert.ok(Math.abs(distanceToSegment([0, 0], [1, 0], [1.3, 0.4]) - 0.5) < 1e-12, 'past the end');
  assert.ok(Math.abs(distanceToPolygonEdge(square, [0.4, 0.25]) - 0.05) < 1e-12);
});

test('reference point: bottom-centre or centre of the box', () => {
  const box = { x: 0.2, y: 0.2, width: 0.2, height: 0.4 };
  assert.deepEqual(referencePointOf(box, 'bottom-centre'), [0.30000000000000004, 0.6000000000000001]);
  assert.deepEqual(referencePointOf(box, 'centre'), [0.30000000000000004, 0.4]);
});

test('a crossing is reported once, with its direction', () => {
  const crossing = new LineCrossing([0.1, 0.5], [0.9, 0.5], 0.02);
  // Walking up the picture: from the right-hand side (below) to the left-hand side (above): A→B.
  const seen = [0.8, 0.7, 0.6, 0.52, 0.49, 0.45, 0.4, 0.3].map((y) => crossing.update([0.5, y]));
  assert.deepEqual(
    seen.filter((d) => d !== null),
    ['a-to-b'],
  );
  const back = [0.4, 0.55, 0.6].map((y) => crossing.update([0.5, y]));
  assert.deepEqual(
    back.filter((d) => d !== null),
    ['b-to-a'],
  );
});

test('jitter on the line never completes a crossing; a crossing needs the margin on both sides', () => {
  const crossing = new LineCrossing([0.1, 0.5], [0.9, 0.5], 0.02);
  const ys = [0.6, 0.51, 0.49, 0.51, 0.495, 0.505, 0.49, 0.51, 0.49, 0.515];
  assert.deepEqual(
    ys.map((y) => crossing.update([0.5, y])).filter((d) => d !== null),
    [],
  );
  // Firmly past: now it counts, once.
  assert.equal(crossing.update([0.5, 0.45]), 'a-to-b');
  assert.equal(crossing.update([0.5, 0.49]), null);
  assert.equal(crossing.update([0.5, 0.44]), null);
});

test('passing beside the end of a line is no crossing', () => {
  const crossing = new LineCrossing([0.4, 0.5], [0.6, 0.5], 0.02);
  assert.equal(crossing.update([0.8, 0.7]), null);
  assert.equal(crossing.update([0.8, 0.3]), null, "beside the line's end");
});
