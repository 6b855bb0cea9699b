import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { G711Codec } from './backchannel.js';

/** The payload type ffmpeg is told the browser's Opus has; packets are rewritten to it. */
const OPUS_PAYLOAD_TYPE = 111;

/** ffmpeg's arguments: Opus RTP described by `sdpPath` in, G.711 at the camera's rate out on stdout. Pure. */
export function talkTranscodeArgs(sdpPath: string, codec: G711Codec, sampleRate: number): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-protocol_whitelist',
    'file,udp,rtp',
    // Speech is live: no probing or buffering ahead of the first packet.
    '-fflags',
    'nobuffer',
    '-probesize',
    '32',
    '-analyzeduration',
    '0',
    '-i',
    sdpPath,
    '-vn',
    '-ac',
    '1',
    '-ar',
    String(sampleRate),
    '-f',
    codec === 'PCMU' ? 'mulaw' : 'alaw',
    '-flush_packets',
    '1',
    'pipe:1',
  ];
}

/** The SDP that tells ffmpeg where the Opus RTP arrives. Pure. */
export function opusSdp(port: number): string {
  return [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=talk',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP ${OPUS_PAYLOAD_TYPE}`,
    `a=rtpmap:${OPUS_PAYLOAD_TYPE} opus/48000/2`,
    '',
  ].join('\n');
}

async function freeUdpPort(): Promise<number> {
  const probe = createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * Opus from the browser's microphone to the G.711 the camera's speaker wants: the RTP packets
 * werift receives go to an ffmpeg on a loopback UDP port, ffmpeg's raw G.711 comes back on stdout.
 */
export class TalkTranscoder {
  private child: ChildProcessWithoutNullStreams | null = null;
  private udp: Socket | null = null;
  private port = 0;
  private dir: string | null = null;

  constructor(
    private readonly ffmpegPath: string,
    private readonly codec: G711Codec,
    private readonly sampleRate: number,
    private readonly onSamples: (samples: Buffer) => void,
  ) {}

  async start(): Promise<void> {
    this.port = await freeUdpPort();
    this.dir = mkdtempSync(join(tmpdir(), 'vigil-talk-'));
    const sdpPath = join(this.dir, 'talk.sdp');
    writeFileSync(sdpPath, opusSdp(this.port));
    const child = spawn(this.ffmpegPath, talkTranscodeArgs(sdpPath, this.codec, this.sampleRate), {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout.on('data', (chunk: Buffer) => this.onSamples(chunk));
    child.stderr.resume();
    child.on('error', () => undefined);
    this.udp = createSocket('udp4');
  }

  /** One RTP packet of the browser's Opus, as received. */
  push(packet: Buffer): void {
    if (!this.udp || packet.length < 12) return;
    const copy = Buffer.from(packet);
    copy[1] = (copy[1]! & 0x80) | OPUS_PAYLOAD_TYPE;
    this.udp.send(copy, this.port, '127.0.0.1');
  }

  stop(): void {
    this.child?.kill('SIGKILL');
    this.child = null;
    this.udp?.close();
    this.udp = null;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}
