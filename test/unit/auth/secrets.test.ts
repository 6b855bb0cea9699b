import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  SEALED_PREFIX,
  SecretBox,
  isSealed,
  loadOrCreateSecretKey,
  secretKeyPath,
} from '../../../src/auth/secrets.js';
import { hasCode } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-secrets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('secret key file', () => {
  test('created once with 32 random bytes and mode 0600, then reused', async () => {
    const path = secretKeyPath(join(dir, 'storage'));
    const first = await loadOrCreateSecretKey(path);
    assert.equal(first.created, true);
    assert.equal(first.key.length, 32);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readFileSync(path), first.key);
    const second = await loadOrCreateSecretKey(path);
    assert.equal(second.created, false);
    assert.deepEqual(second.key, first.key);
    assert.equal(second.permissionsTightened, false);
  });

  test('two starts at once agree on one key', async () => {
    const path = join(dir, 'race.key');
    const [a, b] = await Promise.all([loadOrCreateSecretKey(path), loadOrCreateSecretKey(path)]);
    assert.deepEqual(a.key, b.key);
    assert.equal(Number(a.created) + Number(b.created), 1);
  });

  test('a file readable by others is set back to 0600 and reported', async () => {
    const path = join(dir, 'loose.key');
    writeFileSync(path, randomBytes(32));
    chmodSync(path, 0o644);
    const loaded = await loadOrCreateSecretKey(path);
    assert.equal(loaded.permissionsTightened, true);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  test('a file of the wrong length is refused, not replaced', async () => {
    const path = join(dir, 'short.key');
    writeFileSync(path, 'too short');
    await assert.rejects(loadOrCreateSecretKey(path), (err: unknown) => {
      assert.ok(hasCode('SECRET_KEY_INVALID')(err));
      assert.match((err as Error).message, /restore it from a backup/);
      return true;
    });
    assert.equal(readFileSync(path, 'utf8'), 'too short');
  });
});

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  test('seal and open, with a versioned prefix and a fresh IV each time', () => {
    const sealed = box.seal('hunter2-camera-pass', 'camera:door:main');
    assert.ok(sealed.startsWith(SEALED_PREFIX));
    assert.ok(isSealed(sealed));
    assert.ok(!sealed.includes('hunter2'));
    assert.notEqual(sealed, box.seal('hunter2-camera-pass', 'camera:door:main'));
    assert.equal(box.open(sealed, 'camera:door:main'), 'hunter2-camera-pass');
    assert.equal(box.open(box.seal('', 'x'), 'x'), '');
    assert.equal(box.open(box.seal('ünïcødé ✓', 'x'), 'x'), 'ünïcødé ✓');
  });

  test('another context, another key, or an altered value fails with SECRET_KEY_INVALID', () => {
    const sealed = box.seal('secret', 'totp:user:1');
    assert.throws(() => box.open(sealed, 'totp:user:2'), hasCode('SECRET_KEY_INVALID'));
    assert.throws(
      () => new SecretBox(randomBytes(32)).open(sealed, 'totp:user:1'),
      /not the one it was encrypted with/,
    );
    const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url');
    raw[14] = raw[14]! ^ 1;
    assert.throws(
      () => box.open(SEALED_PREFIX + raw.toString('base64url'), 'totp:user:1'),
      hasCode('SECRET_KEY_INVALID'),
    );
    assert.throws(() => box.open(`${SEALED_PREFIX}AAAA`, 'totp:user:1'), /truncated/);
    assert.throws(() => box.open('plain', 'totp:user:1'), /not sealed/);
    assert.throws(() => new SecretBox(randomBytes(16)), hasCode('SECRET_KEY_INVALID'));
  });

  test('plain values from older databases are detected for migration', () => {
    assert.deepEqual(box.openOrPlain('old-plain-password', 'camera:door:main'), {
      value: 'old-plain-password',
      needsSealing: true,
    });
    const sealed = box.seal('new', 'camera:door:main');
    assert.deepEqual(box.openOrPlain(sealed, 'camera:door:main'), { value: 'new', needsSealing: false });
  });

  test('derived keys: stable per purpose, different across purposes and keys', () => {
    const key = randomBytes(32);
    const a = new SecretBox(key);
    const b = new SecretBox(Buffer.from(key));
    assert.deepEqual(a.deriveKey('vigil/audit-checkpoint/v1'), b.deriveKey('vigil/audit-checkpoint/v1'));
    assert.notDeepEqual(a.deriveKey('one'), a.deriveKey('two'));
    assert.notDeepEqual(a.deriveKey('one'), key);
    assert.notDeepEqual(a.deriveKey('one'), new SecretBox(randomBytes(32)).deriveKey('one'));
    // A value sealed by one instance opens with another made from the same key file.
    assert.equal(b.open(a.seal('shared', 'c'), 'c'), 'shared');
  });
});
