import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { base32Decode, generateTotpSecret, totpCode } from '../../src/auth/totp.js';
import {
  browserMissing,
  GUIDE_IMAGES,
  launchChromium,
  openWatchedPage,
  type WatchedPage,
} from '../helpers/browser.js';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { startTestVigil, tempDir, type TestVigil } from '../helpers/vigil.js';

/** People of this test, each signing in through the UI. */
const ADMIN = { name: 'chief', password: 'correct horse battery 7' };
const VIEWER = { name: 'guard', password: 'night shift lantern 42' };
const AUDITOR = { name: 'inspector', password: 'ledger of quiet rivers' };
const OPERATOR = { name: 'oper', password: 'two factors beat one' };

/** Chromium logs every 4xx answer to fetch() as a console error: tests expecting one say so. */
const STATUS_400 = /status of 400/;
const STATUS_403 = /status of 403/;

function assertNoConsoleErrors(watched: WatchedPage): void {
  assert.deepEqual(watched.unexpectedErrors(), [], 'no unexpected console errors');
}

async function signIn(page: Page, user: { name: string; password: string }): Promise<void> {
  await page.waitForSelector('form[aria-label="Sign in"]');
  await page.fill('input[name="name"]', user.name);
  await page.fill('input[name="password"]', user.password);
  await page.click('form[aria-label="Sign in"] button[type="submit"]');
  await page.waitForSelector(`.topbar .user-name:text-is("${user.name}")`);
}

async function signOut(page: Page): Promise<void> {
  await page.click('.topbar .user-button');
  await page.click('#user-menu button:has-text("Sign out")');
  await page.waitForSelector('form[aria-label="Sign in"]');
}

async function sections(page: Page): Promise<string[]> {
  return page.$$eval('nav[aria-label="Sections"] a', (links) => links.map((a) => a.textContent ?? ''));
}

function hash(page: Page): string {
  return new URL(page.url()).hash;
}

