import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { SceneFact } from '../../src/contract/scene.js';
import { browserMissing, launchChromium, openWatchedPage, type WatchedPage } from '../helpers/browser.js';
import { startTestVigil, tempDir, waitFor, type TestVigil } from '../helpers/vigil.js';

/**
 * The review list and the rules in the browser: a person crossing a line makes an alert that
 * shows, counted in the navigation, until it is marked reviewed; a rule made with the form is in
 * force at once, and the config file's rule is shown read-only.
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

describe('alerts and rules in Chromium', { skip: browserMissing ?? false, timeout: 180_000 }, () => {
  let vigil: TestVigil;
  let browser: Browser;

  async function crossing(): Promise<void> {
    const nowMs = Date.now();
    const event = await vigil.events.store.insert({
      cameraId: 'yard',
      label: 'person',
      trackId: 7,
      startTimeMs: nowMs - 3000,
      endTimeMs: nowMs,
      maxScore: 0.8,
      box: { x: 0.2, y: 0.2, width: 0.2, height: 0.5 },
      path: [],
      zones: [],
      snapshotPath: null,
      cropPath: null,
      snapshotTimeMs: null,
      clipStartMs: nowMs - 6000,
      clipEndMs: nowMs + 2000,
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    });
    const fact: SceneFact = {
      type: 'line-crossed',
      cameraId: 'yard',
      lineId: 'path',
      direction: 'a-to-b',
      object: { eventId: event.id, trackId: 7, label: 'person', score: 0.8, areaFraction: 0.1 },
      timeMs: nowMs,
    };
    vigil.events.bus.publish('scene', fact);
    await vigil.rules.settled();
  }

  before(async () => {
    vigil = await startTestVigil(
      `
storage: { path: ./data, minFreeBytes: 1MB }
cameras:
  - id: yard
    streams: { main: { url: "testsrc:?size=320x240&fps=5" } }
    detect: { enabled: false }
    scene:
      lines: [{ id: path, name: Path, a: [0.5, 0], b: [0.5, 1] }]
      zones: [{ id: gate, name: Gate, points: [[0.1, 0.1], [0.4, 0.1], [0.4, 0.4]] }]
rules:
  - id: path
    name: People crossing the path
    conditions: [{ type: line-crossed, lineId: path, direction: a-to-b, labels: [person] }]
`,
      tempDir(),
    );
    await vigil.auth.store.createUser({ name: 'alice', role: 'admin', password: PASSWORD, cameras: null });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await vigil?.close();
  });

  test('an alert is counted, shown and marked reviewed; rules are listed and made', async () => {
    await crossing();
    const alice = await openWatchedPage(browser, `${vigil.url}/#/alerts`);
    // Snapshots of made-up events have no file behind them: the 404 is expected.
    alice.expectError(/404|Failed to load resource/);
    await signIn(alice, 'alice');
    const { page } = alice;
    await page.waitForSelector('nav a:has-text("Alerts") .nav-badge:has-text("1")');
    await page.click('nav a:has-text("Alerts")');
    await page.waitForSelector('.alert-card:has-text("person crossed Path (A→B)")');
    await page.click('.alert-card button:has-text("Mark reviewed")');
    await page.waitForSelector('.alert-card[data-reviewed="true"]');
    await page.waitForSelector('[data-testid="unreviewed-count"]:has-text("0 unreviewed")');

    // A new alert arrives over /api/ws while the page is open; "mark all reviewed" clears it.
    await crossing();
    await page.waitForSelector('.alert-card[data-reviewed="false"]');
    await page.click('button:has-text("Mark all reviewed")');
    await page.waitForSelector('text=Every alert is marked reviewed.');
    await page.waitForSelector('[data-testid="unreviewed-count"]:has-text("0 unreviewed")');

    // The events list splits alerts (both crossings) from detections (none here).
    await page.goto(`${vigil.url}/#/events?kind=alert&range=all`);
    await waitFor('two alerted events', async () => (await page.$$('ul.event-grid > li')).length === 2, 5000);
    await page.goto(`${vigil.url}/#/events?kind=detection&range=all`);
    await page.waitForSelector('text=No events for these filters.');

    await page.goto(`${vigil.url}/#/rules`);
    await page.waitForSelector('tr[data-rule-id="path"]:has-text("config file, read-only")');
    assert.equal(await page.$('tr[data-rule-id="path"] button:has-text("Edit")'), null);
    await page.click('button:has-text("New rule")');
    await page.fill('form[aria-label="Rule"] label:has-text("Id") input', 'gate');
    await page.fill('form[aria-label="Rule"] label:has-text("Name") input', 'Someone at the gate');
    await page.selectOption('form[aria-label="Rule"] select[aria-label="Condition"]', 'zone-entered');
    await page.fill('form[aria-label="Rule"] label:has-text("Zone id") input', 'gate');
    await page.click('form[aria-label="Rule"] button:has-text("Save rule")');
    await page.waitForSelector('tr[data-rule-id="gate"]:has-text("Someone at the gate")');
    const rule = vigil.rules.list().find((r) => r.id === 'gate');
    assert.deepEqual(rule?.conditions, [{ type: 'zone-entered', zoneId: 'gate', labels: ['person'] }]);
    await waitFor('the rule in force', () => vigil.rules.list().length === 2, 1000);
    assert.deepEqual(alice.unexpectedErrors(), []);
  });
});
