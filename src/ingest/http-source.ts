/**
 * HTTP cameras that are not a video stream ffmpeg can copy: what a URL serves (MJPEG, single
 * JPEG snapshots, an HLS playlist), and GET requests with the Basic or Digest authentication
 * cameras use. Failures come back as StreamErrors worded like ffmpeg's (stream-errors.ts).
 */
import { authorization, parseChallenges, type Challenge, type Credentials } from './rtsp/auth.js';
import type { StreamError } from './stream-errors.js';

/** What an http(s) URL serves, as ingest handles it; `stream` is anything else ffmpeg reads as is. */
export type HttpSourceKind = 'mjpeg' | 'snapshot' | 'hls' | 'stream';

/** The kind a Content-Type announces, or null when the URL's path decides (.m3u8) or nothing does. */
export function kindFromContentType(contentType: string | null): HttpSourceKind | null {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'multipart/x-mixed-replace') return 'mjpeg';
  if (type === 'image/jpeg' || type === 'image/jpg') return 'snapshot';
  if (
    type === 'application/vnd.apple.mpegurl' ||
    type === 'application/x-mpegurl' ||
    type === 'audio/mpegurl'
  )
    return 'hls';
  return null;
}

/** Whether the URL's path names an HLS playlist. */
export function isPlaylistUrl(url: string): boolean {
  return new URL(url).pathname.toLowerCase().endsWith('.m3u8');
}

/** A response whose body has not been read yet. */
export interface HttpAnswer {
  status: number;
  contentType: string | null;
  body(): Promise<Buffer>;
  /** Drops the body unread (an MJPEG body never ends). */
  discard(): void;
}

/**
 * GETs a camera URL, answering a 401 challenge with the credentials (Basic or Digest). The
 * challenge is kept so later requests authenticate at once; a new one is taken when the camera
 * rejects it (a stale nonce). Returns the answer, or a StreamError for a transport failure or an
 * HTTP error.
 */
export class HttpCameraClient {
  private challenge: Challenge | null = null;
  private nonceCount = 0;

  constructor(
    private readonly url: string,
    private readonly credentials: Credentials | null,
    private readonly timeoutMs: number,
  ) {}

  async get(): Promise<HttpAnswer | StreamError> {
    let answer = await this.request();
    if ('kind' in answer) return answer;
    if (answer.status === 401 && this.credentials !== null) {
      answer.discard();
      const challenges = parseChallenges(answer.challenges);
      this.challenge = challenges[0] ?? null;
      this.nonceCount = 0;
      if (this.challenge === null) return httpError(401);
      answer = await this.request();
      if ('kind' in answer) return answer;
    }
    if (answer.status < 200 || answer.status > 299) {
      answer.discard();
      return httpError(answer.status);
    }
    return answer;
  }

  private async request(): Promise<(HttpAnswer & { challenges: string[] }) | StreamError> {
    const url = new URL(this.url);
    const headers: Record<string, string> = {};
    if (this.challenge && this.credentials) {
      this.nonceCount += 1;
      const value = authorization(this.challenge, this.credentials, {
        method: 'GET',
        uri: `${url.pathname}${url.search}`,
        nonceCount: this.nonceCount,
      });
      if (value === null) return httpError(401);
      headers['authorization'] = value;
    }
    let res: Response;
    try {
      res = await fetch(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      return transportError(err);
    }
    const challenges: string[] = [];
    res.headers.forEach((value, name) => {
      if (name === 'www-authenticate') challenges.push(value);
    });
    return {
      status: res.status,
      contentType: res.headers.get('content-type'),
      challenges,
      body: async () => Buffer.from(await res.arrayBuffer()),
      discard: () => void res.body?.cancel().catch(() => undefined),
    };
  }
}

/**
 * What an `auto` http(s) URL serves: an .m3u8 path is HLS; otherwise the Content-Type of a GET
 * decides (the body is not read). Anything unrecognised is left to ffmpeg as before.
 */
export async function detectHttpKind(
  client: HttpCameraClient,
  url: string,
): Promise<HttpSourceKind | StreamError> {
  if (isPlaylistUrl(url)) return 'hls';
  const answer = await client.get();
  if ('kind' in answer) return answer;
  answer.discard();
  return kindFromContentType(answer.contentType) ?? 'stream';
}

/** A StreamError for an HTTP status, worded like ffmpeg's errors so users see one vocabulary. */
export function httpError(status: number): StreamError {
  switch (status) {
    case 401:
      return { kind: 'unauthorized', message: "401 Unauthorized: check the camera's user name and password" };
    case 403:
      return {
        kind: 'forbidden',
        message: '403 Forbidden: the camera refuses this user; check its permissions on the camera',
      };
    case 404:
      return {
        kind: 'not_found',
        message: "404 Not Found: the camera has nothing at this path; check the URL's path",
      };
    default:
      return {
        kind: status >= 300 && status < 400 ? 'not_found' : 'exited',
        message: `the camera answered HTTP ${status}: check the URL`,
      };
  }
}

/** fetch() failures by their cause's code: refused, unreachable, unknown host, timed out. */
export function transportError(err: unknown): StreamError {
  const name = (err as { name?: string }).name;
  const code = (err as { cause?: { code?: string } }).cause?.code ?? '';
  if (name === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') {
    return {
      kind: 'timeout',
      message: 'connection timed out: the camera did not answer; check that it is powered and on the network',
    };
  }
  if (code === 'ECONNREFUSED') {
    return {
      kind: 'connection_refused',
      message: 'connection refused: nothing listens at this address and port; check the port in the URL',
    };
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return { kind: 'unreachable', message: 'host unreachable: check the IP address and the network' };
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return {
      kind: 'dns',
      message: "host name not found: check the camera's host name or use its IP address",
    };
  }
  const reason = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
  return { kind: 'exited', message: `cannot reach the camera: ${reason}` };
}
