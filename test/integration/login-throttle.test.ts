import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pino from 'pino';
import { startVigil, type RunningVigil } from '../../src/app/vigil.js';
import { parseConfigText } from '../../src/config/index.js';
import type { Clock } from '../../src/time/clock.js';
import { tempDir } from '../helpers/vigil.js';

/**
 * Guessing a password through POST /api/session, measured: a real Vigil in this process whose
 * clock the test moves forward instead of waiting, so the attacker's waits of up to 15 minutes
 * take no time and the test asserts on the server's answers only, never on wall time.
 */

const ADMIN = { name: 'keeper', password: 'quiet meadow lantern 88' };
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const CAP_MS = 15 * MINUTE_MS;

/** Wall time plus a jump the test controls. */
class ShiftedClock implements Clock {
  offsetMs = 0;
  nowMs(): number {
    return Date.now() + this.offsetMs;
  }
}

interface ErrorBody {
  error?: { code: string; message: string; details?: { retryAfterMs?: number } };
  user?: { name: string };
}

let vigil: RunningVigil | undefined;

after(async () => {
  await vigil?.close();
});

/**
 * When an attacker who always waits exactly as told can make each guess: the free ones at once,
 * then each after the wait the previous failure imposed. Past the measured waits the last one
 * (the cap) repeats.
 */
function guessTimes(freeAtOnce: number, waitsMs: number[], untilMs: number): number[] {
  const times = Array.from({ length: freeAtOnce }, () => 0);
  let t = 0;
  for (let k = 0; t < untilMs; k += 1) {
    t += waitsMs[Math.min(k, waitsMs.length - 1)]!;
    if (t < untilMs) times.push(t);
  }
  return times;
}

