import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, test } from 'node:test';
import { startTestVigil, TEST_ADMIN, type TestVigil } from '../helpers/vigil.js';

let vigil: TestVigil;

/** HTTPS to the self-signed test server: the test trusts it the way a user accepts the warning once. */
function httpsJson(
  url: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: init.method ?? 'GET',
        rejectUnauthorized: false,
        headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(init.body === undefined ? undefined : JSON.stringify(init.body));
  });
}

before(async () => {
  vigil = await startTestVigil(`server: { tls: { selfSigned: true } }\ncameras: []\n`);
});

after(async () => {
  await vigil?.close();
});

test('server.tls.selfSigned serves HTTPS with a generated certificate and Secure cookies', async () => {
  assert.match(vigil.url, /^https:\/\//);
  const session = await httpsJson(`${vigil.url}/api/session`);
  assert.equal(session.status, 200);
  assert.equal(session.headers['x-content-type-options'], 'nosniff');
  assert.match(String(session.headers['content-security-policy']), /frame-ancestors 'none'/);
  // No HSTS with a self-signed certificate: it would stop users from getting past the warning.
  assert.equal(session.headers['strict-transport-security'], undefined);
  const signIn = await httpsJson(`${vigil.url}/api/session`, { method: 'POST', body: TEST_ADMIN });
  assert.equal(signIn.status, 200, signIn.body);
  const cookie = String(signIn.headers['set-cookie']);
  assert.match(cookie, /^__Host-/);
  assert.match(cookie, /; Secure/i);
  assert.match(cookie, /HttpOnly/i);
  assert.match(cookie, /SameSite=Strict/i);
});
