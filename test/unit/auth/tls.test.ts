import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  SELF_SIGNED_DAYS,
  defaultCertificateNames,
  ensureSelfSignedCertificate,
  loadTlsFiles,
  subjectAltName,
} from '../../../src/auth/tls.js';
import { DAY_MS, hasCode } from './helpers.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'vigil-tls-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('TLS', () => {
  test('subjectAltName lists DNS names and IP addresses', () => {
    assert.equal(
      subjectAltName(['localhost', '127.0.0.1', '::1', 'nvr.lan']),
      'DNS:localhost,IP:127.0.0.1,IP:::1,DNS:nvr.lan',
    );
    const names = defaultCertificateNames();
    assert.ok(names.includes('localhost') && names.includes('127.0.0.1'));
  });

  test('missing files and a missing openssl give TLS_INVALID with a way out', async () => {
    await assert.rejects(loadTlsFiles(join(dir, 'none.pem'), join(dir, 'none.key')), (err: unknown) => {
      assert.ok(hasCode('TLS_INVALID')(err));
      assert.match((err as Error).message, /cannot read the TLS certificate file/);
      return true;
    });
    writeFileSync(join(dir, 'junk.pem'), 'not a certificate');
    await assert.rejects(
      loadTlsFiles(join(dir, 'junk.pem'), join(dir, 'junk.pem')),
      /is not a PEM certificate/,
    );
    await assert.rejects(
      ensureSelfSignedCertificate({
        dir: join(dir, 'no-openssl'),
        nowMs: Date.now(),
        openssl: '/nonexistent/openssl',
      }),
      /openssl command is missing; install it/,
    );
  });

  test(
    'a self-signed certificate is generated once, with its fingerprint, and reused',
    { skip: !hasOpenssl && 'no openssl' },
    async () => {
      const tlsDir = join(dir, 'tls');
      const nowMs = Date.now();
      const made = await ensureSelfSignedCertificate({
        dir: tlsDir,
        names: ['localhost', '127.0.0.1', 'nvr.lan'],
        nowMs,
      });
      assert.equal(made.generated, true);
      assert.equal(made.selfSigned, true);
      assert.deepEqual(made.names, ['localhost', '127.0.0.1', 'nvr.lan']);
      assert.match(made.fingerprintSha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      assert.equal(statSync(made.keyPath).mode & 0o777, 0o600);
      assert.ok(Math.abs(made.validToMs - (nowMs + SELF_SIGNED_DAYS * DAY_MS)) < 2 * DAY_MS);
      // The fingerprint is the one openssl itself reports (what a user compares in the browser).
      const openssl = execFileSync(
        'openssl',
        ['x509', '-in', made.certPath, '-noout', '-fingerprint', '-sha256'],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(openssl.trim().split('=')[1], made.fingerprintSha256);
      assert.equal(new X509Certificate(made.cert).checkHost('nvr.lan'), 'nvr.lan');

      const again = await ensureSelfSignedCertificate({ dir: tlsDir, nowMs });
      assert.equal(again.generated, false);
      assert.equal(again.fingerprintSha256, made.fingerprintSha256);

      // Near its end it is replaced.
      const later = await ensureSelfSignedCertificate({
        dir: tlsDir,
        nowMs: made.validToMs - 10 * DAY_MS,
        names: ['localhost'],
      });
      assert.equal(later.generated, true);
      assert.notEqual(later.fingerprintSha256, made.fingerprintSha256);
    },
  );

  test(
    'a key that does not belong to the certificate is refused',
    { skip: !hasOpenssl && 'no openssl' },
    async () => {
      const one = await ensureSelfSignedCertificate({
        dir: join(dir, 'one'),
        names: ['localhost'],
        nowMs: Date.now(),
      });
      const two = await ensureSelfSignedCertificate({
        dir: join(dir, 'two'),
        names: ['localhost'],
        nowMs: Date.now(),
      });
      const loaded = await loadTlsFiles(one.certPath, one.keyPath);
      assert.equal(loaded.fingerprintSha256, one.fingerprintSha256);
      await assert.rejects(loadTlsFiles(one.certPath, two.keyPath), (err: unknown) => {
        assert.ok(hasCode('TLS_INVALID')(err));
        assert.match((err as Error).message, /does not belong to the certificate/);
        return true;
      });
    },
  );
});
