/**
 * The Insights page in Chromium: pick a camera and period, see the heat map of where people went
 * drawn over the camera's picture, and the counts card (which says so when the camera counts
 * nothing). The events are the hand-annotated people of vtest (test/fixtures/vtest-annotations.json)
 * stored with their real paths, on the camera that shows that footage.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { NewEvent } from '../../src/events/store.js';
import {
  browserMissing,
  GUIDE_IMAGES,
  launchChromium,
  openWatchedPage,
  type WatchedPage,
} from '../helpers/browser.js';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { footagePaths, repoRoot } from '../helpers/footage.js';
import { apiFetch, startTestVigil, tempDir, TEST_ADMIN, waitFor, type TestVigil } from '../helpers/vigil.js';

interface Annotations {
  width: number;
  height: number;
  frames: Array<{
    timeMs: number;
    objects: Array<{ label: string; id: string; box: [number, number, number, number] }>;
  }>;
}

/** Each annotated object's path: its box centres (normalised) in the annotated frames, in order. */
function annotatedPaths(): Map<
  string,
  { label: string; points: Array<{ timeMs: number; x: number; y: number }> }
> {
  const file = join(repoRoot, 'test', 'fixtures', 'vtest-annotations.json');
  const annotations = JSON.parse(readFileSync(file, 'utf8')) as Annotations;
  const paths = new Map<string, { label: string; points: Array<{ timeMs: number; x: number; y: number }> }>();
  for (const frame of annotations.frames) {
    for (const object of frame.objects) {
      const [x, y, width, height] = object.box;
      const path = paths.get(object.id) ?? { label: object.label, points: [] };
      path.points.push({
        timeMs: frame.timeMs,
        x: (x + width / 2) / annotations.width,
        y: (y + height / 2) / annotations.height,
      });
      paths.set(object.id, path);
    }
  }
  return paths;
}

describe('Insights page in Chromium', { skip: browserMissing ?? false, timeout: 240_000 }, () => {
  let cameras: TestCameras;
  let vigil: TestVigil;
  let browser: Browser;
  let watched: WatchedPage;
  let page: Page;
  let people = 0;

  before(async () => {
    const footage = await footagePaths();
    cameras = await startCameras({ count: 1, footage: { main: footage.main, sub: footage.sub } });
    vigil = await startTestVigil(
      `
storage: { path: ./data, minFreeBytes: 1MB }
cameras:
  - id: path
    name: Campus path
    streams:
      main: { url: "${cameras.urls(1).main}" }
      sub: { url: "${cameras.urls(1).sub}" }
    detect: { enabled: false }
`,
      tempDir(),
    );
    // The annotated walk, as if it happened once a day on five days of the last week (none in the last 24 h).
    const dayMs = 86_400_000;
    for (let day = 2; day <= 6; day++) {
      const baseMs = Date.now() - day * dayMs;
      for (const path of annotatedPaths().values()) {
        if (path.points.length < 2) continue;
        const points = path.points.map((p) => ({ ...p, timeMs: baseMs + p.timeMs }));
        const event: NewEvent = {
          cameraId: 'path',
          label: path.label,
          trackId: 1,
          startTimeMs: points[0]!.timeMs,
          endTimeMs: points.at(-1)!.timeMs,
          maxScore: 0.8,
          box: { x: points[0]!.x, y: points[0]!.y, width: 0.03, height: 0.12 },
          path: points,
          zones: [],
          snapshotPath: null,
          cropPath: null,
          snapshotTimeMs: null,
          clipStartMs: points[0]!.timeMs,
          clipEndMs: points.at(-1)!.timeMs,
          createdAtMs: points[0]!.timeMs,
          updatedAtMs: points[0]!.timeMs,
        };
        await vigil.events.store.insert(event);
        if (path.label === 'person') people += 1;
      }
    }
    await waitFor(
      'a snapshot',
      async () =>
        (await apiFetch(`${vigil.url}/api/cameras/path/snapshot.jpg`)).status === 200 ? true : undefined,
      30_000,
    );
    browser = await launchChromium();
    watched = await openWatchedPage(browser, `${vigil.url}/#/insights`);
    page = watched.page;
    // Counting is another module (GET …/counts); where it is not there the page says so on a 404.
    watched.expectError(/404/);
    await page.fill('input[name="name"]', TEST_ADMIN.name);
    await page.fill('input[name="password"]', TEST_ADMIN.password);
    await page.click('form[aria-label="Sign in"] button[type="submit"]');
  });

  after(async () => {
    await browser?.close();
    await vigil?.close();
    await cameras?.stop();
  });

  test('the heat map of people over the picture, and no counts without lines or zones', async () => {
    await page.waitForSelector('section[aria-label="Insights"]');
    await page.selectOption('section[aria-label="Insights"] select >> nth=1', 'person');
    const caption = page.locator('.heatmap figcaption');
    await caption.waitFor();
    await waitFor(
      'the heat map caption',
      async () => (await caption.textContent())?.includes(`${people} events`),
      20_000,
    );
    // The canvas has coloured cells where people walked, and stays clear elsewhere.
    const painted = await page.evaluate(() => {
      const canvas = document.querySelector('.heatmap canvas') as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let coloured = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) coloured += 1;
      return coloured / (data.length / 4);
    });
    assert.ok(painted > 0.02 && painted < 0.6, `${(painted * 100).toFixed(1)} % of the map is coloured`);
    await page.waitForFunction(() => {
      const img = document.querySelector('.heatmap img') as HTMLImageElement | null;
      return img !== null && img.complete && img.naturalWidth > 0;
    });
    await page.getByText('No counting lines or zones on this camera.').waitFor();
    await page.screenshot({ path: join(GUIDE_IMAGES, 'insights.jpg'), quality: 80 });
    assert.deepEqual(watched.unexpectedErrors(), []);
  });

  test('the period and object change what is counted, and the address keeps them', async () => {
    await page.selectOption('section[aria-label="Insights"] select >> nth=2', '24h');
    await waitFor(
      'no events in the last 24 h',
      async () =>
        (await page.locator('.heatmap figcaption').textContent())?.includes('No events in this period'),
      20_000,
    );
    assert.match(page.url(), /#\/insights\?camera=path&label=person&period=24h/);
    assert.deepEqual(watched.unexpectedErrors(), []);
  });
});
