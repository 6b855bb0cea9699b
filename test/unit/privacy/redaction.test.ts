import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Box } from '../../../src/analytics/geometry.js';
import { blazeFaceAnchors, faceRegions } from '../../../src/privacy/redaction/blazeface.js';
import { keptPersonBox, manualBoxAt, pathCentreAt } from '../../../src/privacy/redaction/follow.js';
import { DEFAULT_HOLD_OPTIONS, heldBoxes, linkDetections } from '../../../src/privacy/redaction/hold.js';
import { describeRedaction, type RedactionOptions } from '../../../src/privacy/redaction/options.js';
import { blockSizeFor, pixelateBoxes, pixelatedRect } from '../../../src/privacy/redaction/pixelate.js';
import { validateRedactionOptions } from '../../../src/privacy/redaction/redact.js';

function noise(width: number, height: number, seed: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  let state = seed;
  for (let i = 0; i < data.length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    data[i] = state >>> 24;
  }
  return data;
}

test('pixelation leaves each block one colour inside the box and the rest of the frame untouched', () => {
  const width = 96;
  const height = 64;
  const data = noise(width, height, 1);
  const before = new Uint8Array(data);
  const box = { x: 20, y: 10, width: 40, height: 40 };
  pixelateBoxes({ data, width, height }, [box]);
  const rect = pixelatedRect(box, { width, height });
  const block = blockSizeFor(box);
  assert.equal(block, 8);
  assert.deepEqual(rect, { x: 16, y: 8, width: 48, height: 48 });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const inside = x >= rect.x && x < rect.x + rect.width && y >= rect.y && y < rect.y + rect.height;
      if (!inside) {
        assert.equal(data[i], before[i], `pixel ${x},${y} outside the box changed`);
        continue;
      }
      const bx = Math.floor(x / block) * block;
      const by: number = Math.floor(y / block) * block;
      const corner: number = (by * width + bx) * 3;
      assert.deepEqual([...data.subarray(i, i + 3)], [...data.subarray(corner, corner + 3)]);
    }
  }
});

test('pixelation cannot be undone: two different pictures with the same block means give the same output', () => {
  const width = 32;
  const height = 32;
  const a = new Uint8Array(width * height * 3).fill(100);
  // b: a checkerboard of 50 and 150, same mean (100) in every 8x8 block.
  const b = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      b.fill((x + y) % 2 === 0 ? 50 : 150, (y * width + x) * 3, (y * width + x) * 3 + 3);
  const box = { x: 0, y: 0, width: 32, height: 32 };
  pixelateBoxes({ data: a, width, height }, [box]);
  pixelateBoxes({ data: b, width, height }, [box]);
  assert.deepEqual(b, a);
});

test('blocks are a fifth of the box at most, in steps of 8 px, on a grid fixed to the frame', () => {
  assert.equal(blockSizeFor({ x: 0, y: 0, width: 200, height: 100 }), 40);
  assert.equal(blockSizeFor({ x: 0, y: 0, width: 10, height: 10 }), 8);
  assert.equal(blockSizeFor({ x: 0, y: 0, width: 81, height: 10 }), 24);
  // Moving a box by a pixel does not move the grid.
  const frame = { width: 640, height: 480 };
  const a = pixelatedRect({ x: 100, y: 100, width: 50, height: 50 }, frame);
  const b = pixelatedRect({ x: 101, y: 101, width: 50, height: 50 }, frame);
  assert.equal(a.x % 16, 0);
  assert.equal(b.x % 16, 0);
  assert.deepEqual(pixelatedRect({ x: -20, y: 470, width: 50, height: 50 }, frame), {
    x: 0,
    y: 464,
    width: 32,
    height: 16,
  });
});

test('a face missed on some frames is interpolated between detections and held before and after them', () => {
  const face = (x: number): Box => ({ x, y: 50, width: 40, height: 40 });
  const detections: Array<Box[] | null> = Array.from({ length: 60 }, () => []);
  detections[20] = [face(100)];
  detections[30] = [face(120)];
  detections[25] = null; // the detector did not run here
  const options = { ...DEFAULT_HOLD_OPTIONS, holdFrames: 5, marginFraction: 0, growPerFrameFraction: 0 };
  const tracks = linkDetections(detections, options);
  assert.equal(tracks.length, 1);
  const boxes = heldBoxes(tracks, 60, options);
  assert.deepEqual(boxes[14], []);
  assert.deepEqual(boxes[15], [face(100)]);
  assert.deepEqual(boxes[25], [face(110)]);
  assert.deepEqual(boxes[35], [face(120)]);
  assert.deepEqual(boxes[36], []);
  for (let frame = 15; frame <= 35; frame++) assert.equal(boxes[frame]!.length, 1, `frame ${frame}`);
});

test('two faces are two tracks; far apart detections of one face are two tracks; held boxes grow with age', () => {
  const detections: Box[][] = Array.from({ length: 100 }, () => []);
  detections[10] = [
    { x: 0, y: 0, width: 20, height: 20 },
    { x: 200, y: 0, width: 20, height: 20 },
  ];
  detections[11] = [
    { x: 202, y: 0, width: 20, height: 20 },
    { x: 1, y: 0, width: 20, height: 20 },
  ];
  detections[90] = [{ x: 1, y: 0, width: 20, height: 20 }];
  const tracks = linkDetections(detections);
  assert.equal(tracks.length, 3);
  assert.deepEqual(tracks[0]!.frames, [10, 11]);
  assert.equal(tracks[0]!.boxes[1]!.x, 1);
  const held = heldBoxes(tracks, 100);
  const width = (frame: number) => held[frame]![0]!.width;
  assert.ok(width(11 + 6) > width(11 + 1));
  assert.ok(width(11 + 1) > width(11));
});

