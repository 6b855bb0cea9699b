import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CameraDeviceEvent } from '../../../src/contract/onvif.js';
import { CameraMotionPeriods } from '../../../src/onvif/motion-periods.js';

const event = (
  cameraId: string,
  kind: CameraDeviceEvent['kind'],
  active: boolean,
  timeMs: number,
): CameraDeviceEvent => ({
  cameraId,
  kind,
  active,
  topic: 'RuleEngine/CellMotionDetector/Motion',
  source: {},
  timeMs,
  initial: false,
});

test("a camera's motion start and end make one period; other kinds and stray ends make none", () => {
  const periods = new CameraMotionPeriods();
  assert.equal(periods.observe(event('a', 'motion', false, 5)), null, 'an end without a start');
  assert.equal(periods.observe(event('a', 'motion', true, 10)), null);
  assert.equal(periods.observe(event('a', 'motion', true, 12)), null, 'a repeated start keeps the first');
  assert.equal(periods.observe(event('b', 'motion', true, 11)), null);
  assert.equal(periods.observe(event('a', 'tamper', false, 13)), null);
  assert.deepEqual(periods.observe(event('a', 'motion', false, 20)), {
    startTimeMs: 10,
    endTimeMs: 20,
    maxScore: 1,
  });
  assert.deepEqual(periods.observe(event('b', 'motion', false, 9)), {
    startTimeMs: 11,
    endTimeMs: 11,
    maxScore: 1,
  });
  assert.equal(periods.observe(event('a', 'motion', false, 30)), null);
});
