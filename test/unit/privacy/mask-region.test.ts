import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { standsInAny } from '../../../src/analytics/geometry.js';
import { masksFingerprint, polygonsInRegion } from '../../../src/privacy/mask-region.js';

const LEFT_HALF: Array<[number, number]> = [
  [0, 0],
  [0.5, 0],
  [0.5, 1],
  [0, 1],
];

describe('masks in an event crop', () => {
  test("a frame's polygon maps into the crop's own 0..1 coordinates", () => {
    const mapped = polygonsInRegion([LEFT_HALF], { x: 0.25, y: 0.5, width: 0.5, height: 0.25 });
    assert.deepEqual(mapped, [
      [
        [-0.5, -2],
        [0.5, -2],
        [0.5, 2],
        [-0.5, 2],
      ],
    ]);
  });

  test('an empty region maps nothing', () => {
    assert.deepEqual(polygonsInRegion([LEFT_HALF], { x: 0, y: 0, width: 0, height: 0.5 }), []);
  });

  test('the fingerprint changes with the masks and is fixed for none', () => {
    assert.equal(masksFingerprint([]), 'open');
    assert.notEqual(masksFingerprint([LEFT_HALF]), masksFingerprint([LEFT_HALF, LEFT_HALF]));
    assert.equal(masksFingerprint([LEFT_HALF]), masksFingerprint([[...LEFT_HALF]]));
  });
});

describe('detections inside a permanent mask', () => {
  const frame = { width: 640, height: 480 };

  test('a box standing inside the mask is inside, whatever its top reaches', () => {
    // Bottom centre at (160, 400): inside the left half, though the box reaches into the right.
    assert.equal(standsInAny({ x: 60, y: 100, width: 200, height: 300 }, frame, [LEFT_HALF]), true);
  });

  test('a box standing outside is not, though it overlaps the mask', () => {
    // Bottom centre at (400, 300).
    assert.equal(standsInAny({ x: 200, y: 100, width: 400, height: 200 }, frame, [LEFT_HALF]), false);
  });

  test("a box on the frame's bottom edge meets a mask drawn to that edge", () => {
    assert.equal(standsInAny({ x: 100, y: 380, width: 50, height: 100 }, frame, [LEFT_HALF]), true);
  });

  test('no masks: nothing is inside', () => {
    assert.equal(standsInAny({ x: 0, y: 0, width: 10, height: 10 }, frame, []), false);
  });
});
