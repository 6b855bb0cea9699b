import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { ExportView, SigningKeyResponse } from '../../src/contract/exports.js';
import { readBundle } from '../../src/export/read-bundle.js';
import { verifyBundleParts } from '../../src/export/verify.js';
import { browserMissing, launchChromium, openWatchedPage, type WatchedPage } from '../helpers/browser.js';
import { apiFetch, startTestVigil, tempDir, TEST_ADMIN, waitFor, type TestVigil } from '../helpers/vigil.js';

/**
 * Signed exports in Chromium: the playback page's export dialog builds a bundle and a share link,
 * and the verify page takes a bundle file and shows the verdict.
 */
describe('signed exports in the web UI', { skip: browserMissing ?? false, timeout: 180_000 }, () => {
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

  test('the playback page builds a signed bundle (reason required) and a share link', async () => {
    const segment = (await vigil.index.inRange('yard', 'main', 0, Date.now())).find(
      (r) => r.state !== 'open',
    );
    assert.ok(segment);
    await page.goto(`${vigil.url}/#/playback/yard?t=${segment.start_time_ms}`);
    await page.click('button:has-text("Signed export…")', { timeout: 20_000 });
    const create = page.locator('button:has-text("Create bundle")');
    assert.equal(await create.isDisabled(), true, 'no bundle without a reason');
    await page.fill('textarea[name="reason"]', 'broken window, claim 77');
    await create.click();
    await page.waitForSelector('[data-testid="bundle-ready"]', { timeout: 30_000 });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('a:has-text("Download bundle")'),
    ]);
    const path = join(files, 'from-dialog.zip');
    await download.saveAs(path);
    const verdict = verifyBundleParts(await readBundle(path));
    assert.equal(verdict.ok, true);
    assert.equal(verdict.manifest?.reason, 'broken window, claim 77');
    await page.fill('input[name="recipient"]', 'adjuster@insurer.example');
    await page.click('button:has-text("Make link")');
    const link = await page.inputValue('input[aria-label="Share link address"]');
    const fetched = await fetch(link);
    assert.equal(fetched.status, 200, 'the link works without an account');
    assert.ok(Buffer.from(await fetched.arrayBuffer()).equals(readFileSync(path)));

    // Deleting it (after a confirmation) ends the link too.
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('button:has-text("Delete bundle")');
    await page.waitForSelector('text=is deleted');
    assert.equal((await fetch(link)).status, 410, 'the link ended with the bundle');
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
