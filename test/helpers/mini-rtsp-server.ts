/**
 * A small but real RTSP server for tests on machines without the GStreamer camera emulator
 * (../shared/tools/rtsp-cameras). Each path (/cam<i>/main, /cam<i>/sub) is one looping ffmpeg
 * that packetises a file into RTP over UDP on localhost; this server relays those packets to
 * every playing client, interleaved in the RTSP connection (RFC 2326 §10.12), as cameras do
 * for `-rtsp_transport tcp`. UDP delivery to clients is refused with 461, so clients that try
 * it first (ffmpeg's default) must fall back to TCP, which ffmpeg does on its own; with `udp`
 * set it is offered too (`client_port`), sent from the server's own RTP and RTCP sockets.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { locateFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { spawnTracked, stopChild, type TrackedChild } from './children.js';

export interface CameraUrls {
  main: string;
  sub: string;
}

export interface MiniRtspServerOptions {
  /** 0 or absent: any free port. */
  port?: number;
  main: string;
  sub: string;
  /** Cameras cam1..cam<count>, each with a main and a sub stream. */
  count: number;
  /** With user (and password), every request but OPTIONS needs RFC 2617 Digest authentication. */
  user?: string;
  password?: string;
  /** Default: the ffmpeg Vigil itself would use (system, else the npm-shipped one). */
  ffmpegPath?: string;
  /**
   * ffmpeg's arguments for a path from its input up to its RTP output, given the path's `main`
   * or `sub` value. Default: the file looped in real time and its first video stream copied
   * (`-re -stream_loop -1 -i <file> -map 0:v:0 -c copy -an`). A live source needs its own: -re
   * would hold a live input back, for good, by as long as ffmpeg spent probing it, and a source
   * of raw frames needs an encoder.
   */
  sourceArgs?: (source: string) => string[];
  /** Deliver RTP over UDP to clients that SETUP with client_port (default: refused with 461). */
  udp?: boolean;
}