describe(
  'signing in, users, tokens and the audit log in Chromium',
  { skip: browserMissing ?? false, timeout: 300_000 },
  () => {
    let cameras: TestCameras;
    let vigil: TestVigil;
    let browser: Browser;
    let watched: WatchedPage;
    let page: Page;
    const downloads = tempDir('vigil-e2e-auth-');

    before(async () => {
      mkdirSync(GUIDE_IMAGES, { recursive: true });
      cameras = await startCameras({ count: 1 });
      // A fresh install: no account at all, as after `npm start` on a new machine.
      vigil = await startTestVigil(
        `
storage: { path: ./data, minFreeBytes: 1MB }
cameras:
  - id: yard
    name: Yard
    streams:
      main: { url: "${cameras.urls(1).main}" }
      sub: { url: "${cameras.urls(1).sub}" }
`,
        tempDir(),
        { users: false },
      );
      browser = await launchChromium();
      watched = await openWatchedPage(browser, `${vigil.url}/`);
      page = watched.page;
      // A poll in flight while someone signs out is answered 401 (its page is gone by then), and
      // the wrong passwords below are 401s too: sign-out and sign-in outcomes are asserted instead.
      watched.expectError(/status of 401/);
    });

    after(async () => {
      await browser?.close();
      await vigil?.close();
      await cameras?.stop();
    });

    test('a fresh install asks for the administrator, refuses a weak password, then opens the live view', async () => {
      await page.waitForSelector('form[aria-label="Create the administrator"]');
      assert.match(
        (await page.textContent('.auth-card')) ?? '',
        /At least 10 characters, not a common password/,
      );
      await page.fill('input[name="name"]', ADMIN.name);
      await page.fill('input[name="password"]', 'password1');
      await page.fill('input[name="repeat"]', 'password1');
      watched.expectError(STATUS_400);
      await page.click('button[type="submit"]');
      const problems = await page.waitForSelector('.form-error[data-code="PASSWORD_WEAK"]');
      const items = await problems.$$eval('li', (lis) => lis.map((li) => li.textContent ?? ''));
      assert.ok(items.length >= 2, `every problem listed: ${JSON.stringify(items)}`);
      assert.ok(
        items.some((p) => /9 characters long; use at least 10/.test(p)),
        JSON.stringify(items),
      );
      assert.ok(
        items.some((p) => /common password/.test(p)),
        JSON.stringify(items),
      );
      await page.screenshot({ path: join(GUIDE_IMAGES, 'auth-setup.jpg'), quality: 80 });

      // Two different passwords never reach the server.
      await page.fill('input[name="password"]', ADMIN.password);
      await page.fill('input[name="repeat"]', `${ADMIN.password}!`);
      await page.click('button[type="submit"]');
      await page.waitForSelector('.form-error:has-text("The two passwords differ")');

      await page.fill('input[name="repeat"]', ADMIN.password);
      await page.click('button[type="submit"]');
      await page.waitForSelector(`.topbar .user-name:text-is("${ADMIN.name}")`);
      await page.waitForSelector('section[aria-label="Live view"] .tile[data-camera="yard"]');
      assert.deepEqual(await sections(page), [
        'Live',
        'Playback',
        'Alerts',
        'Events',
        'Insights',
        'Rules',
        'Cameras',
        'System',
        'Users',
        'Audit',
        'Approvals',
      ]);
      assert.equal((await fetch(`${vigil.url}/api/cameras`)).status, 401, 'the API needs signing in now');
      assertNoConsoleErrors(watched);
    });

    test('sign out, a wrong password, then the right one returns to the same view', async () => {
      await page.goto(`${vigil.url}/#/cameras`);
      await page.waitForSelector('tr[data-camera="yard"]');
      await signOut(page);
      assert.equal(hash(page), `#/signin?next=${encodeURIComponent('#/cameras')}`);

      await page.fill('input[name="name"]', ADMIN.name);
      await page.fill('input[name="password"]', 'not the password at all');
      await page.click('button[type="submit"]');
      const error = await page.waitForSelector('.form-error[data-code="AUTH_FAILED"]');
      assert.equal(await error.textContent(), 'wrong user name or password');
      await page.fill('input[name="password"]', '');
      await page.screenshot({ path: join(GUIDE_IMAGES, 'auth-signin.jpg'), quality: 80 });

      await signIn(page, ADMIN);
      await page.waitForSelector('nav a[aria-current="page"]:has-text("Cameras")');
      await page.waitForSelector('tr[data-camera="yard"]');
      assert.equal(hash(page), '#/cameras');

      // A view opened while signed out comes back after signing in, too.
      await signOut(page);
      await page.goto(`${vigil.url}/#/system`);
      await page.waitForFunction(() => location.hash.startsWith('#/signin?next='));
      await signIn(page, ADMIN);
      await page.waitForSelector('text=Connectivity log');
      assert.equal(hash(page), '#/system');
      assertNoConsoleErrors(watched);
    });

    test('the administrator adds a viewer; the viewer has no playback, in the UI or the API', async () => {
      await page.goto(`${vigil.url}/#/users`);
      await page.click('button:has-text("Add user")');
      await page.fill('input[name="new-user-name"]', VIEWER.name);
      await page.selectOption('select[name="new-user-role"]', 'viewer');
      await page.fill('input[name="new-user-password"]', VIEWER.password);
      await page.check('form[aria-label="Add user"] .grants input[type="radio"] >> nth=1');
      await page.check('form[aria-label="Add user"] input[name="camera"][value="yard"]');
      await page.click('form[aria-label="Add user"] button[type="submit"]');
      await page.waitForSelector(`tr[data-user="${VIEWER.name}"]`);
      assert.match((await page.textContent(`tr[data-user="${VIEWER.name}"]`)) ?? '', /Viewer.*yard.*active/);

      await page.click('button:has-text("Add user")');
      await page.fill('input[name="new-user-name"]', AUDITOR.name);
      await page.selectOption('select[name="new-user-role"]', 'auditor');
      assert.equal(
        await page.$('form[aria-label="Add user"] .grants'),
        null,
        'auditors see no cameras at all',
      );
      await page.fill('input[name="new-user-password"]', AUDITOR.password);
      await page.click('form[aria-label="Add user"] button[type="submit"]');
      await page.waitForSelector(`tr[data-user="${AUDITOR.name}"]`);
      await page.click(`tr[data-user="${VIEWER.name}"] button:has-text("Edit")`);
      await page.waitForSelector(
        `form[aria-label="Edit ${VIEWER.name}"] input[name="camera"][value="yard"]:checked`,
      );
      await page.screenshot({ path: join(GUIDE_IMAGES, 'auth-users.jpg'), quality: 80 });
      await page.click(`form[aria-label="Edit ${VIEWER.name}"] button:has-text("Cancel")`);

      await signOut(page);
      await signIn(page, VIEWER);
      assert.deepEqual(await sections(page), ['Live', 'Alerts', 'Events', 'Insights', 'Rules']);
      // The live tile plays (and the audit log records it), without a Playback link.
      await page.waitForSelector('.tile[data-camera="yard"][data-state="online"]', { timeout: 30_000 });
      assert.equal(await page.$('.tile[data-camera="yard"] a:has-text("Playback")'), null);

      watched.expectError(STATUS_403);
      await page.goto(`${vigil.url}/#/playback/yard`);
      const forbidden = await page.waitForSelector('.forbidden');
      assert.match((await forbidden.textContent()) ?? '', /does not include 'playback\.view'/);

      const nowMs = Date.now();
      const status = await page.evaluate(
        async (url) => (await fetch(url)).status,
        `/api/cameras/yard/export.mp4?from=${nowMs - 60_000}&to=${nowMs - 30_000}`,
      );
      assert.equal(status, 403, 'export refused to a viewer');
      assertNoConsoleErrors(watched);
    });

    test('an API token made on the Account page works with Authorization: Bearer until revoked', async () => {
      await signOut(page);
      await signIn(page, ADMIN);
      await page.goto(`${vigil.url}/#/account`);
      await page.fill('input[name="token-label"]', 'e2e script');
      await page.click('form[aria-label="Create an API token"] button[type="submit"]');
      const value = await page.waitForSelector('.new-token input.token-value');
      const token = await value.inputValue();
      assert.match(token, /^vgl_/);
      assert.match((await page.textContent('.new-token')) ?? '', /shown only this once/);
      await page.click('.new-token button:has-text("Copy")');
      await page.waitForSelector('.new-token [role="status"]');
      await page
        .locator('section[aria-label="API tokens"]')
        .screenshot({ path: join(GUIDE_IMAGES, 'auth-account.jpg'), quality: 80 });

      const health = () =>
        fetch(`${vigil.url}/api/health`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal((await health()).status, 200);

      const row = page.locator('tr[data-token]', { hasText: 'e2e script' });
      page.once('dialog', (dialog) => void dialog.accept());
      await row.locator('button:has-text("Revoke")').click();
      await page.waitForSelector('tr[data-token][data-state="revoked"]:has-text("e2e script")');
      assert.equal((await health()).status, 401);
      assertNoConsoleErrors(watched);
    });

    test('a second factor: the code field appears, and the code signs in', async () => {
      const secret = generateTotpSecret();
      const key = base32Decode(secret);
      assert.ok(key);
      const user = await vigil.auth.store.createUser({
        name: OPERATOR.name,
        role: 'operator',
        password: OPERATOR.password,
      });
      // Enabled with the previous step's code, so the current one is still unused.
      const enabled = await vigil.auth.store.enableTotp(user.id, secret, totpCode(key, Date.now() - 30_000));
      assert.ok(enabled.ok);

      await signOut(page);
      await page.fill('input[name="name"]', OPERATOR.name);
      await page.fill('input[name="password"]', OPERATOR.password);
      await page.click('button[type="submit"]');
      await page.waitForSelector('input[name="totp"]:focus');
      await page.fill('input[name="totp"]', totpCode(key, Date.now()));
      await page.click('button[type="submit"]');
      await page.waitForSelector(`.topbar .user-name:text-is("${OPERATOR.name}")`);
      // Operators lock evidence, so they also decide others' requests to unlock it.
      assert.deepEqual(await sections(page), [
        'Live',
        'Playback',
        'Alerts',
        'Events',
        'Insights',
        'Rules',
        'Approvals',
      ]);
      assertNoConsoleErrors(watched);
    });

    test('an auditor sees only the audit log: filters, CSV, and an intact chain', async () => {
      await signOut(page);
      // A clean sign-in page (no view to return to): the auditor lands on their home, the audit log.
      await page.goto(`${vigil.url}/#/signin`);
      await signIn(page, AUDITOR);
      assert.deepEqual(await sections(page), ['Audit']);
      assert.equal(hash(page), '#/audit');
      await page.waitForSelector('.audit-table');
      const viewerLive = page.locator('tr[data-action="live.start"]', { hasText: VIEWER.name });
      assert.ok((await viewerLive.count()) >= 1, "the viewer's live view is in the log");
      assert.match((await viewerLive.first().textContent()) ?? '', /camera:yard/);
      for (const action of [
        'setup.first-admin',
        'login.success',
        'login.failure',
        'user.create',
        'token.revoke',
      ]) {
        assert.ok((await page.locator(`tr[data-action="${action}"]`).count()) >= 1, `${action} listed`);
      }

      await page.selectOption('select[name="action"]', 'login');
      await page.click('form[aria-label="Filters"] button[type="submit"]');
      await page.waitForFunction(() => location.hash.includes('action=login'));
      await page.waitForFunction(() => {
        const rows = Array.from(document.querySelectorAll('.audit-table tbody tr'));
        return rows.length > 0 && rows.every((r) => r.getAttribute('data-action')?.startsWith('login.'));
      });
      const logins = await page.$$eval('.audit-table tbody tr', (rows) =>
        rows.map((r) => r.textContent ?? ''),
      );
      assert.ok(
        logins.some((r) => r.includes(VIEWER.name)),
        'the viewer signed in',
      );
      assert.ok(
        logins.some((r) => r.includes(AUDITOR.name)),
        'the auditor signed in',
      );

      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.click('a:has-text("Download CSV")'),
      ]);
      const csvPath = join(downloads, 'audit.csv');
      await download.saveAs(csvPath);
      const csv = readFileSync(csvPath, 'utf8');
      assert.match(csv, /login\.success/);
      assert.doesNotMatch(csv, /live\.start/, 'the CSV has the filter of the view');

      await page.click('button:has-text("Verify chain")');
      const verified = await page.waitForSelector('.verify-result');
      assert.equal(await verified.getAttribute('data-ok'), 'true');
      assert.match((await verified.textContent()) ?? '', /the audit log is intact/);

      await page.click('form[aria-label="Filters"] button:has-text("Clear")');
      await page.waitForSelector('tr[data-action="audit.export"]');
      await page.click('button:has-text("Verify chain")');
      await page.waitForSelector('.verify-result[data-ok="true"]');
      await page.screenshot({ path: join(GUIDE_IMAGES, 'auth-audit.jpg'), quality: 80 });

      // No video for an auditor, whatever the address.
      watched.expectError(STATUS_403);
      await page.goto(`${vigil.url}/#/live`);
      const forbidden = await page.waitForSelector('.forbidden');
      assert.match((await forbidden.textContent()) ?? '', /does not include 'cameras\.view'/);
      assertNoConsoleErrors(watched);
    });
  },
);
