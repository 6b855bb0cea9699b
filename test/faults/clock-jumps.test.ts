import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { startVigil, type RunningVigil } from '../../src/app/vigil.js';
import { parseConfigText } from '../../src/config/index.js';
import { MonotonicWallClock, type Clock } from '../../src/time/clock.js';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { tempDir, waitFor } from '../helpers/vigil.js';
import { assertOrderedWithoutOverlap, faultScale, segmentsOf } from './fault-helpers.js';

const HOUR_MS = 3_600_000;

/**
 * The wall clock stepping ±1 h while recording (an NTP correction after a dead RTC battery, a
 * person setting the date) and between runs: segments never overlap or go back in time.
 */

/** The system clock as Vigil would read it if it trusted Date.now(): stepped by the test. */
class SteppedClock implements Clock {
  offsetMs = 0;
  nowMs(): number {
    return Date.now() + this.offsetMs;
  }
}

describe('wall-clock jumps', { timeout: 240_000 }, () => {
  let cameras: TestCameras;
  const dir = tempDir('vigil-fault-clock-');
  const yaml = (url: string) => `
storage: { path: ./data, minFreeBytes: 1MB }
recording: { segmentDurationMs: 2000 }
ingest: { retryInitialMs: 200, retryMaxMs: 1000 }
cameras:
  - id: cam1
    streams: { main: { url: "${url}" } }
`;
  const log = pino({ level: process.env.VIGIL_TEST_LOG ?? 'silent' });
  const start = (clock: Clock): Promise<RunningVigil> =>
    startVigil(parseConfigText(yaml(cameras.urls(1).main), { baseDir: dir, sourceName: 'test.yaml' }), {
      log,
      clock,
      listen: '127.0.0.1:0',
    });
  const segmentCount = async (vigil: RunningVigil) => (await segmentsOf(vigil.index, 'cam1', 'main')).length;
  const recordSegments = async (vigil: RunningVigil, more: number) => {
    const target = (await segmentCount(vigil)) + more;
    await waitFor(`${target} segments`, async () => (await segmentCount(vigil)) >= target, 60_000);
  };

  before(async () => {
    cameras = await startCameras({ count: 1 });
  });
  after(async () => {
    await cameras?.stop();
  });

  test('a clock stepped forward and back by an hour while recording', async () => {
    const clock = new SteppedClock();
    const vigil = await start(clock);
    try {
      await recordSegments(vigil, 2);
      for (const stepMs of faultScale(
        [HOUR_MS, -2 * HOUR_MS, HOUR_MS],
        [HOUR_MS, -2 * HOUR_MS, HOUR_MS, -HOUR_MS, HOUR_MS],
      )) {
        clock.offsetMs += stepMs;
        await recordSegments(vigil, 2);
      }
      const segments = await segmentsOf(vigil.index, 'cam1', 'main');
      assertOrderedWithoutOverlap(segments, 'cam1 main');
    } finally {
      await vigil.close();
    }
  });

  test('Vigil restarted with the system clock an hour behind the last recording', async () => {
    const vigil = await start(new MonotonicWallClock(Date.now() - HOUR_MS));
    try {
      await recordSegments(vigil, 2);
      const segments = await segmentsOf(vigil.index, 'cam1', 'main');
      assertOrderedWithoutOverlap(segments, 'cam1 main');
      assert.ok(segments.every((s) => s.endTimeMs > s.startTimeMs || s.state === 'open'));
    } finally {
      await vigil.close();
    }
  });
});
