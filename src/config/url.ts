import { BlockList, isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** URL schemes a stream may use; each maps to one ingest source module. */
export const STREAM_SCHEMES = ['rtsp', 'rtsps', 'http', 'https', 'file', 'testsrc'] as const;
export type StreamScheme = (typeof STREAM_SCHEMES)[number];

const SCHEME_LIST = 'rtsp://, rtsps://, http://, https://, file: or testsrc:';

/**
 * Schemes a camera added or probed through the API may use. file: reads the recorder's own
 * disk (any file Vigil can read), so only the config file, written by whoever runs Vigil, may
 * name one.
 */
export const API_STREAM_SCHEMES = ['rtsp', 'rtsps', 'http', 'https', 'testsrc'] as const;
const API_SCHEME_LIST = 'rtsp://, rtsps://, http://, https:// or testsrc:';

/**
 * ffmpeg's -protocol_whitelist for each scheme: the protocols a connection of that scheme needs,
 * and nothing else, so neither a URL nor what the camera answers (an RTSP or HTTP redirect, an
 * HLS playlist naming its segments) can make ffmpeg open file:, concat:, subfile: and the like.
 * HLS over http(s) needs crypto for AES-128 segments; tls is how ffmpeg speaks https and rtsps.
 */
const PROTOCOL_WHITELIST: Readonly<Record<Exclude<StreamScheme, 'testsrc'>, string>> = {
  rtsp: 'rtsp,rtp,udp,tcp',
  rtsps: 'rtsp,rtsps,rtp,udp,tcp,tls',
  http: 'http,https,tcp,tls,crypto',
  https: 'http,https,tcp,tls,crypto',
  file: 'file',
};

/** The -protocol_whitelist value for a URL's scheme; undefined for testsrc:, which opens nothing. */
export function protocolWhitelist(url: string): string | undefined {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined || !isStreamScheme(scheme) || scheme === 'testsrc') return undefined;
  return PROTOCOL_WHITELIST[scheme];
}

