import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { CameraView } from '../../src/contract/cameras.js';
import {
  browserMissing,
  GUIDE_IMAGES,
  launchChromium,
  openWatchedPage,
  type WatchedPage,
} from '../helpers/browser.js';
import {
  apiFetch,
  getJson,
  startTestVigil,
  tempDir,
  TEST_ADMIN,
  waitFor,
  type TestVigil,
} from '../helpers/vigil.js';

/** The zones & lines editor in Chromium: draw a tripwire, choose its direction, save it; a bad zone is refused. */
describe('zones and lines editor in Chromium', { skip: browserMissing ?? false, timeout: 180_000 }, () => {
  let vigil: TestVigil;
  let browser: Browser;
  let watched: WatchedPage;
  let page: Page;

  async function camera(): Promise<CameraView> {
    const res = await getJson<CameraView>(`${vigil.url}/api/cameras/yard`);
    assert.equal(res.status, 200);
    return res.body;
  }

  async function clickAt(x: number, y: number): Promise<void> {
    const box = await page.locator('[data-testid="polygon-canvas"]').boundingBox();
    assert.ok(box, 'the drawing area is shown');
    await page.mouse.click(box.x + box.width * x, box.y + box.height * y);
  }

  before(async () => {
    vigil = await startTestVigil('storage: { path: ./data, minFreeBytes: 1MB }\n', tempDir());
    const created = await apiFetch(`${vigil.url}/api/cameras`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'yard',
        name: 'Yard',
        streams: { main: { url: 'testsrc:?size=640x360&fps=5' } },
        privacy: {
          masks: [
            {
              id: 'window',
              kind: 'permanent',
              polygon: [
                [0.8, 0.1],
                [0.95, 0.1],
                [0.95, 0.3],
              ],
            },
          ],
        },
      }),
    });
    assert.equal(created.status, 201, await created.text());
    await waitFor(
      'a snapshot',
      async () =>
        (await apiFetch(`${vigil.url}/api/cameras/yard/snapshot.jpg`)).status === 200 ? true : undefined,
      20_000,
    );
    browser = await launchChromium();
    watched = await openWatchedPage(browser, `${vigil.url}/#/cameras`);
    page = watched.page;
    await page.fill('input[name="name"]', TEST_ADMIN.name);
    await page.fill('input[name="password"]', TEST_ADMIN.password);
    await page.click('form[aria-label="Sign in"] button[type="submit"]');
    await page.waitForSelector('tr[data-camera="yard"]');
  });

  after(async () => {
    await browser?.close();
    await vigil?.close();
  });

  test('draw a tripwire A→B, count one way only, save: the camera has it, the stream did not restart', async () => {
    const before = (await camera()).streams['main']?.status.onlineSinceMs;
    await page.click('tr[data-camera="yard"] a:has-text("Zones & lines")');
    await page.waitForSelector('section[aria-label="Zones and lines"] img');
    await page.click('button:has-text("Add tripwire")');
    await clickAt(0.2, 0.6);
    await clickAt(0.8, 0.6);
    await page.fill('input[name="scene-name"]', 'Driveway');
    await page.selectOption('select[name="line-direction"]', 'a-to-b');
    assert.equal(
      await page.locator('[data-testid="crossing-arrow"]').count(),
      1,
      'one arrow: one way counts',
    );
    assert.deepEqual(await page.locator('.line-end').allTextContents(), ['A', 'B']);
    await page.click('button:has-text("Save zones & lines")');
    await page.waitForSelector('p[role="status"]:has-text("Saved.")');
    const saved = await camera();
    assert.equal(saved.scene.lines.length, 1);
    const line = saved.scene.lines[0]!;
    assert.equal(line.name, 'Driveway');
    assert.equal(line.direction, 'a-to-b');
    assert.ok(Math.abs(line.a[0] - 0.2) < 0.01 && Math.abs(line.a[1] - 0.6) < 0.01, `a ${line.a}`);
    assert.ok(Math.abs(line.b[0] - 0.8) < 0.01 && Math.abs(line.b[1] - 0.6) < 0.01, `b ${line.b}`);
    assert.equal(saved.privacy.masks.length, 1, 'the privacy masks stay as they were');
    assert.equal(
      saved.streams['main']?.status.onlineSinceMs,
      before,
      'saving zones does not restart the camera',
    );
    await page.screenshot({ path: join(GUIDE_IMAGES, 'zones-and-lines.png') });
  });

  test("a zone drawn crossing itself is refused with the server's reason", async () => {
    await page.click('button:has-text("Add zone")');
    await page.fill('input[name="scene-name"]', 'Knot');
    await clickAt(0.1, 0.1);
    await clickAt(0.4, 0.4);
    await clickAt(0.4, 0.1);
    await clickAt(0.1, 0.4);
    // The browser logs the refused request; that one is expected.
    watched.expectError(/400 \(Bad Request\).*\/api\/cameras\/yard/);
    await page.click('button:has-text("Save zones & lines")');
    const alert = await page.waitForSelector('p[role="alert"]');
    assert.match((await alert.textContent()) ?? '', /zone 'zone-1' \(Knot\) edges 1-2 and 3-4 cross/);
    assert.equal((await camera()).scene.zones.length, 0, 'nothing saved');
    assert.deepEqual(watched.unexpectedErrors(), []);
  });
});
