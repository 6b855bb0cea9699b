import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  clearedSessionCookie,
  readCookie,
  sessionCookie,
  sessionCookieName,
  sessionIdFromCookies,
} from '../../../src/auth/cookies.js';
import { CONTENT_SECURITY_POLICY, securityHeaders } from '../../../src/auth/headers.js';
import {
  bearerToken,
  constantTimeEqual,
  csrfTokenFor,
  csrfTokenValid,
  generateApiToken,
  generateSessionId,
  hashSecret,
  isStateChanging,
  looksLikeApiToken,
  looksLikeSessionId,
  originAllowed,
  secretMatches,
} from '../../../src/auth/tokens.js';

describe('API tokens and session ids', () => {
  test('tokens are vgl_ + 32 random bytes in base64url, all different', () => {
    const tokens = new Set(Array.from({ length: 200 }, generateApiToken));
    assert.equal(tokens.size, 200);
    for (const token of tokens) {
      assert.match(token, /^vgl_[A-Za-z0-9_-]{43}$/);
      assert.equal(Buffer.from(token.slice(4), 'base64url').length, 32);
      assert.ok(looksLikeApiToken(token));
    }
    assert.equal(looksLikeApiToken('vgl_short'), false);
    assert.equal(looksLikeApiToken(`xyz_${'a'.repeat(43)}`), false);
  });

  test('session ids are 32 random bytes in base64url', () => {
    const id = generateSessionId();
    assert.ok(looksLikeSessionId(id));
    assert.notEqual(id, generateSessionId());
    assert.equal(looksLikeSessionId('../../etc/passwd'), false);
  });

  test('stored as SHA-256 hex, compared in constant time', () => {
    const token = generateApiToken();
    const stored = hashSecret(token);
    assert.match(stored, /^[0-9a-f]{64}$/);
    assert.equal(stored, hashSecret(token));
    assert.equal(secretMatches(token, stored), true);
    assert.equal(secretMatches(generateApiToken(), stored), false);
    assert.equal(secretMatches(token, 'abcd'), false);
    assert.equal(constantTimeEqual('abc', 'abc'), true);
    assert.equal(constantTimeEqual('abc', 'abd'), false);
    assert.equal(constantTimeEqual('abc', 'abcd'), false);
  });

  test('Authorization: Bearer parsing', () => {
    const token = generateApiToken();
    assert.equal(bearerToken(`Bearer ${token}`), token);
    assert.equal(bearerToken(`bearer  ${token} `), token);
    assert.equal(bearerToken(`Basic ${token}`), null);
    assert.equal(bearerToken('Bearer'), null);
    assert.equal(bearerToken('Bearer a b'), null);
    assert.equal(bearerToken(undefined), null);
  });
});

describe('CSRF', () => {
  test('the token is bound to its session and checked in constant time', () => {
    const session = generateSessionId();
    const other = generateSessionId();
    const token = csrfTokenFor(session);
    assert.equal(token, csrfTokenFor(session), 'stateless: derived again on every request');
    assert.equal(csrfTokenValid(session, token), true);
    assert.equal(csrfTokenValid(other, token), false, "another session's token");
    assert.equal(csrfTokenValid(session, undefined), false);
    assert.equal(csrfTokenValid(session, ''), false);
    assert.equal(csrfTokenValid(session, token.slice(1)), false);
  });

  test('state-changing methods and Origin checks', () => {
    for (const method of ['POST', 'put', 'PATCH', 'DELETE']) assert.equal(isStateChanging(method), true);
    for (const method of ['GET', 'head', 'OPTIONS']) assert.equal(isStateChanging(method), false);
    assert.equal(originAllowed(undefined, 'nvr.local:8080'), true);
    assert.equal(originAllowed('http://nvr.local:8080', 'nvr.local:8080'), true);
    assert.equal(originAllowed('https://NVR.local', 'nvr.LOCAL'), true);
    assert.equal(originAllowed('http://evil.example', 'nvr.local:8080'), false);
    assert.equal(originAllowed('http://nvr.local:9090', 'nvr.local:8080'), false);
    assert.equal(originAllowed('null', 'nvr.local:8080'), false);
    assert.equal(originAllowed('http://nvr.local:8080', undefined), false);
  });
});

describe('session cookie', () => {
  test('HttpOnly, SameSite=Strict, Path=/; Secure and __Host- over TLS', () => {
    const id = generateSessionId();
    const tls = sessionCookie(id, { secure: true, maxAgeMs: 86_400_000 });
    assert.equal(tls, `__Host-vigil_session=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=86400; Secure`);
    const plain = sessionCookie(id, { secure: false, maxAgeMs: 1500 });
    assert.equal(plain, `vigil_session=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=1`);
    assert.doesNotMatch(plain, /Domain|Secure/);
    assert.equal(clearedSessionCookie(false), 'vigil_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
  });

  test('reading the cookie back from a Cookie header', () => {
    const id = generateSessionId();
    const header = `theme=dark; ${sessionCookieName(false)}=${id}; other="quoted value"`;
    assert.equal(readCookie(header, 'vigil_session'), id);
    assert.equal(readCookie(header, 'other'), 'quoted value');
    assert.equal(readCookie(header, 'missing'), null);
    assert.equal(readCookie(undefined, 'vigil_session'), null);
    assert.equal(sessionIdFromCookies(header, false), id);
    // Over TLS only the __Host- cookie counts: a plain one could have been planted.
    assert.equal(sessionIdFromCookies(header, true), null);
    assert.equal(sessionIdFromCookies(`__Host-vigil_session=${id}`, true), id);
  });
});

describe('security headers', () => {
  test('a strict CSP and the usual headers; HSTS only with a real certificate', () => {
    const plain = securityHeaders({ tls: false, selfSigned: false });
    assert.equal(plain['content-security-policy'], CONTENT_SECURITY_POLICY);
    assert.match(CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/);
    assert.match(CONTENT_SECURITY_POLICY, /script-src 'self'(;|$)/);
    assert.equal(plain['x-content-type-options'], 'nosniff');
    assert.equal(plain['x-frame-options'], 'DENY');
    assert.equal(plain['strict-transport-security'], undefined);
    assert.equal(securityHeaders({ tls: true, selfSigned: true })['strict-transport-security'], undefined);
    assert.match(securityHeaders({ tls: true, selfSigned: false })['strict-transport-security']!, /max-age=/);
  });
});
