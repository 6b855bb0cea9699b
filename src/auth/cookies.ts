/**
 * The session cookie. Over TLS its name carries the __Host- prefix, which browsers accept only
 * with Secure, Path=/ and no Domain: another host on the LAN or a subdomain cannot set or
 * overwrite it (cookie tossing). Without TLS the prefix is impossible, so a plain name is used.
 */
export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-vigil_session' : 'vigil_session';
}

export interface SessionCookieOptions {
  /** True when Vigil is served over TLS. */
  secure: boolean;
  /** How long the browser keeps the cookie; the server's own expiry is what counts. */
  maxAgeMs: number;
}

/**
 * The Set-Cookie value. HttpOnly: scripts (an XSS) cannot read it. SameSite=Strict: no other
 * site can make the browser send it, not even with a top-level link (a link from an e-mail opens
 * the UI signed out for that first request only; the UI's own API calls carry the cookie).
 */
export function sessionCookie(sessionId: string, options: SessionCookieOptions): string {
  const parts = [
    `${sessionCookieName(options.secure)}=${sessionId}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeMs / 1000))}`,
  ];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/** The Set-Cookie value that removes the session cookie (sign-out). */
export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie('', { secure, maxAgeMs: 0 });
}

/** The value of one cookie in a Cookie header, or null. Quoted values are unquoted; nothing is URL-decoded. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    const value = pair.slice(eq + 1).trim();
    return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  }
  return null;
}

/** The session id sent by the browser: the __Host- cookie over TLS, else the plain one. */
export function sessionIdFromCookies(header: string | undefined, secure: boolean): string | null {
  return readCookie(header, sessionCookieName(secure));
}
