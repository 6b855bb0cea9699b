/**
 * Native ingest of one camera stream: RTSP over TCP (interleaved), H.264 depacketised and muxed
 * to the same fragmented MP4 ffmpeg would write, handed on as init and fragment events. The
 * supervisor runs it in place of an ffmpeg process when a stream says `ingest: native`.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIPv6, Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import type { Fragment } from '../../media/mp4/fragment.js';
import type { StreamError } from '../stream-errors.js';
import { RtspClient, RtspFailure, expectSuccess } from './client.js';
import { H264_CODEC, H265_CODEC, VideoFragmenter, type FragmenterOutput } from './fragmenter.js';
import type { InterleavedFrame, RtspMessage } from './framing.js';
import { H264Depacketiser, parseSpropParameterSets, type AccessUnit, type RtpDepacketiser } from './h264.js';
import { H265Depacketiser, parseHevcSpropParameterSets } from './h265.js';
import {
  Reorderer,
  RtpError,
  TimestampUnwrapper,
  parseRtp,
  parseSenderReports,
  type RtpPacket,
  type SenderReport,
} from './rtp.js';
import { SdpError, parseSdp, resolveControl, type SdpMedia } from './sdp.js';

export interface NativeSource {
  /** rtsp:// URL; user info in it is used for authentication and never sent in request lines. */
  url: string;
  transport: 'tcp' | 'udp';
  /** Connect and answer timeout, and how long the socket may stay silent. */
  ioTimeoutMs: number;
  /**
   * Audio the camera sends must be recorded (`ingest: auto` with audio not `off`): native ingest,
   * which records video only, then gives the stream up as `unsupported` so ffmpeg takes it.
   * False: audio is left out, with a warning.
   */
  audioRequired?: boolean;
}

export interface NativeIngestEvents {
  init: [bytes: Buffer];
  /** moof + mdat, and what parseFragment would read from it. */
  fragment: [bytes: Buffer, fragment: Fragment];
  /** The camera offers audio, which native ingest does not record: its encodings, for the log. */
  audio: [encodings: string];
  /**
   * Just before 'close': the stream works but native ingest cannot take it as it is (its video
   * codec, or audio that must be recorded); why, in words. ffmpeg can.
   */
  unsupported: [reason: string];
  /** Once, when the session has ended: null after stop(), else why it failed. */
  close: [error: StreamError | null];
}

/** A running native ingest as the supervisor sees it. */
export interface NativeIngest extends EventEmitter<NativeIngestEvents> {
  /** Ends the session (TEARDOWN, then the socket closes); 'close' follows with null. */
  stop(): void;
}

export type NativeStarter = (source: NativeSource) => NativeIngest;

export const startNativeIngest: NativeStarter = (source) => {
  const session = new RtspSession(source);
  session.start();
  return session;
};

const DEFAULT_SESSION_TIMEOUT_S = 60;
/**
 * A keyframe arrives as a burst of a few hundred packets; the kernel's default buffer (208 KiB on
 * Linux) drops the tail of a large one while the event loop is busy. The kernel caps this at
 * net.core.rmem_max.
 */
const UDP_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
/** Tries at finding an even UDP port whose successor is free too. */
const UDP_BIND_ATTEMPTS = 10;
/**
 * The socket reads into one buffer of this size, reused for every read: bytes are copied from it
 * straight into the fragments being built, so reading allocates nothing (a new buffer per read
 * was half of all the memory the process allocated, which set the pace of full collections).
 */
const SOCKET_READ_BYTES = 64 * 1024;
const RTP_CHANNEL = 0;
const RTCP_CHANNEL = 1;

/** The URL without user info (requests must not carry it), and the credentials it held. */
export function splitCredentials(
  url: string,
): { url: string; user: string; password: string } | { url: string } {
  const parsed = new URL(url);
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  const clean = parsed.toString();
  return user || password ? { url: clean, user, password } : { url: clean };
}

