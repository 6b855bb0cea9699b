import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { WebSocket } from 'ws';
import type { LiveMessage } from '../../src/contract/live.js';
import { spawnSync } from 'node:child_process';
import { startBackchannelCamera, type BackchannelCamera } from '../helpers/backchannel-rtsp-server.js';
import { browserMissing, FAKE_MICROPHONE_ARGS, launchChromium, signInAsAdmin } from '../helpers/browser.js';
import { FFMPEG } from '../helpers/media-tools.js';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { BLACK_MAX, polygon, type Rect } from '../helpers/mask-pixels.js';
import { apiFetch, startTestVigil, waitFor, type TestVigil } from '../helpers/vigil.js';

const PASSWORD = 'green teapot under the stairs 17';

/** RMS of G.711 µ-law audio decoded by ffmpeg, in 16-bit sample units. */
function muLawRms(payloads: Buffer[]): number {
  const decoded = spawnSync(
    FFMPEG,
    ['-hide_banner', '-f', 'mulaw', '-ar', '8000', '-ac', '1', '-i', 'pipe:0', '-f', 's16le', 'pipe:1'],
    {
      input: Buffer.concat(payloads),
      maxBuffer: 64 * 1024 * 1024,
    },
  ).stdout;
  let sum = 0;
  const samples = decoded.length / 2;
  for (let i = 0; i < samples; i += 1) sum += decoded.readInt16LE(i * 2) ** 2;
  return Math.sqrt(sum / Math.max(1, samples));
}

