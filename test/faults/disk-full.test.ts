import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fsck } from '../../src/storage/fsck.js';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { getJson, startTestVigil, tempDir, waitFor, type TestVigil } from '../helpers/vigil.js';
import { assertOrderedWithoutOverlap, faultScale, segmentsOf } from './fault-helpers.js';
import { cannotMountSmallDisk, fillDisk, freeBytes, mountSmallDisk, unmountSmallDisk } from './small-disk.js';

/**
 * The disk filling up while four cameras record, on a small file system of its own (tmpfs, so
 * nothing else on the machine is touched): a file that is not Vigil's takes the free space, as
 * another program's logs or downloads would. Vigil must say so, free space at once by deleting
 * its oldest recordings (never held ones), keep recording every camera, and leave an index that
 * matches the disk.
 */

const SIZE_MB = 64;
const CAMERAS = 4;
/** How long recording goes on with the disk full (a filler taking what retention frees is not modelled). */
const FULL_FOR_MS = faultScale(15_000, 120_000);

const skip = cannotMountSmallDisk();

interface StreamStatus {
  state: string;
  recording: { lastError: { message: string } | null };
}

describe(
  'disk full while four cameras record',
  { skip: skip ?? false, timeout: 300_000 + FULL_FOR_MS },
  () => {
    const mountPoint = tempDir('vigil-fault-disk-');
    let cameras: TestCameras;
    let vigil: TestVigil;

    before(async () => {
      mountSmallDisk(mountPoint, SIZE_MB);
      cameras = await startCameras({ count: CAMERAS });
      const list = Array.from(
        { length: CAMERAS },
        (_, i) => `  - id: cam${i + 1}\n    streams: { main: { url: "${cameras.urls(i + 1).main}" } }`,
      ).join('\n');
      vigil = await startTestVigil(
        `
storage: { path: ${mountPoint}/data, minFreeBytes: 6MB }
recording: { segmentDurationMs: 2000 }
retention: { checkIntervalMs: 60000 }
cameras:
${list}
`,
        tempDir('vigil-fault-disk-config-'),
      );
    });

    after(async () => {
      await vigil?.close();
      await cameras?.stop();
      unmountSmallDisk(mountPoint);
    });

    const closed = async (camera: string) =>
      (await segmentsOf(vigil.index, camera, 'main')).filter((s) => s.state === 'closed');

    test('an alarm, space freed at once from the oldest unheld recordings, every camera recording on', async (t) => {
      const ids = Array.from({ length: CAMERAS }, (_, i) => `cam${i + 1}`);
      for (const id of ids) {
        await waitFor(`${id}: 4 closed segments`, async () => (await closed(id)).length >= 4, 60_000);
      }
      // Enough recorded that deleting the oldest can give the floor of free space back.
      await waitFor(
        '16 MiB of recordings',
        async () => (await vigil.index.usedBytes()) >= 16 * 1024 * 1024,
        180_000,
      );
      // Evidence on cam1: its first two segments are held and must survive the disk filling.
      const [first, second] = await closed('cam1');
      await vigil.index.addHold({
        cameraId: 'cam1',
        startTimeMs: first!.startTimeMs,
        endTimeMs: second!.endTimeMs,
        untilMs: null,
        kind: 'evidence',
        reason: 'disk-full test',
        createdAtMs: Date.now(),
      });
      const heldPaths = (await vigil.index.all())
        .filter((s) => s.id === first!.id || s.id === second!.id)
        .map((s) => join(mountPoint, 'data', s.path));
      const oldestBefore = new Map(
        await Promise.all(ids.map(async (id) => [id, (await closed(id))[0]!.id] as const)),
      );

      const filledAtMs = Date.now();
      const filler = fillDisk(mountPoint, 256 * 1024);
      t.diagnostic(`filled: ${freeBytes(mountPoint) / 1024} KiB free`);

      // The recorders hit ENOSPC within a fragment or two and say so.
      const alarms = new Set<string>();
      await waitFor(
        'a disk-full alarm',
        async () => {
          for (const id of ids) {
            const { body } = await getJson<{ streams: { main: StreamStatus } }>(
              `${vigil.url}/api/cameras/${id}/status`,
            );
            if (/disk full/.test(body.streams.main.recording.lastError?.message ?? '')) alarms.add(id);
          }
          return alarms.size > 0;
        },
        30_000,
      );
      // Retention ran at once: the oldest unheld recordings went, and the free space is back.
      await waitFor(
        'retention to restore the free space',
        () => freeBytes(mountPoint) >= 4 * 1024 * 1024,
        20_000,
      );
      const freedAfterMs = Date.now() - filledAtMs;
      await new Promise((r) => setTimeout(r, FULL_FOR_MS));
      const endedAtMs = Date.now();

      for (const id of ids) {
        const segments = await closed(id);
        const all = await segmentsOf(vigil.index, id, 'main');
        assert.ok(
          all.some((s) => s.startTimeMs >= filledAtMs + 2000),
          `${id} records after the disk filled (last segment starts ${all.at(-1)?.startTimeMs})`,
        );
        // Still recording at the end, after the disk has filled again and again.
        assert.ok(
          all.some((s) => s.startTimeMs >= endedAtMs - 8000),
          `${id} is still recording at the end (last segment starts ${all.at(-1)?.startTimeMs}, run ended ${endedAtMs})`,
        );
        assertOrderedWithoutOverlap(all, id);
        const gaps = all.slice(1).map((seg, i) => seg.startTimeMs - all[i]!.endTimeMs);
        t.diagnostic(
          `${id}: longest gap in the recording ${Math.max(0, ...gaps.filter(Number.isFinite))} ms`,
        );
        if (id !== 'cam1') {
          assert.ok(
            segments[0]!.id > oldestBefore.get(id)!,
            `${id}: the oldest recordings were deleted to free space`,
          );
        }
      }
      for (const path of heldPaths) assert.ok(existsSync(path), `held segment ${path} is kept`);
      const cam1 = await closed('cam1');
      assert.equal(cam1[0]!.id, first!.id, 'the held segments are still in the index');
      t.diagnostic(`disk-full alarm on ${[...alarms].join(', ')}; free space back after ${freedAfterMs} ms`);

      // The index matches the disk (segments cut short by ENOSPC end where their data ends).
      rmSync(filler);
      const report = await fsck(vigil.index, join(mountPoint, 'data'), { repair: false, nowMs: Date.now() });
      const real = report.problems.filter((p) => p.kind !== 'open-segment');
      assert.deepEqual(real, [], 'fsck finds nothing wrong');
    });
  },
);
