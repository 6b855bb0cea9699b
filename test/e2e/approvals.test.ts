import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { browserMissing, launchChromium, openWatchedPage, type WatchedPage } from '../helpers/browser.js';
import { startTestVigil, tempDir, waitFor, type TestVigil } from '../helpers/vigil.js';

/**
 * Four-eyes unlocking in the browser: alice locks an event as evidence on its page and asks to
 * unlock it; bob sees the request counted in his navigation and approves it on the Approvals page.
 */

const PASSWORD = 'a long enough passphrase 7';

async function signIn(watched: WatchedPage, name: string): Promise<void> {
  const { page } = watched;
  await page.waitForSelector('form[aria-label="Sign in"]');
  await page.fill('input[name="name"]', name);
  await page.fill('input[name="password"]', PASSWORD);
  await page.click('form[aria-label="Sign in"] button[type="submit"]');
  await page.waitForSelector('nav a[aria-current="page"]');
}

describe('four-eyes approval in Chromium', { skip: browserMissing ?? false, timeout: 180_000 }, () => {
  let vigil: TestVigil;
  let browser: Browser;
  let eventId = 0;

  before(async () => {
    vigil = await startTestVigil(
      `
storage: { path: ./data, minFreeBytes: 1MB }
recording: { segmentDurationMs: 2000 }
cameras:
  - id: yard
    streams: { main: { url: "testsrc:?size=320x240&fps=5" } }
`,
      tempDir(),
    );
    for (const name of ['alice', 'bob']) {
      await vigil.auth.store.createUser({ name, role: 'operator', password: PASSWORD, cameras: null });
    }
    const nowMs = Date.now();
    eventId = (
      await vigil.events.store.insert({
        cameraId: 'yard',
        label: 'person',
        trackId: 7,
        startTimeMs: nowMs - 20_000,
        endTimeMs: nowMs - 15_000,
        maxScore: 0.7,
        box: { x: 0.2, y: 0.2, width: 0.2, height: 0.5 },
        path: [],
        zones: [],
        snapshotPath: null,
        cropPath: null,
        snapshotTimeMs: null,
        clipStartMs: nowMs - 25_000,
        clipEndMs: nowMs - 10_000,
        createdAtMs: nowMs,
        updatedAtMs: nowMs,
      })
    ).id;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await vigil?.close();
  });

  test('alice locks and asks to unlock; bob approves on the Approvals page', async () => {
    const alice = await openWatchedPage(browser, `${vigil.url}/#/events/${eventId}`);
    // The clip of a made-up event has no video behind it: the player's 404 is expected.
    alice.expectError(/404|Failed to load resource/);
    await signIn(alice, 'alice');
    await alice.page.goto(`${vigil.url}/#/events/${eventId}`);
    await alice.page.fill('.lock-form input:not([type])', 'van seen twice, police informed');
    await alice.page.click('.lock-form button[type="submit"]');
    await alice.page.waitForSelector('.lock-badge', { timeout: 5000 }).catch(async (err: unknown) => {
      throw new Error(`${(err as Error).message}; page says: ${await alice.page.textContent('main')}`);
    });
    const [lock] = await vigil.evidence.locks.list({ cameras: null, eventId, limit: 10 });
    assert.ok(lock, 'the lock exists');
    assert.equal(lock.createdBy, 'alice');

    // The lock shows on the playback timeline.
    await alice.page.goto(`${vigil.url}/#/playback/yard`);
    await alice.page.waitForSelector(`.timeline-lock[data-lock-id="${lock.id}"]`);

    await alice.page.goto(`${vigil.url}/#/events/${eventId}`);
    alice.page.once('dialog', (dialog) => void dialog.accept('the case is closed'));
    await alice.page.click('button:has-text("Ask to unlock")');
    await alice.page.waitForSelector('text=your request is on the Approvals page');
    assert.equal((await vigil.evidence.locks.get(lock.id))?.unlockedAtMs, null, 'still locked');

    // Alice sees her own request, with no Approve button.
    await alice.page.goto(`${vigil.url}/#/approvals`);
    await alice.page.waitForSelector('.approval button:has-text("Cancel my request")');
    assert.equal(await alice.page.$('.approval button:has-text("Approve")'), null);

    const bob = await openWatchedPage(browser, `${vigil.url}/#/live`);
    bob.expectError(/404|Failed to load resource/);
    await signIn(bob, 'bob');
    await bob.page.waitForSelector('nav a:has-text("Approvals") .nav-badge:has-text("1")');
    await bob.page.click('nav a:has-text("Approvals")');
    await bob.page.waitForSelector('.approval:has-text("the case is closed")');
    await bob.page.click('.approval button:has-text("Approve")');
    await bob.page.waitForSelector('text=Approved and carried out.');
    await waitFor(
      'the lock lifted',
      async () => (await vigil.evidence.locks.get(lock.id))?.unlockedAtMs !== null,
      5000,
    );
    assert.equal((await vigil.evidence.locks.get(lock.id))?.unlockedBy, 'alice');
    // Alice's open Approvals page hears of it on /api/ws.
    await alice.page.waitForSelector('li[data-state="approved"]');
    assert.deepEqual(bob.unexpectedErrors(), []);
    assert.deepEqual(alice.unexpectedErrors(), []);
  });
});