/** A live socket in WebRTC mode that records the messages it gets. */
async function signallingSocket(
  vigil: TestVigil,
  path: string,
  token: string,
): Promise<{ socket: WebSocket; messages: LiveMessage[]; status: number | null }> {
  const socket = new WebSocket(`${vigil.url.replace(/^http/, 'ws')}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const messages: LiveMessage[] = [];
  socket.on('message', (data: Buffer, binary: boolean) => {
    if (!binary) messages.push(JSON.parse(data.toString('utf8')) as LiveMessage);
  });
  const status = await new Promise<number | null>((resolve) => {
    socket.once('open', () => resolve(null));
    socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.once('error', () => resolve(0));
  });
  return { socket, messages, status };
}

/** A permanent privacy mask on camera `masked`: nobody sees under it, administrators included. */
const PERMANENT: Rect = [0.1, 0.1, 0.45, 0.45];

/** Mean luma of a normalised rectangle of what a video element shows now, read in the page. */
async function videoLuma(page: Page, selector: string, rect: Rect): Promise<number> {
  return page.$eval(
    selector,
    (el, [x1, y1, x2, y2]) => {
      const video = el as HTMLVideoElement;
      const canvas = document.createElement('canvas');
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const ctx = canvas.getContext('2d');
      if (!ctx) return -1;
      ctx.drawImage(video, 0, 0);
      const x = Math.floor(x1 * canvas.width);
      const y = Math.floor(y1 * canvas.height);
      const { data } = ctx.getImageData(
        x,
        y,
        Math.ceil(x2 * canvas.width) - x,
        Math.ceil(y2 * canvas.height) - y,
      );
      let sum = 0;
      for (let i = 0; i < data.length; i += 4)
        sum += 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
      return sum / (data.length / 4);
    },
    rect,
  );
}

/** Waits for a WebRTC video showing decoded frames, and gives its luma inside and outside `rect`. */
async function webrtcLuma(
  page: Page,
  cameraId: string,
  rect: Rect,
): Promise<{ inside: number; outside: number }> {
  await page.goto(`${page.url().split('#')[0]}#/live/${cameraId}`);
  const selector = '.focus-tile video';
  await page.waitForSelector(selector);
  await waitFor(
    `decoded WebRTC frames of ${cameraId}`,
    () =>
      page.$eval(selector, (el) => {
        const v = el as HTMLVideoElement;
        return v.srcObject instanceof MediaStream && v.getVideoPlaybackQuality().totalVideoFrames > 10
          ? true
          : undefined;
      }),
    60_000,
  );
  const [x1, y1, x2, y2] = rect;
  return {
    inside: await videoLuma(page, selector, [x1 + 0.02, y1 + 0.02, x2 - 0.02, y2 - 0.02]),
    outside: await videoLuma(page, selector, [x2 + 0.05, y2 + 0.05, 0.95, 0.95]),
  };
}

describe('WebRTC live view in Chromium', { skip: browserMissing ?? false, timeout: 240_000 }, () => {
  let cameras: TestCameras;
  let speaker: BackchannelCamera;
  let vigil: TestVigil;
  let browser: Browser;
  let page: Page;
  const tokens = { yardOnly: '', gateOnly: '', doorViewer: '', doorOperator: '' };

  before(async () => {
    cameras = await startCameras({ count: 2 });
    speaker = await startBackchannelCamera('PCMU');
    vigil = await startTestVigil(`
storage: { path: ./data, minFreeBytes: 1MB }
cameras:
  - id: yard
    streams:
      main: { url: "${cameras.urls(1).sub}" }
  - id: gate
    streams:
      main: { url: "${cameras.urls(2).sub}" }
  - id: door
    streams:
      main: { url: "${speaker.url}", transport: tcp }
  - id: masked
    streams:
      main: { url: "${cameras.urls(1).sub}" }
    privacy:
      masks:
        - { id: window, kind: permanent, polygon: ${JSON.stringify(polygon(PERMANENT))} }
`);
    for (const [name, camera, role] of [
      ['yardOnly', 'yard', 'viewer'],
      ['gateOnly', 'gate', 'operator'],
      ['doorViewer', 'door', 'viewer'],
      ['doorOperator', 'door', 'operator'],
    ] as const) {
      const user = await vigil.auth.store.createUser({
        name,
        role,
        password: PASSWORD,
        cameras: [camera],
      });
      tokens[name] = (await vigil.auth.store.createToken(user.id, { label: name })).token;
    }
    browser = await launchChromium({}, FAKE_MICROPHONE_ARGS);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    // No Media Source Extensions, as on iPhone Safari: the player must fall back to WebRTC.
    await page.addInitScript(() => {
      const w = window as unknown as Record<string, unknown>;
      delete w['MediaSource'];
      delete w['ManagedMediaSource'];
    });
    await signInAsAdmin(page, `${vigil.url}/#/live/yard`);
  });

  after(async () => {
    await browser?.close();
    await vigil?.close();
    await cameras?.stop();
    await speaker?.stop();
  });

  test('without MSE the live view plays over WebRTC: frames are decoded', async (t: TestContext) => {
    const selector = '.focus-tile video';
    await page.waitForSelector(selector);
    assert.equal(await page.evaluate(() => 'MediaSource' in window), false, 'MSE is gone from the page');
    const startedMs = Date.now();
    const frames = await waitFor(
      'decoded WebRTC frames',
      async () => {
        const counts = await page.$eval(selector, (el) => {
          const v = el as HTMLVideoElement;
          return {
            webrtc: v.srcObject instanceof MediaStream,
            decoded: v.getVideoPlaybackQuality().totalVideoFrames,
            width: v.videoWidth,
          };
        });
        return counts.webrtc && counts.decoded > 10 ? counts : undefined;
      },
      60_000,
    );
    t.diagnostic(
      `${frames.decoded} frames decoded, ${frames.width} px wide, ${Date.now() - startedMs} ms after the page showed`,
    );
    assert.ok(frames.width > 0);
  });

  test('a privacy mask is black in the WebRTC picture, as in every other output', async (t: TestContext) => {
    // The same camera without the mask shows something there: the black is the mask, not the scene.
    const plain = await webrtcLuma(page, 'yard', PERMANENT);
    const masked = await webrtcLuma(page, 'masked', PERMANENT);
    t.diagnostic(
      `luma under the mask: ${masked.inside.toFixed(1)} (unmasked camera ${plain.inside.toFixed(1)}); ` +
        `beside it ${masked.outside.toFixed(1)}`,
    );
    assert.ok(plain.inside > 30, `the region is not dark by itself (${plain.inside.toFixed(1)})`);
    assert.ok(masked.inside <= BLACK_MAX * 2, `masked region luma ${masked.inside.toFixed(1)}`);
    assert.ok(masked.outside > 30, `the rest of the picture is shown (${masked.outside.toFixed(1)})`);
  });

  test('signalling for another camera on the same socket is refused', async () => {
    const { socket, messages, status } = await signallingSocket(
      vigil,
      '/api/cameras/yard/live?via=webrtc',
      tokens.yardOnly,
    );
    assert.equal(status, null, 'yard is granted');
    try {
      await waitFor('the offer', () => messages.find((m) => m.type === 'webrtc.offer'), 20_000);
      for (const cameraId of ['gate', 'Yard', 'yard ', '%79ard', 'yard/../gate']) {
        socket.send(JSON.stringify({ type: 'webrtc.answer', cameraId, sdp: 'v=0' }));
      }
      socket.send(JSON.stringify({ type: 'webrtc.candidate', candidate: null }));
      const refusals = await waitFor(
        'six refusals',
        () => {
          const errors = messages.filter((m) => m.type === 'error');
          return errors.length >= 6 ? errors : undefined;
        },
        10_000,
      );
      for (const refusal of refusals) assert.equal(refusal.type === 'error' && refusal.code, 'FORBIDDEN');
    } finally {
      socket.close();
    }
  });

  test('WebRTC live needs the camera grant, whatever the spelling of the id', async () => {
    for (const path of [
      '/api/cameras/yard/live?via=webrtc',
      '/api/cameras/%79ard/live?via=webrtc',
      '/api/cameras/gate/..%2Fyard/live?via=webrtc',
    ]) {
      const { socket, status } = await signallingSocket(vigil, path, tokens.gateOnly);
      socket.terminate();
      assert.ok(status !== null && status >= 400, `${path}: refused (${status})`);
    }
  });

  test('talk: the fake microphone reaches the camera speaker as the G.711 it asked for, audited', async (t: TestContext) => {
    await page.goto(`${page.url().split('#')[0]}#/live/door`);
    await page.click('button:has-text("Talk")');
    await page.waitForSelector('[data-talk-status]:has-text("Talking (PCMU)")', { timeout: 30_000 });
    const received = await waitFor(
      '3 s of audio on the backchannel',
      () => (speaker.packets.length >= 150 ? speaker.packets.slice() : undefined),
      30_000,
    );
    await page.click('button:has-text("Stop talking")');
    assert.ok(
      speaker.requests.some((r) => r.method === 'SETUP' && r.backchannel),
      'SETUP with the backchannel Require header',
    );
    assert.ok(
      received.every((p) => p.payloadType === 0),
      'PCMU, payload type 0, as the camera asked',
    );
    assert.ok(
      received.every((p) => p.payload.length === 160),
      '20 ms packets at 8 kHz',
    );
    const steps = received.slice(1).map((p, i) => p.timestamp - received[i]!.timestamp);
    assert.ok(
      steps.every((step) => step === 160),
      'timestamps advance 160 per packet',
    );
    const rms = muLawRms(received.map((p) => p.payload));
    t.diagnostic(`${received.length} packets, RMS ${rms.toFixed(0)} of 32768`);
    assert.ok(rms > 100, `the microphone's tone is heard (RMS ${rms})`);
    const audit = await waitFor(
      'talk.start and talk.stop in the audit log',
      async () => {
        const body = (await (await apiFetch(`${vigil.url}/api/audit?limit=100`)).json()) as {
          entries: Array<{ action: string; target: unknown; details: Record<string, unknown> }>;
        };
        const talk = body.entries.filter((e) => e.action.startsWith('talk.'));
        return talk.length >= 2 ? talk : undefined;
      },
      10_000,
    );
    assert.deepEqual(audit.map((e) => e.action).sort(), ['talk.start', 'talk.stop']);
  });

  test('talk is refused without the talk permission, and for another camera than the socket', async () => {
    const before = speaker.requests.length;
    const viewer = await signallingSocket(vigil, '/api/cameras/door/live?via=webrtc', tokens.doorViewer);
    assert.equal(viewer.status, null, 'the viewer may watch');
    const operator = await signallingSocket(vigil, '/api/cameras/door/live?via=webrtc', tokens.doorOperator);
    try {
      viewer.socket.send(JSON.stringify({ type: 'talk.start', cameraId: 'door' }));
      operator.socket.send(JSON.stringify({ type: 'talk.start', cameraId: 'gate' }));
      const refused = (messages: LiveMessage[]) => messages.find((m) => m.type === 'error');
      const viewerRefusal = await waitFor('viewer refused', () => refused(viewer.messages), 10_000);
      const operatorRefusal = await waitFor('other camera refused', () => refused(operator.messages), 10_000);
      assert.equal(viewerRefusal.type === 'error' && viewerRefusal.code, 'FORBIDDEN');
      assert.equal(operatorRefusal.type === 'error' && operatorRefusal.code, 'FORBIDDEN');
      assert.equal(speaker.requests.length, before, 'no connection to the camera speaker was made');
    } finally {
      viewer.socket.close();
      operator.socket.close();
    }
    const gateOperator = await signallingSocket(vigil, '/api/cameras/door/live?via=webrtc', tokens.gateOnly);
    gateOperator.socket.terminate();
    assert.ok(
      gateOperator.status !== null && gateOperator.status >= 400,
      'no grant on door: no socket to talk on',
    );
  });
});