/** What the loader keeps of a stream URL: credentials moved out, so `url` is safe to log. */
export interface ParsedStreamUrl {
  /** Without user or password; file: URLs absolute (file:///…), testsrc: URLs with every option. */
  url: string;
  scheme: StreamScheme;
  user?: string;
  password?: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

export interface TestPattern {
  width: number;
  height: number;
  fps: number;
}

const TEST_PATTERN_DEFAULT: TestPattern = { width: 1280, height: 720, fps: 10 };

// Camera CGI URLs often carry credentials in the query (Foscam usr/pwd, Amcrest loginuse/
// loginpas). User names are hidden too: half of a camera's login, and often the camera's admin.
const SECRET_QUERY_KEYS =
  'pass|password|passwd|pwd|pw|loginpas|token|access_token|auth|secret|key|api_?key|sig|signature|' +
  'user|usr|username|user_?name|login|loginuse|account';
const SECRET_QUERY_KEY = new RegExp(`^(${SECRET_QUERY_KEYS})$`, 'i');
/** A secret query parameter inside free text (ffmpeg's stderr), up to the next separator. */
const SECRET_QUERY_IN_TEXT = new RegExp(`([?&;](?:${SECRET_QUERY_KEYS})=)[^&;#\\s'"<>]+`, 'gi');
/** The user info of any URL inside free text, up to the last @ before the path. */
const USERINFO_IN_TEXT = /([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi;

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function isStreamScheme(scheme: string): scheme is StreamScheme {
  return (STREAM_SCHEMES as readonly string[]).includes(scheme);
}

/**
 * The URL with any password (in the user info or in a password-like query parameter) replaced
 * by ***. For logs and API responses; unchanged when there is nothing to hide.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return redactQueryInText(redactUnparseable(url));
  }
  let changed = false;
  if (parsed.password !== '') {
    parsed.password = '***';
    changed = true;
  }
  for (const key of [...parsed.searchParams.keys()]) {
    if (SECRET_QUERY_KEY.test(key) && parsed.searchParams.get(key) !== '') {
      parsed.searchParams.set(key, '***');
      changed = true;
    }
  }
  return changed ? parsed.href : url;
}

/**
 * Free text (an ffmpeg stderr line, an error message) with the credentials of every URL in it
 * replaced by ***: user info and password-like query parameters. For text that may quote a
 * camera URL without being one.
 */
export function redactText(text: string): string {
  return redactQueryInText(text.replace(USERINFO_IN_TEXT, '$1***@'));
}

function redactQueryInText(text: string): string {
  return text.replace(SECRET_QUERY_IN_TEXT, '$1***');
}

/** Errs on the side of hiding: everything between "user:" and the last "@" goes. */
function redactUnparseable(url: string): string {
  const start = url.indexOf('://');
  const at = url.lastIndexOf('@');
  if (start < 0 || at < start) return url;
  const userInfo = url.slice(start + 3, at);
  const colon = userInfo.indexOf(':');
  if (colon < 0) return url;
  return `${url.slice(0, start + 3)}${userInfo.slice(0, colon)}:***${url.slice(at)}`;
}

/**
 * The URL to hand to ffmpeg: user and password put (percent-encoded) into its user info. The
 * result holds a secret: never log it, log redactUrl() of it.
 */
export function withCredentials(url: string, user?: string, password?: string): string {
  if (!user && !password) return url;
  const parsed = new URL(url);
  parsed.username = user ?? '';
  parsed.password = password ?? '';
  return parsed.href;
}

/** Options of a testsrc: URL, e.g. "testsrc:?size=1280x720&fps=10"; missing ones take defaults. */
export function parseTestPatternUrl(url: string): ParseResult<TestPattern> {
  if (!url.startsWith('testsrc:')) return { ok: false, message: 'is not a testsrc: URL' };
  const params = new URLSearchParams(url.slice('testsrc:'.length).replace(/^\?/, ''));
  const pattern = { ...TEST_PATTERN_DEFAULT };
  for (const [key, value] of params) {
    if (key === 'size') {
      const match = /^(\d{2,5})x(\d{2,5})$/.exec(value);
      if (!match)
        return { ok: false, message: `testsrc size '${value}' must be WIDTHxHEIGHT, e.g. 1280x720` };
      pattern.width = Number(match[1]);
      pattern.height = Number(match[2]);
      // H.264 with 4:2:0 chroma, which the test pattern is encoded to, needs even dimensions.
      if (pattern.width % 2 !== 0 || pattern.height % 2 !== 0) {
        return { ok: false, message: `testsrc size '${value}' must have an even width and height` };
      }
    } else if (key === 'fps') {
      const fps = Number(value);
      if (!Number.isInteger(fps) || fps < 1 || fps > 60) {
        return { ok: false, message: `testsrc fps '${value}' must be a whole number from 1 to 60` };
      }
      pattern.fps = fps;
    } else {
      return { ok: false, message: `unknown testsrc option '${key}': use size=WIDTHxHEIGHT and fps=N` };
    }
  }
  return { ok: true, value: pattern };
}

function parseFileUrl(text: string, baseDir: string | undefined): ParseResult<ParsedStreamUrl> {
  let path: string;
  if (text.startsWith('file://')) {
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      return { ok: false, message: `'${text}' is not a valid file: URL` };
    }
    if (parsed.hostname !== '' && parsed.hostname !== 'localhost') {
      return {
        ok: false,
        message: `file: URLs name a local file: use file:///absolute/path.mp4 or file:relative/path.mp4`,
      };
    }
    path = fileURLToPath(parsed);
  } else {
    const rest = safeDecode(text.slice('file:'.length));
    if (rest === '')
      return { ok: false, message: 'names no file: use file:///absolute/path.mp4 or file:clip.mp4' };
    if (isAbsolute(rest)) path = rest;
    else if (baseDir === undefined) {
      return { ok: false, message: `'${text}' is relative: use an absolute file:///path` };
    } else path = resolve(baseDir, rest);
  }
  return { ok: true, value: { url: pathToFileURL(path).href, scheme: 'file' } };
}

function parseNetworkUrl(text: string, scheme: StreamScheme): ParseResult<ParsedStreamUrl> {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return { ok: false, message: `'${redactUrl(text)}' is not a valid URL` };
  }
  if (!text.slice(scheme.length + 1).startsWith('//') || parsed.hostname === '') {
    return {
      ok: false,
      message: `'${redactUrl(text)}' has no host: use e.g. ${scheme}://192.168.1.20/stream`,
    };
  }
  const user = parsed.username === '' ? undefined : safeDecode(parsed.username);
  const password = parsed.password === '' ? undefined : safeDecode(parsed.password);
  parsed.username = '';
  parsed.password = '';
  return {
    ok: true,
    value: {
      url: parsed.href,
      scheme,
      ...(user !== undefined ? { user } : {}),
      ...(password !== undefined ? { password } : {}),
    },
  };
}

/** Where a stream URL comes from: the config file may name local files, the API may not. */
export type UrlOrigin = 'config' | 'api';

/**
 * Checks a stream URL and splits off its credentials. Relative file: URLs are resolved against
 * baseDir (the config file's folder); without one they are an error. With origin 'api', file:
 * URLs are refused (see API_STREAM_SCHEMES).
 */
export function parseStreamUrl(
  text: string,
  opts: { baseDir?: string; origin?: UrlOrigin } = {},
): ParseResult<ParsedStreamUrl> {
  const fromApi = opts.origin === 'api';
  const allowed = fromApi ? API_SCHEME_LIST : SCHEME_LIST;
  const schemeMatch = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(text);
  if (!schemeMatch?.[1]) {
    return { ok: false, message: `'${redactUrl(text)}' has no URL scheme: use ${allowed}` };
  }
  const scheme = schemeMatch[1].toLowerCase();
  if (!isStreamScheme(scheme)) {
    return { ok: false, message: `unsupported URL scheme '${scheme}:': use ${allowed}` };
  }
  if (fromApi && scheme === 'file') {
    return {
      ok: false,
      message: `file: URLs are accepted only in the configuration file, not through the API: use ${allowed}`,
    };
  }
  switch (scheme) {
    case 'file':
      return parseFileUrl(text, opts.baseDir);
    case 'testsrc': {
      const normalised = 'testsrc:' + text.slice(schemeMatch[0].length);
      const pattern = parseTestPatternUrl(normalised);
      if (!pattern.ok) return pattern;
      const { width, height, fps } = pattern.value;
      return { ok: true, value: { url: `testsrc:?size=${width}x${height}&fps=${fps}`, scheme } };
    }
    default:
      return parseNetworkUrl(text, scheme);
  }
}

/** The ports ffmpeg uses when a URL names none (rtsps: 322, as ffmpeg's RTSP client has it). */
const DEFAULT_PORTS: Readonly<Record<string, number>> = { rtsp: 554, rtsps: 322, http: 80, https: 443 };

export interface UrlOriginParts {
  scheme: string;
  /** Lower case, IPv6 without brackets. */
  host: string;
  /** The default port of the scheme when the URL names none. */
  port: number;
}

/**
 * Scheme, host and port of a network stream URL, the port filled in from the scheme's default:
 * what decides which machine receives a connection (and its password). Null for file:,
 * testsrc: and URLs that do not parse.
 */
export function urlOrigin(url: string): UrlOriginParts | null {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return null;
  }
  const scheme = parsed.protocol.slice(0, -1).toLowerCase();
  const defaultPort = DEFAULT_PORTS[scheme];
  if (defaultPort === undefined || parsed.hostname === '') return null;
  return {
    scheme,
    host: parsed.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? defaultPort : Number(parsed.port),
  };
}

