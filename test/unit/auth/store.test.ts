import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Algorithm, hash } from '@node-rs/argon2';
import { needsRehash } from '../../../src/auth/passwords.js';
import { can } from '../../../src/auth/permissions.js';
import { hashSecret } from '../../../src/auth/tokens.js';
import { base32Decode, generateTotpSecret, hotp, totpCode, totpStep } from '../../../src/auth/totp.js';
import { AuthStore } from '../../../src/auth/store.js';
import {
  DAY_MS,
  GOOD_PASSWORD,
  HOUR_MS,
  MINUTE_MS,
  authFixture,
  hasCode,
  type AuthFixture,
} from './helpers.js';

describe('auth store', () => {
  let f: AuthFixture;
  before(async () => {
    f = await authFixture();
  });
  after(async () => {
    await f.close();
  });

  test('first run: no users, then one admin, then setup is refused', async () => {
    assert.equal(await f.store.countUsers(), 0);
    await assert.rejects(f.store.createFirstAdmin('root', 'password'), hasCode('PASSWORD_WEAK'));
    // Two setups at once: exactly one wins (which one depends on scheduling), the other is told.
    const results = await Promise.allSettled([
      f.store.createFirstAdmin('root', GOOD_PASSWORD),
      f.store.createFirstAdmin('other', GOOD_PASSWORD),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    assert.ok(lost[0]?.status === 'rejected' && hasCode('SETUP_COMPLETE')(lost[0].reason));
    const admin = won[0]?.status === 'fulfilled' ? won[0].value : undefined;
    assert.equal(admin?.role, 'admin');
    assert.equal(admin?.cameras, null);
    assert.equal(await f.store.countUsers(), 1);
  });

  test('users: names ignore case, are validated, and passwords follow the policy', async () => {
    const alice = await f.store.createUser({ name: 'Alice', role: 'operator', password: GOOD_PASSWORD });
    assert.equal(alice.name, 'Alice');
    assert.equal((await f.store.findUser('alice'))?.id, alice.id);
    await assert.rejects(
      f.store.createUser({ name: 'ALICE', role: 'viewer', password: GOOD_PASSWORD }),
      hasCode('USER_EXISTS'),
    );
    await assert.rejects(
      f.store.createUser({ name: 'bob', role: 'viewer', password: 'bob-bob-bob-bob' }),
      (err: unknown) => hasCode('PASSWORD_WEAK')(err) && /user name/.test((err as Error).message),
    );
    for (const bad of ['', '-dash', 'has space', 'x'.repeat(65), '=cmd()', 'ünï']) {
      await assert.rejects(
        f.store.createUser({ name: bad, role: 'viewer', password: GOOD_PASSWORD }),
        hasCode('REQUEST_INVALID'),
      );
    }
    await assert.rejects(f.store.requireUser('nobody'), hasCode('USER_NOT_FOUND'));
    const row = await f.db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', alice.id)
      .executeTakeFirstOrThrow();
    assert.match(row.password_hash, /^\$argon2id\$/);
  });

  test('password check: right, wrong, unknown, disabled; old hashes are upgraded', async () => {
    const carol = await f.store.createUser({ name: 'carol', role: 'viewer', password: GOOD_PASSWORD });
    const ok = await f.store.checkPassword('CAROL', GOOD_PASSWORD);
    assert.equal(ok.ok, true);
    assert.equal(ok.ok && ok.totpRequired, false);
    assert.deepEqual(
      { ...(await f.store.checkPassword('carol', 'wrong password!')), user: null },
      { ok: false, reason: 'wrong-password', user: null },
    );
    assert.deepEqual(await f.store.checkPassword('nobody', GOOD_PASSWORD), {
      ok: false,
      reason: 'unknown-user',
      user: null,
    });
    assert.deepEqual(await f.store.checkPassword('not a valid name', GOOD_PASSWORD), {
      ok: false,
      reason: 'unknown-user',
      user: null,
    });

    const old = await hash(GOOD_PASSWORD, { algorithm: Algorithm.Argon2id, memoryCost: 4096, timeCost: 3 });
    await f.db.updateTable('users').set({ password_hash: old }).where('id', '=', carol.id).execute();
    assert.equal((await f.store.checkPassword('carol', GOOD_PASSWORD)).ok, true);
    const upgraded = await f.db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', carol.id)
      .executeTakeFirstOrThrow();
    assert.notEqual(upgraded.password_hash, old);
    assert.equal(needsRehash(upgraded.password_hash), false);

    await f.store.updateUser(carol.id, { disabled: true });
    const disabled = await f.store.checkPassword('carol', GOOD_PASSWORD);
    assert.equal(disabled.ok === false && disabled.reason, 'disabled');
  });

  test('roles and camera grants; the last enabled admin cannot be demoted, disabled or deleted', async () => {
    const dave = await f.store.createUser({
      name: 'dave',
      role: 'viewer',
      password: GOOD_PASSWORD,
      cameras: ['door'],
    });
    assert.deepEqual(dave.cameras, ['door']);
    const updated = await f.store.updateUser(dave.id, { cameras: ['yard', 'door', 'yard'] });
    assert.deepEqual(updated.cameras, ['door', 'yard']);
    assert.deepEqual((await f.store.updateUser(dave.id, { cameras: [] })).cameras, []);
    assert.equal((await f.store.updateUser(dave.id, { cameras: null })).cameras, null);
    assert.equal((await f.store.updateUser(dave.id, { role: 'operator' })).role, 'operator');

    const root = (await f.store.listUsers()).find((u) => u.role === 'admin' && u.name !== 'dave');
    assert.ok(root, 'the first administrator');
    await assert.rejects(f.store.updateUser(root.id, { role: 'viewer' }), hasCode('LAST_ADMIN'));
    await assert.rejects(f.store.updateUser(root.id, { disabled: true }), hasCode('LAST_ADMIN'));
    await assert.rejects(f.store.deleteUser(root.id), hasCode('LAST_ADMIN'));
    await f.store.updateUser(dave.id, { role: 'admin' });
    await f.store.updateUser(root.id, { role: 'operator' });
    await assert.rejects(f.store.deleteUser(dave.id), hasCode('LAST_ADMIN'));
    await f.store.updateUser(root.id, { role: 'admin' });
    await f.store.deleteUser(dave.id);
    assert.equal(await f.store.findUser('dave'), undefined);
    await assert.rejects(f.store.updateUser(dave.id, { role: 'viewer' }), hasCode('USER_NOT_FOUND'));
  });

  test('sessions: stored hashed, idle and absolute expiry, sign-out everywhere', async () => {
    const erin = await f.store.createUser({
      name: 'erin',
      role: 'viewer',
      password: GOOD_PASSWORD,
      cameras: ['door'],
    });
    const { sessionId, csrfToken, session } = await f.store.createSession(erin.id, {
      ip: '192.0.2.4',
      userAgent: 'test',
    });
    assert.equal(session.idHash, hashSecret(sessionId));
    const stored = await f.db
      .selectFrom('login_sessions')
      .selectAll()
      .where('user_id', '=', erin.id)
      .execute();
    assert.equal(stored.length, 1);
    assert.notEqual(stored[0]!.id_hash, sessionId, 'the cookie value itself is not stored');

    const resolved = await f.store.resolveSession(sessionId);
    assert.equal(resolved?.user.name, 'erin');
    assert.equal(resolved?.csrfToken, csrfToken);
    assert.equal(resolved?.principal.via, 'session');
    assert.ok(resolved && can(resolved.principal, 'live.view', 'door'));
    assert.ok(resolved && !can(resolved.principal, 'live.view', 'yard'));
    assert.equal(await f.store.resolveSession('forged-session-id'), null);

    // Activity keeps a session alive past the idle limit, up to the absolute one.
    for (let i = 0; i < 40; i += 1) {
      f.clock.advance(20 * HOUR_MS);
      if (i < 35) assert.ok(await f.store.resolveSession(sessionId), `day ${i}`);
    }
    assert.equal(await f.store.resolveSession(sessionId), null, 'past 30 days');

    const idle = await f.store.createSession(erin.id);
    f.clock.advance(DAY_MS + MINUTE_MS);
    assert.equal(await f.store.resolveSession(idle.sessionId), null, 'idle for a day');

    const a = await f.store.createSession(erin.id);
    const b = await f.store.createSession(erin.id);
    const c = await f.store.createSession(erin.id);
    assert.equal((await f.store.listSessions(erin.id)).length, 3);
    assert.equal(await f.store.logoutEverywhere(erin.id, { except: a.sessionId }), 2);
    assert.ok(await f.store.resolveSession(a.sessionId));
    assert.equal(await f.store.resolveSession(b.sessionId), null);
    assert.equal(await f.store.resolveSession(c.sessionId), null);
    assert.equal(await f.store.endSession(a.sessionId), true);
    assert.equal(await f.store.resolveSession(a.sessionId), null);

    const d = await f.store.createSession(erin.id);
    await f.store.setPassword(erin.id, 'another fine passphrase', { keepSessionId: d.sessionId });
    assert.ok(await f.store.resolveSession(d.sessionId), 'the session that changed the password stays');
    assert.equal((await f.store.checkPassword('erin', 'another fine passphrase')).ok, true);
    await assert.rejects(f.store.setPassword(erin.id, 'erin'), hasCode('PASSWORD_WEAK'));
    await f.store.updateUser(erin.id, { disabled: true });
    assert.equal(await f.store.resolveSession(d.sessionId), null, 'disabling ends sessions');

    await f.store.createSession(erin.id);
    f.clock.advance(31 * DAY_MS);
    assert.ok((await f.store.deleteExpiredSessions()) >= 1);
  });

  test('API tokens: shown once, stored hashed, scoped, expiring, revocable', async () => {
    const frank = await f.store.createUser({ name: 'frank', role: 'operator', password: GOOD_PASSWORD });
    const { token, record } = await f.store.createToken(frank.id, {
      label: 'home assistant',
      scopes: ['live.view', 'events.view'],
    });
    assert.match(token, /^vgl_/);
    assert.deepEqual(record.scopes, ['events.view', 'live.view']);
    const row = await f.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('id', '=', record.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.token_hash, hashSecret(token));
    assert.ok(!JSON.stringify(row).includes(token.slice(4)));

    const resolved = await f.store.resolveToken(token);
    assert.equal(resolved?.principal.via, 'token');
    assert.equal(resolved?.principal.tokenId, record.id);
    assert.ok(resolved && can(resolved.principal, 'live.view', 'door'));
    assert.ok(resolved && !can(resolved.principal, 'playback.view', 'door'), 'outside the scopes');
    assert.equal(resolved?.token.lastUsedAtMs, f.clock.nowMs());
    assert.equal(await f.store.resolveToken('vgl_' + 'A'.repeat(43)), null);
    assert.equal(await f.store.resolveToken('garbage'), null);

    await assert.rejects(
      f.store.createToken(frank.id, { label: 'x', scopes: ['users.manage'] }),
      hasCode('REQUEST_INVALID'),
    );
    await assert.rejects(f.store.createToken(frank.id, { label: ' ' }), hasCode('REQUEST_INVALID'));
    await assert.rejects(
      f.store.createToken(frank.id, { label: 'x', scopes: [] }),
      hasCode('REQUEST_INVALID'),
    );
    const all = await f.store.createToken(frank.id, { label: 'everything' });
    assert.equal(all.record.scopes, null, 'without scopes a token holds the whole role');
    const principal = (await f.store.resolveToken(all.token))?.principal;
    assert.equal(principal?.scopes, null);
    assert.ok(principal && can(principal, 'export.create'), 'and so every permission of the role');

    const expiring = await f.store.createToken(frank.id, {
      label: 'short',
      expiresAtMs: f.clock.nowMs() + HOUR_MS,
    });
    assert.ok(await f.store.resolveToken(expiring.token));
    f.clock.advance(HOUR_MS);
    assert.equal(await f.store.resolveToken(expiring.token), null);

    const revoked = await f.store.revokeToken(record.id, frank.id);
    assert.equal(revoked.revokedAtMs, f.clock.nowMs());
    assert.equal(await f.store.resolveToken(token), null);
    await assert.rejects(f.store.revokeToken(all.record.id, 9999), hasCode('TOKEN_NOT_FOUND'));
    await assert.rejects(f.store.revokeToken(424242), hasCode('TOKEN_NOT_FOUND'));
    assert.equal((await f.store.listTokens(frank.id)).length, 3);
    assert.equal(await f.store.revokeAllTokens(frank.id), 2, 'the live one and the expired one');
    assert.equal(await f.store.resolveToken(all.token), null);

    const again = await f.store.createToken(frank.id, { label: 'again' });
    await f.store.updateUser(frank.id, { disabled: true });
    assert.equal(await f.store.resolveToken(again.token), null, "a disabled user's tokens do not work");
    await f.store.deleteUser(frank.id);
    assert.equal((await f.store.listTokens(frank.id)).length, 0, 'deleted with the user');
  });

  test('TOTP: enabled with a right code, stored sealed, codes single-use', async () => {
    const gina = await f.store.createUser({ name: 'gina', role: 'viewer', password: GOOD_PASSWORD });
    assert.deepEqual(await f.store.checkTotp(gina.id, '123456'), { ok: false, reason: 'not-enabled' });
    const secret = generateTotpSecret();
    const key = base32Decode(secret)!;
    assert.deepEqual(await f.store.enableTotp(gina.id, secret, '000000').then((r) => r.ok), false);
    const step = totpStep(f.clock.nowMs());
    assert.deepEqual(await f.store.enableTotp(gina.id, secret, totpCode(key, f.clock.nowMs())), {
      ok: true,
      step,
    });
    const row = await f.db
      .selectFrom('users')
      .select(['totp_secret', 'totp_last_step'])
      .where('id', '=', gina.id)
      .executeTakeFirstOrThrow();
    assert.match(row.totp_secret!, /^enc:v1:/);
    assert.ok(!row.totp_secret!.includes(secret));
    assert.equal(row.totp_last_step, step);

    const check = await f.store.checkPassword('gina', GOOD_PASSWORD);
    assert.equal(check.ok && check.totpRequired, true);
    // The enrolment code cannot be used again to sign in.
    assert.deepEqual(await f.store.checkTotp(gina.id, totpCode(key, f.clock.nowMs())), {
      ok: false,
      reason: 'replayed',
    });
    f.clock.advance(30_000);
    const code = totpCode(key, f.clock.nowMs());
    const [first, second] = await Promise.all([
      f.store.checkTotp(gina.id, code),
      f.store.checkTotp(gina.id, code),
    ]);
    assert.deepEqual(
      [first.ok, second.ok].sort(),
      [false, true],
      'two requests racing with one code: one wins',
    );
    assert.equal(
      (await f.store.checkTotp(gina.id, hotp(key, totpStep(f.clock.nowMs()) + 5))).ok,
      false,
      'a code from the future',
    );

    // A sealed secret copied to another user's row does not open there.
    const hank = await f.store.createUser({ name: 'hank', role: 'viewer', password: GOOD_PASSWORD });
    await f.db.updateTable('users').set({ totp_secret: row.totp_secret }).where('id', '=', hank.id).execute();
    await assert.rejects(f.store.checkTotp(hank.id, code), hasCode('SECRET_KEY_INVALID'));

    await f.store.disableTotp(gina.id);
    assert.equal((await f.store.getUser(gina.id))?.totpEnabled, false);
  });

  test('session lifetimes are options', async () => {
    const short = new AuthStore(f.db, { clock: f.clock, secrets: f.secrets, sessionIdleMs: MINUTE_MS * 5 });
    const user = await short.createUser({ name: 'ivy', role: 'viewer', password: GOOD_PASSWORD });
    const { sessionId } = await short.createSession(user.id);
    f.clock.advance(5 * MINUTE_MS);
    assert.equal(await short.resolveSession(sessionId), null);
  });
});
