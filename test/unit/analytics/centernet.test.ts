/**
 * The real CenterNet model on real footage: one vtest frame (people walking) and frames of the
 * tree footage (motion, but no person or vehicle). About 2 s of CPU in all.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { CenterNetDetector } from '../../../src/analytics/detector/centernet.js';
import {
  WorkerDetector,
  cropResizeRgb,
  detectionsToFrame,
  filterDetections,
  selectRegions,
  type Detection,
  type Detector,
  type RgbImage,
} from '../../../src/analytics/detector/index.js';
import { locateFfmpeg } from '../../../src/ingest/ffmpeg-binary.js';
import { sharedFootageDir } from '../../helpers/footage.js';

const run = promisify(execFile);
const footageDir = sharedFootageDir();
const treePath = footageDir ? join(footageDir, 'tree-sub.mp4') : null;
const NO_FOOTAGE =
  'real footage (../shared/footage) is not here; a generated test pattern contains no people to detect';
const skipVtest = footageDir ? false : NO_FOOTAGE;
const skipTree = treePath && existsSync(treePath) ? false : NO_FOOTAGE;

/** Centres of the five people walking in vtest-main.mp4 at 5.0 s (1280×960), checked by eye. */
const PEOPLE_AT_5S = [
  { x: 643, y: 363 },
  { x: 743, y: 347 },
  { x: 871, y: 436 },
  { x: 946, y: 427 },
  { x: 1152, y: 520 },
];
const VEHICLES = ['car', 'truck', 'bus', 'motorcycle', 'bicycle'];

async function frameAt(path: string, seconds: number, width: number, height: number): Promise<RgbImage> {
  const ffmpeg = await locateFfmpeg();
  const { stdout } = await run(
    ffmpeg.path,
    ['-hide_banner', '-loglevel', 'error', '-ss', String(seconds), '-i', path, '-frames:v', '1'].concat([
      '-s',
      `${width}x${height}`,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-',
    ]),
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(stdout.length, width * height * 3, 'one whole RGB frame');
  return { data: new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length), width, height };
}

/** Region selection → crops → detector → frame coordinates → default filters: the pipeline's path. */
async function detectInFrame(
  detector: Detector,
  frame: RgbImage,
  motion: Detection['box'][],
): Promise<Detection[]> {
  const regions = selectRegions(motion, [], frame, { inputSize: detector.inputSize });
  const crops = regions.map((region) =>
    cropResizeRgb(frame, region.box, detector.inputSize, detector.inputSize),
  );
  const perRegion = await detector.detect(crops);
  return filterDetections(detectionsToFrame(perRegion, regions, detector.inputSize, frame), frame);
}

const isOnAPerson = (d: Detection) =>
  PEOPLE_AT_5S.some(
    (p) => p.x >= d.box.x && p.x <= d.box.x + d.box.width && p.y >= d.box.y && p.y <= d.box.y + d.box.height,
  );

let detector: CenterNetDetector | null = null;

before(async () => {
  if (footageDir) detector = await CenterNetDetector.create();
});

after(async () => {
  await detector?.close();
});

test(
  'CenterNet finds the walking people in a vtest frame, full frame and in crops',
  { skip: skipVtest },
  async () => {
    const frame = await frameAt(join(footageDir!, 'vtest-main.mp4'), 5, 1280, 960);
    const fullFrame = await detectInFrame(detector!, frame, [{ x: 0, y: 0, width: 1280, height: 960 }]);
    const people = fullFrame.filter((d) => d.label === 'person' && d.score > 0.4);
    assert.ok(people.length >= 3, `people: ${JSON.stringify(fullFrame)}`);
    assert.ok(people.every(isOnAPerson), `a person box off the people: ${JSON.stringify(people)}`);
    // As motion would report them: small boxes around the walkers → native-resolution crops.
    const motion = PEOPLE_AT_5S.map((p) => ({ x: p.x - 25, y: p.y - 60, width: 50, height: 120 }));
    const cropped = await detectInFrame(detector!, frame, motion);
    const croppedPeople = cropped.filter((d) => d.label === 'person' && d.score > 0.4);
    assert.ok(croppedPeople.length >= 3, `people in crops: ${JSON.stringify(cropped)}`);
    assert.ok(
      croppedPeople.every(isOnAPerson),
      `a person box off the people: ${JSON.stringify(croppedPeople)}`,
    );
    // Never anything but object classes.
    assert.ok(
      fullFrame
        .concat(cropped)
        .every((d) => typeof d.label === 'string' && !/age|gender|emotion/.test(d.label)),
    );
  },
);

test('CenterNet: the tree in the wind is no person and no vehicle', { skip: skipTree }, async () => {
  for (const seconds of [2, 10, 20, 28]) {
    const frame = await frameAt(treePath!, seconds, 320, 240);
    const found = await detectInFrame(detector!, frame, [{ x: 0, y: 0, width: 320, height: 240 }]);
    const falseAlarms = found.filter((d) => d.label === 'person' || VEHICLES.includes(d.label));
    assert.deepEqual(falseAlarms, [], `at ${seconds} s`);
  }
});

test(
  'WorkerDetector runs the model in a worker thread with the same results',
  { skip: skipVtest },
  async () => {
    const frame = await frameAt(join(footageDir!, 'vtest-main.mp4'), 5, 1280, 960);
    const crop = cropResizeRgb(frame, { x: 600, y: 200, width: 512, height: 512 }, 512, 512);
    // tfjs in the worker too: the same runtime gives bit-identical results (onnx vs tfjs is
    // test/integration/onnx-detector.test.ts).
    const worker = await WorkerDetector.create({ backend: 'tfjs' });
    try {
      // A Buffer, as ffmpeg output is: the caller's bytes must stay usable after the call.
      const input = { ...crop, data: Buffer.from(crop.data) };
      const [inWorker] = await worker.detect([input]);
      assert.equal(input.data.length, crop.data.length, 'the input was not transferred away');
      const [inProcess] = await detector!.detect([crop]);
      assert.deepEqual(inWorker, inProcess);
      assert.ok(inWorker!.some((d) => d.label === 'person' && d.score > 0.4));
    } finally {
      await worker.close();
    }
    await assert.rejects(worker.detect([crop]), /closed/);
  },
);
