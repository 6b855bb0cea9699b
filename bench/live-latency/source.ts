/**
 * The synthetic camera: frames stamped with the wall-clock time they are made, served raw over
 * TCP to the mini RTSP server's ffmpeg, which encodes them with x264 and sends RTP: the camera's
 * encoder is the process that packetises, as in a real camera, with no extra hop that buffers.
 * Also the reference reader: an ffmpeg that pulls the same RTSP stream and decodes it, with no
 * player in between, for the floor that any ffmpeg-based RTSP client starts from.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { blankFrame, blockCenter, decodeTimecode, drawFrame, LAYOUT } from './timecode.js';

export interface LiveSourceOptions {
  fps: number;
  gopSeconds: number;
}

export interface LiveSource {
  /** tcp://… URL the encoder reads raw frames from. */
  readonly url: string;
  /** ffmpeg arguments from input to just before the RTP output (for the mini RTSP server). */
  encoderArgs(url: string): string[];
  /** Frames made since start, whether or not an encoder was connected. */
  framesMade(): number;
  /** Frames made more than one frame interval after their slot: the event loop was busy. */
  framesLate(): number;
  /** Most bytes ever queued for an encoder: large means the encoder could not keep up. */
  maxBacklogBytes(): number;
  stop(): Promise<void>;
}

/** Above this much unsent data an encoder is hopelessly behind: it is cut off and reconnects. */
const MAX_BACKLOG_BYTES = 64 * 1024 * 1024;

export async function startLiveSource(options: LiveSourceOptions): Promise<LiveSource> {
  const { width, height } = LAYOUT;
  const gop = Math.max(1, Math.round(options.fps * options.gopSeconds));
  const clients = new Set<Socket>();
  const server: Server = createServer((socket) => {
    socket.setNoDelay(true);
    clients.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => clients.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('frame server has no TCP address');

  const background = blankFrame(width, height);
  const periodMs = 1000 / options.fps;
  const startedAt = performance.now();
  let made = 0;
  let late = 0;
  let maxBacklog = 0;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  // Every slot of the frame clock gets a frame, late ones too: the encoder stamps frames by
  // count, so a skipped slot would make the stream run slower than the wall clock, and players
  // would drift behind for reasons of this source, not of theirs.
  const tick = () => {
    if (stopped) return;
    const now = performance.now();
    const due = Math.floor((now - startedAt) / periodMs) + 1;
    while (made < due) {
      if (now - (startedAt + made * periodMs) > periodMs) late += 1;
      const frame = Buffer.allocUnsafe(width * height);
      drawFrame(frame, background, LAYOUT, Date.now(), made);
      for (const socket of clients) {
        maxBacklog = Math.max(maxBacklog, socket.writableLength);
        if (socket.writableLength > MAX_BACKLOG_BYTES) socket.destroy();
        else socket.write(frame);
      }
      made += 1;
    }
    timer = setTimeout(tick, Math.max(0, startedAt + made * periodMs - performance.now()));
  };
  tick();

  return {
    url: `tcp://127.0.0.1:${address.port}`,
    encoderArgs: (url) => [
      '-f',
      'rawvideo',
      '-pix_fmt',
      'gray',
      '-video_size',
      `${width}x${height}`,
      '-framerate',
      String(options.fps),
      '-i',
      url,
      '-map',
      '0:v:0',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      // No lookahead and no frame threads: x264 emits each frame as soon as it has it, as cameras do.
      '-tune',
      'zerolatency',
      '-g',
      String(gop),
      '-keyint_min',
      String(gop),
      '-sc_threshold',
      '0',
      '-bf',
      '0',
      // Browsers decode 4:2:0 only; from grey input x264 would pick 4:0:0.
      '-pix_fmt',
      'yuv420p',
      '-an',
    ],
    framesMade: () => made,
    framesLate: () => late,
    maxBacklogBytes: () => maxBacklog,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      for (const socket of clients) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface ReferenceReader {
  /** Decoded frames: wall-clock ms at which ffmpeg handed each over, and the time written in it. */
  take(): Array<{ atMs: number; captureMs: number | null }>;
  stderrTail(): string;
  stop(): Promise<void>;
}

const SETPRIV = '/usr/bin/setpriv';

/**
 * ffmpeg decoding the RTSP stream to raw grey frames on stdout (only the rows with the
 * timecode). Not through spawnTracked: that helper reads stdout as text lines.
 */
export function startReferenceReader(ffmpeg: string, inputArgs: string[]): ReferenceReader {
  const { width } = LAYOUT;
  const lastBlock = blockCenter(LAYOUT, LAYOUT.columns * LAYOUT.rows - 1, width);
  const rows = Math.ceil(lastBlock.y + lastBlock.size / 2);
  const frameBytes = width * rows;
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-fflags',
    'nobuffer',
    // low_delay and one thread: frame threading would hold each frame back by the thread count.
    '-flags',
    'low_delay',
    '-threads',
    '1',
    ...inputArgs,
    '-map',
    '0:v:0',
    '-vf',
    `crop=${width}:${rows}:0:0`,
    '-pix_fmt',
    'gray',
    '-f',
    'rawvideo',
    '-flush_packets',
    '1',
    'pipe:1',
  ];
  const useSetpriv = process.platform === 'linux' && existsSync(SETPRIV);
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(
    useSetpriv ? SETPRIV : ffmpeg,
    useSetpriv ? ['--pdeathsig', 'KILL', '--', ffmpeg, ...args] : args,
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  child.on('error', () => undefined);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => (stderr = (stderr + text).slice(-4096)));
  let frames: Array<{ atMs: number; captureMs: number | null }> = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    const atMs = Date.now();
    pending.push(chunk);
    pendingBytes += chunk.length;
    while (pendingBytes >= frameBytes) {
      const all = Buffer.concat(pending);
      const frame = all.subarray(0, frameBytes);
      pending = [all.subarray(frameBytes)];
      pendingBytes = all.length - frameBytes;
      const result = decodeTimecode((index) => {
        const { x, y, size } = blockCenter(LAYOUT, index, width);
        const half = Math.floor(size / 4);
        let sum = 0;
        for (let py = Math.round(y - half); py < Math.round(y + half); py += 1) {
          for (let px = Math.round(x - half); px < Math.round(x + half); px += 1)
            sum += frame[py * width + px] ?? 0;
        }
        return sum / (4 * half * half);
      });
      frames.push({ atMs, captureMs: result.ok ? result.ms : null });
    }
  });
  return {
    take() {
      const out = frames;
      frames = [];
      return out;
    },
    stderrTail: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}