class RtspSession extends EventEmitter<NativeIngestEvents> implements NativeIngest {
  private readonly socket = new Socket(this.readIntoOneBuffer());
  private readonly client: RtspClient;
  private readonly requestUrl: string;
  private closed = false;
  private stopping = false;
  private keepAlive: NodeJS.Timeout | null = null;
  private playUrl = '';
  private media: MediaPipeline | null = null;
  /** The newest RTCP sender report: the camera's wall clock for an RTP timestamp. */
  lastSenderReport: SenderReport | null = null;
  /** RTP and RTCP sockets when the stream's transport is UDP. */
  private udpSockets: [UdpSocket, UdpSocket] | null = null;
  private udpWatch: NodeJS.Timeout | null = null;
  private udpPackets = 0;
  /** UDP packets from an address other than the camera's, dropped, and the last such address. */
  foreignUdpPackets = 0;
  private foreignAddress = '';

  constructor(private readonly source: NativeSource) {
    super();
    const split = splitCredentials(source.url);
    this.requestUrl = split.url;
    this.client = new RtspClient({
      socket: this.socket,
      credentials: 'user' in split ? { user: split.user, password: split.password } : null,
      onFrame: (frame) => this.onFrame(frame),
      onError: (err) => this.fail(err),
    });
  }

  /** Socket options: reads into one reused buffer (see SOCKET_READ_BYTES), handed to the client. */
  private readIntoOneBuffer(): SocketConstructorOpts & { onread: OnReadOpts } {
    const buffer = Buffer.allocUnsafe(SOCKET_READ_BYTES);
    // Node's Socket takes `onread` (as net.connect does); its type declarations leave it out.
    return {
      onread: {
        buffer,
        callback: (bytes) => {
          this.client.receive(buffer.subarray(0, bytes));
          return true;
        },
      },
    };
  }

