/**
 * RTSP authentication as cameras do it (RFC 2617 / RFC 7616): Basic, and Digest with MD5 or
 * SHA-256, with or without qop=auth. Pure apart from the client nonce, which callers may pass.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface Credentials {
  user: string;
  password: string;
}

export interface Challenge {
  scheme: 'basic' | 'digest';
  realm: string;
  nonce: string;
  /** 'MD5' (the default), 'MD5-sess', 'SHA-256', 'SHA-256-sess'. */
  algorithm: string;
  /** The qop values the server offers ('auth', 'auth-int'); empty for RFC 2069 digest. */
  qop: string[];
  opaque?: string;
  stale: boolean;
}

/** Parses one or more WWW-Authenticate header values into challenges, strongest first. */
export function parseChallenges(headers: readonly string[]): Challenge[] {
  const out: Challenge[] = [];
  for (const header of headers) {
    const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
    if (!match) continue;
    const scheme = (match[1] ?? '').toLowerCase();
    if (scheme !== 'basic' && scheme !== 'digest') continue;
    const params = parseAuthParams(match[2] ?? '');
    out.push({
      scheme,
      realm: params.get('realm') ?? '',
      nonce: params.get('nonce') ?? '',
      algorithm: params.get('algorithm') ?? 'MD5',
      qop: (params.get('qop') ?? '')
        .split(',')
        .map((q) => q.trim().toLowerCase())
        .filter(Boolean),
      ...(params.has('opaque') ? { opaque: params.get('opaque') as string } : {}),
      stale: (params.get('stale') ?? '').toLowerCase() === 'true',
    });
  }
  const rank = (c: Challenge) =>
    c.scheme === 'basic' ? 0 : c.algorithm.toUpperCase().startsWith('SHA-256') ? 2 : 1;
  return out.sort((a, b) => rank(b) - rank(a));
}

/** key=value and key="quoted, value" pairs, keys lower-cased. */
export function parseAuthParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    params.set((m[1] ?? '').toLowerCase(), value);
  }
  return params;
}

function hashName(algorithm: string): 'md5' | 'sha256' {
  return algorithm.toUpperCase().startsWith('SHA-256') ? 'sha256' : 'md5';
}

function digestHex(algorithm: string, text: string): string {
  return createHash(hashName(algorithm)).update(text, 'utf8').digest('hex');
}

/** What one request needs to build its Authorization header; nonceCount grows per request. */
export interface DigestRequest {
  method: string;
  uri: string;
  nonceCount: number;
  /** The client nonce; random when not given (tests pass the RFC's). */
  cnonce?: string;
}

/** The Authorization header value answering `challenge`, or null for an unsupported one (auth-int only). */
export function authorization(
  challenge: Challenge,
  credentials: Credentials,
  request: DigestRequest,
): string | null {
  if (challenge.scheme === 'basic') {
    return `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`, 'utf8').toString('base64')}`;
  }
  const algorithm = challenge.algorithm;
  const useQop = challenge.qop.length > 0;
  if (useQop && !challenge.qop.includes('auth')) return null;
  const cnonce = request.cnonce ?? randomBytes(8).toString('hex');
  const nc = request.nonceCount.toString(16).padStart(8, '0');
  let ha1 = digestHex(algorithm, `${credentials.user}:${challenge.realm}:${credentials.password}`);
  if (algorithm.toLowerCase().endsWith('-sess')) {
    ha1 = digestHex(algorithm, `${ha1}:${challenge.nonce}:${cnonce}`);
  }
  const ha2 = digestHex(algorithm, `${request.method}:${request.uri}`);
  const response = useQop
    ? digestHex(algorithm, `${ha1}:${challenge.nonce}:${nc}:${cnonce}:auth:${ha2}`)
    : digestHex(algorithm, `${ha1}:${challenge.nonce}:${ha2}`);
  const fields = [
    `username="${quote(credentials.user)}"`,
    `realm="${quote(challenge.realm)}"`,
    `nonce="${quote(challenge.nonce)}"`,
    `uri="${quote(request.uri)}"`,
    `response="${response}"`,
  ];
  // Many cameras reject an algorithm field they did not ask for, so MD5 is sent only when named.
  if (challenge.algorithm !== 'MD5' || useQop) fields.push(`algorithm=${algorithm}`);
  if (challenge.opaque !== undefined) fields.push(`opaque="${quote(challenge.opaque)}"`);
  if (useQop) fields.push('qop=auth', `nc=${nc}`, `cnonce="${cnonce}"`);
  return `Digest ${fields.join(', ')}`;
}

function quote(value: string): string {
  return value.replace(/(["\\])/g, '\\$1');
}
