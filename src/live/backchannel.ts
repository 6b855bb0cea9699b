import { Socket } from 'node:net';
import { randomInt } from 'node:crypto';
import { VigilError } from '../errors/catalogue.js';
import { RtspClient, expectSuccess } from '../ingest/rtsp/client.js';
import { parseSdp, resolveControl, type Sdp, type SdpMedia } from '../ingest/rtsp/sdp.js';

/** The RTSP option tag a client sends to be offered the camera's speaker (ONVIF Streaming §5.3). */
export const ONVIF_BACKCHANNEL = 'www.onvif.org/ver20/backchannel';

export type G711Codec = 'PCMU' | 'PCMA';

/** What Vigil can send to a speaker: G.711, which every ONVIF Profile T/S camera with audio out takes. */
const G711: ReadonlySet<string> = new Set<G711Codec>(['PCMU', 'PCMA']);

/** 20 ms per RTP packet, as RTP/AVP's default packetisation for G.711 (RFC 3551 §4.5). */
export const PACKET_MS = 20;

const RTP_CHANNEL = 0;
const KEEP_ALIVE_MS = 20_000;

/** The camera's backchannel section: the sendonly audio media it can decode, or null. Pure. */
export function backchannelMedia(sdp: Sdp): (SdpMedia & { encoding: G711Codec }) | null {
  const media = sdp.media.find(
    (m) => m.kind === 'audio' && m.direction === 'sendonly' && G711.has(m.encoding),
  );
  return media ? (media as SdpMedia & { encoding: G711Codec }) : null;
}

/** One RTP packet (RFC 3550 §5.1) with a G.711 payload. Pure. */
export function rtpPacket(fields: {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker: boolean;
  payload: Buffer;
}): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = (fields.marker ? 0x80 : 0) | (fields.payloadType & 0x7f);
  header.writeUInt16BE(fields.sequenceNumber & 0xffff, 2);
  header.writeUInt32BE(fields.timestamp >>> 0, 4);
  header.writeUInt32BE(fields.ssrc >>> 0, 8);
  return Buffer.concat([header, fields.payload]);
}

export interface BackchannelTarget {
  /** The camera's RTSP URL, without credentials. */
  url: string;
  user?: string;
  password?: string;
}

function unavailable(message: string): VigilError {
  return new VigilError('TALK_UNAVAILABLE', message);
}

/**
 * An RTSP session on the camera's ONVIF audio backchannel: DESCRIBE, SETUP and PLAY with the
 * backchannel Require header, then G.711 RTP interleaved on the RTSP connection (TCP, as for
 * ingest). A camera connection of its own: the stream Vigil records is not touched.
 */
export class RtspBackchannel {
  private readonly socket = new Socket();
  private readonly client: RtspClient;
  private media: (SdpMedia & { encoding: G711Codec }) | null = null;
  private playUrl = '';
  private pending = Buffer.alloc(0);
  private sequenceNumber = randomInt(0x10000);
  private timestamp = randomInt(0x1_0000_0000);
  private readonly ssrc = randomInt(0x1_0000_0000);
  private first = true;
  private keepAlive: NodeJS.Timeout | null = null;
  private failure: Error | null = null;

  constructor(
    private readonly target: BackchannelTarget,
    private readonly onEnded: (error: Error | null) => void,
  ) {
    this.client = new RtspClient({
      socket: this.socket,
      credentials: target.user !== undefined ? { user: target.user, password: target.password ?? '' } : null,
      onFrame: () => undefined,
      onError: (error) => this.end(error),
    });
  }

  /** The codec the camera asked for, once open. */
  get codec(): G711Codec | null {
    return this.media?.encoding ?? null;
  }

  get clockRate(): number {
    return this.media?.clockRate ?? 8000;
  }

  async open(timeoutMs: number): Promise<void> {
    const url = new URL(this.target.url);
    this.socket.setNoDelay(true);
    this.socket.on('error', (error) => this.end(error));
    this.socket.on('close', () => this.end(null));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(unavailable('the camera did not answer in time')), timeoutMs);
      this.socket.once('error', (error) => {
        clearTimeout(timer);
        reject(unavailable(`cannot reach the camera: ${error.message}`));
      });
      this.socket.connect(
        { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 554) },
        () => {
          clearTimeout(timer);
          resolve();
        },
      );
    });
    await this.handshake();
  }

  /** Audio samples in the camera's codec (one byte each): sent in 20 ms packets as they fill. */
  send(samples: Buffer): void {
    const media = this.media;
    if (!media || this.failure) return;
    this.pending = Buffer.concat([this.pending, samples]);
    const packetBytes = (media.clockRate * PACKET_MS) / 1000;
    while (this.pending.length >= packetBytes) {
      const payload = this.pending.subarray(0, packetBytes);
      this.pending = this.pending.subarray(packetBytes);
      const packet = rtpPacket({
        payloadType: media.payloadType,
        sequenceNumber: this.sequenceNumber,
        timestamp: this.timestamp,
        ssrc: this.ssrc,
        marker: this.first,
        payload,
      });
      this.first = false;
      this.sequenceNumber = (this.sequenceNumber + 1) & 0xffff;
      this.timestamp = (this.timestamp + packetBytes) >>> 0;
      const frame = Buffer.alloc(4);
      frame[0] = 0x24; // '$': an interleaved frame (RFC 2326 §10.12)
      frame[1] = RTP_CHANNEL;
      frame.writeUInt16BE(packet.length, 2);
      this.socket.write(Buffer.concat([frame, packet]));
    }
  }

  close(): void {
    if (this.client.session && this.playUrl) this.client.notify('TEARDOWN', this.playUrl, this.require());
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 500).unref();
    this.end(null);
  }

  private require(): Record<string, string> {
    return { Require: ONVIF_BACKCHANNEL };
  }

  private async handshake(): Promise<void> {
    const describe = await this.client.request('DESCRIBE', this.target.url, {
      Accept: 'application/sdp',
      ...this.require(),
    });
    // 551 Option not supported: the camera has no backchannel (RFC 2326 §11.3.14).
    if (describe.status === 551)
      throw unavailable('the camera has no audio backchannel (551 Option not supported)');
    expectSuccess('DESCRIBE', describe);
    const sdp = parseSdp(describe.body.toString('utf8'));
    const media = backchannelMedia(sdp);
    if (!media) {
      throw unavailable(
        'the camera offers no audio backchannel in G.711 (PCMU or PCMA); it may have no speaker',
      );
    }
    const header = (name: string) => describe.headers.get(name)?.[0];
    const base = resolveControl(
      header('content-base') ?? header('content-location') ?? this.target.url,
      sdp.control,
    );
    const setup = expectSuccess(
      'SETUP',
      await this.client.request('SETUP', resolveControl(base, media.control), {
        Transport: `RTP/AVP/TCP;unicast;interleaved=${RTP_CHANNEL}-${RTP_CHANNEL + 1}`,
        ...this.require(),
      }),
    );
    const session = setup.headers.get('session')?.[0]?.split(';')[0]?.trim();
    if (!session) throw unavailable('the camera answered SETUP without a session');
    this.client.session = session;
    this.playUrl = base;
    expectSuccess(
      'PLAY',
      await this.client.request('PLAY', base, { Range: 'npt=0.000-', ...this.require() }),
    );
    this.media = media;
    this.keepAlive = setInterval(() => this.client.notify('OPTIONS', base), KEEP_ALIVE_MS);
    this.keepAlive.unref();
  }

  private end(error: Error | null): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = null;
    if (this.failure) return;
    this.failure = error ?? new Error('closed');
    this.onEnded(error);
  }
}
