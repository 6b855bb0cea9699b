import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type ConsoleMessage, type LaunchOptions, type Page } from 'playwright-core';
import { REPO_ROOT, TEST_ADMIN } from './vigil.js';

/** Debian's Chromium; CHROMIUM_PATH overrides it elsewhere. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null when they can. */
export const browserMissing: string | null = existsSync(CHROMIUM_PATH)
  ? null
  : `Chromium is not installed at ${CHROMIUM_PATH} (sudo scripts/install-deps.sh --test installs it)`;

/** Flags for a headless Chromium on a machine with no network but loopback and no GPU. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Tiles play muted, but a test page must never wait for a click to start video.
  '--autoplay-policy=no-user-gesture-required',
];

/**
 * A fake microphone (Chromium's test tone) that pages may use without asking: for talking
 * through a camera.
 */
export const FAKE_MICROPHONE_ARGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/**
 * Debian's Chromium with the flags above; `options` adds launch settings (e.g. signal handling),
 * `extraArgs` more flags (FAKE_MICROPHONE_ARGS).
 */
export function launchChromium(
  options: LaunchOptions = {},
  extraArgs: readonly string[] = [],
): Promise<Browser> {
  return chromium.launch({
    ...options,
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    headless: true,
  });
}

export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught exceptions seen so far, minus the ones a test said to expect. */
  unexpectedErrors(): string[];
  /** A test that provokes an error (a wrong password) says which console messages it expects. */
  expectError(pattern: RegExp): void;
}

/**
 * A page that records every console error and page exception: the shared fixture that fails a
 * test on any error the test did not announce.
 */
export async function openWatchedPage(browser: Browser, url: string): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  const expected: RegExp[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => errors.push(`exception: ${error.message}`));
  await page.goto(url);
  return {
    page,
    unexpectedErrors: () => errors.filter((e) => !expected.some((p) => p.test(e))),
    expectError: (pattern) => expected.push(pattern),
  };
}

/**
 * The user guide's screenshots are taken by the end-to-end tests. They land in docs/guide/img with
 * VIGIL_UPDATE_SCREENSHOTS=1 (after a UI change), else in a temporary folder so a test run leaves
 * the checkout unchanged.
 */
export const GUIDE_IMAGES =
  process.env.VIGIL_UPDATE_SCREENSHOTS === '1'
    ? join(REPO_ROOT, 'docs', 'guide', 'img')
    : mkdtempSync(join(tmpdir(), 'vigil-screenshots-'));

/** Opens `url` in the page and signs in there as TEST_ADMIN, as a person would. */
export async function signInAsAdmin(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('form[aria-label="Sign in"]');
  await page.fill('input[name="name"]', TEST_ADMIN.name);
  await page.fill('input[name="password"]', TEST_ADMIN.password);
  await page.click('form[aria-label="Sign in"] button[type="submit"]');
}
