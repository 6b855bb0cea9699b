import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  classifyAttempt,
  MAX_ATTEMPTS,
  MAX_RETRY_AFTER_MS,
  retryAfterMs,
  retryDelayMs,
} from '../../../src/notify/retry.js';

const NOW = Date.UTC(2026, 0, 1);
const at = (attempt: number, random = 0.5) => ({ nowMs: NOW, random, attempt });

function outcome(status: number, attempt = 1, retryAfter: string | null = null) {
  return classifyAttempt({ kind: 'answer', status, retryAfter }, attempt, at(attempt));
}

test('the schedule: five attempts over about ten minutes, each wait three times the last', () => {
  const waits = [1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, 0.5));
  assert.deepEqual(waits, [15_000, 45_000, 135_000, 405_000]);
  const totalS = waits.reduce((a, b) => a + b, 0) / 1000;
  assert.ok(totalS >= 540 && totalS <= 660, `${totalS} s`);
  assert.equal(MAX_ATTEMPTS, 5);
});

test('jitter spreads a wait by ±20 %', () => {
  assert.equal(retryDelayMs(1, 0), 12_000);
  assert.equal(retryDelayMs(1, 0.999999), 18_000);
  assert.equal(retryDelayMs(2, 0.5, 100), 300);
});

test('2xx is delivered; 3xx and other 4xx fail at once', () => {
  assert.deepEqual(outcome(200), { state: 'delivered' });
  assert.deepEqual(outcome(204), { state: 'delivered' });
  for (const status of [301, 302, 307, 400, 401, 403, 404, 410, 422]) {
    assert.equal(outcome(status).state, 'failed', String(status));
  }
  assert.match((outcome(302) as { error: string }).error, /redirects are not followed/);
});

test('408, 429, 5xx and network errors are retried until the last attempt', () => {
  for (const status of [408, 429, 500, 502, 503]) {
    assert.equal(outcome(status).state, 'retry', String(status));
    assert.equal(outcome(status, MAX_ATTEMPTS).state, 'failed', String(status));
  }
  const timeout = classifyAttempt({ kind: 'error', message: 'no answer within 1000 ms' }, 2, at(2));
  assert.deepEqual(timeout, { state: 'retry', error: 'no answer within 1000 ms', delayMs: 45_000 });
  const last = classifyAttempt({ kind: 'error', message: 'ECONNREFUSED' }, 5, at(5));
  assert.deepEqual(last, { state: 'failed', error: 'ECONNREFUSED (after 5 attempts)' });
});

test('429 waits for Retry-After, in seconds or as a date, capped', () => {
  assert.deepEqual(outcome(429, 1, '7'), { state: 'retry', error: 'HTTP 429', delayMs: 7000 });
  const date = new Date(NOW + 20_000).toUTCString();
  assert.equal((outcome(429, 1, date) as { delayMs: number }).delayMs, 20_000);
  assert.equal((outcome(429, 1, '999999') as { delayMs: number }).delayMs, MAX_RETRY_AFTER_MS);
  // Unreadable: the usual backoff.
  assert.equal((outcome(429, 1, 'soon') as { delayMs: number }).delayMs, 15_000);
  // Retry-After on a 503 is not a promise the receiver must keep: backoff as usual.
  assert.equal((outcome(503, 1, '1') as { delayMs: number }).delayMs, 15_000);
  assert.equal(retryAfterMs(null, NOW), null);
  assert.equal(retryAfterMs(new Date(NOW - 5000).toUTCString(), NOW), 0);
});
