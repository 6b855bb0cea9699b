import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { polygonProblem, privacyConfigFor, validateCamera } from '../../../src/config/index.js';

const SQUARE: Array<[number, number]> = [
  [0.1, 0.1],
  [0.4, 0.1],
  [0.4, 0.4],
  [0.1, 0.4],
];

function camera(privacy: unknown) {
  return validateCamera({ id: 'yard', streams: { main: { url: 'testsrc:' } }, privacy }, 'body');
}

function problems(privacy: unknown): string[] {
  const result = camera(privacy);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

describe('privacy masks in the camera config', () => {
  test('a camera without privacy has no masks and does not mask at recording', () => {
    const result = camera(undefined);
    assert.ok(result.ok);
    assert.deepEqual(privacyConfigFor(result.camera), { masks: [], maskAtRecording: false });
  });

  test('masks keep their id, name, kind and polygon', () => {
    const result = camera({
      masks: [
        { id: 'window', name: "Neighbour's window", kind: 'permanent', polygon: SQUARE },
        {
          id: 'gate',
          kind: 'liftable',
          polygon: [
            [0.5, 0.5],
            [0.9, 0.5],
            [0.7, 0.9],
          ],
        },
      ],
      maskAtRecording: true,
    });
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    const privacy = privacyConfigFor(result.camera);
    assert.equal(privacy.maskAtRecording, true);
    assert.deepEqual(
      privacy.masks.map((m) => [m.id, m.name, m.kind, m.polygon.length]),
      [
        ['window', "Neighbour's window", 'permanent', 4],
        ['gate', undefined, 'liftable', 3],
      ],
    );
  });

  test('fewer than three points, points outside 0..1 and unknown kinds are refused', () => {
    assert.match(
      problems({
        masks: [
          {
            id: 'a',
            kind: 'permanent',
            polygon: [
              [0, 0],
              [1, 1],
            ],
          },
        ],
      }).join('\n'),
      /body\.privacy\.masks\[0\]\.polygon: must be a polygon/,
    );
    assert.match(
      problems({
        masks: [
          {
            id: 'a',
            kind: 'permanent',
            polygon: [
              [0, 0],
              [1.2, 0],
              [1, 1],
            ],
          },
        ],
      }).join('\n'),
      /body\.privacy\.masks\[0\]\.polygon\[1\]/,
    );
    assert.match(
      problems({ masks: [{ id: 'a', kind: 'sometimes', polygon: SQUARE }] }).join('\n'),
      /body\.privacy\.masks\[0\]\.kind/,
    );
  });

  test('a self-intersecting polygon is refused with a reason naming the mask', () => {
    const bowTie = [
      [0.1, 0.1],
      [0.5, 0.5],
      [0.5, 0.1],
      [0.1, 0.5],
    ];
    const found = problems({ masks: [{ id: 'bow', name: 'Bow tie', kind: 'liftable', polygon: bowTie }] });
    assert.equal(found.length, 1, found.join('\n'));
    assert.match(
      found[0]!,
      /^body\.privacy\.masks\[0\]\.polygon: mask 'bow' \(Bow tie\) edges 1-2 and 3-4 cross/,
    );
  });

  test('two masks with one id are refused', () => {
    const found = problems({
      masks: [
        { id: 'same', kind: 'permanent', polygon: SQUARE },
        { id: 'same', kind: 'liftable', polygon: SQUARE },
      ],
    });
    assert.deepEqual(found, [
      "body.privacy.masks[1].id: mask 'same': another mask of this camera has this id",
    ]);
  });
});

describe('polygonProblem', () => {
  test('simple polygons pass, convex or not', () => {
    assert.equal(polygonProblem(SQUARE), undefined);
    const arrow: Array<[number, number]> = [
      [0, 0],
      [1, 0.5],
      [0, 1],
      [0.3, 0.5],
    ];
    assert.equal(polygonProblem(arrow), undefined);
  });

  test('collinear points have no area', () => {
    assert.match(
      polygonProblem([
        [0, 0],
        [0.5, 0.5],
        [1, 1],
      ]) ?? '',
      /no area/,
    );
  });

  test('an edge touching another edge counts as crossing', () => {
    // The fifth point lies on the first edge.
    const touching: Array<[number, number]> = [
      [0, 0],
      [1, 0],
      [1, 1],
      [0.5, 1],
      [0.5, 0],
    ];
    assert.match(polygonProblem(touching) ?? '', /cross/);
  });
});