export interface MiniRtspServer {
  readonly port: number;
  /**
   * Holds the SDP files; every ffmpeg child has it in its command line, so
   * `pgrep -f <workDir>` finds exactly this server's children.
   */
  readonly workDir: string;
  /** URLs for camera i (1-based), with the credentials in them when the server has any. */
  urls(i: number): CameraUrls;
  /** Closes every client connection and stops every ffmpeg child; resolves once they have exited. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const REALM = 'Vigil mini camera';
const RTSP_SESSION_TIMEOUT_S = 60;
const SDP_WAIT_MS = 15_000;
/** A client this far behind a live stream is not keeping up; a camera would drop it too. */
const MAX_CLIENT_BACKLOG_BYTES = 32 * 1024 * 1024;
const MAX_HEADER_BYTES = 64 * 1024;
const KEYFRAME_WAIT_MS = 5000;
const MAX_NONCES = 1000;
const PUBLIC_METHODS = 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER';

/** Builds `rtsp://[user:password@]host:port/cam<i>/main|sub`. */
export function cameraUrls(
  port: number,
  i: number,
  credentials: { user?: string; password?: string } = {},
): CameraUrls {
  const auth = credentials.user
    ? `${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password ?? '')}@`
    : '';
  const base = `rtsp://${auth}${HOST}:${port}/cam${i}`;
  return { main: `${base}/main`, sub: `${base}/sub` };
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

interface Subscription {
  connection: Connection;
  source: Source;
  /** RTP goes on this interleaved channel, RTCP on the next. */
  channel: number;
  /** Over UDP instead: the client's RTP port (RTCP on the next). */
  udpPort: number | null;
  playing: boolean;
  /**
   * False until a keyframe: each client's stream starts with one, as the GStreamer emulator's
   * do, so both kinds of test camera behave alike (a recording of N seconds holds N seconds).
   */
  aligned: boolean;
  playingSinceMs: number;
}

/** One served path: a looping ffmpeg sending RTP to two UDP sockets of ours. */
class Source {
  readonly subscriptions = new Set<Subscription>();
  private child: TrackedChild | null = null;
  private starting: Promise<string> | null = null;
  private rtp: UdpSocket | null = null;
  private rtcp: UdpSocket | null = null;
  private codec: VideoCodec | null = null;
  /** The previous RTP packet ended an access unit (marker bit), so the next one starts one. */
  private atBoundary = true;
  /** The packets of the access unit in progress, for clients that start with it. */
  private accessUnit: Buffer[] = [];
  private accessUnitIsKey = false;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly file: string,
    private readonly workDir: string,
    private readonly ffmpegPath: Promise<string>,
    private readonly sourceArgs: (source: string) => string[] = loopedFileSource,
  ) {}

  /** Starts ffmpeg on first use and resolves with the SDP it wrote. */
  sdp(): Promise<string> {
    if (this.stopped) return Promise.reject(new Error('server stopped'));
    if (!this.starting) {
      const starting = this.start();
      this.starting = starting;
      // A failed start is not cached: the next DESCRIBE tries again.
      starting.catch(() => {
        if (this.starting === starting) this.starting = null;
      });
    }
    return this.starting;
  }

  private async start(): Promise<string> {
    const ffmpeg = await this.ffmpegPath;
    this.rtp ??= await bindUdp((packet) => this.relayRtp(packet));
    this.rtcp ??= await bindUdp((packet) => this.relayRtcp(packet));
    if (this.stopped) {
      this.closeSockets();
      throw new Error('server stopped');
    }
    const sdpFile = join(this.workDir, `${this.name}.sdp`);
    await rm(sdpFile, { force: true });
    const args = [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      ...this.sourceArgs(this.file),
      '-f',
      'rtp',
      '-payload_type',
      '96',
      '-sdp_file',
      sdpFile,
      `rtp://${HOST}:${port(this.rtp)}?rtcpport=${port(this.rtcp)}`,
    ];
    // Checked again after the last await: a stop() meanwhile must not be followed by a spawn.
    if (this.stopped) throw new Error('server stopped');
    const child = spawnTracked(ffmpeg, args, { deathSignal: 'KILL' });
    this.child = child;
    void child.exited.then(() => this.onExit(child));
    const deadline = Date.now() + SDP_WAIT_MS;
    for (;;) {
      const text = await readFile(sdpFile, 'utf8').catch(() => '');
      // ffmpeg writes the whole SDP in one go at close, but a read may still race the write.
      if (/^m=video /m.test(text) && /^a=rtpmap:/m.test(text) && text.endsWith('\n')) {
        const codec = /^a=rtpmap:\d+ (H264|H265)\//im.exec(text)?.[1]?.toUpperCase();
        this.codec = codec === 'H264' || codec === 'H265' ? codec : null;
        return text;
      }
      if (this.child !== child || child.process.exitCode !== null || child.process.signalCode !== null) {
        throw new Error(
          `ffmpeg for ${this.name} exited before writing its SDP: ${child.stderrTail().trim()}`,
        );
      }
      if (Date.now() > deadline) {
        await stopChild(child);
        throw new Error(
          `ffmpeg for ${this.name} wrote no SDP in ${SDP_WAIT_MS} ms: ${child.stderrTail().trim()}`,
        );
      }
      await sleep(50);
    }
  }

  private onExit(child: TrackedChild): void {
    if (this.child !== child) return;
    this.child = null;
    this.starting = null;
    if (this.stopped) return;
    console.error(`mini-rtsp: ffmpeg for ${this.name} exited: ${child.stderrTail().trim()}`);
    // Clients would otherwise wait for packets that never come; a camera that stops streaming closes too.
    for (const subscription of [...this.subscriptions]) subscription.connection.close();
  }

  private relayRtp(packet: Buffer): void {
    if (packet.length < 12) return;
    if (this.atBoundary) {
      this.accessUnit = [];
      this.accessUnitIsKey = false;
    }
    this.atBoundary = (packet[1] & 0x80) !== 0;
    this.accessUnit.push(packet);
    this.accessUnitIsKey ||= this.codec === null || startsKeyframeNal(packet, this.codec);
    const now = Date.now();
    for (const subscription of this.subscriptions) {
      if (!subscription.playing) continue;
      if (subscription.aligned) {
        this.deliver(subscription, false, packet);
        continue;
      }
      // The keyframe test is only a nicety: a stream without one it recognises still plays.
      const waitedTooLong =
        now - subscription.playingSinceMs > KEYFRAME_WAIT_MS && this.accessUnit.length === 1;
      if (!this.accessUnitIsKey && !waitedTooLong) continue;
      subscription.aligned = true;
      // From the start of the access unit: parameter sets (SPS, PPS) come before the keyframe.
      for (const earlier of waitedTooLong ? [packet] : this.accessUnit) {
        this.deliver(subscription, false, earlier);
      }
    }
  }

  private relayRtcp(packet: Buffer): void {
    for (const subscription of this.subscriptions) {
      // Sender reports refer to RTP the client has seen, so none before its first packet.
      if (subscription.aligned) this.deliver(subscription, true, packet);
    }
  }

  private deliver(subscription: Subscription, rtcp: boolean, packet: Buffer): void {
    const { udpPort } = subscription;
    if (udpPort === null) {
      subscription.connection.sendInterleaved(subscription.channel + (rtcp ? 1 : 0), packet);
      return;
    }
    const socket = rtcp ? this.rtcp : this.rtp;
    socket?.send(packet, udpPort + (rtcp ? 1 : 0), HOST);
  }

  /** The server's RTP and RTCP ports, for the Transport header of a UDP SETUP. */
  serverPorts(): string {
    return this.rtp && this.rtcp ? `${port(this.rtp)}-${port(this.rtcp)}` : '0-0';
  }

  private closeSockets(): void {
    for (const socket of [this.rtp, this.rtcp]) socket?.close();
    this.rtp = null;
    this.rtcp = null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    this.child = null;
    if (child) await stopChild(child, 2000);
    this.closeSockets();
  }
}

function loopedFileSource(file: string): string[] {
  return ['-re', '-stream_loop', '-1', '-i', file, '-map', '0:v:0', '-c', 'copy', '-an'];
}

type VideoCodec = 'H264' | 'H265';

/** The RTP payload, after the fixed header, CSRCs and any header extension (RFC 3550 §5.1). */
function rtpPayload(packet: Buffer): Buffer {
  let offset = 12 + 4 * (packet[0] & 0x0f);
  if (packet[0] & 0x10 && packet.length >= offset + 4) offset += 4 + 4 * packet.readUInt16BE(offset + 2);
  return packet.subarray(offset);
}

/**
 * Whether the packet begins an IDR/IRAP picture or a sequence parameter set (which cameras send
 * right before one): single NAL units, aggregation packets (STAP-A, AP) and the first fragment
 * of a fragmented unit (FU-A, FU), per RFC 6184 and RFC 7798.
 */
export function startsKeyframeNal(packet: Buffer, codec: VideoCodec): boolean {
  const payload = rtpPayload(packet);
  if (codec === 'H264') {
    const isKey = (type: number) => type === 5 || type === 7;
    if (payload.length < 2) return false;
    const type = payload[0] & 0x1f;
    if (type === 24) {
      for (let at = 1; at + 3 <= payload.length; at += 2 + payload.readUInt16BE(at)) {
        if (isKey(payload[at + 2] & 0x1f)) return true;
      }
      return false;
    }
    if (type === 28 || type === 29) return (payload[1] & 0x80) !== 0 && isKey(payload[1] & 0x1f);
    return isKey(type);
  }
  const isKey = (type: number) => (type >= 16 && type <= 21) || type === 32 || type === 33;
  if (payload.length < 3) return false;
  const type = (payload[0] >> 1) & 0x3f;
  if (type === 48) {
    for (let at = 2; at + 3 <= payload.length; at += 2 + payload.readUInt16BE(at)) {
      if (isKey((payload[at + 2] >> 1) & 0x3f)) return true;
    }
    return false;
  }
  if (type === 49) return (payload[2] & 0x80) !== 0 && isKey(payload[2] & 0x3f);
  return isKey(type);
}

function port(socket: UdpSocket): number {
  return socket.address().port;
}

async function bindUdp(onPacket: (packet: Buffer) => void): Promise<UdpSocket> {
  // A keyframe arrives as a burst of packets while this process may be busy (an in-process Vigil
  // shares its event loop): a large buffer keeps the burst instead of dropping its tail.
  const socket = createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
  socket.on('message', onPacket);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, HOST, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  // Losing a UDP packet is not worth crashing the test process over.
  socket.on('error', () => undefined);
  return socket;
}

interface Request {
  method: string;
  uri: string;
  version: string;
  headers: Map<string, string>;
  body: Buffer;
}

interface Response {
  status: number;
  reason: string;
  headers?: Array<[string, string]>;
  body?: string;
  /** Runs right after the response is written, before any other event: PLAY starts the packets here. */
  after?: () => void;
}

type PathMatch = { source: Source; track: boolean } | null;

class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  private queue: Promise<void> = Promise.resolve();
  private rtspSessionId: string | null = null;
  private readonly subscriptions: Subscription[] = [];
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly server: RtspServer,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribeAll();
    this.socket.destroy();
    this.server.forget(this);
  }

  sendInterleaved(channel: number, packet: Buffer): void {
    if (this.closed) return;
    if (this.socket.writableLength > MAX_CLIENT_BACKLOG_BYTES) {
      this.close();
      return;
    }
    const header = Buffer.allocUnsafe(4);
    header[0] = 0x24;
    header[1] = channel;
    header.writeUInt16BE(packet.length, 2);
    this.socket.write(Buffer.concat([header, packet]));
  }

  private unsubscribeAll(): void {
    for (const subscription of this.subscriptions) subscription.source.subscriptions.delete(subscription);
    this.subscriptions.length = 0;
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    while (this.buffer.length > 0 && !this.closed) {
      if (this.buffer[0] === 0x24) {
        // Interleaved data from the client: RTCP receiver reports, which a test server can ignore.
        if (this.buffer.length < 4) return;
        const end = 4 + this.buffer.readUInt16BE(2);
        if (this.buffer.length < end) return;
        this.buffer = this.buffer.subarray(end);
        continue;
      }
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) {
        if (this.buffer.length > MAX_HEADER_BYTES) this.close();
        return;
      }
      const lines = this.buffer.subarray(0, headerEnd).toString('utf8').split('\r\n');
      const [method = '', uri = '', version = ''] = (lines[0] ?? '').split(' ');
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      const length = Number(headers.get('content-length') ?? '0') || 0;
      const bodyStart = headerEnd + 4;
      if (this.buffer.length < bodyStart + length) return;
      const request: Request = {
        method,
        uri,
        version,
        headers,
        body: this.buffer.subarray(bodyStart, bodyStart + length),
      };
      this.buffer = this.buffer.subarray(bodyStart + length);
      // Responses go out in request order even when one (DESCRIBE) waits for ffmpeg.
      this.queue = this.queue.then(() => this.answer(request));
    }
  }

  private async answer(request: Request): Promise<void> {
    let response: Response;
    try {
      response = await this.handle(request);
    } catch (error) {
      console.error(`mini-rtsp: ${request.method} ${request.uri}: ${(error as Error).message}`);
      response = { status: 500, reason: 'Internal Server Error' };
    }
    if (this.closed) return;
    const body = response.body ?? '';
    const head = [`RTSP/1.0 ${response.status} ${response.reason}`];
    const cseq = request.headers.get('cseq');
    if (cseq !== undefined) head.push(`CSeq: ${cseq}`);
    head.push('Server: vigil-mini-rtsp');
    for (const [name, value] of response.headers ?? []) head.push(`${name}: ${value}`);
    if (body) head.push(`Content-Length: ${Buffer.byteLength(body)}`);
    this.socket.write(`${head.join('\r\n')}\r\n\r\n${body}`);
    response.after?.();
  }

  private async handle(request: Request): Promise<Response> {
    if (request.version !== 'RTSP/1.0') return { status: 505, reason: 'RTSP Version Not Supported' };
    if (request.method === 'OPTIONS') {
      return { status: 200, reason: 'OK', headers: [['Public', PUBLIC_METHODS]] };
    }
    const challenge = this.server.checkAuth(request);
    if (challenge) return challenge;
    switch (request.method) {
      case 'DESCRIBE':
        return this.describe(request);
      case 'SETUP':
        return this.setup(request);
      case 'PLAY':
      case 'PAUSE':
        return this.playOrPause(request);
      case 'TEARDOWN':
        return this.teardown(request);
      case 'GET_PARAMETER':
        return { status: 200, reason: 'OK', headers: this.rtspSessionHeader() };
      default:
        return { status: 501, reason: 'Not Implemented', headers: [['Public', PUBLIC_METHODS]] };
    }
  }

  private async describe(request: Request): Promise<Response> {
    const match = this.server.match(request.uri);
    if (!match || match.track) return notFound();
    const sdp = await match.source.sdp();
    const base = `${stripQuery(request.uri).replace(/\/+$/, '')}/`;
    return {
      status: 200,
      reason: 'OK',
      headers: [
        ['Content-Type', 'application/sdp'],
        ['Content-Base', base],
      ],
      body: describeSdp(sdp, match.source.name),
    };
  }

  private async setup(request: Request): Promise<Response> {
    const match = this.server.match(request.uri);
    if (!match) return notFound();
    const rtspSessionError = this.checkRtspSession(request, true);
    if (rtspSessionError) return rtspSessionError;
    const header = request.headers.get('transport') ?? '';
    const udpPort = this.server.udp ? chooseUdpTransport(header) : null;
    const transport = chooseTcpTransport(header) ?? (udpPort !== null ? {} : null);
    if (!transport) {
      return {
        status: 461,
        reason: 'Unsupported Transport',
        headers: [['Transport', 'RTP/AVP/TCP;unicast;interleaved=0-1']],
      };
    }
    // Clients that SETUP without DESCRIBE (they cached the SDP) still need the stream running.
    await match.source.sdp();
    if (this.closed) return notFound();
    const used = new Set(this.subscriptions.flatMap((s) => [s.channel, s.channel + 1]));
    let channel = transport.channel ?? 0;
    if (transport.channel === undefined) while (used.has(channel) || used.has(channel + 1)) channel += 2;
    if (used.has(channel) || used.has(channel + 1) || channel > 254) {
      return { status: 461, reason: 'Unsupported Transport' };
    }
    const subscription: Subscription = {
      connection: this,
      source: match.source,
      channel,
      udpPort,
      playing: false,
      aligned: false,
      playingSinceMs: 0,
    };
    this.subscriptions.push(subscription);
    match.source.subscriptions.add(subscription);
    this.rtspSessionId ??= randomBytes(8).toString('hex').toUpperCase();
    return {
      status: 200,
      reason: 'OK',
      headers: [
        [
          'Transport',
          udpPort !== null
            ? `RTP/AVP;unicast;client_port=${udpPort}-${udpPort + 1};server_port=${match.source.serverPorts()}`
            : `RTP/AVP/TCP;unicast;interleaved=${channel}-${channel + 1}`,
        ],
        ...this.rtspSessionHeader(),
      ],
    };
  }

  private playOrPause(request: Request): Response {
    const rtspSessionError = this.checkRtspSession(request, false);
    if (rtspSessionError) return rtspSessionError;
    if (this.subscriptions.length === 0) return { status: 455, reason: 'Method Not Valid in This State' };
    const play = request.method === 'PLAY';
    return {
      status: 200,
      reason: 'OK',
      headers: [...(play ? [['Range', 'npt=0.000-'] as [string, string]] : []), ...this.rtspSessionHeader()],
      after: () => {
        for (const subscription of this.subscriptions) {
          subscription.playing = play;
          subscription.aligned = false;
          subscription.playingSinceMs = Date.now();
        }
      },
    };
  }

  private teardown(request: Request): Response {
    const rtspSessionError = this.checkRtspSession(request, false);
    if (rtspSessionError) return rtspSessionError;
    this.unsubscribeAll();
    this.rtspSessionId = null;
    return { status: 200, reason: 'OK' };
  }

  /** RTSP sessions belong to the connection, so a missing Session header means this connection's own. */
  private checkRtspSession(request: Request, forSetup: boolean): Response | null {
    const given = request.headers.get('session')?.split(';')[0]?.trim();
    if (given === undefined ? forSetup || this.rtspSessionId !== null : given === this.rtspSessionId)
      return null;
    return { status: 454, reason: 'Session Not Found' };
  }

  private rtspSessionHeader(): Array<[string, string]> {
    return this.rtspSessionId ? [['Session', `${this.rtspSessionId};timeout=${RTSP_SESSION_TIMEOUT_S}`]] : [];
  }
}

