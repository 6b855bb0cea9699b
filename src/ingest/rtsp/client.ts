/**
 * An RTSP/1.0 client connection (RFC 2326) over TCP: requests matched to responses by CSeq,
 * Basic and Digest authentication, and interleaved media frames handed to a callback as they
 * arrive. One connection per camera stream.
 */
import { Socket } from 'node:net';
import { authorization, parseChallenges, type Challenge, type Credentials } from './auth.js';
import { RtspFraming, type InterleavedFrame, type RtspMessage } from './framing.js';

export const USER_AGENT = 'Vigil';

export type RtspFailureKind =
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'no_video'
  | 'timeout'
  | 'protocol'
  | 'closed'
  /** The stream is fine, but native ingest cannot take it as it is (codec, audio): ffmpeg can. */
  | 'unsupported';

/** A failure of the RTSP exchange, with a kind the supervisor maps to a stream error. */
export class RtspFailure extends Error {
  constructor(
    readonly kind: RtspFailureKind,
    message: string,
  ) {
    super(message);
  }
}

interface Outstanding {
  cseq: number;
  method: string;
  resolve(message: RtspMessage): void;
  /** Keep-alives: nobody waits, and a server that never answers them is fine. */
  ignored: boolean;
}

export interface RtspClientOptions {
  socket: Socket;
  credentials: Credentials | null;
  onFrame(frame: InterleavedFrame): void;
  onError(error: Error): void;
}

/** Limits the requests a caller makes before PLAY; a camera that loops us through 401s is stopped. */
const MAX_AUTH_ATTEMPTS = 2;
/** Responses the client keeps track of; more outstanding means the camera does not answer. */
const MAX_OUTSTANDING = 32;

export class RtspClient {
  private cseq = 0;
  private readonly outstanding: Outstanding[] = [];
  private readonly framing = new RtspFraming();
  private challenge: Challenge | null = null;
  private nonceCount = 0;
  /** The Session header value once SETUP has answered. */
  session: string | null = null;

  constructor(private readonly opts: RtspClientOptions) {
    // A socket made with `onread` emits no 'data': its owner calls receive() instead.
    opts.socket.on('data', (chunk: Buffer) => this.receive(chunk));
  }

  /** Sends a request and resolves with its response, retrying once with credentials on 401. */
  async request(method: string, url: string, headers: Record<string, string> = {}): Promise<RtspMessage> {
    for (let attempt = 1; ; attempt += 1) {
      const response = await this.send(method, url, headers, false);
      if (response.status !== 401) return response;
      const credentials = this.opts.credentials;
      if (!credentials) {
        throw new RtspFailure('unauthorized', '401 Unauthorized: the camera wants a user name and password');
      }
      const challenges = parseChallenges(response.headers.get('www-authenticate') ?? []);
      const previous = this.challenge;
      this.challenge = challenges[0] ?? null;
      this.nonceCount = 0;
      // A second 401 with a stale nonce is worth one more try; anything else means wrong credentials.
      const stale = this.challenge?.stale === true && previous !== null;
      if (!this.challenge || attempt >= MAX_AUTH_ATTEMPTS + (stale ? 1 : 0)) {
        throw new RtspFailure('unauthorized', "401 Unauthorized: check the camera's user name and password");
      }
    }
  }

  /** Sends a request without waiting for (or minding) its response: keep-alives, TEARDOWN. */
  notify(method: string, url: string, headers: Record<string, string> = {}): void {
    void this.send(method, url, headers, true);
  }

  private send(
    method: string,
    url: string,
    headers: Record<string, string>,
    ignored: boolean,
  ): Promise<RtspMessage> {
    this.cseq += 1;
    const cseq = this.cseq;
    const lines = [`${method} ${url} RTSP/1.0`, `CSeq: ${cseq}`, `User-Agent: ${USER_AGENT}`];
    const auth = this.authorizationFor(method, url);
    if (auth) lines.push(`Authorization: ${auth}`);
    if (this.session) lines.push(`Session: ${this.session}`);
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    const promise = new Promise<RtspMessage>((resolve) => {
      this.outstanding.push({ cseq, method, resolve, ignored });
      if (this.outstanding.length > MAX_OUTSTANDING) this.outstanding.shift();
    });
    this.opts.socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    return promise;
  }

  private authorizationFor(method: string, uri: string): string | null {
    if (!this.challenge || !this.opts.credentials) return null;
    this.nonceCount += 1;
    return authorization(this.challenge, this.opts.credentials, { method, uri, nonceCount: this.nonceCount });
  }

  /** Bytes from the socket; frames are handed to onFrame before this returns (the bytes may be reused after). */
  receive(chunk: Buffer): void {
    let items;
    try {
      items = this.framing.push(chunk);
    } catch (err) {
      this.opts.onError(new RtspFailure('protocol', (err as Error).message));
      return;
    }
    for (const item of items) {
      if (item.kind === 'frame') this.opts.onFrame(item);
      else if (item.status > 0) this.onResponse(item);
      // Requests from the server (ANNOUNCE, SET_PARAMETER) are not needed for pulling media.
    }
  }

  private onResponse(message: RtspMessage): void {
    const cseqText = message.headers.get('cseq')?.[0];
    // Some cameras leave CSeq out: such a response answers the oldest request still open.
    const index = cseqText === undefined ? 0 : this.outstanding.findIndex((o) => o.cseq === Number(cseqText));
    const request = this.outstanding[index];
    if (index < 0 || !request) {
      const open = this.outstanding.filter((o) => !o.ignored).map((o) => `${o.method} ${o.cseq}`);
      if (open.length === 0) return; // a late answer to a keep-alive we stopped tracking
      this.opts.onError(
        new RtspFailure(
          'protocol',
          `the camera answered CSeq ${cseqText} while Vigil waited for ${open.join(', ')}: its RTSP server is out of step`,
        ),
      );
      return;
    }
    this.outstanding.splice(index, 1);
    request.resolve(message);
  }
}

/** Throws the RtspFailure a non-2xx status means, naming the request. */
export function expectSuccess(method: string, response: RtspMessage): RtspMessage {
  const { status, reason } = response;
  if (status >= 200 && status < 300) return response;
  if (status === 401)
    throw new RtspFailure('unauthorized', "401 Unauthorized: check the camera's user name and password");
  if (status === 403) {
    throw new RtspFailure(
      'forbidden',
      '403 Forbidden: the camera refuses this user; check its permissions on the camera',
    );
  }
  if (status === 404) {
    throw new RtspFailure(
      'not_found',
      "404 Not Found: the camera has no stream at this path; check the URL's path",
    );
  }
  throw new RtspFailure('protocol', `the camera answered ${method} with ${status} ${reason}`);
}
