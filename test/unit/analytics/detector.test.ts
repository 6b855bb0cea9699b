import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  COCO_LABELS,
  DEFAULT_DETECTION_FILTERS,
  cocoLabel,
  cropResizeRgb,
  detectionsToFrame,
  filterDetections,
  mapBoxFromRegion,
  nmsPerLabel,
  selectRegions,
  type Detection,
} from '../../../src/analytics/detector/index.js';
import { boxArea, clampBox, intersection } from '../../../src/analytics/geometry.js';

const HD = { width: 1280, height: 720 };

test('COCO label table: 80 classes, person 0, car 2, truck 7', () => {
  assert.equal(COCO_LABELS.length, 80);
  assert.equal(cocoLabel(0), 'person');
  assert.equal(cocoLabel(2), 'car');
  assert.equal(cocoLabel(7), 'truck');
  assert.equal(cocoLabel(80), null);
  assert.equal(cocoLabel(1.5), null);
});

test('no boxes, no regions', () => {
  assert.deepEqual(selectRegions([], [], HD), []);
  // A box wholly outside the frame is nothing to look at either.
  assert.deepEqual(selectRegions([{ x: 2000, y: 0, width: 10, height: 10 }], [], HD), []);
});

test('a small motion box gets one input-sized square crop around it, inside the frame', () => {
  const motion = { x: 600, y: 300, width: 40, height: 90 };
  const regions = selectRegions([motion], [], HD, { inputSize: 512 });
  assert.equal(regions.length, 1);
  const { box, fullFrame } = regions[0]!;
  assert.equal(fullFrame, false);
  assert.equal(box.width, 512);
  assert.equal(box.height, 512);
  assert.deepEqual(clampBox(box, HD), box, 'the crop lies inside the frame');
  assert.deepEqual(intersection(box, motion), motion, 'the crop contains the motion');
});

test('nearby boxes share a crop, distant ones get their own, track boxes count as much as motion', () => {
  const regions = selectRegions(
    [
      { x: 100, y: 100, width: 30, height: 60 },
      { x: 200, y: 150, width: 30, height: 60 },
    ],
    [{ x: 1100, y: 500, width: 40, height: 100 }],
    { width: 1920, height: 1080 },
    { inputSize: 512 },
  );
  assert.equal(regions.length, 2);
  assert.ok(regions.every((r) => r.box.width === 512 && !r.fullFrame));
});

test('a large object gets a larger crop (downscaled by the detector), with margin', () => {
  const car = { x: 100, y: 100, width: 800, height: 400 };
  const regions = selectRegions(
    [car],
    [],
    { width: 3840, height: 2160 },
    { inputSize: 512, marginFraction: 0.25 },
  );
  assert.equal(regions.length, 1);
  assert.equal(regions[0]!.box.width, 1200);
  assert.deepEqual(intersection(regions[0]!.box, car), car);
});

test('more clusters than maxRegions are merged, cheapest pair first', () => {
  const frame = { width: 3840, height: 2160 };
  const corners = [
    { x: 10, y: 10, width: 20, height: 40 },
    { x: 3800, y: 10, width: 20, height: 40 },
    { x: 10, y: 2100, width: 20, height: 40 },
    { x: 700, y: 10, width: 20, height: 40 },
  ];
  const regions = selectRegions(corners, [], frame, { inputSize: 512, maxRegions: 3, fullFrameFraction: 1 });
  assert.equal(regions.length, 3);
  // The two top-left boxes (700 px apart) share the merged crop.
  const merged = regions.find((r) => r.box.width > 512)!;
  assert.ok(intersection(merged.box, corners[0]!) && intersection(merged.box, corners[3]!));
  for (const box of corners)
    assert.ok(
      regions.some(
        (r) => boxArea(intersection(r.box, box) ?? { x: 0, y: 0, width: 0, height: 0 }) === boxArea(box),
      ),
    );
});

test('crops covering most of the frame become one letterboxed full-frame region', () => {
  const sub = { width: 640, height: 480 };
  // On a 640×480 sub stream a single 480×480 crop already covers 75 % of the frame.
  const regions = selectRegions([{ x: 300, y: 200, width: 20, height: 40 }], [], sub, { inputSize: 512 });
  assert.deepEqual(regions, [{ box: { x: 0, y: -80, width: 640, height: 640 }, fullFrame: true }]);
});

