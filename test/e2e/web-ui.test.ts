import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import {
  browserMissing,
  GUIDE_IMAGES,
  launchChromium,
  openWatchedPage,
  type WatchedPage,
} from '../helpers/browser.js';
import { connectionsTo } from '../helpers/connections.js';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { sharedFootageDir } from '../helpers/footage.js';
import { apiFetch, startTestVigil, tempDir, TEST_ADMIN, waitFor, type TestVigil } from '../helpers/vigil.js';
import { FFPROBE } from '../helpers/media-tools.js';

const execFileAsync = promisify(execFile);
const PASSWORD = 'e2e-Passw0rd';
/** The default test footage is vtest (people walking) when ../shared is here; generated footage has none. */
const FOOTAGE_WITH_PEOPLE = sharedFootageDir() !== null;
const NEEDS_PEOPLE = 'needs real people in the picture (../shared/footage); generated footage has none';

function withoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

/** Video time advances and the frame drawn into a canvas has real picture content. */
async function videoPlays(page: Page, selector: string): Promise<{ advancedS: number; lumaStdDev: number }> {
  await page.waitForSelector(selector, { timeout: 20_000 });
  const start = await page.$eval(selector, (v) => (v as HTMLVideoElement).currentTime);
  return waitFor(
    `${selector} to play`,
    async () => {
      const probe = await page.$eval(selector, (el) => {
        const video = el as HTMLVideoElement;
        if (video.readyState < 2 || video.videoWidth === 0) return null;
        const canvas = document.createElement('canvas');
        canvas.width = 64;
        canvas.height = 36;
        const ctx = canvas.getContext('2d', { willReadFrequently: true });
        if (!ctx) return null;
        ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
        const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
        let sum = 0;
        let sumSq = 0;
        const n = data.length / 4;
        for (let i = 0; i < data.length; i += 4) {
          const luma = 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
          sum += luma;
          sumSq += luma * luma;
        }
        const mean = sum / n;
        return { time: video.currentTime, lumaStdDev: Math.sqrt(Math.max(0, sumSq / n - mean * mean)) };
      });
      if (!probe || probe.time - start < 1 || probe.lumaStdDev < 5) return false;
      return { advancedS: probe.time - start, lumaStdDev: probe.lumaStdDev };
    },
    20_000,
  );
}

function assertNoConsoleErrors(watched: WatchedPage): void {
  assert.deepEqual(watched.unexpectedErrors(), [], 'no unexpected console errors');
}

