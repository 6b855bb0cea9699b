import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Algorithm, hash } from '@node-rs/argon2';
import {
  ARGON2_PARAMS,
  assertPasswordPolicy,
  checkPasswordPolicy,
  commonPasswordList,
  hashPassword,
  isRepeatedPattern,
  isSequence,
  needsRehash,
  parsePhc,
  verifyDummyPassword,
  verifyPassword,
} from '../../../src/auth/passwords.js';
import { VigilError } from '../../../src/errors/catalogue.js';
import { GOOD_PASSWORD } from './helpers.js';

function codes(password: string, username?: string): string[] {
  return checkPasswordPolicy(password, username !== undefined ? { username } : {}).map((p) => p.code);
}

describe('password hashing', () => {
  test('argon2id with the OWASP parameters, as a PHC string with a random salt', async () => {
    const first = await hashPassword(GOOD_PASSWORD);
    const second = await hashPassword(GOOD_PASSWORD);
    assert.match(first, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.notEqual(first, second, 'each hash has its own salt');
    assert.deepEqual(parsePhc(first), {
      algorithm: 'argon2id',
      version: 19,
      memoryCostKiB: ARGON2_PARAMS.memoryCostKiB,
      timeCost: 2,
      parallelism: 1,
    });
    assert.equal(await verifyPassword(first, GOOD_PASSWORD), true);
    assert.equal(await verifyPassword(second, GOOD_PASSWORD), true);
    assert.equal(await verifyPassword(first, GOOD_PASSWORD + ' '), false);
    assert.equal(await verifyPassword(first, ''), false);
  });

  test('verification never throws: a malformed hash or an absurd password is just false', async () => {
    assert.equal(await verifyPassword('not a hash', GOOD_PASSWORD), false);
    assert.equal(await verifyPassword('', GOOD_PASSWORD), false);
    const stored = await hashPassword(GOOD_PASSWORD);
    assert.equal(await verifyPassword(stored, 'x'.repeat(5000)), false);
    assert.equal(await verifyDummyPassword(GOOD_PASSWORD), false);
  });

  test('Unicode is normalised: a composed and a decomposed accent are the same password', async () => {
    const composed = 'caf\u00e9 au lait sur la table';
    const decomposed = 'cafe\u0301 au lait sur la table';
    assert.notEqual(composed, decomposed);
    assert.equal(await verifyPassword(await hashPassword(composed), decomposed), true);
  });

  test('needsRehash: true for other parameters, other variants and garbage', async () => {
    assert.equal(needsRehash(await hashPassword(GOOD_PASSWORD)), false);
    const weaker = await hash(GOOD_PASSWORD, {
      algorithm: Algorithm.Argon2id,
      memoryCost: 4096,
      timeCost: 3,
    });
    assert.equal(needsRehash(weaker), true);
    const argon2i = await hash(GOOD_PASSWORD, { algorithm: Algorithm.Argon2i });
    assert.equal(needsRehash(argon2i), true);
    // An old hash still verifies, so the caller can rehash on the next sign-in.
    assert.equal(await verifyPassword(weaker, GOOD_PASSWORD), true);
    assert.equal(needsRehash('$2b$10$abcdefghijklmnopqrstuu'), true);
    assert.equal(needsRehash(''), true);
  });
});

describe('password policy', () => {
  test('a long, uncommon passphrase has no problems', () => {
    assert.deepEqual(checkPasswordPolicy(GOOD_PASSWORD, { username: 'alice' }), []);
    assert.deepEqual(checkPasswordPolicy('Tr0mbone-Gecko-Lantern'), []);
    assert.deepEqual(checkPasswordPolicy('x7$Kq!pL2@vB'), []);
  });

  test('too short, counted in characters (not bytes)', () => {
    assert.deepEqual(codes('Zq8#wLp'), ['too-short']);
    assert.deepEqual(codes('\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9x'), []);
    assert.ok(codes('').includes('too-short'));
    assert.ok(codes('Zq8#wLpvB!'.repeat(110)).includes('too-long'));
  });

  test('the user name, or a password containing it, is refused (ignoring case)', () => {
    assert.ok(codes('Bartholomew', 'bartholomew').includes('user-name'));
    assert.ok(codes('bartholomew-rules-2026', 'Bartholomew').includes('user-name'));
    const [problem] = checkPasswordPolicy('Bartholomew', { username: 'bartholomew' });
    assert.equal(problem?.message, 'is the user name');
  });

  test('common passwords, with small changes too', () => {
    assert.deepEqual(codes('1234567890'), ['sequence', 'common']);
    assert.ok(codes('qwertyuiop').includes('common'));
    assert.ok(codes('password123').includes('common'));
    assert.ok(codes('Password2024!').includes('common'), 'listed word + year + symbol');
    assert.ok(codes('P@ssw0rd2024').includes('common'), 'leetspeak');
    assert.ok(codes('Monkey123456').includes('common'), 'listed word + sequence');
    assert.ok(codes('!!Sunshine!!').includes('common'), 'prefix and suffix');
    assert.ok(codes('iloveyou123').includes('common'));
    assert.ok(codes('administrator').includes('common'));
    assert.ok(codes('Vigil2026!!').includes('common'), "the product's name");
    // A listed word with a long random tail is not refused for the word alone.
    assert.ok(!codes('monkey83920174628').includes('common'));
    const [problem] = checkPasswordPolicy('Password2024!');
    assert.match(problem!.message, /'password'/);
  });

  test('one character repeated, short repeated patterns, sequences and keyboard runs', () => {
    assert.deepEqual(codes('aaaaaaaaaaaa'), ['one-character']);
    assert.deepEqual(codes('xyzxyzxyzxyz'), ['repeated-pattern']);
    assert.deepEqual(codes('abcdefghijkl'), ['sequence']);
    assert.deepEqual(codes('9876543210987'.slice(0, 10)), ['sequence', 'common']);
    assert.deepEqual(codes('asdfghjklasd'), ['sequence']);
    assert.equal(isSequence('lmnopqrstu'), true);
    assert.equal(isSequence('lmnopqrstv'), false);
    assert.equal(isRepeatedPattern('ab12ab12ab'), true);
    assert.equal(isRepeatedPattern('ab12ab13ab'), false);
  });

  test('assertPasswordPolicy throws PASSWORD_WEAK listing every problem', () => {
    assert.doesNotThrow(() => assertPasswordPolicy(GOOD_PASSWORD, { username: 'alice' }));
    assert.throws(
      () => assertPasswordPolicy('alice', { username: 'alice' }),
      (err: unknown) => {
        assert.ok(err instanceof VigilError);
        assert.equal(err.code, 'PASSWORD_WEAK');
        assert.equal(err.httpStatus, 400);
        assert.match(err.message, /at least 10/);
        assert.match(err.message, /is the user name/);
        const problems = err.details?.problems as { code: string }[];
        assert.deepEqual(
          problems.map((p) => p.code),
          ['too-short', 'user-name'],
        );
        return true;
      },
    );
  });

  test('the shipped list: a few thousand lower-case entries, no comments, loaded once', () => {
    const list = commonPasswordList();
    assert.ok(list.size > 2000, `only ${list.size} entries`);
    for (const entry of list) {
      assert.equal(entry, entry.toLowerCase());
      assert.ok(!entry.startsWith('#'));
    }
    assert.ok(list.has('password') && list.has('123456') && list.has('qwerty'));
    assert.equal(commonPasswordList(), list);
  });
});