function notFound(): Response {
  return { status: 404, reason: 'Not Found' };
}

function stripQuery(uri: string): string {
  return uri.replace(/[?#].*$/, '');
}

/** The client's RTP port of the first UDP alternative in a Transport header, or null. */
function chooseUdpTransport(header: string): number | null {
  for (const spec of header.split(',')) {
    const parts = spec.trim().split(';');
    if (!/^RTP\/AVP(\/UDP)?$/i.test(parts[0] ?? '')) continue;
    const ports = parts.find((p) => p.startsWith('client_port='));
    const first = ports ? Number(ports.slice('client_port='.length).split('-')[0]) : NaN;
    if (Number.isInteger(first) && first > 0 && first < 65535) return first;
  }
  return null;
}

/** The first TCP alternative in a Transport header (alternatives are comma-separated), or null. */
function chooseTcpTransport(header: string): { channel?: number } | null {
  for (const spec of header.split(',')) {
    const parts = spec.trim().split(';');
    if (!/^RTP\/AVP\/TCP$/i.test(parts[0] ?? '')) continue;
    const interleaved = parts.find((p) => p.startsWith('interleaved='));
    const first = interleaved ? Number(interleaved.slice('interleaved='.length).split('-')[0]) : NaN;
    return Number.isInteger(first) && first >= 0 ? { channel: first } : {};
  }
  return null;
}

/**
 * ffmpeg's SDP describes its UDP output; a DESCRIBE answer describes the stream independent of
 * transport, with a control URL per track for SETUP.
 */
function describeSdp(ffmpegSdp: string, name: string): string {
  const out: string[] = [];
  for (const line of ffmpegSdp.split(/\r?\n/)) {
    if (line === '' || line.startsWith('a=rtcp:')) continue;
    if (line.startsWith('s=')) out.push(`s=Vigil mini camera ${name}`);
    else if (line.startsWith('c=')) out.push('c=IN IP4 0.0.0.0');
    else if (line.startsWith('t=')) out.push(line, 'a=control:*', 'a=range:npt=0-');
    else if (line.startsWith('m=')) out.push(line.replace(/^(m=\S+) \d+/, '$1 0'));
    else out.push(line);
  }
  // Exactly one media section: ffmpeg is told to send the first video stream only.
  out.push('a=control:trackID=0');
  return `${out.join('\r\n')}\r\n`;
}

/** Parses `Digest a="b", c=d, …` into its parameters. */
function parseDigest(header: string): Map<string, string> | null {
  const match = /^Digest\s+(.*)$/is.exec(header.trim());
  if (!match) return null;
  const params = new Map<string, string>();
  for (const part of (match[1] ?? '').matchAll(/([A-Za-z-]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))/g)) {
    params.set((part[1] ?? '').toLowerCase(), part[2] ?? part[3] ?? '');
  }
  return params;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

class RtspServer {
  private readonly connections = new Set<Connection>();
  private readonly sources = new Map<string, Source>();
  private readonly nonces = new Set<string>();
  readonly tcp: Server;
  readonly udp: boolean;

  constructor(
    private readonly options: MiniRtspServerOptions,
    workDir: string,
    ffmpegPath: Promise<string>,
  ) {
    this.udp = options.udp === true;
    for (let i = 1; i <= options.count; i += 1) {
      for (const stream of ['main', 'sub'] as const) {
        const name = `cam${i}-${stream}`;
        this.sources.set(
          `/cam${i}/${stream}`,
          new Source(name, options[stream], workDir, ffmpegPath, options.sourceArgs),
        );
      }
    }
    this.tcp = createServer((socket) => this.connections.add(new Connection(socket, this)));
  }

  forget(connection: Connection): void {
    this.connections.delete(connection);
  }

  /** /cam<i>/<stream> (the aggregate) or /cam<i>/<stream>/trackID=0 (the one track). */
  match(uri: string): PathMatch {
    let path: string;
    try {
      path = uri.startsWith('/') ? stripQuery(uri) : new URL(uri).pathname;
    } catch {
      return null;
    }
    path = path.replace(/\/+$/, '');
    const track = path.endsWith('/trackID=0');
    const source = this.sources.get(track ? path.slice(0, -'/trackID=0'.length) : path);
    return source ? { source, track } : null;
  }

  /** Null when the request may proceed, else the 401 to answer with. */
  checkAuth(request: Request): Response | null {
    const { user, password = '' } = this.options;
    if (!user) return null;
    const params = parseDigest(request.headers.get('authorization') ?? '');
    if (params) {
      const nonce = params.get('nonce') ?? '';
      const ha1 = md5(`${user}:${REALM}:${password}`);
      const ha2 = md5(`${request.method}:${params.get('uri') ?? ''}`);
      const qop = params.get('qop');
      const expected = qop
        ? md5(`${ha1}:${nonce}:${params.get('nc') ?? ''}:${params.get('cnonce') ?? ''}:${qop}:${ha2}`)
        : md5(`${ha1}:${nonce}:${ha2}`);
      if (
        params.get('username') === user &&
        params.get('realm') === REALM &&
        this.nonces.has(nonce) &&
        sameText((params.get('response') ?? '').toLowerCase(), expected)
      ) {
        return null;
      }
    }
    const nonce = randomBytes(16).toString('hex');
    this.nonces.add(nonce);
    // Sets iterate in insertion order, so this drops the oldest nonce.
    if (this.nonces.size > MAX_NONCES) this.nonces.delete(this.nonces.values().next().value ?? '');
    // No qop offered: many cameras do the same, and it is the RFC 2069-compatible form clients must handle.
    return {
      status: 401,
      reason: 'Unauthorized',
      headers: [['WWW-Authenticate', `Digest realm="${REALM}", nonce="${nonce}", algorithm="MD5"`]],
    };
  }

  async listen(port: number): Promise<number> {
    // A port just released by a restart can take a moment to become free again.
    for (let attempt = 0; ; attempt += 1) {
      try {
        await new Promise<void>((resolve, reject) => {
          this.tcp.once('error', reject);
          this.tcp.listen(port, HOST, () => {
            this.tcp.off('error', reject);
            resolve();
          });
        });
        const address = this.tcp.address();
        if (address === null || typeof address === 'string') throw new Error('no TCP address');
        return address.port;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0 || attempt >= 20) {
          throw error;
        }
        await sleep(100);
      }
    }
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    for (const connection of [...this.connections]) connection.close();
    await Promise.all([...this.sources.values()].map((source) => source.stop()));
    await closed;
  }
}

const workDirsToRemove = new Set<string>();
let exitHookInstalled = false;

/** Removes work dirs of servers a test forgot to stop (children.ts kills their ffmpegs). */
function forgetOnExit(workDir: string, remove: boolean): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const dir of workDirsToRemove) rmSync(dir, { recursive: true, force: true });
    });
  }
  if (remove) workDirsToRemove.add(workDir);
  else workDirsToRemove.delete(workDir);
}

