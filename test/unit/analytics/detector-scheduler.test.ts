import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Detection, Detector, DetectorInput } from '../../../src/analytics/detector/index.js';
import {
  DetectorScheduler,
  type InferenceSample,
} from '../../../src/analytics/pipeline/detector-scheduler.js';

/** A detector whose calls finish when the test says so. */
function gatedDetector() {
  const pending: Array<() => void> = [];
  const detector: Detector = {
    name: 'gated',
    inputSize: 8,
    detect: (inputs: readonly DetectorInput[]) =>
      new Promise<Detection[][]>((resolve) => pending.push(() => resolve(inputs.map(() => [])))),
    close: async () => undefined,
  };
  return { detector, finishNext: () => pending.shift()?.() };
}

const crop: DetectorInput = { data: new Uint8Array(8 * 8 * 3), width: 8, height: 8 };
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test('the queue depth counts waiting jobs, and every call is reported with its camera and crops', async () => {
  const { detector, finishNext } = gatedDetector();
  const samples: InferenceSample[] = [];
  const scheduler = new DetectorScheduler(detector, (sample) => samples.push(sample));
  const door = scheduler.detect('door', [crop, crop]);
  const yard = scheduler.detect('yard', [crop]);
  const office = scheduler.detect('office', [crop]);
  await settle();
  assert.equal(scheduler.queueDepth, 2, 'door runs; yard and office wait');
  finishNext();
  assert.deepEqual(await door, [[], []]);
  await settle();
  assert.equal(scheduler.queueDepth, 1);
  finishNext();
  await yard;
  await settle();
  finishNext();
  await office;
  assert.equal(scheduler.queueDepth, 0);
  assert.deepEqual(
    samples.map((s) => [s.cameraId, s.inputCount]),
    [
      ['door', 2],
      ['yard', 1],
      ['office', 1],
    ],
  );
  assert.ok(samples.every((s) => s.durationMs >= 0));
});

test('a listener that throws does not cost the camera its detections', async () => {
  const { detector, finishNext } = gatedDetector();
  const scheduler = new DetectorScheduler(detector, () => {
    throw new Error('broken listener');
  });
  const result = scheduler.detect('door', [crop]);
  await settle();
  finishNext();
  assert.deepEqual(await result, [[]]);
});
