/**
 * Camera health through a running Vigil: an RTSP camera (the emulator) whose picture is covered
 * for a while, then taken off the network and brought back. The camera-health facts must reach
 * the bus's scene channel and be pushed on /api/ws: tamper-covered then tamper-cleared, and
 * stream-lost (after the debounce) then stream-restored. A user who may not see the camera gets
 * none of them, even when subscribing to it by name.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import type { WsServerMessage } from '../../src/contract/push.js';
import type { SceneFact } from '../../src/contract/scene.js';
import { STREAM_LOST_AFTER_MS } from '../../src/events/camera-health.js';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { generatedFootage, sharedFootageDir } from '../helpers/footage.js';
import { FFMPEG } from '../helpers/media-tools.js';
import { reportStandIn } from '../helpers/stand-ins.js';
import { startTestVigil, tempDir, type TestVigil, waitFor } from '../helpers/vigil.js';

const execFileAsync = promisify(execFile);
/** The covered part of the looped footage, in its seconds. */
const COVERED = { fromS: 15, toS: 40, lengthS: 60 };

/** The tree footage (or a test pattern) looped to 60 s, covered from 15 s to 40 s, H.264 as a camera sends it. */
async function coveredFootage(dir: string): Promise<string> {
  const shared = sharedFootageDir();
  if (!shared) reportStandIn('a generated test pattern stood in for the tree footage');
  const source = shared ? join(shared, 'tree-sub.mp4') : (await generatedFootage()).sub;
  const out = join(dir, 'covered.mp4');
  const during = `enable='between(t,${COVERED.fromS},${COVERED.toS})'`;
  await execFileAsync(FFMPEG, [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-stream_loop', '-1', '-i', source],
    ...['-t', String(COVERED.lengthS), '-an', '-r', '10'],
    ...['-vf', `drawbox=x=0:y=0:w=iw:h=ih:color=0x202020@1:t=fill:${during},noise=alls=12:allf=t:${during}`],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'main', '-pix_fmt', 'yuv420p'],
    ...['-g', '20', '-keyint_min', '20', '-sc_threshold', '0', out],
  ]);
  return out;
}

describe('camera health facts on the bus and /api/ws', { timeout: 300_000 }, () => {
  let cameras: TestCameras;
  let vigil: TestVigil;
  let socket: WebSocket;
  const pushed: WsServerMessage[] = [];
  const outsiderPushed: WsServerMessage[] = [];
  let outsider: WebSocket;
  const facts: SceneFact[] = [];

  const health = (state: string) =>
    pushed.filter((m) => m.type === 'camera-health' && m.cameraId === 'door' && m.state === state);

  before(async () => {
    const dir = tempDir();
    const footage = await coveredFootage(dir);
    cameras = await startCameras({ count: 1, footage: { main: footage, sub: footage } });
    vigil = await startTestVigil(
      `
storage: { path: ./data, minFreeBytes: 1MB }
cameras:
  - id: door
    streams:
      main: { url: "${cameras.urls(1).main}" }
      sub: { url: "${cameras.urls(1).sub}" }
    detect: { enabled: true, tamper: { minDurationMs: 4000 } }
  - id: hall
    streams:
      main: { url: "testsrc:?size=320x240&fps=5" }
`,
      dir,
    );
    vigil.events.bus.on('scene', (fact) => facts.push(fact));
    socket = new WebSocket(`${vigil.url.replace('http', 'ws')}/api/ws`, {
      headers: { authorization: `Bearer ${vigil.token}` },
    });
    socket.on('message', (data) => pushed.push(JSON.parse(String(data)) as WsServerMessage));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const user = await vigil.auth.store.createUser({
      name: 'hallwatch',
      role: 'viewer',
      password: 'a long enough passphrase 7',
      cameras: ['hall'],
    });
    const token = (await vigil.auth.store.createToken(user.id, { label: 't' })).token;
    outsider = new WebSocket(`${vigil.url.replace('http', 'ws')}/api/ws`, {
      headers: { authorization: `Bearer ${token}` },
    });
    outsider.on('message', (data) => outsiderPushed.push(JSON.parse(String(data)) as WsServerMessage));
    await new Promise<void>((resolve, reject) => {
      outsider.once('open', () => resolve());
      outsider.once('error', reject);
    });
    // Trying to get around the grant: subscribe to the camera by name.
    outsider.send(JSON.stringify({ type: 'subscribe', cameras: ['door'] }));
  });

  after(async () => {
    socket?.close();
    outsider?.close();
    await vigil?.close();
    await cameras?.stop();
  });

  test('a covered view: tamper-covered, then tamper-cleared when it comes back', async () => {
    const covered = await waitFor(
      'tamper-covered on /api/ws',
      () => health('tamper-covered')[0],
      150_000,
      200,
    );
    assert.match(covered.type === 'camera-health' ? covered.detail : '', /covered/);
    await waitFor('tamper-cleared on /api/ws', () => health('tamper-cleared')[0], 90_000, 200);
    // The bus carried the same facts the socket pushed.
    const onBus = facts.filter((f) => f.type === 'camera-health' && f.state.startsWith('tamper-'));
    assert.deepEqual(
      onBus,
      pushed.filter((m) => m.type === 'camera-health' && m.state.startsWith('tamper-')),
    );
  });

  test('the camera off the network: stream-lost after the debounce, stream-restored when it is back', async () => {
    const stoppedAtMs = Date.now();
    await cameras.stop();
    const lost = await waitFor(
      'stream-lost',
      () => (health('stream-lost').length >= 2 ? health('stream-lost') : undefined),
      60_000,
      200,
    );
    assert.ok(Date.now() - stoppedAtMs >= STREAM_LOST_AFTER_MS, 'not before the debounce');
    assert.deepEqual(lost.map((m) => (m.type === 'camera-health' ? m.detail.split(' ')[1] : '')).sort(), [
      'main',
      'sub',
    ]);
    await cameras.start();
    await waitFor('stream-restored', () => health('stream-restored').length >= 2, 90_000, 200);
    assert.equal(health('stream-lost').length, 2, 'each stream lost once');
  });

  test('a user without the camera got none of it, though subscribed to it by name', () => {
    assert.ok(outsiderPushed.some((m) => m.type === 'subscribed'));
    assert.deepEqual(
      outsiderPushed.filter((m) => m.type === 'camera-health'),
      [],
    );
  });
});
