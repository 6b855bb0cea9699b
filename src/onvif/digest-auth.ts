import { createHash } from 'node:crypto';
import type { Credentials } from './wsse.js';

/** An HTTP Digest challenge (RFC 7616), as far as cameras use it: MD5, qop auth or none. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  qop: string | null;
  opaque: string | null;
  algorithm: string;
}

/** The Digest challenge of a WWW-Authenticate header, or null when there is none. */
export function parseDigestChallenge(header: string | null): DigestChallenge | null {
  if (header === null || !/^\s*digest\s/i.test(header)) return null;
  const fields = new Map<string, string>();
  for (const match of header.replace(/^\s*digest\s+/i, '').matchAll(/(\w+)=("([^"]*)"|[^,\s]*)/g)) {
    const [, key, bare, quoted] = match;
    if (key !== undefined) fields.set(key.toLowerCase(), quoted ?? bare ?? '');
  }
  const realm = fields.get('realm');
  const nonce = fields.get('nonce');
  if (realm === undefined || nonce === undefined) return null;
  const qops = (fields.get('qop') ?? '').split(',').map((q) => q.trim());
  return {
    realm,
    nonce,
    qop: qops.includes('auth') ? 'auth' : null,
    opaque: fields.get('opaque') ?? null,
    algorithm: fields.get('algorithm') ?? 'MD5',
  };
}

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

/** The Authorization header answering a challenge for one request (nc 1, a fresh cnonce). */
export function digestAuthorization(
  challenge: DigestChallenge,
  credentials: Credentials,
  method: string,
  uri: string,
  cnonce: string,
): string {
  const ha1 = md5(`${credentials.user}:${challenge.realm}:${credentials.password}`);
  const ha2 = md5(`${method}:${uri}`);
  const nc = '00000001';
  const response =
    challenge.qop === null
      ? md5(`${ha1}:${challenge.nonce}:${ha2}`)
      : md5(`${ha1}:${challenge.nonce}:${nc}:${cnonce}:${challenge.qop}:${ha2}`);
  const parts = [
    `username="${credentials.user}"`,
    `realm="${challenge.realm}"`,
    `nonce="${challenge.nonce}"`,
    `uri="${uri}"`,
    `algorithm=${challenge.algorithm}`,
    `response="${response}"`,
    ...(challenge.qop !== null ? [`qop=${challenge.qop}`, `nc=${nc}`, `cnonce="${cnonce}"`] : []),
    ...(challenge.opaque !== null ? [`opaque="${challenge.opaque}"`] : []),
  ];
  return `Digest ${parts.join(', ')}`;
}
