import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import { decodeFramesArgs } from '../../ingest/ffmpeg-args.js';
import type { FfmpegBinary } from '../../ingest/ffmpeg-binary.js';
import type { IngestFragment } from '../../ingest/fragment.js';
import { diesWithVigil } from '../../ingest/process.js';

/** A decoded frame: RGB, its size, and its presentation time on the ingest connection's timeline. */
export interface DecodedFrame {
  rgb: Uint8Array;
  width: number;
  height: number;
  connectionId: number;
  /** Presentation time in the video track's ticks (the fragments' own clock). */
  ptsTicks: number;
}

/** Longest side of the frames analytics sees: enough for people at 20 m, cheap to decode and move. */
export const MAX_ANALYSIS_WIDTH = 640;
/** Fragments queued for ffmpeg beyond this are dropped (up to the next keyframe): analytics lags, recording does not. */
const MAX_PENDING_BYTES = 4 * 1024 * 1024;

/** The analysis size: the stream's own size, scaled down to MAX_ANALYSIS_WIDTH, even numbers. */
export function analysisSize(width: number, height: number): { width: number; height: number } {
  const scale = Math.min(1, MAX_ANALYSIS_WIDTH / width);
  const even = (n: number) => Math.max(2, Math.round((n * scale) / 2) * 2);
  return { width: even(width), height: even(height) };
}

type DecoderProcess = ChildProcessByStdio<Writable, Readable, Readable>;

/** One ffmpeg decoding the fragments of one ingest connection. */
interface Decoding {
  child: DecoderProcess;
  connectionId: number;
  timescale: number;
  width: number;
  height: number;
  pending: Buffer[];
  pendingBytes: number;
  /** Frames from stdout and their times from stderr, paired in order. */
  frames: Uint8Array[];
  ptsQueue: number[];
  waitingForKeyframe: boolean;
}

/**
 * Turns a stream's fragments (the same ones recording gets: no second camera connection) into
 * RGB frames at about `fps`, each with its capture time on the stream's timeline. One ffmpeg per
 * ingest connection; a new connection (camera reconnected) restarts it with the new init segment.
 */
export class FrameDecoder {
  private decoding: Decoding | null = null;
  private stopped = false;
  /** Fragments dropped because ffmpeg fell behind (MAX_PENDING_BYTES): analytics skipped them. */
  droppedFragmentCount = 0;

  constructor(
    private readonly opts: {
      ffmpeg: FfmpegBinary;
      fps: number;
      log: Logger;
      onFrame: (frame: DecodedFrame) => void;
    },
  ) {}

  push(fragment: IngestFragment): void {
    if (this.stopped) return;
    if (this.decoding?.connectionId !== fragment.connectionId) {
      if (!fragment.parsed.startsWithKeyframe) return;
      this.startDecoding(fragment);
    }
    const decoding = this.decoding;
    if (!decoding) return;
    if (decoding.waitingForKeyframe) {
      if (!fragment.parsed.startsWithKeyframe) {
        this.droppedFragmentCount += 1;
        return;
      }
      decoding.waitingForKeyframe = false;
    }
    if (decoding.pendingBytes > MAX_PENDING_BYTES) {
      decoding.waitingForKeyframe = true;
      this.droppedFragmentCount += 1;
      return;
    }
    this.write(decoding, fragment.bytes);
  }

  stop(): void {
    this.stopped = true;
    this.endDecoding();
  }

  private startDecoding(fragment: IngestFragment): void {
    this.endDecoding();
    const video = fragment.init.tracks.find((t) => t.kind === 'video');
    if (!video?.width || !video.height) return;
    const size = analysisSize(video.width, video.height);
    const args = decodeFramesArgs({ ffmpegMajor: this.opts.ffmpeg.major, fps: this.opts.fps, ...size });
    const [command, commandArgs] = diesWithVigil(this.opts.ffmpeg.path, args);
    const child = spawn(command, commandArgs, { stdio: ['pipe', 'pipe', 'pipe'] });
    const decoding: Decoding = {
      child,
      connectionId: fragment.connectionId,
      timescale: video.timescale,
      ...size,
      pending: [],
      pendingBytes: 0,
      frames: [],
      ptsQueue: [],
      waitingForKeyframe: false,
    };
    this.decoding = decoding;
    this.readFrames(decoding);
    this.readTimes(decoding);
    child.stdin.on('error', () => undefined);
    child.stdin.on('drain', () => {
      decoding.pendingBytes = 0;
    });
    child.on('close', (code) => {
      if (this.decoding === decoding && !this.stopped) {
        this.opts.log.warn({ code }, 'analytics decoder exited; restarting at the next keyframe');
        this.decoding = null;
      }
    });
    this.write(decoding, fragment.init.bytes);
  }

  private write(decoding: Decoding, bytes: Buffer): void {
    if (!decoding.child.stdin.write(bytes)) decoding.pendingBytes += bytes.length;
  }

  /** Raw frames arrive in arbitrary chunks: cut them at width×height×3 bytes. */
  private readFrames(decoding: Decoding): void {
    const frameBytes = decoding.width * decoding.height * 3;
    let buffer: Buffer = Buffer.alloc(0);
    decoding.child.stdout.on('data', (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      while (buffer.length >= frameBytes) {
        decoding.frames.push(new Uint8Array(buffer.subarray(0, frameBytes)));
        buffer = buffer.subarray(frameBytes);
      }
      this.pair(decoding);
    });
  }

  /** showinfo prints one line per frame, in the same order as the frames on stdout. */
  private readTimes(decoding: Decoding): void {
    decoding.child.stderr.setEncoding('utf8');
    let partial = '';
    decoding.child.stderr.on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const match = /Parsed_showinfo.*\bpts_time:\s*(-?[\d.]+)/.exec(line);
        if (match) decoding.ptsQueue.push(Number(match[1]));
        else if (/error/i.test(line)) this.opts.log.debug({ ffmpeg: line.trim() }, 'analytics decoder');
      }
      this.pair(decoding);
    });
  }

  private pair(decoding: Decoding): void {
    while (decoding.frames.length > 0 && decoding.ptsQueue.length > 0) {
      const rgb = decoding.frames.shift() as Uint8Array;
      const ptsS = decoding.ptsQueue.shift() as number;
      this.opts.onFrame({
        rgb,
        width: decoding.width,
        height: decoding.height,
        connectionId: decoding.connectionId,
        ptsTicks: Math.round(ptsS * decoding.timescale),
      });
    }
  }

  private endDecoding(): void {
    const decoding = this.decoding;
    this.decoding = null;
    if (!decoding) return;
    decoding.child.stdin.end();
    decoding.child.kill('SIGKILL');
  }
}