  start(): void {
    const url = new URL(this.requestUrl);
    this.socket.setNoDelay(true);
    this.socket.setTimeout(this.source.ioTimeoutMs, () =>
      this.fail(
        new RtspFailure(
          'timeout',
          'connection timed out: the camera did not answer; check that it is powered and on the network',
        ),
      ),
    );
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new RtspFailure('closed', 'the camera closed the connection')));
    this.socket.connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 554) }, () => {
      this.handshake().catch((err: unknown) => this.fail(err as Error));
    });
  }

  stop(): void {
    if (this.closed) return;
    this.stopping = true;
    if (this.client.session && this.playUrl) this.client.notify('TEARDOWN', this.playUrl);
    this.socket.end();
    // A camera that keeps the socket open after TEARDOWN is not waited for.
    setTimeout(() => this.socket.destroy(), 500).unref();
    this.finish(null);
  }

  private async handshake(): Promise<void> {
    const options = await this.client.request('OPTIONS', this.requestUrl);
    const publicMethods = (options.headers.get('public') ?? []).join(',').toUpperCase();
    const describe = expectSuccess(
      'DESCRIBE',
      await this.client.request('DESCRIBE', this.requestUrl, { Accept: 'application/sdp' }),
    );
    const { video, base } = this.pickVideo(describe);
    this.media = new MediaPipeline(video, (output) => this.onOutput(output));
    const setupUrl = resolveControl(base, video.control);
    const udp = this.source.transport === 'udp' ? await this.openUdp() : null;
    const setupResponse = await this.client.request('SETUP', setupUrl, {
      Transport: udp
        ? `RTP/AVP;unicast;client_port=${udp.rtpPort}-${udp.rtpPort + 1}`
        : `RTP/AVP/TCP;unicast;interleaved=${RTP_CHANNEL}-${RTCP_CHANNEL}`,
    });
    if (udp && setupResponse.status === 461) {
      throw new RtspFailure(
        'unsupported',
        'the camera refuses RTP over UDP (461 Unsupported Transport): set the stream to `transport: tcp`',
      );
    }
    const setup = expectSuccess('SETUP', setupResponse);
    if (udp) this.punch(setup);
    const sessionHeader = setup.headers.get('session')?.[0];
    if (!sessionHeader)
      throw new RtspFailure('protocol', 'the camera answered SETUP without a Session header');
    const [id = '', ...params] = sessionHeader.split(';');
    this.client.session = id.trim();
    const timeoutS = Number(/timeout=(\d+)/i.exec(params.join(';'))?.[1] ?? DEFAULT_SESSION_TIMEOUT_S);
    // PLAY applies to the aggregate (session-level control) when there is one, else to the track.
    this.playUrl = base;
    expectSuccess('PLAY', await this.client.request('PLAY', this.playUrl, { Range: 'npt=0.000-' }));
    const keepAliveMethod = publicMethods.includes('GET_PARAMETER') ? 'GET_PARAMETER' : 'OPTIONS';
    const intervalMs = Math.max(5, timeoutS > 0 ? timeoutS : DEFAULT_SESSION_TIMEOUT_S) * 500;
    this.keepAlive = setInterval(() => this.client.notify(keepAliveMethod, this.playUrl), intervalMs);
    this.keepAlive.unref();
    if (udp) this.watchUdp();
  }

  /**
   * Two UDP sockets on an even port and the next (RTP and RTCP, RFC 3550 §11), taking only what
   * comes from the camera's address: another host cannot inject video into a recording.
   */
  private async openUdp(): Promise<{ rtpPort: number }> {
    const family = isIPv6(this.socket.remoteAddress ?? '') ? 'udp6' : 'udp4';
    for (let attempt = 0; attempt < UDP_BIND_ATTEMPTS; attempt += 1) {
      const rtp = createSocket({ type: family, recvBufferSize: UDP_RECEIVE_BUFFER_BYTES });
      const rtcp = createSocket(family);
      const rtpPort = await bind(rtp, 0);
      if (rtpPort % 2 === 0 && (await bind(rtcp, rtpPort + 1).catch(() => null)) !== null) {
        this.udpSockets = [rtp, rtcp];
        if (this.closed) {
          rtp.close();
          rtcp.close();
          throw new RtspFailure('closed', 'the session ended while it set up UDP');
        }
        rtp.on('message', (data, from) => this.onUdp(RTP_CHANNEL, data, from.address));
        rtcp.on('message', (data, from) => this.onUdp(RTCP_CHANNEL, data, from.address));
        for (const s of this.udpSockets) s.on('error', (err) => this.fail(err));
        return { rtpPort };
      }
      rtp.close();
      rtcp.close();
    }
    throw new RtspFailure('protocol', 'no free pair of UDP ports for RTP and RTCP on this machine');
  }

  private onUdp(channel: number, data: Buffer, from: string): void {
    if (from !== this.cameraAddress) {
      this.foreignUdpPackets += 1;
      this.foreignAddress = from;
      return;
    }
    this.udpPackets += 1;
    this.onFrame({ kind: 'frame', channel, data });
  }

  /**
   * A packet to each of the camera's ports opens the way back through a NAT or a stateful
   * firewall, as ffmpeg does; the camera ignores them.
   */
  private punch(setup: RtspMessage): void {
    const transport = setup.headers.get('transport')?.[0] ?? '';
    const ports = /server_port=(\d+)(?:-(\d+))?/i.exec(transport);
    if (!ports || !this.udpSockets) return;
    const rtpPort = Number(ports[1]);
    const rtcpPort = Number(ports[2] ?? rtpPort + 1);
    const [rtp, rtcp] = this.udpSockets;
    const empty = Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    rtp.send(empty, rtpPort, this.cameraAddress);
    rtcp.send(Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 0]), rtcpPort, this.cameraAddress);
  }

  /**
   * Over UDP the RTSP connection falls silent once PLAY has answered: its idle timeout is off,
   * and media that never arrives is named for what it most likely is.
   */
  private watchUdp(): void {
    this.socket.setTimeout(0);
    this.udpWatch = setTimeout(() => {
      if (this.udpPackets > 0) return;
      const seconds = Math.round(this.source.ioTimeoutMs / 1000);
      const why =
        this.foreignUdpPackets > 0
          ? `RTP came only from ${this.foreignAddress}, not from the camera's address ${this.cameraAddress}, and was dropped`
          : 'a firewall or NAT between Vigil and the camera may drop UDP';
      this.fail(
        new RtspFailure(
          'timeout',
          `no RTP over UDP within ${seconds} s of PLAY: ${why}; set the stream to \`transport: tcp\``,
        ),
      );
    }, this.source.ioTimeoutMs);
    this.udpWatch.unref();
  }

  private pickVideo(describe: RtspMessage): { video: SdpMedia; base: string } {
    let sdp;
    try {
      sdp = parseSdp(describe.body.toString('utf8'));
    } catch (err) {
      if (err instanceof SdpError)
        throw new RtspFailure('protocol', `unreadable SDP from the camera: ${err.message}`);
      throw err;
    }
    const videos = sdp.media.filter((m) => m.kind === 'video');
    if (videos.length === 0) {
      throw new RtspFailure(
        'no_video',
        'no video track: the stream has no video; check the URL points at a video stream',
      );
    }
    const video = videos.find((m) => NATIVE_VIDEO_ENCODINGS.has(m.encoding));
    if (!video) {
      const codecs = videos.map(encodingName).join(', ');
      throw new RtspFailure(
        'unsupported',
        `native ingest handles H.264 and H.265 video; this stream is ${codecs}`,
      );
    }
    if (Number(video.fmtp.get('sprop-max-don-diff') ?? 0) > 0) {
      throw new RtspFailure(
        'unsupported',
        'the camera sends H.265 in decoding order numbers (sprop-max-don-diff), which native ingest does not reorder',
      );
    }
    const audio = sdp.media.filter((m) => m.kind === 'audio');
    if (audio.length > 0) {
      const encodings = audio.map(encodingName).join(', ');
      if (this.source.audioRequired) {
        throw new RtspFailure(
          'unsupported',
          `the camera sends audio (${encodings}) and native ingest records video only`,
        );
      }
      this.emit('audio', encodings);
    }
    const header = (name: string) => describe.headers.get(name)?.[0];
    const sessionBase = header('content-base') ?? header('content-location') ?? this.requestUrl;
    const base = resolveControl(sessionBase, sdp.control);
    return { video, base: stripUserInfo(base) };
  }

  private onFrame(frame: InterleavedFrame): void {
    if (!this.media || this.closed) return;
    try {
      if (frame.channel === RTP_CHANNEL) this.media.pushRtp(frame.data);
      else if (frame.channel === RTCP_CHANNEL) {
        this.lastSenderReport = parseSenderReports(frame.data).at(-1) ?? this.lastSenderReport;
      }
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private onOutput(output: FragmenterOutput): void {
    if (this.closed) return;
    if (output.type === 'init') this.emit('init', output.bytes);
    else this.emit('fragment', output.bytes, output.fragment);
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.socket.destroy();
    if (err instanceof RtspFailure && err.kind === 'unsupported' && !this.stopping) {
      this.emit('unsupported', err.message);
    }
    this.finish(this.stopping ? null : toStreamError(err));
  }

  private get cameraAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  private finish(error: StreamError | null): void {
    if (this.closed) return;
    this.closed = true;
    if (this.keepAlive) clearInterval(this.keepAlive);
    if (this.udpWatch) clearTimeout(this.udpWatch);
    for (const s of this.udpSockets ?? []) s.close();
    this.emit('close', error);
  }
}

const NATIVE_VIDEO_ENCODINGS = new Set(['H264', 'H265']);

/** RTP of the chosen video track through reordering, depacketising and muxing. */
class MediaPipeline {
  private readonly reorderer = new Reorderer();
  private readonly unwrapper = new TimestampUnwrapper();
  private readonly depacketiser: RtpDepacketiser;
  private readonly fragmenter: VideoFragmenter;
  /** RTP packets that did not parse, counted rather than fatal (cameras send the odd broken one). */
  badPackets = 0;

  constructor(
    private readonly video: SdpMedia,
    private readonly emit: (output: FragmenterOutput) => void,
  ) {
    const clockRate = video.clockRate || 90000;
    if (video.encoding === 'H265') {
      this.depacketiser = new H265Depacketiser();
      this.fragmenter = new VideoFragmenter(H265_CODEC, clockRate, parseHevcSpropParameterSets(video.fmtp));
    } else {
      this.depacketiser = new H264Depacketiser();
      this.fragmenter = new VideoFragmenter(
        H264_CODEC,
        clockRate,
        parseSpropParameterSets(video.fmtp.get('sprop-parameter-sets')),
      );
    }
  }

  pushRtp(data: Buffer): void {
    let packet;
    try {
      packet = parseRtp(data);
    } catch (err) {
      if (!(err instanceof RtpError)) throw err;
      this.badPackets += 1;
      return;
    }
    if (packet.payloadType !== this.video.payloadType) return;
    this.reorderer.push(packet, this.depacketise);
  }

  private readonly depacketise = (packet: RtpPacket, lostBefore: number): void => {
    const timestamp = this.unwrapper.unwrap(packet.timestamp);
    // Indexed loops: a for-of made an iterator object for every packet.
    const units = this.depacketiser.push(packet, timestamp, lostBefore);
    for (let i = 0; i < units.length; i += 1) {
      const outputs = this.fragmenter.push(units[i] as AccessUnit);
      for (let j = 0; j < outputs.length; j += 1) this.emit(outputs[j] as FragmenterOutput);
    }
  };
}

/** Binds a UDP socket and resolves with its port; rejects when the port is taken. */
function bind(socket: UdpSocket, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, () => {
      socket.off('error', reject);
      resolve(socket.address().port);
    });
  });
}

