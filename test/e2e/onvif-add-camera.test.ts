import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  browserMissing,
  GUIDE_IMAGES,
  launchChromium,
  openWatchedPage,
  type WatchedPage,
} from '../helpers/browser.js';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { OnvifSimulator } from '../helpers/onvif-simulator.js';
import { apiFetch, startTestVigil, TEST_ADMIN, waitFor, type TestVigil } from '../helpers/vigil.js';

const PASSWORD = 'e2e-onvif-Passw0rd';

function withoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

describe(
  '"Add camera" from the discovered list, then PTZ on the live view (Chromium, ONVIF simulator)',
  { skip: browserMissing ?? false, timeout: 240_000 },
  () => {
    let cameras: TestCameras;
    let sim: OnvifSimulator;
    let vigil: TestVigil;
    let browser: Browser;
    let watched: WatchedPage;

    before(async () => {
      cameras = await startCameras({ count: 1, user: 'admin', password: PASSWORD });
      sim = new OnvifSimulator({
        user: 'admin',
        password: PASSWORD,
        ptz: true,
        discovery: true,
        manufacturer: 'Simulated Maker',
        model: 'SIM-PTZ',
        profiles: [
          {
            token: 'main',
            name: 'Main',
            width: 1280,
            height: 960,
            fps: 10,
            encoding: 'H264',
            uri: withoutCredentials(cameras.urls(1).main),
          },
          {
            token: 'sub',
            name: 'Sub',
            width: 640,
            height: 480,
            fps: 10,
            encoding: 'H264',
            uri: withoutCredentials(cameras.urls(1).sub),
          },
        ],
      });
      await sim.start();
      vigil = await startTestVigil(`
storage: { path: ./data, minFreeBytes: 1MB }
cameras: []
`);
      browser = await launchChromium();
      watched = await openWatchedPage(browser, `${vigil.url}/#/cameras/new`);
      const { page } = watched;
      await page.waitForSelector('form[aria-label="Sign in"]');
      await page.fill('input[name="name"]', TEST_ADMIN.name);
      await page.fill('input[name="password"]', TEST_ADMIN.password);
      await page.click('form[aria-label="Sign in"] button[type="submit"]');
      await page.waitForSelector('nav');
    });

    after(async () => {
      await browser?.close();
      await vigil?.close();
      await sim?.stop();
      await cameras?.stop();
    });

    test('search, pick, give the password once, use the proposal, test, save: it records', async () => {
      const { page } = watched;
      await page.goto(`${page.url().split('#')[0]}#/cameras/new`);
      await page.click('button:has-text("Search the network")');
      await page.click(`li[data-endpoint="${sim.endpoint}"] button`, { timeout: 15_000 });
      assert.equal(await page.inputValue('input[name="onvif-address"]'), sim.deviceUrl);
      await page.fill('input[name="onvif-user"]', 'admin');
      await page.fill('input[name="onvif-password"]', PASSWORD);
      await page.click('button:has-text("Read camera")');
      const proposal = await page.waitForSelector('[aria-label="ONVIF proposal"]', { timeout: 15_000 });
      assert.match(
        (await proposal.textContent()) ?? '',
        /Simulated Maker SIM-PTZ.*Main: H264 1280×960.*— main.*— sub/,
      );
      await page.click('button:has-text("Use these streams")');
      assert.equal(await page.inputValue('input[name="main-url"]'), withoutCredentials(cameras.urls(1).main));
      assert.equal(await page.inputValue('input[name="sub-url"]'), withoutCredentials(cameras.urls(1).sub));
      await page.fill('input[name="id"]', 'ptz');
      await page.click('fieldset[data-stream="main"] button:has-text("Test connection")');
      await page.waitForSelector('fieldset[data-stream="main"] .probe-result.ok', { timeout: 20_000 });
      await page.click('button[type="submit"]');
      await page.waitForSelector('tr[data-camera="ptz"]');
      await waitFor(
        'ptz to record',
        () => (vigil.cameras.liveSegment('ptz', 'main') ? true : undefined),
        30_000,
      );
      assert.equal(vigil.cameras.config('ptz')?.onvif?.url, sim.deviceUrl);
    });

    test('the live focus view has the joystick and presets; a press moves, a release stops', async () => {
      const { page } = watched;
      await page.goto(`${page.url().split('#')[0]}#/live/ptz`);
      await page.waitForSelector('[aria-label="Pan, tilt, zoom"]');
      await page.waitForSelector('.ptz-presets button:has-text("Gate")');
      const before = sim.ptzCalls.length;
      const right = page.locator('button[aria-label="Pan right"]');
      await right.hover();
      await page.mouse.down();
      await waitFor(
        'the move',
        () => (sim.ptzCalls.some((c) => c.operation === 'ContinuousMove') ? true : undefined),
        10_000,
      );
      await page.mouse.up();
      await waitFor(
        'the stop',
        () => (sim.ptzCalls.slice(before).some((c) => c.operation === 'Stop') ? true : undefined),
        10_000,
      );
      assert.equal(sim.ptzCalls.find((c) => c.operation === 'ContinuousMove')?.detail['pan'], '0.5');
      await page.focus('[aria-label="Pan, tilt, zoom"]');
      await page.keyboard.down('ArrowUp');
      await waitFor(
        'the tilt',
        () => (sim.ptzCalls.some((c) => c.detail['tilt'] === '0.5') ? true : undefined),
        10_000,
      );
      await page.keyboard.up('ArrowUp');
      await page.click('.ptz-presets button:has-text("Gate")');
      await waitFor(
        'the preset',
        () => (sim.ptzCalls.some((c) => c.operation === 'GotoPreset') ? true : undefined),
        10_000,
      );
    });

    test("the camera's tamper alarm is marked on the playback timeline; a click plays from before it", async () => {
      const { page } = watched;
      await waitFor('a PullPoint subscription', () => (sim.subscriptions > 0 ? true : undefined), 20_000);
      // Some recording before the alarm, so that there is something to play from.
      await waitFor(
        'ten seconds recorded',
        async () => {
          const res = await apiFetch(`${vigil.url}/api/cameras/ptz/recordings`);
          const body = (await res.json()) as { recordings: Array<{ durationMs: number }> };
          return body.recordings.some((r) => r.durationMs > 10_000) ? true : undefined;
        },
        40_000,
      );
      sim.emit(
        'tns1:RuleEngine/TamperDetector/Tamper',
        { IsTamper: 'true' },
        { Rule: 'MyTamperDetectorRule' },
      );
      const stored = await waitFor(
        'the stored alarm',
        async () => {
          const res = await apiFetch(`${vigil.url}/api/cameras/ptz/camera-events`);
          const body = (await res.json()) as { events: Array<{ kind: string; timeMs: number }> };
          return body.events.find((e) => e.kind === 'tamper');
        },
        20_000,
      );
      await page.goto(`${vigil.url}/#/playback/ptz`);
      await page.click('button:has-text("10 min")');
      const mark = page.locator('.timeline-camera-event[data-kind="tamper"]');
      await mark.waitFor({ timeout: 20_000 });
      assert.match((await mark.getAttribute('aria-label')) ?? '', /^Camera reported tampering at /);
      mkdirSync(GUIDE_IMAGES, { recursive: true });
      await page
        .locator('.timeline')
        .screenshot({ path: join(GUIDE_IMAGES, 'playback-camera-event.jpg'), quality: 80 });
      await mark.click();
      const cursorMs = await waitFor(
        'the playhead',
        async () => {
          const value = await page.getAttribute('.cursor-time', 'data-cursor-ms');
          return value ? Number(value) : undefined;
        },
        10_000,
      );
      assert.ok(
        Math.abs(cursorMs - (stored.timeMs - 5000)) < 1000,
        `${cursorMs - stored.timeMs} ms from the alarm`,
      );
    });
  },
);
