import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Time-based one-time passwords (RFC 6238) on HOTP (RFC 4226), as every authenticator app
 * understands them: SHA-1, 30 s steps, 6 digits. The other algorithms and lengths exist for
 * the RFC's test vectors.
 */
export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

export interface TotpOptions {
  algorithm?: TotpAlgorithm;
  digits?: number;
  periodMs?: number;
}

export const TOTP_PERIOD_MS = 30_000;
export const TOTP_DIGITS = 6;
/** 160 bits, the key length RFC 4226 recommends for HMAC-SHA-1. */
const SECRET_BYTES = 20;
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding: what authenticator apps expect in otpauth:// URIs. */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/** Decodes base32, forgiving what people type: lower case, spaces, dashes and '=' padding. Null when invalid. */
export function base32Decode(text: string): Buffer | null {
  const clean = text.toUpperCase().replace(/[\s-]/g, '').replace(/=+$/, '');
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of clean) {
    const value = BASE32_ALPHABET.indexOf(char);
    if (value < 0) return null;
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      bytes.push((buffer >>> (bits - 8)) & 255);
      bits -= 8;
    }
    buffer &= (1 << bits) - 1;
  }
  return Buffer.from(bytes);
}

/** A new secret, base32 (32 characters). */
export function generateTotpSecret(): string {
  return base32Encode(randomBytes(SECRET_BYTES));
}

/** HOTP (RFC 4226 section 5.3): HMAC of the 8-byte counter, dynamic truncation, last `digits` decimal digits. */
export function hotp(key: Uint8Array, counter: number, options: TotpOptions = {}): string {
  const digits = options.digits ?? TOTP_DIGITS;
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(options.algorithm ?? 'sha1', key)
    .update(message)
    .digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The time step of a moment: floor(unix seconds / 30). */
export function totpStep(nowMs: number, periodMs: number = TOTP_PERIOD_MS): number {
  return Math.floor(nowMs / periodMs);
}

/** The code of the step containing nowMs. */
export function totpCode(key: Uint8Array, nowMs: number, options: TotpOptions = {}): string {
  return hotp(key, totpStep(nowMs, options.periodMs), options);
}

/**
 * The otpauth:// URI an authenticator app scans as a QR code. Issuer and account are in the
 * label and the issuer parameter both, as Google's key URI format recommends.
 */
export function totpUri(input: { secret: string; account: string; issuer?: string }): string {
  const issuer = input.issuer ?? 'Vigil';
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(input.account)}`;
  const params = new URLSearchParams({
    secret: input.secret,
    issuer,
    algorithm: 'SHA1',
    digits: String(TOTP_DIGITS),
    period: String(TOTP_PERIOD_MS / 1000),
  });
  return `otpauth://totp/${label}?${params.toString()}`;
}

export type TotpVerification =
  { ok: true; step: number } | { ok: false; reason: 'malformed' | 'invalid' | 'replayed' };

export interface TotpVerifyOptions extends TotpOptions {
  /** The step of the last code this user had accepted: that code and older ones are refused. */
  lastUsedStep?: number | null;
  /** Steps accepted either side of now, for clock drift and typing time. */
  window?: number;
}

/**
 * Checks a code against the steps around nowMs (±1 by default: a code lives 30 to 90 s). A code
 * of a step at or before lastUsedStep is 'replayed' even when right, so a code seen over a
 * shoulder or in a proxy log cannot be used a second time; the caller stores the returned step.
 */
export function verifyTotp(
  secretBase32: string,
  code: string,
  nowMs: number,
  options: TotpVerifyOptions = {},
): TotpVerification {
  const digits = options.digits ?? TOTP_DIGITS;
  const key = base32Decode(secretBase32);
  const presented = code.replace(/\s/g, '');
  if (!key || key.length === 0 || !new RegExp(`^\\d{${digits}}$`).test(presented)) {
    return { ok: false, reason: 'malformed' };
  }
  const current = totpStep(nowMs, options.periodMs);
  const window = options.window ?? 1;
  let matched: number | null = null;
  // Every step of the window is computed and compared, matched or not: constant work.
  for (let step = current - window; step <= current + window; step += 1) {
    if (step < 0) continue;
    const expected = Buffer.from(hotp(key, step, options));
    if (timingSafeEqual(expected, Buffer.from(presented)) && matched === null) matched = step;
  }
  if (matched === null) return { ok: false, reason: 'invalid' };
  const last = options.lastUsedStep;
  if (last !== undefined && last !== null && matched <= last) return { ok: false, reason: 'replayed' };
  return { ok: true, step: matched };
}
