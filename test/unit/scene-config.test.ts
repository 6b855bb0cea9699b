import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sceneConfigFor, validateCamera } from '../../src/config/index.js';

const streams = { main: { url: 'rtsp://127.0.0.1:8554/a' } };

function problems(scene: unknown): string[] {
  const result = validateCamera({ id: 'yard', streams, scene }, 'body', { origin: 'api' });
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

test('a scene with defaults: names from ids, labels empty, both directions, bottom-centre', () => {
  const result = validateCamera(
    {
      id: 'yard',
      streams,
      scene: {
        zones: [
          {
            id: 'door',
            points: [
              [0.1, 0.1],
              [0.5, 0.1],
              [0.5, 0.5],
            ],
          },
        ],
        lines: [{ id: 'path', name: 'Path', a: [0.1, 0.6], b: [0.9, 0.6] }],
      },
    },
    'body',
  );
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  const scene = sceneConfigFor(result.camera);
  assert.deepEqual(scene.zones[0], {
    id: 'door',
    name: 'door',
    points: [
      [0.1, 0.1],
      [0.5, 0.1],
      [0.5, 0.5],
    ],
    labels: [],
  });
  assert.equal(scene.lines[0]?.direction, 'both');
  assert.equal(scene.referencePoint, 'bottom-centre');
  assert.deepEqual(scene.objectMasks, []);
});

test('a camera without a scene has an empty one', () => {
  const result = validateCamera({ id: 'yard', streams }, 'body');
  assert.ok(result.ok);
  assert.deepEqual(sceneConfigFor(result.camera).zones, []);
});

test('a self-intersecting zone is refused, naming the zone and the crossing edges', () => {
  const found = problems({
    zones: [
      {
        id: 'lawn',
        name: 'Lawn',
        points: [
          [0.2, 0.2],
          [0.6, 0.6],
          [0.6, 0.2],
          [0.2, 0.6],
        ],
      },
    ],
  });
  assert.equal(found.length, 1);
  assert.match(found[0]!, /^body\.scene\.zones\[0\]\.points: zone 'lawn' \(Lawn\) edges 1-2 and 3-4 cross/);
});

test('too few points, points outside the frame, duplicate ids, a line of no length are refused', () => {
  assert.match(
    problems({
      zones: [
        {
          id: 'z',
          points: [
            [0.1, 0.1],
            [0.2, 0.2],
          ],
        },
      ],
    }).join(),
    /polygon/,
  );
  assert.match(
    problems({
      zones: [
        {
          id: 'z',
          points: [
            [0.1, 0.1],
            [1.2, 0.2],
            [0.3, 0.5],
          ],
        },
      ],
    }).join(),
    /zones\[0\]\.points/,
  );
  assert.match(
    problems({
      zones: [
        {
          id: 'z',
          points: [
            [0.1, 0.1],
            [0.2, 0.1],
            [0.2, 0.2],
          ],
        },
      ],
      lines: [{ id: 'z', a: [0.1, 0.5], b: [0.9, 0.5] }],
    }).join(),
    /lines\[0\]\.id: line 'z': another zone or line of this camera has this id/,
  );
  assert.match(
    problems({ lines: [{ id: 'l', a: [0.5, 0.5], b: [0.5, 0.5] }] }).join(),
    /lines\[0\]\.b: line 'l' has no length/,
  );
  assert.match(
    problems({
      objectMasks: [
        [
          [0.2, 0.2],
          [0.6, 0.6],
          [0.6, 0.2],
          [0.2, 0.6],
        ],
      ],
    }).join(),
    /objectMasks\[0\]: object mask 1 edges 1-2 and 3-4 cross/,
  );
  assert.match(
    problems({
      zones: [
        {
          id: 'bad id!',
          points: [
            [0.1, 0.1],
            [0.2, 0.1],
            [0.2, 0.2],
          ],
        },
      ],
    }).join(),
    /not an id/,
  );
  assert.match(
    problems({ lines: [{ id: 'l', a: [0.1, 0.5], b: [0.9, 0.5], labels: ['persn'] }] }).join(),
    /lines\[0\]\.labels\[0\]: 'persn' is not an object label.*person/,
  );
  assert.match(
    problems({
      zones: [
        {
          id: 'z',
          points: [
            [0.1, 0.1],
            [0.2, 0.1],
            [0.2, 0.2],
          ],
          labels: ['gender'],
        },
      ],
    }).join(),
    /refused by design/,
  );
});