describe('web UI in Chromium', { skip: browserMissing ?? false, timeout: 300_000 }, () => {
  let cameras: TestCameras;
  let vigil: TestVigil;
  let browser: Browser;
  let watched: WatchedPage;
  const downloads = tempDir('vigil-e2e-downloads-');

  before(async () => {
    mkdirSync(GUIDE_IMAGES, { recursive: true });
    cameras = await startCameras({ count: 2, user: 'admin', password: PASSWORD });
    process.env.VIGIL_E2E_CAM_PASSWORD = PASSWORD;
    vigil = await startTestVigil(`
site:
  name: Example Primary School, east gate
  controller: Exampleton School Board, 1 School Lane, Exampleton
  purpose: protection of pupils, staff and the building against intrusion and vandalism
  contact: dpo@exampleton-schools.example, 01234 567890
storage: { path: ./data, minFreeBytes: 1MB }
cameras:
  - id: yard
    name: Yard
    streams:
      main:
        url: "${withoutCredentials(cameras.urls(1).main)}"
        user: admin
        password: "\${VIGIL_E2E_CAM_PASSWORD}"
      sub:
        url: "${withoutCredentials(cameras.urls(1).sub)}"
        user: admin
        password: "\${VIGIL_E2E_CAM_PASSWORD}"
`);
    browser = await launchChromium();
    watched = await openWatchedPage(browser, `${vigil.url}/#/live`);
    // Signed out, the UI asks to sign in and then comes back to the live view; the page (and the
    // other pages of its browser context) keep the session cookie for the tests below.
    const { page } = watched;
    await page.waitForSelector('form[aria-label="Sign in"]');
    await page.fill('input[name="name"]', TEST_ADMIN.name);
    await page.fill('input[name="password"]', TEST_ADMIN.password);
    await page.click('form[aria-label="Sign in"] button[type="submit"]');
    await page.waitForSelector('nav a[aria-current="page"]:has-text("Live")');
  });

  after(async () => {
    await browser?.close();
    await vigil?.close();
    await cameras?.stop();
  });

  test('the live grid plays the camera (sub stream) with a picture', async (t: TestContext) => {
    const { page } = watched;
    const tile = '.tile[data-camera="yard"] video';
    await page.waitForSelector(tile);
    assert.equal(await page.$eval(tile, (v) => v.getAttribute('data-stream')), 'sub');
    const played = await videoPlays(page, tile);
    t.diagnostic(
      `video advanced ${played.advancedS.toFixed(1)} s; luma std-dev ${played.lumaStdDev.toFixed(0)}`,
    );
    await page.waitForSelector('.tile[data-camera="yard"][data-state="online"]');
    // The live edge: a player that buffers seconds behind is not live.
    const lagS = await page.$eval(tile, (el) => {
      const v = el as HTMLVideoElement;
      return v.buffered.length ? v.buffered.end(v.buffered.length - 1) - v.currentTime : Infinity;
    });
    t.diagnostic(`playhead ${lagS.toFixed(2)} s behind the newest frame received`);
    assert.ok(lagS < 2, `playhead ${lagS} s behind the live edge`);
    await page.screenshot({ path: join(GUIDE_IMAGES, 'live-grid.jpg'), quality: 80 });
    assertNoConsoleErrors(watched);
  });

  test('viewers share the camera connection: three tiles, one connection per stream', async () => {
    const { page } = watched;
    const extra = await Promise.all([1, 2].map(() => page.context().newPage()));
    await Promise.all(extra.map((p) => p.goto(`${vigil.url}/#/live/yard`)));
    await Promise.all(extra.map((p) => videoPlays(p, '.focus-tile video')));
    const system = (await (await apiFetch(`${vigil.url}/api/system`)).json()) as {
      cameras: Array<{ id: string; streams: Array<{ name: string; viewerCount: number }> }>;
    };
    const streams = system.cameras.find((c) => c.id === 'yard')?.streams ?? [];
    assert.equal(streams.find((s) => s.name === 'main')?.viewerCount, 2);
    assert.equal(streams.find((s) => s.name === 'sub')?.viewerCount, 1);
    // Whatever pulls them (Vigil's RTSP client or ffmpeg), main and sub are one connection each,
    // for recording and all viewers.
    assert.equal(connectionsTo(process.pid, cameras.port), 2, 'connections to the camera');
    await Promise.all(extra.map((p) => p.close()));
  });

  test('the timeline plays a past instant and export downloads a playable file', async (t: TestContext) => {
    const { page } = watched;
    // Ten seconds of recording exist before the instant is chosen.
    await waitFor(
      'ten seconds of recording',
      async () => {
        const res = await apiFetch(`${vigil.url}/api/cameras/yard/recordings`);
        const body = (await res.json()) as { recordings: Array<{ durationMs: number }> };
        return body.recordings.some((r) => r.durationMs > 12_000);
      },
      30_000,
    );
    const pastMs = Date.now() - 8_000;
    await page.goto(`${watched.page.url().split('#')[0]}#/playback/yard?t=${pastMs}`);
    await page.waitForSelector('.timeline-span');
    const played = await videoPlays(page, '.playback-video');
    const firstFrameMs = Number(
      await page.$eval('.playback-video[data-first-frame-ms]', (v) => v.getAttribute('data-first-frame-ms')),
    );
    t.diagnostic(
      `first frame ${firstFrameMs} ms after choosing the instant; played ${played.advancedS.toFixed(1)} s`,
    );
    const cursorMs = Number(await page.$eval('.cursor-time', (el) => el.getAttribute('data-cursor-ms')));
    assert.ok(
      cursorMs >= pastMs - 2500 && cursorMs <= pastMs + 15_000,
      `playhead at ${new Date(cursorMs).toISOString()} for ${new Date(pastMs).toISOString()}`,
    );

    // Click the timeline: playback jumps to the clicked instant.
    const bar = await page.$('.timeline-bar');
    const box = await bar?.boundingBox();
    assert.ok(box);
    await page.click('button:has-text("10 min")');
    await page.mouse.click(box.x + box.width * 0.4, box.y + box.height / 2);
    await videoPlays(page, '.playback-video');
    await page.screenshot({ path: join(GUIDE_IMAGES, 'playback-timeline.jpg'), quality: 80 });

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('a:has-text("Download MP4")'),
    ]);
    const path = join(downloads, 'export.mp4');
    await download.saveAs(path);
    assert.ok(statSync(path).size > 10_000, 'the export has video in it');
    const { stdout } = await execFileAsync(FFPROBE, [
      '-v',
      'error',
      '-count_frames',
      '-show_entries',
      'stream=codec_type,nb_read_frames:format=duration',
      '-of',
      'json',
      path,
    ]);
    const info = JSON.parse(stdout) as {
      streams: Array<{ codec_type: string; nb_read_frames: string }>;
      format: { duration: string };
    };
    const frames = Number(info.streams.find((s) => s.codec_type === 'video')?.nb_read_frames);
    t.diagnostic(`export: ${info.format.duration} s, ${frames} frames`);
    assert.ok(frames > 10, `${frames} frames decoded from the export`);
    assertNoConsoleErrors(watched);

    // The blurred export: its request reaches the server with the session's CSRF token, and the
    // server's answer shows. An event that does not exist is refused before any video is read.
    watched.expectError(/404 \(Not Found\).*\/redacted-export/);
    await page.selectOption('select[aria-label="Blur"]', 'all-except-track');
    await page.fill('input[aria-label="Event number"]', '987654');
    await page.click('button:has-text("Download blurred MP4")');
    await page.waitForSelector('.redacted-export .error:has-text("no event 987654")');
    assert.equal(await page.isEnabled('button:has-text("Download blurred MP4")'), true);
  });

  test('adding a camera through the form: test connection, wrong password, then the right one', async () => {
    const { page } = watched;
    await page.goto(`${page.url().split('#')[0]}#/cameras/new`);
    await page.fill('input[name="id"]', 'gate');
    await page.fill('input[name="name"]', 'Gate');
    await page.fill('input[name="main-url"]', withoutCredentials(cameras.urls(2).main));
    await page.fill('input[name="main-user"]', 'admin');
    await page.fill('input[name="main-password"]', 'wrong-password');
    await page.click('fieldset[data-stream="main"] button:has-text("Test connection")');
    const failure = await page.waitForSelector('fieldset[data-stream="main"] .probe-result.error', {
      timeout: 20_000,
    });
    assert.match(
      (await failure.textContent()) ?? '',
      /401 Unauthorized: check the camera's user name and password/,
    );
    await page.screenshot({ path: join(GUIDE_IMAGES, 'camera-form-401.jpg'), quality: 80 });

    await page.fill('input[name="main-password"]', PASSWORD);
    await page.click('fieldset[data-stream="main"] button:has-text("Test connection")');
    const ok = await page.waitForSelector('fieldset[data-stream="main"] .probe-result.ok', {
      timeout: 20_000,
    });
    assert.match((await ok.textContent()) ?? '', /H264 \d+×\d+/);
    await page.waitForSelector('fieldset[data-stream="main"] img.probe-preview');
    await page.screenshot({ path: join(GUIDE_IMAGES, 'camera-form.jpg'), quality: 80 });

    await page.click('button[type="submit"]');
    await page.waitForSelector('tr[data-camera="gate"]');
    await page.goto(`${page.url().split('#')[0]}#/live`);
    await videoPlays(page, '.tile[data-camera="gate"] video');
    assertNoConsoleErrors(watched);
  });

  test("a camera added with a wrong password shows the camera's 401 on its tile", async (t: TestContext) => {
    const { page } = watched;
    const startedAt = Date.now();
    await page.goto(`${page.url().split('#')[0]}#/cameras/new`);
    await page.fill('input[name="id"]', 'porch');
    await page.fill('input[name="main-url"]', withoutCredentials(cameras.urls(2).sub));
    await page.fill('input[name="main-user"]', 'admin');
    await page.fill('input[name="main-password"]', 'not-it');
    await page.click('button[type="submit"]');
    const row = await page.waitForSelector('tr[data-camera="porch"] .reason', { timeout: 20_000 });
    assert.match((await row.textContent()) ?? '', /401 Unauthorized/);
    t.diagnostic(`401 in the camera list after ${Date.now() - startedAt} ms`);
    await page.goto(`${page.url().split('#')[0]}#/live`);
    const overlay = await page.waitForSelector('.tile[data-camera="porch"] .tile-overlay', {
      timeout: 20_000,
    });
    await waitFor(
      'the 401 reason on the tile',
      async () => /401 Unauthorized/.test((await overlay.textContent()) ?? ''),
      20_000,
    );
    t.diagnostic(`401 on the tile after ${Date.now() - startedAt} ms`);
    assert.equal((await apiFetch(`${vigil.url}/api/cameras/porch`, { method: 'DELETE' })).status, 204);
    assertNoConsoleErrors(watched);
  });

  test('a camera that goes offline shows it within 15 s, then recovers', async (t: TestContext) => {
    const { page } = watched;
    await page.goto(`${page.url().split('#')[0]}#/live`);
    const tile = '.tile[data-camera="yard"]';
    await videoPlays(page, `${tile} video`);
    const stoppedAt = Date.now();
    await cameras.stop();
    await page.waitForSelector(`${tile} .tile-overlay`, { timeout: 15_000 });
    const reason = await page.$eval(`${tile} .tile-overlay`, (el) => el.textContent ?? '');
    t.diagnostic(`offline shown after ${Date.now() - stoppedAt} ms: "${reason}"`);
    await page.screenshot({ path: join(GUIDE_IMAGES, 'live-offline.jpg'), quality: 80 });
    await cameras.start();
    await page.waitForSelector(`${tile}[data-state="online"]`, { timeout: 30_000 });
    await videoPlays(page, `${tile} video`);
    assertNoConsoleErrors(watched);
  });

  test('on a phone: one column, every section reachable, no horizontal scrolling', async () => {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    // The phone is signed in as the same administrator (its own browser context: a copy of the cookie).
    await context.addCookies(await watched.page.context().cookies());
    const phone = await context.newPage();
    const errors: string[] = [];
    phone.on('pageerror', (e) => errors.push(e.message));
    phone.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await phone.goto(`${vigil.url}/#/live?layout=2x2`);
    await videoPlays(phone, '.tile[data-camera="yard"] video');
    const widths = await phone.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      viewport: window.innerWidth,
      tile: document.querySelector('.tile')?.getBoundingClientRect().width ?? 0,
    }));
    assert.ok(
      widths.page <= widths.viewport + 1,
      `page ${widths.page} px wide in a ${widths.viewport} px screen`,
    );
    assert.ok(widths.tile > widths.viewport * 0.8, 'tiles take the full width on a phone');
    await phone.screenshot({ path: join(GUIDE_IMAGES, 'phone-live.jpg'), quality: 80 });
    for (const section of ['Playback', 'Cameras', 'System']) {
      await phone.click(`nav a:has-text("${section}")`);
      await phone.waitForSelector(`nav a[aria-current="page"]:has-text("${section}")`);
    }
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('keyboard only: tab to the timeline, move back with the arrow keys, Enter plays', async () => {
    const { page } = watched;
    await page.goto(`${page.url().split('#')[0]}#/playback/yard`);
    await page.waitForSelector('.timeline-span');
    await page.click('button:has-text("10 min")');
    await page.focus('.timeline-bar');
    // Nothing plays yet, so the marker starts at now; each ← is 1% of the 10 min window: 18 s back.
    for (let i = 0; i < 3; i += 1) await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Enter');
    await videoPlays(page, '.playback-video');
    assertNoConsoleErrors(watched);
  });

  test(
    'events: person events with thumbnails, live; a click plays the clip; the timeline marks them',
    {
      skip: FOOTAGE_WITH_PEOPLE ? false : NEEDS_PEOPLE,
    },
    async (t: TestContext) => {
      const { page } = watched;
      await page.goto(`${page.url().split('#')[0]}#/events?camera=yard&label=person`);
      const card = await page.waitForSelector('.event-grid li[data-label="person"] img', { timeout: 60_000 });
      t.diagnostic(`${await page.locator('.event-grid li').count()} person events listed`);
      await page.waitForFunction(() => {
        const img = document.querySelector('.event-grid li img') as HTMLImageElement | null;
        return img !== null && img.complete && img.naturalWidth > 0;
      });
      await page.screenshot({ path: join(GUIDE_IMAGES, 'events.jpg'), quality: 80 });
      await card.click();
      await videoPlays(page, '.event-clip');
      await page.waitForSelector('.event-snapshot');
      await page.screenshot({ path: join(GUIDE_IMAGES, 'event-detail.jpg'), quality: 80 });
      await page.click('a:has-text("Open in playback")');
      await page.waitForSelector('.timeline-event[data-label="person"]');
      await videoPlays(page, '.playback-video');
      assertNoConsoleErrors(watched);
    },
  );

  test(
    'live view draws the boxes of tracked people when asked',
    { skip: FOOTAGE_WITH_PEOPLE ? false : NEEDS_PEOPLE },
    async () => {
      const { page } = watched;
      await page.goto(`${page.url().split('#')[0]}#/live/yard`);
      await videoPlays(page, '.focus-tile video');
      await page.check('label.toggle input');
      await page.waitForSelector('.focus-tile svg.detections g[data-label="person"] rect', {
        timeout: 30_000,
      });
      await page.screenshot({ path: join(GUIDE_IMAGES, 'live-detections.jpg'), quality: 80 });
      await page.uncheck('label.toggle input');
      assertNoConsoleErrors(watched);
    },
  );

  test('system page shows storage, versions, streams and the connectivity log', async () => {
    const { page } = watched;
    await page.goto(`${page.url().split('#')[0]}#/system`);
    await page.waitForSelector('text=Connectivity log');
    const text = (await page.textContent('main')) ?? '';
    assert.match(text, /ffmpeg \d/);
    assert.match(text, /Vigil \d+\.\d+\.\d+/);
    assert.match(text, /Yard/);
    assert.match(text, /kbit\/s/);
    await page.screenshot({ path: join(GUIDE_IMAGES, 'system.jpg'), quality: 80, fullPage: true });
    assertNoConsoleErrors(watched);
  });

  test('the privacy notice says who records, why, how long and whom to ask, and prints alone', async () => {
    const { page } = watched;
    await page.goto(`${page.url().split('#')[0]}#/system`);
    await page.click('a:has-text("Privacy notice for the site")');
    await page.waitForSelector('.notice-sheet');
    const sheet = (await page.textContent('.notice-sheet')) ?? '';
    assert.match(sheet, /Exampleton School Board/);
    assert.match(sheet, /protection of pupils/);
    assert.match(sheet, /Yard: 3 days/, 'the default retention, per camera');
    assert.match(sheet, /kept 14 days/);
    assert.match(sheet, /dpo@exampleton-schools\.example/);
    assert.equal(await page.locator('[data-testid="notice-missing"]').count(), 0, 'nothing is missing');
    await page.emulateMedia({ media: 'print' });
    try {
      assert.equal(await page.locator('.topbar').isVisible(), false, 'printing leaves out the navigation');
      assert.equal(await page.locator('.notice-sheet').isVisible(), true);
      await page.screenshot({ path: join(GUIDE_IMAGES, 'privacy-notice.jpg'), quality: 80, fullPage: true });
    } finally {
      await page.emulateMedia({ media: 'screen' });
    }
    assertNoConsoleErrors(watched);
  });
});
