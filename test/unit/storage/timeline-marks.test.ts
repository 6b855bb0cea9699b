import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CameraEventIndex } from '../../../src/storage/camera-event-index.js';
import { openDatabase } from '../../../src/storage/db.js';
import { MotionIndex } from '../../../src/storage/motion-index.js';
import { SegmentIndex } from '../../../src/storage/segment-index.js';
import { pruneTimelineMarks } from '../../../src/storage/timeline-marks.js';

const T0 = Date.UTC(2026, 11, 1);

test('timeline marks older than a camera’s oldest recording go; those of a camera without recordings stay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-marks-'));
  const db = await openDatabase(join(dir, 'index.sqlite'));
  try {
    const index = new SegmentIndex(db);
    const motion = new MotionIndex(db);
    const cameraEvents = new CameraEventIndex(db);
    // Camera yard: its oldest recording (of either stream) starts at T0 + 60 s.
    for (const [stream, startTimeMs] of [
      ['main', T0 + 120_000],
      ['sub', T0 + 60_000],
    ] as const) {
      await index.insertOpen({
        cameraId: 'yard',
        stream,
        timelineId: 1,
        startTimeMs,
        codec: 'h264',
        width: 640,
        height: 480,
        timescale: 90_000,
        startTicks: 0,
        path: `yard/${stream}/${startTimeMs}.mp4`,
      });
    }
    for (const cameraId of ['yard', 'gate']) {
      await motion.add(cameraId, { startTimeMs: T0, endTimeMs: T0 + 10_000, maxScore: 0.1 });
      await motion.add(cameraId, { startTimeMs: T0 + 50_000, endTimeMs: T0 + 70_000, maxScore: 0.1 });
      for (const timeMs of [T0 + 5_000, T0 + 65_000])
        await cameraEvents.add({
          cameraId,
          kind: 'tamper',
          active: true,
          topic: 'RuleEngine/TamperDetector/Tamper',
          source: {},
          timeMs,
          initial: false,
        });
    }
    assert.deepEqual(await pruneTimelineMarks(index, motion, cameraEvents), {
      motionPeriodCount: 1,
      cameraEventCount: 1,
    });
    // A period that runs into the oldest recording still shades it.
    assert.deepEqual(
      (await motion.inRange('yard', 0, T0 + 3_600_000)).map((p) => p.startTimeMs),
      [T0 + 50_000],
    );
    assert.deepEqual(
      (await cameraEvents.inRange('yard', 0, T0 + 3_600_000)).map((e) => e.timeMs),
      [T0 + 65_000],
    );
    // Gate has no recording (analytics only, or not yet): nothing of it goes.
    assert.equal((await motion.inRange('gate', 0, T0 + 3_600_000)).length, 2);
    assert.equal((await cameraEvents.inRange('gate', 0, T0 + 3_600_000)).length, 2);
    assert.deepEqual(await pruneTimelineMarks(index, motion, cameraEvents), {
      motionPeriodCount: 0,
      cameraEventCount: 0,
    });
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});
