import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, describe, test } from 'node:test';
import { startTestVigil, TEST_ADMIN, type TestVigil } from '../helpers/vigil.js';

/**
 * DNS rebinding against first-run setup and sign-in, over a real socket: requests whose Host is
 * not one of Vigil's own names are refused before anything happens (no administrator created, no
 * session, nothing counted), and the ways one might dress a foreign name up are refused too.
 */

interface Raw {
  status: number;
  head: string;
  body: { error?: { code: string; message: string; details?: { host?: string | null } } };
}

/** One request written byte for byte (fetch would set Host itself); `host: null` sends none. */
function raw(
  port: number,
  options: { path: string; host: string | null; body: unknown; version?: '1.0' | '1.1'; target?: string },
): Promise<Raw> {
  const body = JSON.stringify(options.body);
  const lines = [`POST ${options.target ?? options.path} HTTP/${options.version ?? '1.1'}`];
  if (options.host !== null) lines.push(`Host: ${options.host}`);
  lines.push(
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  );
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const head = split < 0 ? text : text.slice(0, split);
      let parsed: Raw['body'] = {};
      try {
        parsed = JSON.parse(text.slice(split + 4)) as Raw['body'];
      } catch {
        // Not JSON (e.g. Node's own 400 for a malformed request): the status says enough.
      }
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0), head, body: parsed });
    });
    // Written, not ended: a half-closed socket may be dropped before a slow (argon2) answer.
    socket.write(lines.join('\r\n'));
  });
}

const hasCookie = (r: Raw) => /^set-cookie:/im.test(r.head);

const running: TestVigil[] = [];
after(async () => {
  for (const vigil of running) await vigil.close();
});

describe('Host check on setup and sign-in', () => {
  test('first-run setup: foreign and disguised hosts are refused and create nothing; the own host works', async (t) => {
    const vigil = await startTestVigil('storage: { path: ./data }\n', undefined, { users: false });
    running.push(vigil);
    const port = Number(new URL(vigil.url).port);
    const setup = (host: string | null, extra: { version?: '1.0'; target?: string } = {}) =>
      raw(port, { path: '/api/setup', host, body: TEST_ADMIN, ...extra });

    const foreign = await setup(`evil.example:${port}`);
    assert.equal(foreign.status, 403, foreign.head);
    assert.equal(foreign.body.error?.code, 'HOST_NOT_ALLOWED');
    assert.match(foreign.body.error!.message, new RegExp(`evil\\.example:${port}`), 'names the host');
    assert.match(foreign.body.error!.message, /server\.allowedHosts/, 'says how to allow it');
    assert.equal(foreign.body.error?.details?.host, `evil.example:${port}`);
    assert.equal(hasCookie(foreign), false);

    const disguised: Array<[string, Promise<Raw>]> = [
      ['trailing dot', setup(`localhost.:${port}`)],
      ['a name that resolves to 127.0.0.1', setup(`127.0.0.1.nip.io:${port}`)],
      ['userinfo', setup(`admin@127.0.0.1:${port}`)],
      ['userinfo with a foreign host', setup(`127.0.0.1:${port}@evil.example`)],
      ['another port', setup(`127.0.0.1:${port === 65535 ? 1 : port + 1}`)],
      ['no port (means 80)', setup('localhost')],
      ['two names', setup(`127.0.0.1:${port}, evil.example`)],
      ['a path in Host', setup(`127.0.0.1:${port}/x`)],
      ['empty Host', setup('')],
      ['no Host (HTTP/1.0)', setup(null, { version: '1.0' })],
      ['no Host (HTTP/1.1)', setup(null)],
      [
        'absolute-form naming another host',
        setup(`127.0.0.1:${port}`, { target: `http://evil.example:${port}/api/setup` }),
      ],
    ];
    for (const [what, pending] of disguised) {
      const answer = await pending;
      t.diagnostic(`${what}: ${answer.status} ${answer.body.error?.code ?? ''}`);
      assert.ok(answer.status >= 400 && answer.status < 500, `${what}: ${answer.head}`);
      assert.equal(hasCookie(answer), false, what);
      if (answer.body.error) assert.notEqual(answer.body.error.code, 'SETUP_COMPLETE', what);
    }
    assert.equal(await vigil.auth.store.countUsers(), 0, 'no administrator was created');

    // Node itself answers 400 to HTTP/1.1 without Host; every other disguise reaches the check.
    for (const [what, pending] of disguised.filter(([w]) => w !== 'no Host (HTTP/1.1)')) {
      const answer = await pending;
      // Absolute-form may also be refused earlier by the request-target check (400).
      if (what.startsWith('absolute-form') && answer.status === 400) continue;
      assert.equal(answer.body.error?.code, 'HOST_NOT_ALLOWED', `${what}: ${answer.head}`);
    }

    const own = await setup(`127.0.0.1:${port}`);
    assert.equal(own.status, 201, JSON.stringify(own.body));
    assert.ok(hasCookie(own));
    assert.equal(await vigil.auth.store.countUsers(), 1);
  });

  test('sign-in: refused for a foreign host (nothing counted), allowed for own names and server.allowedHosts', async () => {
    const vigil = await startTestVigil(
      'storage: { path: ./data }\nserver: { allowedHosts: [nvr.home.arpa, "proxy.home.arpa:8443"] }\n',
    );
    running.push(vigil);
    const port = Number(new URL(vigil.url).port);
    const signIn = (host: string | null, password: string = TEST_ADMIN.password) =>
      raw(port, { path: '/api/session', host, body: { name: TEST_ADMIN.name, password } });

    for (const host of [
      `evil.example:${port}`,
      `localhost.:${port}`,
      `127.0.0.1.nip.io:${port}`,
      `proxy.home.arpa:${port}`,
    ]) {
      const answer = await signIn(host);
      assert.equal(answer.status, 403, `${host}: ${answer.head}`);
      assert.equal(answer.body.error?.code, 'HOST_NOT_ALLOWED', host);
      assert.equal(hasCookie(answer), false, host);
    }
    // Wrong passwords sent under a foreign name are not even counted against the account.
    for (let i = 0; i < 10; i += 1)
      assert.equal((await signIn(`evil.example:${port}`, `guess ${i}`)).status, 403);
    assert.deepEqual(vigil.auth.throttle.check({ account: TEST_ADMIN.name, ip: '127.0.0.1' }, Date.now()), {
      allowed: true,
    });
    const audit = await vigil.auth.audit.query({ limit: 100 });
    assert.equal(
      audit.entries.filter((e) => e.action.startsWith('login.')).length,
      0,
      'no sign-in was attempted',
    );

    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LOCALHOST:${port}`, // host names ignore case; a browser sends them in lower case anyway
      `[::1]:${port}`,
      `[0:0:0:0:0:0:0:1]:${port}`,
      'nvr.home.arpa', // listed without a port: any port (a reverse proxy on 443)
      `NVR.home.arpa:${port}`,
      'proxy.home.arpa:8443',
    ]) {
      const answer = await signIn(host);
      assert.equal(answer.status, 200, `${host}: ${answer.head} ${JSON.stringify(answer.body)}`);
      assert.ok(hasCookie(answer), host);
    }
  });
});
