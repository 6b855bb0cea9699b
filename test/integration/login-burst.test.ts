import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pino from 'pino';
import { startVigil, type RunningVigil } from '../../src/app/vigil.js';
import { passwordHashQueue, MAX_CONCURRENT_HASHES, MAX_WAITING_HASHES } from '../../src/auth/passwords.js';
import { ACCOUNT_THROTTLE, ADDRESS_THROTTLE } from '../../src/auth/rate-limit.js';
import { parseConfigText } from '../../src/config/index.js';
import type { Clock } from '../../src/time/clock.js';
import { tempDir } from '../helpers/vigil.js';

/**
 * Parallel guessing through POST /api/session over a real socket. The clock stands still unless
 * the test moves it, so which guesses get through depends only on the throttle, never on how
 * fast the machine answers.
 */

const ADMIN = { name: 'keeper', password: 'quiet meadow lantern 88' };
const BURST = 40;

class StillClock implements Clock {
  constructor(public atMs: number) {}
  nowMs(): number {
    return this.atMs;
  }
}

interface Answer {
  status: number;
  code: string | null;
  retryAfterMs: number | null;
  retryAfterHeader: string | null;
  cookie: string | null;
}

const running: RunningVigil[] = [];
after(async () => {
  for (const vigil of running) await vigil.close();
});

async function start(): Promise<{ vigil: RunningVigil; clock: StillClock; token: string }> {
  const clock = new StillClock(Date.UTC(2026, 0, 15, 9, 0, 0));
  const vigil = await startVigil(
    parseConfigText('storage: { path: ./data }\n', { baseDir: tempDir('vigil-burst-') }),
    {
      log: pino({ level: 'silent' }),
      clock,
      listen: '127.0.0.1:0',
    },
  );
  running.push(vigil);
  const admin = await vigil.auth.store.createFirstAdmin(ADMIN.name, ADMIN.password);
  const { token } = await vigil.auth.store.createToken(admin.id, { label: 'burst test' });
  return { vigil, clock, token };
}

