import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** URL schemes a stream may use; each maps to one ingest source module. */
export const STREAM_SCHEMES = ['rtsp', 'rtsps', 'http', 'https', 'file', 'testsrc'] as const;
export type StreamScheme = (typeof STREAM_SCHEMES)[number];

const SCHEME_LIST = 'rtsp://, rtsps://, http://, https://, file: or testsrc:';

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

// Camera CGI URLs often carry credentials in the query (Foscam usr/pwd, Amcrest loginpas).
const SECRET_QUERY_KEY =
  /^(pass|password|passwd|pwd|loginpas|token|access_token|auth|secret|key|api_?key|sig|signature)$/i;

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
    return redactUnparseable(url);
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

/**
 * Checks a stream URL and splits off its credentials. Relative file: URLs are resolved against
 * baseDir (the config file's folder); without one they are an error.
 */
export function parseStreamUrl(text: string, opts: { baseDir?: string } = {}): ParseResult<ParsedStreamUrl> {
  const schemeMatch = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(text);
  if (!schemeMatch?.[1]) {
    return { ok: false, message: `'${redactUrl(text)}' has no URL scheme: use ${SCHEME_LIST}` };
  }
  const scheme = schemeMatch[1].toLowerCase();
  if (!isStreamScheme(scheme)) {
    return { ok: false, message: `unsupported URL scheme '${scheme}:': use ${SCHEME_LIST}` };
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