function encodingName(media: SdpMedia): string {
  return media.encoding || `payload type ${media.payloadType}`;
}

function stripUserInfo(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

const SOCKET_ERRORS: Record<string, StreamError> = {
  ECONNREFUSED: {
    kind: 'connection_refused',
    message:
      'connection refused: nothing listens at this address and port; check the port and that RTSP is enabled',
  },
  EHOSTUNREACH: { kind: 'unreachable', message: 'host unreachable: check the IP address and the network' },
  ENETUNREACH: { kind: 'unreachable', message: 'host unreachable: check the IP address and the network' },
  ETIMEDOUT: {
    kind: 'timeout',
    message: 'connection timed out: the camera did not answer; check that it is powered and on the network',
  },
  ENOTFOUND: {
    kind: 'dns',
    message: "host name not found: check the camera's host name or use its IP address",
  },
  EAI_AGAIN: {
    kind: 'dns',
    message: "host name not found: check the camera's host name or use its IP address",
  },
};

/** The stream error a failure of the session means, in the same words as ffmpeg's failures. */
export function toStreamError(err: Error): StreamError {
  if (err instanceof RtspFailure) {
    switch (err.kind) {
      case 'unauthorized':
      case 'forbidden':
      case 'not_found':
      case 'no_video':
      case 'timeout':
        return { kind: err.kind, message: err.message };
      case 'protocol':
        return { kind: 'invalid_data', message: `RTSP: ${err.message}` };
      case 'unsupported':
        return {
          kind: 'invalid_data',
          message: `${err.message}: set the stream to \`ingest: auto\` or \`ffmpeg\``,
        };
      case 'closed':
        return { kind: 'ended', message: `${err.message}: reconnecting` };
    }
  }
  const code = (err as { code?: string }).code;
  const known = code ? SOCKET_ERRORS[code] : undefined;
  return known ?? { kind: 'exited', message: `native ingest failed: ${err.message}` };
}
