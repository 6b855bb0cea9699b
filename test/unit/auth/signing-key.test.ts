import assert from 'node:assert/strict';
import { verify } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadOrCreateSigningKey, publicKeyPem, signingKeyPath } from '../../../src/auth/signing-key.js';
import { hasCode } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-signing-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('signing key file', () => {
  test('created once (Ed25519, mode 0600), then the same key is read back', async () => {
    const path = signingKeyPath(join(dir, 'storage'));
    const first = await loadOrCreateSigningKey(path);
    assert.equal(first.created, true);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const second = await loadOrCreateSigningKey(path);
    assert.equal(second.created, false);
    assert.equal(second.key.view.fingerprint, first.key.view.fingerprint);
    assert.match(first.key.view.fingerprint, /^([0-9a-f]{4}:){15}[0-9a-f]{4}$/);
    assert.equal(Buffer.from(first.key.view.rawBase64, 'base64').length, 32);
    assert.equal(first.key.view.pem, publicKeyPem(first.key.publicKey));
    const message = Buffer.from('manifest bytes');
    assert.ok(verify(null, message, second.key.publicKey, first.key.sign(message)));
  });

  test('two starts at once end with one key', async () => {
    const path = signingKeyPath(join(dir, 'race'));
    const [a, b] = await Promise.all([loadOrCreateSigningKey(path), loadOrCreateSigningKey(path)]);
    assert.equal(a.key.view.fingerprint, b.key.view.fingerprint);
    assert.equal([a.created, b.created].filter(Boolean).length, 1);
  });

  test('a file readable by others is tightened; a damaged one is refused, not replaced', async () => {
    const path = signingKeyPath(join(dir, 'loose'));
    await loadOrCreateSigningKey(path);
    chmodSync(path, 0o644);
    assert.equal((await loadOrCreateSigningKey(path)).permissionsTightened, true);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const damaged = readFileSync(path, 'utf8').replace(/[A-Za-z]/, '!');
    writeFileSync(path, damaged);
    await assert.rejects(loadOrCreateSigningKey(path), hasCode('SIGNING_KEY_INVALID'));
    assert.equal(readFileSync(path, 'utf8'), damaged, 'the file is left for the administrator');
  });
});
