/**
 * The camera's sound in the browser: a camera sending G.711 A-law over HTTP is recorded with AAC,
 * and Chromium decodes that sound in live view and in playback once the user turns it on.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { spawnAlawStream } from '../helpers/alaw-stream.js';
import { browserMissing, launchChromium, signInAsAdmin } from '../helpers/browser.js';
import { footagePaths } from '../helpers/footage.js';
import { closeServer, listenLocal } from '../helpers/local-server.js';
import { apiFetch, startTestVigil, waitFor, type TestVigil } from '../helpers/vigil.js';

/** Audio bytes Chromium has decoded for a video element, and whether it is muted. */
async function audioOf(page: Page, selector: string): Promise<{ decodedBytes: number; muted: boolean }> {
  return page.$eval(selector, (el) => {
    const video = el as HTMLVideoElement & { webkitAudioDecodedByteCount?: number };
    return { decodedBytes: video.webkitAudioDecodedByteCount ?? -1, muted: video.muted };
  });
}

/** Waits until the element has decoded audio and goes on decoding it. */
async function soundPlays(page: Page, selector: string): Promise<number> {
  const first = await waitFor(
    'decoded audio',
    async () => {
      const a = await audioOf(page, selector);
      return a.decodedBytes > 0 ? a.decodedBytes : undefined;
    },
    30_000,
  );
  return waitFor(
    'more decoded audio',
    async () => {
      const a = await audioOf(page, selector);
      return a.decodedBytes > first ? a.decodedBytes : undefined;
    },
    10_000,
  );
}

describe(
  "the camera's sound in Chromium, live and recorded",
  { skip: browserMissing ?? false, timeout: 180_000 },
  () => {
    const sockets = new Set<Socket>();
    const children: ChildProcess[] = [];
    let footage: string;
    const server = createServer((req, res) => {
      if (req.url !== '/alaw.mkv') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'video/x-matroska' });
      const child = spawnAlawStream(footage);
      children.push(child);
      child.stdout?.pipe(res);
      res.on('close', () => child.kill('SIGKILL'));
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    let vigil: TestVigil;
    let browser: Browser;
    let page: Page;

    before(async () => {
      footage = (await footagePaths()).sub;
      const port = await listenLocal(server);
      vigil = await startTestVigil(`
storage: { path: ./data, minFreeBytes: 1MB }
cameras:
  - id: porch
    streams:
      main: { url: "http://127.0.0.1:${port}/alaw.mkv" }
`);
      browser = await launchChromium();
      page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
      await signInAsAdmin(page, `${vigil.url}/#/live/porch`);
    });

    after(async () => {
      await browser?.close();
      await vigil?.close();
      for (const child of children) child.kill('SIGKILL');
      await closeServer(server, sockets);
    });

    test('live: silent until the user turns the sound on, then the camera is heard', async (t: TestContext) => {
      const selector = '.focus-tile video';
      await page.waitForSelector(selector);
      assert.equal((await audioOf(page, selector)).muted, true, 'live view starts without sound');
      await page.click('[data-testid="live-sound"]');
      assert.equal(await page.getAttribute('[data-testid="live-sound"]', 'aria-pressed'), 'true');
      const decoded = await soundPlays(page, selector);
      assert.equal((await audioOf(page, selector)).muted, false);
      t.diagnostic(`${decoded} bytes of audio decoded in live view`);
      await page.click('[data-testid="live-sound"]');
      assert.equal((await audioOf(page, selector)).muted, true, 'and off again');
    });

    test('playback: the recorded sound (G.711 recorded as AAC) plays with the video', async (t: TestContext) => {
      await waitFor(
        'ten seconds recorded',
        async () => {
          const res = await apiFetch(`${vigil.url}/api/cameras/porch/recordings`);
          const body = (await res.json()) as { recordings: Array<{ durationMs: number }> };
          return body.recordings.some((r) => r.durationMs > 10_000) ? true : undefined;
        },
        40_000,
      );
      await page.goto(`${page.url().split('#')[0]}#/playback/porch?t=${Date.now() - 9_000}`);
      const selector = '.playback-video';
      await page.waitForSelector(selector);
      await page.click('[data-testid="playback-sound"]');
      const decoded = await soundPlays(page, selector);
      assert.equal((await audioOf(page, selector)).muted, false);
      t.diagnostic(`${decoded} bytes of recorded audio decoded in playback`);
    });
  },
);
