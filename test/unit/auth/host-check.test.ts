import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  hostProblem,
  parseAuthority,
  type HostPolicy,
  type RequestHost,
} from '../../../src/auth/host-check.js';

const PORT = 8080;
const LOOPBACK: HostPolicy = { listenHost: '127.0.0.1', allowedHosts: [] };
const WILDCARD: HostPolicy = {
  listenHost: '0.0.0.0',
  allowedHosts: ['nvr.home.arpa', 'proxy.home.arpa:443'],
};
const LAN: HostPolicy = { listenHost: '192.168.1.5', allowedHosts: [] };

function request(host: string | undefined, more: Partial<RequestHost> = {}): RequestHost {
  return { host, target: '/api/session', localAddress: '127.0.0.1', localPort: PORT, tls: false, ...more };
}

const ok = (policy: HostPolicy, host: string | undefined, more: Partial<RequestHost> = {}) =>
  hostProblem(request(host, more), policy) === null;

describe('host check (DNS rebinding)', () => {
  test('loopback names on the actual port, when listening on loopback or all addresses', () => {
    for (const policy of [
      LOOPBACK,
      WILDCARD,
      { listenHost: '::', allowedHosts: [] },
      { listenHost: '::1', allowedHosts: [] },
    ]) {
      for (const host of [
        'localhost:8080',
        '127.0.0.1:8080',
        '[::1]:8080',
        'LocalHost:8080',
        '[0::1]:8080',
      ]) {
        assert.ok(ok(policy, host), `${policy.listenHost} ${host}`);
      }
      assert.equal(ok(policy, 'localhost:8081'), false, 'another port');
      assert.equal(ok(policy, 'localhost'), false, 'no port is port 80');
    }
    assert.ok(ok(LOOPBACK, 'localhost', { localPort: 80 }));
    assert.ok(ok(LOOPBACK, 'localhost', { localPort: 443, tls: true }));
    assert.equal(ok(LOOPBACK, 'localhost', { localPort: 443 }), false, 'plain HTTP means 80');
    assert.equal(
      ok(LAN, 'localhost:8080', { localAddress: '192.168.1.5' }),
      false,
      'not listening on loopback',
    );
  });

  test("the machine's own address: the listen address, or the one the connection arrived at", () => {
    assert.ok(ok(LAN, '192.168.1.5:8080', { localAddress: '192.168.1.5' }));
    assert.ok(ok(WILDCARD, '192.168.1.5:8080', { localAddress: '192.168.1.5' }));
    assert.ok(ok(WILDCARD, '192.168.1.5:8080', { localAddress: '::ffff:192.168.1.5' }));
    assert.ok(ok(WILDCARD, '[fd00::5]:8080', { localAddress: 'fd00:0:0:0::5' }));
    assert.equal(ok(WILDCARD, '192.168.1.6:8080', { localAddress: '192.168.1.5' }), false);
    assert.ok(
      ok({ listenHost: 'nvr.local', allowedHosts: [] }, 'NVR.local:8080', { localAddress: '10.0.0.2' }),
    );
  });

  test('server.allowedHosts: without a port any port, with a port that one; case-insensitive', () => {
    for (const host of ['nvr.home.arpa', 'nvr.home.arpa:8080', 'NVR.Home.Arpa:9000', 'proxy.home.arpa:443']) {
      assert.ok(ok(WILDCARD, host), host);
    }
    assert.equal(ok(WILDCARD, 'proxy.home.arpa:8080'), false);
    assert.equal(ok(WILDCARD, 'proxy.home.arpa'), false, 'no port is 80, not 443');
    assert.ok(ok(WILDCARD, 'proxy.home.arpa', { tls: true }));
  });

  test('foreign and disguised names are refused, with the name and the fix in the message', () => {
    const refused = [
      'evil.example:8080',
      'localhost.:8080',
      'localhost..:8080',
      '127.0.0.1.nip.io:8080',
      'localhost.evil.example:8080',
      'nvr.home.arpa.:8080',
      'evil-nvr.home.arpa:8080',
      'admin@127.0.0.1:8080',
      '127.0.0.1:8080@evil.example',
      '127.0.0.1:8080, evil.example',
      '127.0.0.1:8080/x',
      '127.0.0.1:08080x',
      '127.0.0.1:0',
      '127.0.0.1:99999',
      '127.1:8080',
      '[::1%lo]:8080',
      '[evil]:8080',
      ' 127.0.0.1:8080',
      '127.0.0.1:8080 ',
      'localhost%2e:8080',
    ];
    for (const host of refused) {
      for (const policy of [LOOPBACK, WILDCARD]) {
        assert.equal(ok(policy, host), false, `${policy.listenHost}: '${host}' must be refused`);
      }
    }
    const message = hostProblem(request('evil.example:8080'), LOOPBACK);
    assert.match(message!, /'evil\.example:8080'/);
    assert.match(message!, /server\.allowedHosts/);
    assert.match(hostProblem(request(undefined), LOOPBACK)!, /no Host header/);
    assert.match(hostProblem(request(''), LOOPBACK)!, /no Host header/);
  });

  test('absolute-form targets: the host there must agree with Host, and be allowed', () => {
    assert.match(
      hostProblem(request('127.0.0.1:8080', { target: 'http://evil.example:8080/api/session' }), LOOPBACK)!,
      /evil\.example/,
    );
    assert.ok(
      hostProblem(request('127.0.0.1:8080', { target: 'http://user@127.0.0.1:8080/api/session' }), LOOPBACK),
    );
    assert.ok(hostProblem(request('127.0.0.1:8080', { target: '*' }), LOOPBACK));
    assert.equal(
      hostProblem(request('127.0.0.1:8080', { target: 'http://127.0.0.1:8080/api/session' }), LOOPBACK),
      null,
    );
    assert.ok(
      hostProblem(request('evil.example:8080', { target: 'http://evil.example:8080/api/session' }), LOOPBACK),
    );
  });

  test('authority parsing is strict', () => {
    assert.deepEqual(parseAuthority('Example.COM:80'), { host: 'example.com', port: 80 });
    assert.deepEqual(parseAuthority('[0:0:0:0:0:0:0:1]'), { host: '[::1]', port: null });
    for (const bad of ['', ':80', 'a b', 'a@b', '[::1', '[zz::1]:80', 'host:', 'host:65536']) {
      assert.equal(parseAuthority(bad), null, bad);
    }
  });
});
