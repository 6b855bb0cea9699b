import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  base32Decode,
  base32Encode,
  generateTotpSecret,
  hotp,
  totpCode,
  totpStep,
  totpUri,
  verifyTotp,
  type TotpAlgorithm,
} from '../../../src/auth/totp.js';

// RFC 6238 appendix B: the seeds are ASCII digits, 20, 32 and 64 bytes long.
const SEEDS: Record<TotpAlgorithm, Buffer> = {
  sha1: Buffer.from('12345678901234567890'),
  sha256: Buffer.from('12345678901234567890123456789012'),
  sha512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234'),
};

const RFC6238_VECTORS: [number, string, TotpAlgorithm][] = [
  [59, '94287082', 'sha1'],
  [59, '46119246', 'sha256'],
  [59, '90693936', 'sha512'],
  [1111111109, '07081804', 'sha1'],
  [1111111109, '68084774', 'sha256'],
  [1111111109, '25091201', 'sha512'],
  [1111111111, '14050471', 'sha1'],
  [1111111111, '67062674', 'sha256'],
  [1111111111, '99943326', 'sha512'],
  [1234567890, '89005924', 'sha1'],
  [1234567890, '91819424', 'sha256'],
  [1234567890, '93441116', 'sha512'],
  [2000000000, '69279037', 'sha1'],
  [2000000000, '90698825', 'sha256'],
  [2000000000, '38618901', 'sha512'],
  [20000000000, '65353130', 'sha1'],
  [20000000000, '77737706', 'sha256'],
  [20000000000, '47863826', 'sha512'],
];

describe('TOTP (RFC 6238)', () => {
  test('RFC 4226 appendix D: HOTP values for counters 0 to 9', () => {
    const expected = [
      '755224',
      '287082',
      '359152',
      '969429',
      '338314',
      '254676',
      '287922',
      '162583',
      '399871',
      '520489',
    ];
    expected.forEach((code, counter) => assert.equal(hotp(SEEDS.sha1, counter), code, `counter ${counter}`));
  });

  test('RFC 6238 appendix B: all test vectors (8 digits, SHA-1/256/512)', () => {
    for (const [seconds, code, algorithm] of RFC6238_VECTORS) {
      assert.equal(
        totpCode(SEEDS[algorithm], seconds * 1000, { algorithm, digits: 8 }),
        code,
        `${algorithm} T=${seconds}`,
      );
    }
  });

  test('the default is what authenticator apps use: SHA-1, 30 s, 6 digits', () => {
    // The last 6 digits of the 8-digit SHA-1 vector: truncation is modulo 10^digits.
    assert.equal(totpCode(SEEDS.sha1, 59_000), '287082');
    assert.equal(totpStep(59_000), 1);
    assert.equal(totpStep(60_000), 2);
  });

  test('base32 (RFC 4648 section 10 vectors, unpadded) and forgiving decoding', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'MY'],
      ['fo', 'MZXQ'],
      ['foo', 'MZXW6'],
      ['foob', 'MZXW6YQ'],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI'],
    ];
    for (const [plain, encoded] of vectors) {
      assert.equal(base32Encode(Buffer.from(plain)), encoded);
      assert.equal(base32Decode(encoded)?.toString(), plain);
    }
    assert.equal(base32Decode('mzxw 6ytb-oi======')?.toString(), 'foobar');
    assert.equal(base32Decode('MZXW1'), null, "'1' is not base32");
  });

  test('secrets: 20 random bytes as 32 base32 characters', () => {
    const secret = generateTotpSecret();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.equal(base32Decode(secret)?.length, 20);
    assert.notEqual(secret, generateTotpSecret());
  });

  test('otpauth:// URI for the QR code', () => {
    const uri = new URL(totpUri({ secret: 'JBSWY3DPEHPK3PXP', account: 'alice@shop' }));
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.host, 'totp');
    assert.equal(decodeURIComponent(uri.pathname), '/Vigil:alice@shop');
    assert.equal(uri.searchParams.get('secret'), 'JBSWY3DPEHPK3PXP');
    assert.equal(uri.searchParams.get('issuer'), 'Vigil');
    assert.equal(uri.searchParams.get('algorithm'), 'SHA1');
    assert.equal(uri.searchParams.get('digits'), '6');
    assert.equal(uri.searchParams.get('period'), '30');
  });

  test('verification accepts the steps either side of now and nothing further', () => {
    const secret = generateTotpSecret();
    const key = base32Decode(secret)!;
    const nowMs = 1_700_000_015_000;
    const step = totpStep(nowMs);
    for (const offset of [-1, 0, 1]) {
      const code = hotp(key, step + offset);
      assert.deepEqual(
        verifyTotp(secret, code, nowMs),
        { ok: true, step: step + offset },
        `offset ${offset}`,
      );
    }
    for (const offset of [-3, -2, 2, 3]) {
      const code = hotp(key, step + offset);
      // A far step's code may by chance equal a near one's; skip that one-in-a-million case.
      if ([-1, 0, 1].some((near) => hotp(key, step + near) === code)) continue;
      assert.deepEqual(verifyTotp(secret, code, nowMs), { ok: false, reason: 'invalid' }, `offset ${offset}`);
    }
    assert.deepEqual(verifyTotp(secret, hotp(key, step + 2), nowMs, { window: 2 }), {
      ok: true,
      step: step + 2,
    });
    assert.deepEqual(
      verifyTotp(secret, ` ${hotp(key, step).slice(0, 3)} ${hotp(key, step).slice(3)} `, nowMs),
      {
        ok: true,
        step,
      },
    );
  });

  test('replay protection: a code of a step at or before the last used one is refused', () => {
    const secret = generateTotpSecret();
    const key = base32Decode(secret)!;
    const nowMs = 1_700_000_015_000;
    const step = totpStep(nowMs);
    const code = hotp(key, step);
    const first = verifyTotp(secret, code, nowMs, { lastUsedStep: null });
    assert.deepEqual(first, { ok: true, step });
    assert.deepEqual(verifyTotp(secret, code, nowMs + 1000, { lastUsedStep: step }), {
      ok: false,
      reason: 'replayed',
    });
    // The previous step's code is older than the one used: refused as well.
    assert.deepEqual(verifyTotp(secret, hotp(key, step - 1), nowMs, { lastUsedStep: step }), {
      ok: false,
      reason: 'replayed',
    });
    // The next step's code is fine.
    assert.deepEqual(verifyTotp(secret, hotp(key, step + 1), nowMs + 30_000, { lastUsedStep: step }), {
      ok: true,
      step: step + 1,
    });
  });

  test('malformed codes and secrets', () => {
    const secret = generateTotpSecret();
    for (const code of ['', '12345', '1234567', 'abcdef', '12 34 5x']) {
      assert.deepEqual(verifyTotp(secret, code, 1_700_000_000_000), { ok: false, reason: 'malformed' }, code);
    }
    assert.deepEqual(verifyTotp('not base32!', '123456', 1_700_000_000_000), {
      ok: false,
      reason: 'malformed',
    });
  });
});