/**
 * Whether two stream URLs lead to the same scheme, host and port (rtsp://h/ and rtsp://h:554/
 * are the same). A stored camera password may only travel to the origin it was given for.
 */
export function sameOrigin(a: string, b: string): boolean {
  const x = urlOrigin(a);
  const y = urlOrigin(b);
  return x !== null && y !== null && x.scheme === y.scheme && x.host === y.host && x.port === y.port;
}

/** "scheme://host:port" for messages, IPv6 in brackets; never holds credentials. */
export function formatOrigin(origin: UrlOriginParts): string {
  const host = origin.host.includes(':') ? `[${origin.host}]` : origin.host;
  return `${origin.scheme}://${host}:${origin.port}`;
}

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** A CIDR block such as 192.168.1.0/24 or fd00::/8; a bare address is a block of one. */
export function parseCidr(text: string): ParseResult<Cidr> {
  const slash = text.indexOf('/');
  const address = (slash < 0 ? text : text.slice(0, slash)).trim().replace(/^\[(.*)\]$/, '$1');
  const version = isIP(address);
  if (version === 0) {
    return {
      ok: false,
      message: `'${text}' is not a network: use an IPv4 or IPv6 block such as 192.168.1.0/24 or fd00::/8`,
    };
  }
  const max = version === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : text.slice(slash + 1).trim();
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > max) {
    return {
      ok: false,
      message: `'${text}' has a prefix length that is not a whole number from 0 to ${max}`,
    };
  }
  return { ok: true, value: { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' } };
}

/** An address as the network check compares it: IPv4-mapped IPv6 (::ffff:10.0.0.1) as IPv4. */
function plainAddress(address: string): { address: string; family: 'ipv4' | 'ipv6' } | null {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  const mapped = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped?.[1] && isIP(mapped[1]) === 4) return { address: mapped[1], family: 'ipv4' };
  // URL parsers write mapped addresses in hex (::ffff:7f00:1); dns.lookup keeps that form.
  const hex = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(bare);
  if (hex?.[1] && hex[2]) {
    const high = parseInt(hex[1], 16);
    const low = parseInt(hex[2], 16);
    return { address: [high >> 8, high & 255, low >> 8, low & 255].join('.'), family: 'ipv4' };
  }
  const version = isIP(bare);
  if (version === 0) return null;
  return { address: bare, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Networks (CIDR blocks, a bare address being a block of one) that addresses are checked against. */
export class NetworkList {
  private readonly list = new BlockList();

  /** The CIDR strings must have passed parseCidr (the config loader checks them); `key` names them in errors. */
  constructor(
    readonly cidrs: readonly string[],
    readonly key: string,
  ) {
    for (const text of cidrs) {
      const cidr = parseCidr(text);
      if (!cidr.ok) throw new Error(`${key}: ${cidr.message}`);
      this.list.addSubnet(cidr.value.address, cidr.value.prefix, cidr.value.family);
    }
  }

  /** Whether an IP address lies inside one of the networks; false for anything not an address. */
  allows(address: string): boolean {
    const plain = plainAddress(address);
    return plain !== null && this.list.check(plain.address, plain.family);
  }

  toString(): string {
    return this.cidrs.join(', ');
  }

  /** Serialized (a route's access in the OpenAPI description): the key, not the addresses. */
  toJSON(): { listedIn: string } {
    return { listedIn: this.key };
  }
}

/** The networks camera connections may reach (security.cameraNetworks), ready for checks. */
export class CameraNetworks extends NetworkList {
  constructor(cidrs: readonly string[]) {
    super(cidrs, 'security.cameraNetworks');
  }
}
