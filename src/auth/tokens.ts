import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Secrets given to clients: API tokens (Authorization: Bearer), login session ids (cookie) and
 * the CSRF token of a session.
 *
 * The database stores only SHA-256 of tokens and session ids. A fast hash is right here, unlike
 * for passwords: these values are 32 random bytes (256 bits), so there is nothing to guess and
 * a slow hash would buy nothing against an attacker holding the database, while costing time on
 * every API request. Hashing still means a stolen database or backup cannot be replayed as
 * tokens or sessions.
 */

export const API_TOKEN_PREFIX = 'vgl_';
const SECRET_BYTES = 32;
/** 'vgl_' + 43 base64url characters. */
const API_TOKEN_PATTERN = /^vgl_[A-Za-z0-9_-]{43}$/;
const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * A new API token. The prefix lets secret scanners (and people) recognise a leaked Vigil token,
 * and lets the server tell a token from other Authorization schemes at a glance.
 */
export function generateApiToken(): string {
  return API_TOKEN_PREFIX + randomBytes(SECRET_BYTES).toString('base64url');
}

/** True when the text has the shape of an API token (checked before any database look-up). */
export function looksLikeApiToken(text: string): boolean {
  return API_TOKEN_PATTERN.test(text);
}

/** A new login session id, the value of the session cookie. */
export function generateSessionId(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

export function looksLikeSessionId(text: string): boolean {
  return SESSION_ID_PATTERN.test(text);
}

/** SHA-256 hex: what the database stores for a token or session id. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * Constant-time comparison of a presented secret with a stored hash. Look-ups by hash go
 * through an index, whose timing could at most reveal a prefix of a SHA-256 value, which
 * does not help to find a token; this comparison is for the cases where the stored hash is
 * already in hand (and as the rule for any secret comparison).
 */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** Constant-time equality of two strings (lengths may leak, contents do not). */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The token of an 'Authorization: Bearer TOKEN' header, or null. */
export function bearerToken(authorization: string | undefined): string | null {
  if (authorization === undefined) return null;
  const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(authorization);
  return match ? match[1]! : null;
}

/*
 * CSRF: a synchronizer token bound to the session, stateless. The token is
 * HMAC-SHA-256(key = session id, 'vigil-csrf-v1'), handed to the UI in the body of the sign-in
 * and "who am I" responses; the UI sends it back in the X-CSRF-Token header of every request
 * that changes state. A page on another origin cannot produce it: it can make the browser send
 * the cookie, but it can read neither the HttpOnly cookie nor our responses (same-origin policy),
 * and the token is useless with another session. Chosen over double-submit cookies because a
 * double-submit cookie can be planted by a sibling subdomain or a plain-HTTP response on the
 * LAN, and over a stored per-session token because nothing needs to be stored.
 * SameSite=Strict on the session cookie is a second, independent layer. Requests with a
 * Bearer token need no CSRF token: browsers never attach Authorization headers on their own.
 */

export const CSRF_HEADER = 'x-csrf-token';

export function csrfTokenFor(sessionId: string): string {
  return createHmac('sha256', sessionId).update('vigil-csrf-v1').digest('base64url');
}

export function csrfTokenValid(sessionId: string, presented: string | undefined): boolean {
  return presented !== undefined && constantTimeEqual(csrfTokenFor(sessionId), presented);
}

/** Methods that change state and so need the CSRF token when authenticated by cookie. */
export function isStateChanging(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase());
}

/**
 * A second CSRF check for browsers: when an Origin header is present it must name this very
 * host. Missing Origin (older browsers on GET, non-browser clients) passes; the token decides.
 */
export function originAllowed(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/** A session's last_seen and a token's last_used are written at most this often: not one write per API request. */
export const TOUCH_INTERVAL_MS = 60_000;