test('a stored path gives the track centre between its points, and nothing far from them', () => {
  const path = [
    { timeMs: 1000, x: 0.2, y: 0.5 },
    { timeMs: 2000, x: 0.4, y: 0.5 },
  ];
  assert.deepEqual(pathCentreAt(path, 1500), { x: 0.30000000000000004, y: 0.5 });
  assert.deepEqual(pathCentreAt(path, 500), { x: 0.2, y: 0.5 });
  assert.equal(pathCentreAt(path, 5000), null);
  assert.equal(pathCentreAt([], 1000), null);
});

test('the kept person is the box holding the track centre, the nearest one when several do', () => {
  const big = { x: 0, y: 0, width: 400, height: 400 };
  const small = { x: 90, y: 90, width: 40, height: 80 };
  assert.equal(keptPersonBox([big, small], { x: 110, y: 130 }), small);
  assert.equal(keptPersonBox([small], { x: 300, y: 300 }), null);
  assert.equal(keptPersonBox([small], null), null);
});

test('a hand-drawn box moves linearly between keys, exists only between them, and follows a track', () => {
  const frame = { width: 100, height: 100 };
  const manual = {
    keys: [
      { atMs: 0, box: { x: 0, y: 0, width: 0.1, height: 0.1 } },
      { atMs: 1000, box: { x: 0.5, y: 0, width: 0.1, height: 0.1 } },
    ],
  };
  assert.deepEqual(manualBoxAt(manual, 500, frame, undefined), { x: 25, y: 0, width: 10, height: 10 });
  assert.equal(manualBoxAt(manual, 1001, frame, undefined), null);
  const followed = {
    keys: [{ atMs: 0, box: { x: 0.1, y: 0.1, width: 0.1, height: 0.1 } }],
    follow: {
      eventId: 7,
      path: [
        { timeMs: 10_000, x: 0.2, y: 0.2 },
        { timeMs: 11_000, x: 0.4, y: 0.3 },
      ],
    },
  };
  // One key: the box exists at that time only, moved by the track from the key's time.
  const atKey = manualBoxAt(followed, 0, frame, 10_000)!;
  assert.ok(Math.abs(atKey.x - 10) < 1e-9 && Math.abs(atKey.y - 10) < 1e-9, JSON.stringify(atKey));
  const twoKeys = { ...followed, keys: [...followed.keys, { atMs: 1000, box: followed.keys[0]!.box }] };
  const moved = manualBoxAt(twoKeys, 400, frame, 10_000)!;
  assert.ok(Math.abs(moved.x - 18) < 1e-9 && Math.abs(moved.y - 14) < 1e-9, JSON.stringify(moved));
});

test('options are checked and described without naming anyone', () => {
  const faces: RedactionOptions = { mode: 'faces' };
  validateRedactionOptions(faces);
  assert.match(describeRedaction(faces), /every face detected .* pixelated/);
  const keep: RedactionOptions = {
    mode: 'all-except-track',
    keep: { eventId: 12, path: [{ timeMs: 0, x: 0.5, y: 0.5 }] },
    clipStartTimeMs: 0,
  };
  validateRedactionOptions(keep);
  assert.match(describeRedaction(keep), /except the person of event #12's track/);
  assert.deepEqual(JSON.parse(JSON.stringify(keep)), keep);
  const bad: Array<[RedactionOptions, RegExp]> = [
    [{ mode: 'all-except-track' }, /needs 'keep'/],
    [{ mode: 'manual' }, /at least one box/],
    [
      {
        mode: 'manual',
        manualBoxes: [{ keys: [{ atMs: 0, box: { x: 0.9, y: 0, width: 0.5, height: 0.1 } }] }],
      },
      /not inside/,
    ],
    [{ mode: 'faces', holdFrames: -1 }, /holdFrames/],
    [{ mode: 'everyone' as 'faces' }, /unknown redaction mode/],
  ];
  for (const [options, message] of bad) {
    assert.throws(
      () => validateRedactionOptions(options),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'REDACTION_INVALID');
        assert.match(error.message, message);
        return true;
      },
    );
  }
});

test('BlazeFace anchors and search regions: 896 anchors; the whole frame, then overlapping tiles covering it', () => {
  const anchors = blazeFaceAnchors(256);
  assert.equal(anchors.length, 896 * 2);
  assert.deepEqual([anchors[0], anchors[1], anchors[2], anchors[3]], [8, 8, 8, 8]);
  assert.deepEqual([anchors[1024], anchors[1025]], [16, 16]);
  const regions = faceRegions({ width: 720, height: 528 }, 2);
  assert.equal(regions.length, 5);
  assert.deepEqual(regions[0], { x: 0, y: -96, width: 720, height: 720 });
  for (const tile of regions.slice(1)) assert.equal(tile.width, tile.height);
  const right = Math.max(...regions.slice(1).map((r) => r.x + r.width));
  const bottom = Math.max(...regions.slice(1).map((r) => r.y + r.height));
  assert.ok(right >= 720 && bottom >= 528);
  assert.equal(faceRegions({ width: 720, height: 528 }, 0).length, 1);
});