/** Starts the server; ffmpeg children start when a path is first described, and run until stop(). */
export async function startMiniRtspServer(options: MiniRtspServerOptions): Promise<MiniRtspServer> {
  if (!Number.isInteger(options.count) || options.count < 1) {
    throw new Error('count must be a positive integer');
  }
  const workDir = await mkdtemp(join(tmpdir(), 'vigil-mini-rtsp-'));
  forgetOnExit(workDir, true);
  const ffmpegPath = options.ffmpegPath
    ? Promise.resolve(options.ffmpegPath)
    : locateFfmpeg().then((binary) => binary.path);
  // Rejections surface where a source awaits it; this only keeps an early failure from being unhandled.
  ffmpegPath.catch(() => undefined);
  const server = new RtspServer(options, workDir, ffmpegPath);
  let listeningPort: number;
  try {
    listeningPort = await server.listen(options.port ?? 0);
  } catch (error) {
    forgetOnExit(workDir, false);
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
  let stopping: Promise<void> | null = null;
  return {
    port: listeningPort,
    workDir,
    urls(i: number): CameraUrls {
      if (!Number.isInteger(i) || i < 1 || i > options.count) {
        throw new RangeError(`camera ${i} does not exist: the server has cam1..cam${options.count}`);
      }
      return cameraUrls(listeningPort, i, options);
    },
    stop(): Promise<void> {
      stopping ??= server.stop().finally(() => {
        forgetOnExit(workDir, false);
        return rm(workDir, { recursive: true, force: true });
      });
      return stopping;
    },
  };
}