async function signIn(url: string, name: string, password: string): Promise<Answer> {
  const res = await fetch(`${url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password }),
  });
  const body = (await res.json()) as { error?: { code: string; details?: { retryAfterMs?: number } } };
  return {
    status: res.status,
    code: body.error?.code ?? null,
    retryAfterMs: body.error?.details?.retryAfterMs ?? null,
    retryAfterHeader: res.headers.get('retry-after'),
    cookie: res.headers.get('set-cookie'),
  };
}

async function auditCount(url: string, token: string, action: string): Promise<number> {
  const res = await fetch(`${url}/api/audit?action=${action}&limit=1000`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { entries: unknown[] }).entries.length;
}

function tally(answers: Answer[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const a of answers) counts[a.status] = (counts[a.status] ?? 0) + 1;
  return counts;
}

test(`${BURST} parallel wrong guesses for one account: at most the limit are checked, then locked out`, async (t) => {
  const { vigil, clock, token } = await start();
  const limit = ACCOUNT_THROTTLE.freeFailures + 1;

  const burst = async (n: number) =>
    Promise.all(
      Array.from({ length: BURST }, (_, i) => signIn(vigil.url, ADMIN.name, `wrong guess ${n}.${i}`)),
    );

  const first = await burst(0);
  t.diagnostic(`first burst: ${JSON.stringify(tally(first))}`);
  for (const a of first) {
    assert.ok(a.status === 401 || a.status === 429, JSON.stringify(a));
    assert.equal(a.cookie, null);
    if (a.status === 429) {
      assert.equal(a.code, 'LOGIN_THROTTLED');
      assert.ok(a.retryAfterHeader !== null && Number(a.retryAfterHeader) >= 1, JSON.stringify(a));
    }
  }
  const checkedFirst = first.filter((a) => a.status === 401).length;
  assert.equal(
    checkedFirst,
    limit,
    `exactly the free failures and one more are checked: ${JSON.stringify(tally(first))}`,
  );
  assert.equal(
    await auditCount(vigil.url, token, 'login.failure'),
    limit,
    'one argon2 check, one audited failure',
  );

  // The attacker waits as told before each further burst: one guess per burst gets checked,
  // until the wait reaches the 15-minute cap.
  let failures = checkedFirst;
  let bursts = 1;
  let last = first;
  const attacker = { account: ADMIN.name, ip: '127.0.0.1' };
  while (!vigil.auth.throttle.lockedOut(attacker, clock.atMs).account) {
    clock.atMs += Math.max(...last.map((a) => a.retryAfterMs ?? 0));
    const answers = await burst(bursts);
    last = answers;
    const checked = answers.filter((a) => a.status === 401).length;
    assert.equal(checked, 1, `burst ${bursts + 1}: ${JSON.stringify(tally(answers))}`);
    assert.equal(answers.filter((a) => a.status === 429).length, BURST - 1);
    failures += checked;
    bursts += 1;
    assert.ok(bursts < 30, 'the lockout comes');
  }
  t.diagnostic(
    `${bursts} bursts of ${BURST} (${bursts * BURST} requests): ${failures} guesses checked, then locked out`,
  );
  assert.equal(failures, 16, 'the 16th failure reaches the 15-minute cap, as for guesses in a row');
  assert.equal(await auditCount(vigil.url, token, 'login.failure'), failures);
  assert.equal(await auditCount(vigil.url, token, 'login.lockout'), 1);

  // Locked out: the right password is refused unchecked, even in a burst of its own.
  const rightWhileLocked = await Promise.all(
    Array.from({ length: 5 }, () => signIn(vigil.url, ADMIN.name, ADMIN.password)),
  );
  for (const a of rightWhileLocked) {
    assert.equal(a.status, 429, JSON.stringify(a));
    assert.equal(a.code, 'LOGIN_THROTTLED');
    assert.equal(a.cookie, null);
    assert.ok(a.retryAfterMs! > 14 * 60_000, JSON.stringify(a));
  }
  assert.equal(await auditCount(vigil.url, token, 'login.success'), 0);
  assert.equal(vigil.auth.throttle.pendingCount, 0, 'every reservation was settled');

  // After the wait, the right password works.
  clock.atMs += rightWhileLocked[0]!.retryAfterMs!;
  const afterWait = await signIn(vigil.url, ADMIN.name, ADMIN.password);
  assert.equal(afterWait.status, 200, JSON.stringify(afterWait));
  assert.ok(afterWait.cookie);
});

test(`${BURST} parallel guesses over ${BURST} names from one address: at most the address limit are checked`, async (t) => {
  const { vigil, token } = await start();
  const limit = ADDRESS_THROTTLE.freeFailures + 1;
  const answers = await Promise.all(
    Array.from({ length: BURST }, (_, i) => signIn(vigil.url, `user${i}`, `some password ${i}`)),
  );
  t.diagnostic(`answers: ${JSON.stringify(tally(answers))}`);
  // 21 pass the throttle; of those, the ones that found the hash queue full (2 running, 16
  // waiting) get 503 and are not counted. How many do depends on arrival order; the bound does not.
  for (const a of answers) assert.ok([401, 429, 503].includes(a.status), JSON.stringify(a));
  const checked = answers.filter((a) => a.status === 401).length;
  assert.ok(checked >= 1 && checked <= limit, `checked ${checked}, limit ${limit}`);
  // A 503 frees its place, so a later arrival may take it: more than `limit` can be answered
  // 401 or 503 together, but never more than `limit` are checked.
  const failures = await auditCount(vigil.url, token, 'login.failure');
  assert.equal(failures, checked);
  assert.ok(failures <= limit);
  assert.equal(vigil.auth.throttle.pendingCount, 0);
});

test('a full hash queue: sign-in answers 503 AUTH_BUSY with Retry-After, counts nothing, and works once it drains', async () => {
  const { vigil, token } = await start();
  // Occupy the real queue with jobs the test finishes when it wants (2 running, 16 waiting).
  let open!: () => void;
  const held = new Promise<void>((resolve) => (open = resolve));
  const occupying = Array.from({ length: MAX_CONCURRENT_HASHES + MAX_WAITING_HASHES }, () =>
    passwordHashQueue.run(() => held),
  );
  try {
    assert.deepEqual(passwordHashQueue.load, { running: MAX_CONCURRENT_HASHES, waiting: MAX_WAITING_HASHES });
    const busy = await Promise.all([
      signIn(vigil.url, ADMIN.name, ADMIN.password),
      signIn(vigil.url, ADMIN.name, 'a wrong password'),
      signIn(vigil.url, 'nobody-by-this-name', 'a wrong password'),
    ]);
    for (const a of busy) {
      assert.equal(a.status, 503, JSON.stringify(a));
      assert.equal(a.code, 'AUTH_BUSY');
      assert.equal(a.retryAfterHeader, '1');
      assert.equal(a.cookie, null);
    }
    assert.equal(vigil.auth.throttle.pendingCount, 0, 'a busy answer holds no place in the throttle');
    assert.equal(
      await auditCount(vigil.url, token, 'login.failure'),
      0,
      'nothing was checked, nothing counted',
    );
  } finally {
    open();
    await Promise.all(occupying);
  }
  const ok = await signIn(vigil.url, ADMIN.name, ADMIN.password);
  assert.equal(ok.status, 200, JSON.stringify(ok));
  assert.ok(ok.cookie);
});
