import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestVigil, type TestVigil } from '../helpers/vigil.js';

const ADMIN = { name: 'owner', password: 'a quiet harbour at dawn 19' };
let vigil: TestVigil;

interface Reply {
  status: number;
  body: { error?: { code: string; message: string }; csrfToken?: string | null; setupRequired?: boolean };
  cookie: string | null;
}

async function send(
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const res = await fetch(`${vigil.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as Reply['body']) : {},
    cookie: res.headers.get('set-cookie')?.split(';')[0] ?? null,
  };
}

before(async () => {
  vigil = await startTestVigil('cameras: []\n', undefined, { users: false });
});

after(async () => {
  await vigil?.close();
});

test('a fresh install refuses everything until the first administrator exists', async () => {
  const anonymous = await send('/api/cameras');
  assert.equal(anonymous.status, 401);
  assert.match(anonymous.body.error?.message ?? '', /no administrator exists yet/);
  assert.equal((await send('/api/session')).body.setupRequired, true);
  const weak = await send('/api/setup', {
    method: 'POST',
    body: { name: ADMIN.name, password: 'password123' },
  });
  assert.equal(weak.status, 400);
  assert.equal(weak.body.error?.code, 'PASSWORD_WEAK');
  const setup = await send('/api/setup', { method: 'POST', body: ADMIN });
  assert.equal(setup.status, 201);
  assert.ok(setup.cookie);
  const again = await send('/api/setup', {
    method: 'POST',
    body: { name: 'second', password: ADMIN.password },
  });
  assert.equal(again.status, 409);
  assert.equal(again.body.error?.code, 'SETUP_COMPLETE');
});

test('cookie sessions need the CSRF token and a same-site Origin to change anything', async () => {
  const signIn = await send('/api/session', { method: 'POST', body: ADMIN });
  assert.equal(signIn.status, 200);
  const cookie = signIn.cookie as string;
  const csrf = signIn.body.csrfToken as string;
  assert.equal((await send('/api/cameras', { headers: { cookie } })).status, 200, 'reads need no token');
  const token = { label: 'script' };
  const missing = await send('/api/tokens', { method: 'POST', body: token, headers: { cookie } });
  assert.equal(missing.status, 403);
  assert.equal(missing.body.error?.code, 'CSRF_INVALID');
  const forged = await send('/api/tokens', {
    method: 'POST',
    body: token,
    headers: { cookie, 'x-csrf-token': 'x'.repeat(43) },
  });
  assert.equal(forged.body.error?.code, 'CSRF_INVALID');
  const elsewhere = await send('/api/tokens', {
    method: 'POST',
    body: token,
    headers: { cookie, 'x-csrf-token': csrf, origin: 'http://evil.example' },
  });
  assert.equal(elsewhere.body.error?.code, 'CSRF_INVALID');
  const ok = await send('/api/tokens', {
    method: 'POST',
    body: token,
    headers: { cookie, 'x-csrf-token': csrf, origin: vigil.url },
  });
  assert.equal(ok.status, 201);

  const signOut = await send('/api/session', { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrf } });
  assert.equal(signOut.status, 204);
  assert.equal((await send('/api/cameras', { headers: { cookie } })).status, 401, 'the old cookie is dead');
});

test('wrong passwords are refused alike for unknown users and audited without the typed name', async () => {
  const wrong = await send('/api/session', {
    method: 'POST',
    body: { name: ADMIN.name, password: 'not the password at all' },
  });
  const unknown = await send('/api/session', {
    method: 'POST',
    body: { name: 'nobody', password: 'not the password at all' },
  });
  assert.equal(wrong.status, 401);
  assert.equal(unknown.status, 401);
  assert.equal(wrong.body.error?.message, unknown.body.error?.message);
  const entries = (await vigil.auth.audit.query({ action: 'login' })).entries;
  assert.ok(entries.some((e) => e.action === 'login.failure' && e.actor.kind === 'user'));
  assert.ok(entries.some((e) => e.action === 'login.failure' && e.actor.kind === 'anonymous'));
  assert.ok(!JSON.stringify(entries).includes('nobody'), 'a typed unknown name is not kept');
  assert.ok(!JSON.stringify(entries).includes('not the password at all'));
});
