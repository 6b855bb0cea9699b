import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectionsTo } from '../helpers/connections.js';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { getJson, startTestVigil, waitFor, type TestVigil } from '../helpers/vigil.js';
import { assertOrderedWithoutOverlap, faultScale, segmentsOf } from './fault-helpers.js';
import { startHostileRtspServer, type HostileRtspServer } from './hostile-rtsp.js';

/**
 * Cameras that flap (go off the network and come back, many times) and a camera that answers
 * RTSP with garbage: the flapping camera records again each time it is back, the garbage camera
 * is reported with a reason, the steady camera records throughout, and nothing leaks.
 */

interface StreamStatus {
  state: string;
  lastError: { message: string } | null;
}

describe('flapping and hostile cameras', { timeout: faultScale(300_000, 1_800_000) }, () => {
  let steady: TestCameras;
  let flapping: TestCameras;
  let hostile: HostileRtspServer;
  let vigil: TestVigil;

  before(async () => {
    steady = await startCameras({ count: 1 });
    flapping = await startCameras({ count: 1 });
    hostile = await startHostileRtspServer();
    vigil = await startTestVigil(`
storage: { path: ./data, minFreeBytes: 1MB }
recording: { segmentDurationMs: 2000 }
ingest: { retryInitialMs: 200, retryMaxMs: 1000, stallTimeoutMs: 4000 }
cameras:
  - id: steady
    streams: { main: { url: "${steady.urls(1).main}" } }
  - id: flapping
    streams: { main: { url: "${flapping.urls(1).main}" } }
  - id: hostile
    streams: { main: { url: "${hostile.url}" } }
`);
  });

  after(async () => {
    await vigil?.close();
    await Promise.all([steady?.stop(), flapping?.stop(), hostile?.close()]);
  });

  const status = async (camera: string) =>
    (await getJson<{ streams: { main: StreamStatus } }>(`${vigil.url}/api/cameras/${camera}/status`)).body
      .streams.main;
  const online = (camera: string) =>
    waitFor(
      `${camera} online`,
      async () => ((await status(camera)).state === 'online' ? true : undefined),
      30_000,
    );

  test('a camera flapping many times records again after each return; the others do not notice', async () => {
    await online('steady');
    await online('flapping');
    const flaps = faultScale(10, 50);
    for (let i = 0; i < flaps; i += 1) {
      await flapping.stop();
      await waitFor(
        'flapping seen offline',
        async () => ((await status('flapping')).state !== 'online' ? true : undefined),
        30_000,
      );
      await flapping.start();
      await online('flapping');
    }
    // Steady recorded all along: its segments follow each other without a gap longer than one
    // segment's worth of slack, and neither camera has overlapping segments.
    const steadySegments = await segmentsOf(vigil.index, 'steady', 'main');
    assertOrderedWithoutOverlap(steadySegments, 'steady');
    const closed = steadySegments.filter((s) => s.state === 'closed');
    for (let i = 1; i < closed.length; i += 1) {
      const gapMs = closed[i]!.startTimeMs - closed[i - 1]!.endTimeMs;
      assert.ok(gapMs < 1000, `steady: a ${gapMs} ms gap before segment ${closed[i]!.id}`);
    }
    assertOrderedWithoutOverlap(await segmentsOf(vigil.index, 'flapping', 'main'), 'flapping');
    // One connection to the flapping camera, not one left behind per flap.
    assert.equal(connectionsTo(process.pid, flapping.port), 1, 'connections to the flapping camera');
  });

  test('a camera answering garbage is reported with a reason and retried, without a crash', async () => {
    await waitFor(
      'several hostile connections',
      () => (hostile.connections() >= 6 ? true : undefined),
      120_000,
    );
    const hostileStatus = await status('hostile');
    assert.notEqual(hostileStatus.state, 'online');
    assert.ok(hostileStatus.lastError?.message, 'a reason for the hostile camera');
    assert.equal(
      (await segmentsOf(vigil.index, 'hostile', 'main')).filter((s) => s.state === 'closed').length,
      0,
    );
    assert.equal((await status('steady')).state, 'online');
  });
});
