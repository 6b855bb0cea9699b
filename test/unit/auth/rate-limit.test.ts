import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ACCOUNT_THROTTLE,
  LoginThrottle,
  addressKey,
  delayAfterFailures,
  throttledError,
  type ThrottlePolicy,
} from '../../../src/auth/rate-limit.js';
import { VigilError } from '../../../src/errors/catalogue.js';
import { HOUR_MS, MINUTE_MS, T0 } from './helpers.js';

const SECOND_MS = 1000;
/** Loose per-address limits, so the account limit is what these tests see. */
const LOOSE: ThrottlePolicy = {
  freeFailures: 1000,
  baseDelayMs: 1000,
  maxDelayMs: 15 * MINUTE_MS,
  forgetAfterMs: HOUR_MS,
};

describe('login throttle', () => {
  test('five free failures, then 1 s, 2 s, 4 s … capped at 15 min', () => {
    const delays = Array.from({ length: 18 }, (_, i) => delayAfterFailures(i + 1, ACCOUNT_THROTTLE));
    assert.deepEqual(delays.slice(0, 5), [0, 0, 0, 0, 0]);
    assert.deepEqual(
      delays.slice(5, 10),
      [1, 2, 4, 8, 16].map((s) => s * SECOND_MS),
    );
    assert.equal(delays[14], 512 * SECOND_MS);
    assert.equal(delays[15], 15 * MINUTE_MS, '1024 s is over the cap');
    assert.equal(delays[17], 15 * MINUTE_MS);
    assert.equal(delayAfterFailures(10_000, ACCOUNT_THROTTLE), 15 * MINUTE_MS);
  });

  test('an attempt inside the wait is refused with retryAfterMs, and does not count', () => {
    const throttle = new LoginThrottle({ address: LOOSE });
    const attempt = { account: 'alice', ip: '192.0.2.7' };
    let now = T0;
    for (let i = 0; i < 5; i += 1) {
      assert.deepEqual(throttle.check(attempt, now), { allowed: true });
      assert.equal(throttle.failure(attempt, now).retryAfterMs, 0);
    }
    assert.equal(throttle.failure(attempt, now).retryAfterMs, 1000);
    assert.deepEqual(throttle.check(attempt, now + 400), {
      allowed: false,
      retryAfterMs: 600,
      limitedBy: 'account',
    });
    // Refused checks are not failures: the wait does not grow.
    assert.deepEqual(throttle.check(attempt, now + 400), {
      allowed: false,
      retryAfterMs: 600,
      limitedBy: 'account',
    });
    now += 1000;
    assert.deepEqual(throttle.check(attempt, now), { allowed: true });
    assert.equal(throttle.failure(attempt, now).retryAfterMs, 2000);
    // User names are case-insensitive: 'ALICE' is the same account.
    assert.equal(throttle.check({ account: 'ALICE', ip: '198.51.100.1' }, now).allowed, false);
    assert.equal(throttle.check({ account: 'bob', ip: '192.0.2.7' }, now).allowed, true);
  });

  test('lockout starts once, at the cap, and is reported for auditing', () => {
    const throttle = new LoginThrottle({ address: LOOSE });
    const attempt = { account: 'alice', ip: '192.0.2.7' };
    let now = T0;
    const started: number[] = [];
    for (let failure = 1; failure <= 20; failure += 1) {
      const check = throttle.check(attempt, now);
      if (!check.allowed) now += check.retryAfterMs;
      const outcome = throttle.failure(attempt, now);
      if (outcome.lockoutStarted.account) started.push(failure);
      assert.equal(outcome.lockoutStarted.address, false);
    }
    assert.deepEqual(started, [16], 'the 16th failure is the first at the 15-minute cap');
    assert.deepEqual(throttle.lockedOut(attempt, now), { account: true, address: false });
  });

  test('failures are forgotten after a quiet day; a success clears the account only', () => {
    const throttle = new LoginThrottle();
    const attempt = { account: 'alice', ip: '192.0.2.7' };
    for (let i = 0; i < 7; i += 1) throttle.failure(attempt, T0);
    assert.equal(throttle.check(attempt, T0).allowed, false);
    assert.equal(throttle.check(attempt, T0 + 24 * HOUR_MS).allowed, true);
    assert.equal(throttle.failure(attempt, T0 + 24 * HOUR_MS).retryAfterMs, 0, 'counting starts again');

    const stuffing = new LoginThrottle();
    const ip = '203.0.113.9';
    // One address tries 25 accounts: the address limit (20 free) stops it.
    for (let i = 0; i < 25; i += 1) stuffing.failure({ account: `user${i}`, ip }, T0);
    const check = stuffing.check({ account: 'someone-else', ip }, T0);
    assert.equal(check.allowed, false);
    assert.equal(check.allowed === false && check.limitedBy, 'address');
    // Signing in to an account of one's own does not reset the address.
    stuffing.success({ account: 'mallory', ip });
    assert.equal(stuffing.check({ account: 'someone-else', ip }, T0).allowed, false);

    const typo = new LoginThrottle({ address: LOOSE });
    for (let i = 0; i < 6; i += 1) typo.failure(attempt, T0);
    typo.success(attempt);
    assert.deepEqual(typo.check(attempt, T0), { allowed: true });
  });

  test('addresses: IPv4-mapped IPv6 is IPv4; IPv6 counts per /64', () => {
    assert.equal(addressKey('192.0.2.7'), '192.0.2.7');
    assert.equal(addressKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:0db8:0001:0002:ffff:0:0:9'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(addressKey('not-an-ip'), 'not-an-ip');

    const throttle = new LoginThrottle();
    for (let i = 0; i < 25; i += 1) throttle.failure({ account: `u${i}`, ip: `2001:db8:1:2::${i + 1}` }, T0);
    assert.equal(throttle.check({ account: 'x', ip: '2001:db8:1:2:ffff::1' }, T0).allowed, false, 'same /64');
    assert.equal(throttle.check({ account: 'x', ip: '2001:db8:1:3::1' }, T0).allowed, true, 'another /64');
  });

  test('memory is bounded and pruned', () => {
    const throttle = new LoginThrottle({ maxEntries: 10 });
    for (let i = 0; i < 50; i += 1) throttle.failure({ account: `u${i}`, ip: `198.51.100.${i}` }, T0 + i);
    assert.equal(throttle.size, 20, '10 accounts and 10 addresses kept, the most recent');
    throttle.prune(T0 + 25 * HOUR_MS);
    assert.equal(throttle.size, 0);
  });

  test('attempts in flight count: a parallel burst gets no more checks than the same guesses in a row', () => {
    const throttle = new LoginThrottle({ address: LOOSE });
    const attempt = { account: 'alice', ip: '192.0.2.7' };
    // 40 guesses start before any has failed (each waits for argon2).
    const starts = Array.from({ length: 40 }, () => throttle.begin(attempt, T0));
    const admitted = starts.flatMap((s) => (s.allowed ? [s.reservation] : []));
    assert.equal(
      admitted.length,
      ACCOUNT_THROTTLE.freeFailures + 1,
      'the free ones and one more, as in a row',
    );
    const refused = starts.filter((s) => !s.allowed);
    assert.ok(refused.every((s) => !s.allowed && s.limitedBy === 'account' && s.retryAfterMs === 1000));
    assert.equal(throttle.pendingCount, 6);
    for (const reservation of admitted) reservation.failure(T0 + 50);
    assert.equal(throttle.pendingCount, 0);
    assert.deepEqual(throttle.check(attempt, T0 + 50), {
      allowed: false,
      retryAfterMs: 1000,
      limitedBy: 'account',
    });
    // The next burst, after the wait: one guess is checked.
    const next = Array.from({ length: 40 }, () => throttle.begin(attempt, T0 + 1050));
    assert.equal(next.filter((s) => s.allowed).length, 1);
  });

  test('per address too: a burst over many names gets the free failures and one more', () => {
    const throttle = new LoginThrottle();
    const starts = Array.from({ length: 40 }, (_, i) =>
      throttle.begin({ account: `u${i}`, ip: '203.0.113.9' }, T0),
    );
    assert.equal(starts.filter((s) => s.allowed).length, 21);
    assert.ok(starts.every((s) => s.allowed || s.limitedBy === 'address'));
  });

  test('a released attempt frees its place uncounted; success clears the account; settling twice is a bug', () => {
    const throttle = new LoginThrottle({ address: LOOSE });
    const attempt = { account: 'alice', ip: '192.0.2.7' };
    const first = Array.from({ length: 6 }, () => throttle.begin(attempt, T0));
    assert.equal(throttle.begin(attempt, T0).allowed, false);
    const held = first.map((s) => (s.allowed ? s.reservation : assert.fail('allowed')));
    held[0]!.release();
    held[0]!.release();
    const again = throttle.begin(attempt, T0);
    assert.equal(again.allowed, true, 'the released place is free');
    for (const reservation of held.slice(1)) reservation.failure(T0);
    assert.equal(throttle.check(attempt, T0).allowed, false, '5 failures and one in flight');
    if (again.allowed) again.reservation.success();
    assert.deepEqual(throttle.check(attempt, T0), { allowed: true });
    assert.throws(() => held[1]!.failure(T0), /settled twice/);
    assert.throws(() => held[1]!.success(), /settled twice/);
    held[1]!.release();
    assert.equal(throttle.pendingCount, 0);
  });

  test('the error says how long to wait', () => {
    const short = throttledError(1500);
    assert.ok(short instanceof VigilError);
    assert.equal(short.code, 'LOGIN_THROTTLED');
    assert.equal(short.httpStatus, 429);
    assert.match(short.message, /try again in 2 s/);
    assert.deepEqual(short.details, { retryAfterMs: 1500 });
    assert.match(throttledError(15 * MINUTE_MS).message, /try again in 15 min/);
  });
});
