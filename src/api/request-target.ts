/**
 * The one spelling of a path that Vigil accepts. The router decodes percent-escapes, and a
 * check that reads the raw URL sees another path than the router matched (`/%61pi/users` is
 * `/api/users` to the router). Rather than canonicalise (and keep two decoders in step), every
 * request whose path is not already in canonical form is refused before routing matters:
 * no spelling of a route reaches its handler but the one the route declares.
 *
 * Pure: used by the request hook and by tests that build the attacker's corpus.
 */

/**
 * Characters a canonical path segment may hold: RFC 3986 unreserved characters plus the
 * sub-delimiters that our routes and the UI's file names use. Everything else (percent-escapes,
 * `;` matrix parameters, `\`, spaces, control bytes, non-ASCII) is refused.
 */
const SEGMENT = /^[A-Za-z0-9._~!$&'()*+,=:@-]+$/;

/** First path segments of the API's routes, whose paths are all lower case. */
const LOWER_CASE_ROOTS: ReadonlySet<string> = new Set(['api', 'metrics']);

/** Why a request target is not a canonical origin-form path, or null when it is. */
export function requestTargetProblem(target: string | undefined): string | null {
  if (target === undefined || target === '') return 'the request has no path';
  if (!target.startsWith('/')) {
    return 'the request target must be a path starting with / (absolute-form and * are not accepted)';
  }
  const queryAt = target.indexOf('?');
  const path = queryAt < 0 ? target : target.slice(0, queryAt);
  if (path === '/') return null;
  if (path.includes('%')) return 'percent-encoded characters are not accepted in the path';
  const segments = path.slice(1).split('/');
  for (const [i, segment] of segments.entries()) {
    if (segment === '') {
      return i === segments.length - 1
        ? 'a path must not end with /'
        : 'empty path segments (//) are not accepted';
    }
    if (segment === '.' || segment === '..') return 'dot segments (/./ and /../) are not accepted';
    if (!SEGMENT.test(segment)) {
      return segment.includes(';')
        ? 'matrix parameters (;) are not accepted in the path'
        : 'the path holds characters outside the unreserved set';
    }
  }
  // Routes are lower case; `/API/users` must not be a second spelling of `/api/users`, nor
  // `/METRICS` of `/metrics` (the router is case-sensitive, so such a path would fall through to
  // the UI's files; refusing it says why).
  const first = (segments[0] ?? '').toLowerCase();
  if (LOWER_CASE_ROOTS.has(first) && path !== path.toLowerCase()) {
    return 'API paths are lower case';
  }
  return null;
}

/** The path of a canonical request target (no query string). */
export function pathOf(target: string): string {
  const queryAt = target.indexOf('?');
  return queryAt < 0 ? target : target.slice(0, queryAt);
}
