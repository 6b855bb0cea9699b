import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { principalFor } from '../../src/auth/store.js';
import { fsck } from '../../src/storage/fsck.js';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { getJson, startTestVigil, tempDir, waitFor, type TestVigil } from '../helpers/vigil.js';
import { segmentsOf } from './fault-helpers.js';
import { cannotMountSmallDisk, fillDisk, mountSmallDisk, unmountSmallDisk } from './small-disk.js';

/**
 * A full disk when one camera's recordings are all locked evidence (a small tmpfs of its own, as
 * in disk-full.test.ts): that camera must stop recording with the EVIDENCE_ONLY_LEFT alarm rather
 * than fail at random or take evidence, the other camera records on over its own oldest
 * recordings, and once space is back the first records again. No evidence is lost.
 */

const SIZE_MB = 48;

const skip = cannotMountSmallDisk();

interface RecordingStatus {
  recording: { stopped: { code: string; message: string } | null };
}

describe(
  "a full disk with only one camera's evidence left",
  { skip: skip ?? false, timeout: 300_000 },
  () => {
    const mountPoint = tempDir('vigil-fault-evidence-');
    let cameras: TestCameras;
    let vigil: TestVigil;

    before(async () => {
      mountSmallDisk(mountPoint, SIZE_MB);
      cameras = await startCameras({ count: 2 });
      vigil = await startTestVigil(
        `
storage: { path: ${mountPoint}/data, minFreeBytes: 6MB }
recording: { segmentDurationMs: 2000 }
retention: { checkIntervalMs: 1000 }
cameras:
  - id: cam1
    streams: { main: { url: "${cameras.urls(1).main}" } }
  - id: cam2
    streams: { main: { url: "${cameras.urls(2).main}" } }
`,
        tempDir('vigil-fault-evidence-config-'),
      );
    });

    after(async () => {
      await vigil?.close();
      await cameras?.stop();
      unmountSmallDisk(mountPoint);
    });

    const closed = async (camera: string) =>
      (await segmentsOf(vigil.index, camera, 'main')).filter((s) => s.state === 'closed');
    const stopped = async (camera: string) =>
      (await getJson<{ streams: { main: RecordingStatus } }>(`${vigil.url}/api/cameras/${camera}/status`))
        .body.streams.main.recording.stopped;

    test('the all-evidence camera stops with the alarm, the other records on, both resume', async (t) => {
      for (const id of ['cam1', 'cam2']) {
        await waitFor(
          `${id}: 3 closed segments`,
          async () => (await closed(id)).length >= 3 || undefined,
          60_000,
        );
      }
      // Enough of cam2's own recordings that giving them back can make up the floor of free space.
      await waitFor(
        '16 MiB of recordings',
        async () => (await vigil.index.usedBytes()) >= 16 * 1024 * 1024 || undefined,
        120_000,
      );
      const adminUser = await vigil.auth.store.findUser('admin');
      const [first] = await closed('cam1');
      await vigil.evidence.lockRange(
        { principal: principalFor(adminUser!), ip: null },
        {
          cameraId: 'cam1',
          startTimeMs: first!.startTimeMs - 60_000,
          endTimeMs: Date.now() + 3_600_000,
          reason: 'everything cam1 records is evidence',
          expiresAtMs: null,
        },
      );
      const filledAtMs = Date.now();
      const filler = fillDisk(mountPoint, 256 * 1024);

      await waitFor(
        'cam1 stopped for evidence',
        async () => (await stopped('cam1'))?.code === 'EVIDENCE_ONLY_LEFT' || undefined,
        30_000,
      );
      const stoppedAfterMs = Date.now() - filledAtMs;
      const cam1AtStop = (await segmentsOf(vigil.index, 'cam1', 'main')).length;
      const cam2Oldest = (await closed('cam2'))[0]!.id;
      await new Promise((r) => setTimeout(r, 10_000));
      assert.equal(await stopped('cam2'), null, 'cam2 is not stopped');
      const cam2 = await segmentsOf(vigil.index, 'cam2', 'main');
      assert.ok(
        cam2.some((s) => s.startTimeMs > filledAtMs + 4000),
        'cam2 records on with the disk full',
      );
      const cam2Closed = await closed('cam2');
      assert.ok(
        cam2Closed.length > 0 && cam2Closed[0]!.id > cam2Oldest,
        'cam2 gave back its own oldest recordings',
      );
      assert.equal(
        (await segmentsOf(vigil.index, 'cam1', 'main')).length,
        cam1AtStop,
        'cam1 writes nothing while stopped',
      );
      const cam1Closed = await closed('cam1');
      assert.equal(cam1Closed[0]!.id, first!.id, 'no cam1 evidence was deleted');
      for (const s of (await vigil.index.all()).filter(
        (r) => r.camera_id === 'cam1' && r.state === 'closed',
      )) {
        assert.ok(existsSync(join(mountPoint, 'data', s.path)), `evidence file ${s.path} is there`);
      }

      // Space again: cam1 records again by itself.
      rmSync(filler);
      const freedAtMs = Date.now();
      await waitFor(
        'cam1 records again',
        async () => ((await stopped('cam1')) === null ? true : undefined),
        30_000,
      );
      await waitFor(
        'a new cam1 segment',
        async () =>
          (await segmentsOf(vigil.index, 'cam1', 'main')).some((s) => s.startTimeMs > freedAtMs) || undefined,
        30_000,
      );
      t.diagnostic(
        `cam1 stopped ${stoppedAfterMs} ms after the disk filled; ${cam1Closed.length} locked segments kept`,
      );
      const report = await fsck(vigil.index, join(mountPoint, 'data'), { repair: false, nowMs: Date.now() });
      assert.deepEqual(
        report.problems.filter((p) => p.kind !== 'open-segment'),
        [],
        'fsck finds nothing wrong',
      );
    });
  },
);
