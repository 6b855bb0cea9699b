import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { principalFor } from '../../src/auth/store.js';
import type { Caller } from '../../src/approvals/approval-service.js';
import type { WsServerMessage } from '../../src/contract/push.js';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { getJson, startTestVigil, tempDir, waitFor, type TestVigil } from '../helpers/vigil.js';

/**
 * Evidence against retention, with real recordings from the camera emulator: a small storage
 * budget and a short age limit delete everything around the locked ranges but never inside them;
 * a lock's expiry hands its recording back to retention; a camera whose recordings are all
 * locked stops recording with an alarm while the others go on, and records again once unlocked.
 */

const DAY_MS = 86_400_000;
/** cam1 keeps 8 s of continuous recording. */
const CAM1_AGE_MS = 8000;

interface StreamStatus {
  recording: { stopped: { code: string } | null; lastError: { code?: string; message: string } | null };
}

describe('locked evidence outlives retention', { timeout: 240_000 }, () => {
  let cameras: TestCameras;
  let vigil: TestVigil;
  let admin: Caller;
  let second: Caller;
  const pushed: WsServerMessage[] = [];
  let socket: WebSocket;

  const closed = async (camera: string) =>
    (await vigil.index.all()).filter(
      (s) => s.camera_id === camera && s.stream === 'main' && s.state === 'closed',
    );
  const status = async (camera: string) =>
    (await getJson<{ streams: { main: StreamStatus } }>(`${vigil.url}/api/cameras/${camera}/status`)).body
      .streams.main;

  before(async () => {
    cameras = await startCameras({ count: 3 });
    const list = [1, 2, 3]
      .map(
        (i) =>
          `  - id: cam${i}\n    streams: { main: { url: "${cameras.urls(i).main}" } }` +
          (i === 1 ? `\n    retention: { continuousDays: ${CAM1_AGE_MS / DAY_MS} }` : ''),
      )
      .join('\n');
    vigil = await startTestVigil(
      `
storage: { path: ./data, minFreeBytes: 1MB, maxBytes: 6MB }
recording: { segmentDurationMs: 2000 }
retention: { checkIntervalMs: 500 }
cameras:
${list}
`,
      tempDir(),
    );
    const adminUser = await vigil.auth.store.findUser('admin');
    admin = { principal: principalFor(adminUser!), ip: null };
    const other = await vigil.auth.store.createUser({
      name: 'second',
      role: 'admin',
      password: 'a long enough passphrase 7',
      cameras: null,
    });
    second = { principal: principalFor(other), ip: null };
    socket = new WebSocket(`${vigil.url.replace(/^http/, 'ws')}/api/ws`, {
      headers: { authorization: `Bearer ${vigil.token}` },
    });
    socket.on('message', (data) => pushed.push(JSON.parse(data.toString()) as WsServerMessage));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
  });

  after(async () => {
    socket?.close();
    await vigil?.close();
    await cameras?.stop();
  });

  test('quota, age, expiry and a camera with only evidence left', async (t) => {
    for (const id of ['cam1', 'cam2', 'cam3']) {
      await waitFor(
        `${id}: 2 closed segments`,
        async () => (await closed(id)).length >= 2 || undefined,
        60_000,
      );
    }
    // cam1: its first segment locked for good, against age and quota.
    const [c1] = await closed('cam1');
    const lock1 = await vigil.evidence.lockRange(admin, {
      cameraId: 'cam1',
      startTimeMs: c1!.start_time_ms,
      endTimeMs: c1!.end_time_ms,
      reason: 'kept against age and quota',
      expiresAtMs: null,
    });
    // cam2: its first segment locked for 10 s only.
    const [c2] = await closed('cam2');
    const lock2 = await vigil.evidence.lockRange(admin, {
      cameraId: 'cam2',
      startTimeMs: c2!.start_time_ms,
      endTimeMs: c2!.end_time_ms,
      reason: 'kept for 10 s',
      expiresAtMs: Date.now() + 10_000,
    });
    // cam3: everything from its start on, so it has nothing of its own to give back.
    const [c3] = await closed('cam3');
    const lock3 = await vigil.evidence.lockRange(admin, {
      cameraId: 'cam3',
      startTimeMs: c3!.start_time_ms - 60_000,
      endTimeMs: Date.now() + 3_600_000,
      reason: 'everything on cam3 is evidence',
      expiresAtMs: null,
    });

    // The budget is reached: cam3 stops, with the alarm on its status and on /api/ws.
    await waitFor(
      'cam3 stopped',
      async () => (await status('cam3')).recording.stopped?.code === 'EVIDENCE_ONLY_LEFT' || undefined,
      60_000,
    );
    const cam3Status = await status('cam3');
    assert.equal(cam3Status.recording.lastError?.code, 'EVIDENCE_ONLY_LEFT');
    assert.match(cam3Status.recording.lastError?.message ?? '', /locked evidence/);
    await waitFor(
      'the alarm on /api/ws',
      () => pushed.some((m) => m.type === 'recording' && m.cameraId === 'cam3' && m.stopped) || undefined,
      5000,
    );
    const stoppedAtMs = Date.now();
    const cam3SegmentsAtStop = (await closed('cam3')).length;

    // Meanwhile the others record on, over their own oldest recordings, and the locks hold.
    await waitFor(
      'lock2 expired and its segment deleted',
      async () => !(await closed('cam2')).some((s) => s.id === c2!.id) || undefined,
      60_000,
    );
    const quotaDeletedBefore = vigil.retention.status().deletedSegmentCount;
    await new Promise((r) => setTimeout(r, 6000));
    const cam1 = await closed('cam1');
    const cam2 = await closed('cam2');
    assert.equal(cam1[0]!.id, c1!.id, 'the locked cam1 segment outlived age and quota retention');
    assert.ok(existsSync(join(vigil.dir, 'data', c1!.path)), 'its file too');
    assert.ok(
      cam1.slice(1).every((s) => s.end_time_ms > Date.now() - CAM1_AGE_MS - 4000),
      'cam1 keeps no unlocked recording older than its age limit',
    );
    assert.ok(
      cam1.some((s) => s.start_time_ms > stoppedAtMs),
      'cam1 records on',
    );
    assert.ok(
      cam2.some((s) => s.start_time_ms > stoppedAtMs),
      'cam2 records on',
    );
    assert.equal((await vigil.evidence.get(admin.principal, lock2.id)).state, 'expired');
    assert.ok(vigil.retention.status().deletedSegmentCount > quotaDeletedBefore, 'retention keeps deleting');
    // Recording resumes by itself when retention finds room again (another camera's age limit
    // may free it for a while), so the stops are read from the pushes: the segment open at a stop
    // is closed after it, and no segment may start while cam3 is stopped.
    const cam3Pushes = pushed.filter(
      (m): m is Extract<WsServerMessage, { type: 'recording' }> =>
        m.type === 'recording' && m.cameraId === 'cam3',
    );
    const stops = cam3Pushes.flatMap((m, i) =>
      m.stopped
        ? [{ fromMs: m.timeMs, toMs: cam3Pushes.slice(i + 1).find((n) => !n.stopped)?.timeMs ?? Infinity }]
        : [],
    );
    const startedWhileStopped = (await closed('cam3')).filter((s) =>
      stops.some((stop) => s.start_time_ms > stop.fromMs && s.start_time_ms < stop.toMs),
    );
    assert.deepEqual(
      startedWhileStopped.map((s) => s.start_time_ms),
      [],
      `no cam3 segment started while stopped (stops: ${JSON.stringify(stops)})`,
    );
    assert.ok((await status('cam1')).recording.stopped === null);
    const used = await vigil.index.usedBytes();
    t.diagnostic(
      `used ${(used / 1e6).toFixed(1)} MB of a 6 MB budget; cam3 held ${cam3SegmentsAtStop} segments`,
    );

    // Unlocking cam3 (two people) gives it something to give back: it records again.
    const asked = await vigil.evidence.requestUnlock(admin, lock3.id, 'investigation over');
    assert.equal(asked.status, 'pending');
    await assert.rejects(
      vigil.approvals.approve(admin, asked.status === 'pending' ? asked.request.id : 0),
      /another user/,
    );
    await vigil.approvals.approve(second, asked.status === 'pending' ? asked.request.id : 0);
    await waitFor(
      'cam3 records again',
      async () => (await status('cam3')).recording.stopped === null || undefined,
      30_000,
    );
    await waitFor(
      'a new cam3 segment',
      async () => (await closed('cam3')).some((s) => s.start_time_ms > Date.now() - 6000) || undefined,
      30_000,
    );
    assert.ok(
      pushed.some((m) => m.type === 'recording' && m.cameraId === 'cam3' && !m.stopped),
      'resumption pushed',
    );
    assert.equal((await vigil.evidence.get(admin.principal, lock1.id)).state, 'locked');
  });
});
