import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { ExportView, SigningKeyResponse } from '../../src/contract/exports.js';
import { browserMissing, launchChromium, openWatchedPage, type WatchedPage } from '../helpers/browser.js';
import { apiFetch, startTestVigil, tempDir, TEST_ADMIN, waitFor, type TestVigil } from '../helpers/vigil.js';

/** The verify page in Chromium: a user picks a bundle file and reads the verdict. */
describe('the verify page', { skip: browserMissing ?? false, timeout: 180_000 }, () => {
  let vigil: TestVigil;
  let browser: Browser;
  let watched: WatchedPage;
  let page: Page;
  const files = tempDir('vigil-verify-page-');
  const goodPath = join(files, 'bundle.zip');
  const badPath = join(files, 'changed.zip');

  before(async () => {
    vigil = await startTestVigil(`
storage: { path: ./data, minFreeBytes: 1MB }
recording: { segmentDurationMs: 2000 }
cameras:
  - id: yard
    name: Yard
    streams:
      main: { url: "testsrc:?size=320x240&fps=5" }
`);
    const segment = await waitFor(
      'a closed segment',
      async () =>
        (await vigil.index.inRange('yard', 'main', 0, Date.now() + 60_000)).find((r) => r.state !== 'open'),
      30_000,
    );
    const created = await apiFetch(`${vigil.url}/api/cameras/yard/exports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        from: String(segment.start_time_ms),
        to: String(segment.end_time_ms),
        reason: 'fence damage on the 3rd',
      }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const bundle = (await created.json()) as ExportView;
    const zip = Buffer.from(await (await apiFetch(`${vigil.url}${bundle.downloadPath}`)).arrayBuffer());
    writeFileSync(goodPath, zip);
    const changed = Buffer.from(zip);
    changed[zip.length - 2000] = (changed[zip.length - 2000] as number) ^ 0x10;
    writeFileSync(badPath, changed);
    browser = await launchChromium();
    watched = await openWatchedPage(browser, vigil.url);
    page = watched.page;
    await page.waitForSelector('form[aria-label="Sign in"]');
    await page.fill('input[name="name"]', TEST_ADMIN.name);
    await page.fill('input[name="password"]', TEST_ADMIN.password);
    await page.click('form[aria-label="Sign in"] button[type="submit"]');
    await page.waitForSelector('nav[aria-label="Sections"]');
  });

  after(async () => {
    await browser?.close();
    await vigil?.close();
  });

  test('a bundle as it was signed is verified, with who, why and "exactly the recorded segments"', async () => {
    await page.goto(`${vigil.url}/#/verify`);
    await page.setInputFiles('input[name="bundle"]', goodPath);
    await page.click('section[aria-label="Verify a bundle"] button[type="submit"]');
    const verdict = await page.waitForSelector('[data-testid="verdict"]');
    const text = await verdict.innerText();
    assert.match(text, /Verified: exactly as signed/);
    assert.match(text, /fence damage on the 3rd/);
    assert.match(text, /admin/);
    assert.match(text, /Exactly the recorded segments/);
    assert.match(text, /this installation's key/);
  });

  test('a bundle with one changed byte of video fails, naming video.mp4', async () => {
    await page.setInputFiles('input[name="bundle"]', badPath);
    await page.click('section[aria-label="Verify a bundle"] button[type="submit"]');
    const failures = await page.waitForSelector('[data-testid="failures"]');
    assert.match(await failures.innerText(), /video\.mp4: its SHA-256 or length differs/);
    assert.match(await page.innerText('[data-testid="verdict"]'), /Failed/);
  });

  test('the system page shows the signing key fingerprint', async () => {
    const key = (await (await apiFetch(`${vigil.url}/api/system/signing-key`)).json()) as SigningKeyResponse;
    await page.goto(`${vigil.url}/#/system`);
    const card = await page.waitForSelector('[data-testid="signing-key"]');
    assert.match(await card.innerText(), new RegExp(key.fingerprint));
    assert.deepEqual(watched.unexpectedErrors(), []);
  });
});