test('crop boxes map back to frame pixels; boxes in the padding vanish; NMS joins duplicates across crops', () => {
  const frame = { width: 1280, height: 960 };
  const regions = [
    { box: { x: 600, y: 200, width: 512, height: 512 }, fullFrame: false },
    { box: { x: 0, y: -160, width: 1280, height: 1280 }, fullFrame: true },
  ];
  const person = (x: number, y: number, w: number, h: number, score: number): Detection => ({
    box: { x, y, width: w, height: h },
    label: 'person',
    score,
  });
  const frameDetections = detectionsToFrame(
    [
      [person(20, 100, 40, 120, 0.7)],
      // The same person seen in the full frame (scale 2.5, offset y −160), lower score; and a box in the top padding.
      [person(249.6, 184, 16, 48, 0.5), person(100, 10, 20, 30, 0.9)],
    ],
    regions,
    512,
    frame,
  );
  assert.deepEqual(frameDetections, [person(620, 300, 40, 120, 0.7)]);
});

test('mapBoxFromRegion scales and offsets', () => {
  assert.deepEqual(
    mapBoxFromRegion(
      { x: 10, y: 20, width: 30, height: 40 },
      { x: 100, y: 50, width: 1024, height: 1024 },
      512,
    ),
    {
      x: 120,
      y: 90,
      width: 60,
      height: 80,
    },
  );
});

test('NMS per label: overlapping same-label boxes collapse, other labels and distant boxes stay', () => {
  const d = (label: string, x: number, score: number, width = 50): Detection => ({
    box: { x, y: 0, width, height: 100 },
    label,
    score,
  });
  const kept = nmsPerLabel([
    d('person', 0, 0.6),
    d('person', 5, 0.8),
    d('bicycle', 0, 0.5),
    d('person', 200, 0.4),
  ]);
  assert.deepEqual(kept, [d('person', 5, 0.8), d('bicycle', 0, 0.5), d('person', 200, 0.4)]);
  // A half person inside a whole one (IoU 0.5 exactly, containment 1) is a duplicate.
  assert.deepEqual(nmsPerLabel([d('person', 0, 0.7), d('person', 0, 0.6, 25)]), [d('person', 0, 0.7)]);
});

test('filters: labels, score, area, aspect, per-label overrides', () => {
  const frame = { width: 1000, height: 1000 };
  const d = (label: string, score: number, width: number, height: number): Detection => ({
    box: { x: 0, y: 0, width, height },
    label,
    score,
  });
  const kept = filterDetections(
    [
      d('person', 0.7, 40, 100),
      d('person', 0.3, 40, 100), // score
      d('chair', 0.9, 40, 100), // label not kept
      d('person', 0.7, 5, 10), // too small: 0.00005 of the frame
      d('car', 0.7, 990, 990), // too large
      d('person', 0.7, 300, 100), // a 3:1 wide person
      d('car', 0.7, 300, 100), // a 3:1 car is fine
    ],
    frame,
  );
  assert.deepEqual(kept, [d('person', 0.7, 40, 100), d('car', 0.7, 300, 100)]);
  const strict = filterDetections([d('person', 0.7, 40, 100)], frame, {
    ...DEFAULT_DETECTION_FILTERS,
    perLabel: { person: { minScore: 0.8 } },
  });
  assert.deepEqual(strict, []);
});

test('cropResizeRgb: identity, 2× downscale average, padding outside the image', () => {
  // 4×2 image: columns of grey levels 0, 100, 200, 250, both rows alike; blue channel constant.
  const data = new Uint8Array(4 * 2 * 3);
  const levels = [0, 100, 200, 250];
  for (let y = 0; y < 2; y++)
    for (let x = 0; x < 4; x++) data.set([levels[x]!, levels[x]!, 7], (y * 4 + x) * 3);
  const image = { data, width: 4, height: 2 };
  assert.deepEqual(cropResizeRgb(image, { x: 0, y: 0, width: 4, height: 2 }, 4, 2).data, data);
  // Half size: output pixel centres fall midway between source pixels.
  const half = cropResizeRgb(image, { x: 0, y: 0, width: 4, height: 2 }, 2, 1).data;
  assert.deepEqual([...half], [50, 50, 7, 225, 225, 7]);
  // A square region of the longer side: the bottom half is padding.
  const boxed = cropResizeRgb(image, { x: 0, y: 0, width: 4, height: 4 }, 4, 4, undefined, 114).data;
  assert.deepEqual([...boxed.subarray(0, 12)], [...data.subarray(0, 12)]);
  assert.ok(boxed.subarray(24).every((v) => v === 114));
});
