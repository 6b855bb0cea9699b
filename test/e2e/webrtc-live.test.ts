import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { WebSocket } from 'ws';
import type { LiveMessage } from '../../src/contract/live.js';
import { browserMissing, launchChromium } from '../helpers/browser.js';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { startTestVigil, TEST_ADMIN, waitFor, type TestVigil } from '../helpers/vigil.js';

const PASSWORD = 'green teapot under the stairs 17';

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

describe('WebRTC live view in Chromium', { skip: browserMissing ?? false, timeout: 240_000 }, () => {
  let cameras: TestCameras;
  let vigil: TestVigil;
  let browser: Browser;
  let page: Page;
  const tokens = { yardOnly: '', gateOnly: '' };

  before(async () => {
    cameras = await startCameras({ count: 2 });
    vigil = await startTestVigil(`
storage: { path: ./data, minFreeBytes: 1MB }
cameras:
  - id: yard
    streams:
      main: { url: "${cameras.urls(1).sub}" }
  - id: gate
    streams:
      main: { url: "${cameras.urls(2).sub}" }
`);
    for (const [name, camera] of [
      ['yardOnly', 'yard'],
      ['gateOnly', 'gate'],
    ] as const) {
      const user = await vigil.auth.store.createUser({
        name,
        role: 'viewer',
        password: PASSWORD,
        cameras: [camera],
      });
      tokens[name] = (await vigil.auth.store.createToken(user.id, { label: name })).token;
    }
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    // No Media Source Extensions, as on iPhone Safari: the player must fall back to WebRTC.
    await page.addInitScript(() => {
      const w = window as unknown as Record<string, unknown>;
      delete w['MediaSource'];
      delete w['ManagedMediaSource'];
    });
    await page.goto(`${vigil.url}/#/live/yard`);
    await page.waitForSelector('form[aria-label="Sign in"]');
    await page.fill('input[name="name"]', TEST_ADMIN.name);
    await page.fill('input[name="password"]', TEST_ADMIN.password);
    await page.click('form[aria-label="Sign in"] button[type="submit"]');
  });

  after(async () => {
    await browser?.close();
    await vigil?.close();
    await cameras?.stop();
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
});