test('20 wrong passwords: 429 with a growing wait after the free ones, lockout audited', async (t) => {
  const clock = new ShiftedClock();
  const dir = tempDir('vigil-throttle-');
  vigil = await startVigil(parseConfigText('storage: { path: ./data }\n', { baseDir: dir }), {
    log: pino({ level: 'silent' }),
    clock,
    listen: '127.0.0.1:0',
  });
  const admin = await vigil.auth.store.createFirstAdmin(ADMIN.name, ADMIN.password);
  const { token } = await vigil.auth.store.createToken(admin.id, { label: 'throttle test' });
  const url = vigil.url;

  const signIn = async (name: string, password: string) => {
    const started = performance.now();
    const res = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, password }),
    });
    const body = (await res.json()) as ErrorBody;
    return {
      status: res.status,
      code: body.error?.code ?? null,
      retryAfterMs: body.error?.details?.retryAfterMs ?? null,
      retryAfterHeader: res.headers.get('retry-after'),
      elapsedMs: performance.now() - started,
    };
  };

  const answeredAtOnce: number[] = [];
  const waitsMs: number[] = [];
  const checkMs: number[] = [];
  let retryAfterHeader: string | null = null;
  for (let guess = 1; guess <= 20; guess += 1) {
    const password = `wrong guess number ${guess}`;
    let answer = await signIn(ADMIN.name, password);
    if (answer.status === 429) {
      assert.equal(answer.code, 'LOGIN_THROTTLED');
      assert.ok(answer.retryAfterMs !== null && answer.retryAfterMs > 0, JSON.stringify(answer));
      retryAfterHeader ??= answer.retryAfterHeader;
      waitsMs.push(answer.retryAfterMs);
      // The attacker waits as told (the clock jumps), then the guess is checked.
      clock.offsetMs += answer.retryAfterMs;
      answer = await signIn(ADMIN.name, password);
    } else {
      answeredAtOnce.push(guess);
    }
    assert.equal(answer.status, 401, `guess ${guess}: ${JSON.stringify(answer)}`);
    assert.equal(answer.code, 'AUTH_FAILED');
    checkMs.push(answer.elapsedMs);
  }

  // Five free failures, then the sixth guess still goes through and its failure imposes the first wait.
  assert.deepEqual(answeredAtOnce, [1, 2, 3, 4, 5, 6]);
  assert.equal(waitsMs.length, 14);
  const capIndex = waitsMs.findIndex((ms) => ms > CAP_MS - 1000);
  assert.ok(capIndex > 0, `the wait reaches 15 min: ${waitsMs.join(', ')}`);
  for (let i = 1; i < capIndex; i += 1) {
    const ratio = waitsMs[i]! / waitsMs[i - 1]!;
    assert.ok(ratio > 1.9 && ratio < 2.1, `each wait doubles the one before: ${waitsMs.join(', ')}`);
  }
  assert.ok(Math.abs(waitsMs[0]! - 1000) < 500, `the first wait is 1 s: ${waitsMs[0]}`);
  for (const ms of waitsMs.slice(capIndex)) assert.ok(ms <= CAP_MS && ms > CAP_MS - 1000);

  // Locked out: the right password is refused without being checked.
  const whileLocked = await signIn(ADMIN.name, ADMIN.password);
  assert.equal(whileLocked.status, 429, JSON.stringify(whileLocked));
  assert.equal(whileLocked.code, 'LOGIN_THROTTLED');
  assert.ok(whileLocked.retryAfterMs! > CAP_MS - 1000);
  // The lockout is not permanent: after the wait the right password works.
  clock.offsetMs += whileLocked.retryAfterMs!;
  const afterWait = await signIn(ADMIN.name, ADMIN.password);
  assert.equal(afterWait.status, 200, JSON.stringify(afterWait));

  // The address keeps its 20 failures: new names from it are throttled too (credential stuffing).
  assert.equal((await signIn('mallory', 'any password at all')).status, 401);
  const otherName = await signIn('trudy', 'any password at all');
  assert.equal(otherName.status, 429);
  assert.ok(Math.abs(otherName.retryAfterMs! - 1000) < 500, JSON.stringify(otherName));

  const audit = async (action: string) => {
    const res = await fetch(`${url}/api/audit?action=${action}&limit=100`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200);
    return (
      (await res.json()) as {
        entries: Array<{ actor: string; action: string; details: Record<string, unknown>; ip: string }>;
      }
    ).entries;
  };
  const lockouts = await audit('login.lockout');
  assert.equal(lockouts.length, 1, JSON.stringify(lockouts));
  assert.equal(lockouts[0]!.actor, ADMIN.name);
  assert.deepEqual(lockouts[0]!.details, { account: true, address: false });
  assert.match(lockouts[0]!.ip, /127\.0\.0\.1/);
  const failures = await audit('login.failure');
  assert.equal(failures.filter((e) => e.actor === ADMIN.name).length, 20);
  assert.equal(
    failures.filter((e) => e.actor === 'anonymous').length,
    1,
    'an unknown name is logged as anonymous',
  );

  const perMinute = guessTimes(answeredAtOnce.length, waitsMs, MINUTE_MS).length;
  const perHour = guessTimes(answeredAtOnce.length, waitsMs, HOUR_MS).length;
  const perDay = guessTimes(answeredAtOnce.length, waitsMs, 24 * HOUR_MS).length;
  t.diagnostic(
    `waits after each failure past the free ones (s): ${waitsMs.map((ms) => Math.round(ms / 1000)).join(', ')}`,
  );
  t.diagnostic(
    `one account from one address: ${perMinute} guesses in the first minute, ${perHour} in the first hour, ` +
      `${perDay} in the first day, then ${HOUR_MS / CAP_MS} per hour (lockout from failure ${answeredAtOnce.length + capIndex})`,
  );
  const sorted = [...checkMs].sort((a, b) => a - b);
  t.diagnostic(
    `a checked guess took ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms (median, argon2id), ` +
      `Retry-After header: ${retryAfterHeader ?? 'not sent'}`,
  );
});
