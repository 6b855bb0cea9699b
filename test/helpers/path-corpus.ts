/**
 * The ways an attacker spells a path so that an access check and a router might read it
 * differently: escapes, double escapes, case, dot segments, duplicate and trailing slashes,
 * matrix parameters, control bytes, backslashes, absolute-form targets. Every spelling but
 * `canonical` (and the same path with a query string) names the route in a non-canonical way.
 */

export interface Spelling {
  name: string;
  target: string;
  /** The canonical path with only a query string added: must behave exactly as the canonical one. */
  canonical: boolean;
}

function encodeChar(c: string, upper = false): string {
  const hex = c.charCodeAt(0).toString(16).padStart(2, '0');
  return `%${upper ? hex.toUpperCase() : hex}`;
}

/** Replaces the character at `index` of `text`. */
function replaceAt(text: string, index: number, by: string): string {
  return text.slice(0, index) + by + text.slice(index + 1);
}

export function spellings(path: string, port: number): Spelling[] {
  const segments = path.slice(1).split('/');
  const rest = segments.slice(1).join('/');
  const last = segments.length - 1;
  const withSegment = (i: number, segment: string) =>
    `/${segments.map((s, j) => (j === i ? segment : s)).join('/')}`;
  const out: Spelling[] = [
    { name: 'canonical', target: path, canonical: true },
    { name: 'query with dot segments', target: `${path}?x=/../../etc/passwd`, canonical: true },
  ];
  // A variant that happens to equal the path (upper case of a number) is not another spelling.
  const add = (name: string, target: string) => {
    if (target !== path) out.push({ name, target, canonical: false });
  };
  for (const [i, segment] of segments.entries()) {
    add(
      `escaped first character of segment ${i}`,
      withSegment(i, encodeChar(segment[0] ?? 'a') + segment.slice(1)),
    );
  }
  add(
    'escaped last character, upper-case hex',
    withSegment(last, segments[last]!.slice(0, -1) + encodeChar(segments[last]!.at(-1) ?? 'a', true)),
  );
  const dot = path.lastIndexOf('.');
  if (dot > 0) {
    add('escaped dot (%2e)', replaceAt(path, dot, '%2e'));
    add('escaped dot (%2E)', replaceAt(path, dot, '%2E'));
  }
  add('every character escaped', [...path].map((c) => (c === '/' ? c : encodeChar(c))).join(''));
  add('escaped slash (%2f)', `/${segments.join('%2f')}`);
  add('escaped slash (%2F) after api', `/api%2F${rest}`);
  add(
    'double escape (%2561)',
    withSegment(0, `%25${encodeChar(segments[0]![0]!).slice(1)}${segments[0]!.slice(1)}`),
  );
  add('overlong UTF-8 slash', `/api%c0%af${rest}`);
  add('upper-case prefix', withSegment(0, segments[0]!.toUpperCase()));
  add('capitalised prefix', withSegment(0, segments[0]![0]!.toUpperCase() + segments[0]!.slice(1)));
  add('upper-case last segment', withSegment(last, segments[last]!.toUpperCase()));
  add('leading dot segment', `/.${path}`);
  add('inner dot segment', `/api/./${rest}`);
  add('inner dot-dot segment', `/api/x/../${rest}`);
  add('dot-dot back into the path', `/api/../api/${rest}`);
  add('escaped dot segment', `/api/%2e/${rest}`);
  add('escaped dot-dot segment', `/api/%2e%2e/api/${rest}`);
  add('half-escaped dot-dot', `/api/.%2e/api/${rest}`);
  add('trailing dot segment', `${path}/.`);
  add('trailing dot-dot segment', `${path}/x/..`);
  add('leading double slash', `/${path}`);
  add('inner double slash', `/api//${rest}`);
  add('trailing slash', `${path}/`);
  add('trailing double slash', `${path}//`);
  add('matrix parameter on the prefix', `/api;x=1/${rest}`);
  add('matrix parameter at the end', `${path};x=1`);
  add('empty matrix parameter', `${path};`);
  add('escaped NUL at the end', `${path}%00`);
  add('escaped NUL before an extension', `${path}%00.json`);
  add('raw NUL byte', `${path}\u0000`);
  add('raw control byte', `/api/\u0001${rest}`);
  add('raw tab', `${path}\t`);
  add('escaped CR LF', `${path}%0d%0aX-Injected:%201`);
  add('backslash separator', `/api\\${rest.replaceAll('/', '\\')}`);
  add('leading backslash', `\\${path.slice(1)}`);
  add('fragment', `${path}#x`);
  add('non-ASCII byte', `${path}\u00e9`);
  add('absolute-form, this server', `http://127.0.0.1:${port}${path}`);
  add('absolute-form, another host', `http://evil.example${path}`);
  add('absolute-form, upper-case scheme', `HTTP://127.0.0.1:${port}${path}`);
  add('asterisk-form', '*');
  add('no leading slash', path.slice(1));
  return out;
}

/** A small seeded PRNG (mulberry32): the fuzz run is the same every time. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INSERTIONS = [
  '%2e',
  '%2E',
  '%2f',
  '%2F',
  '%5c',
  '%00',
  '%25',
  '%252e',
  '%c0%ae',
  '.',
  '..',
  '/',
  '//',
  '/./',
  '/../',
  ';',
  ';x=1',
  '\\',
  '%20',
  '~',
  '%7e',
  '%41',
  '%61',
  '?',
  '#',
  '&',
];

/** One to three random mutations of a path: insertions, escapes, case flips, deletions. */
export function mutate(path: string, random: () => number): string {
  let out = path;
  const count = 1 + Math.floor(random() * 3);
  for (let i = 0; i < count; i += 1) {
    const at = 1 + Math.floor(random() * Math.max(1, out.length - 1));
    const kind = Math.floor(random() * 5);
    const c = out[at] ?? 'a';
    if (kind === 0)
      out = out.slice(0, at) + INSERTIONS[Math.floor(random() * INSERTIONS.length)]! + out.slice(at);
    else if (kind === 1 && c !== '/') out = replaceAt(out, at, encodeChar(c, random() < 0.5));
    else if (kind === 2) out = replaceAt(out, at, c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase());
    else if (kind === 3) out = out.slice(0, at) + out.slice(at + 1);
    else out = `${out.slice(0, at)}/${out.slice(at)}`;
  }
  return out;
}
