import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import { decodeFramesArgs } from '../../ingest/ffmpeg-args.js';
import type { FfmpegBinary } from '../../ingest/ffmpeg-binary.js';
import type { IngestFragment } from '../../ingest/fragment.js';
import { diesWithVigil } from '../../ingest/process.js';

/** A decoded frame: RGB, its size, and its presentation time on the ingest session's timeline. */
export interface DecodedFrame {
  rgb: Uint8Array;
  width: number;
  height: number;
  sessionId: number;
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

interface Session {
  child: DecoderProcess;
  sessionId: number;
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
 * ingest session; a new session (camera reconnected) restarts it with the new init segment.
 */
export class FrameDecoder {
  private session: Session | null = null;
  private stopped = false;

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
    if (this.session?.sessionId !== fragment.sessionId) {
      if (!fragment.parsed.startsWithKeyframe) return;
      this.startSession(fragment);
    }
    const session = this.session;
    if (!session) return;
    if (session.waitingForKeyframe) {
      if (!fragment.parsed.startsWithKeyframe) return;
      session.waitingForKeyframe = false;
    }
    if (session.pendingBytes > MAX_PENDING_BYTES) {
      session.waitingForKeyframe = true;
      return;
    }
    this.write(session, fragment.bytes);
  }

  stop(): void {
    this.stopped = true;
    this.endSession();
  }

  private startSession(fragment: IngestFragment): void {
    this.endSession();
    const video = fragment.init.tracks.find((t) => t.kind === 'video');
    if (!video?.width || !video.height) return;
    const size = analysisSize(video.width, video.height);
    const args = decodeFramesArgs({ ffmpegMajor: this.opts.ffmpeg.major, fps: this.opts.fps, ...size });
    const [command, commandArgs] = diesWithVigil(this.opts.ffmpeg.path, args);
    const child = spawn(command, commandArgs, { stdio: ['pipe', 'pipe', 'pipe'] });
    const session: Session = {
      child,
      sessionId: fragment.sessionId,
      timescale: video.timescale,
      ...size,
      pending: [],
      pendingBytes: 0,
      frames: [],
      ptsQueue: [],
      waitingForKeyframe: false,
    };
    this.session = session;
    this.readFrames(session);
    this.readTimes(session);
    child.stdin.on('error', () => undefined);
    child.stdin.on('drain', () => {
      session.pendingBytes = 0;
    });
    child.on('close', (code) => {
      if (this.session === session && !this.stopped) {
        this.opts.log.warn({ code }, 'analytics decoder exited; restarting at the next keyframe');
        this.session = null;
      }
    });
    this.write(session, fragment.init.bytes);
  }

  private write(session: Session, bytes: Buffer): void {
    if (!session.child.stdin.write(bytes)) session.pendingBytes += bytes.length;
  }

  /** Raw frames arrive in arbitrary chunks: cut them at width×height×3 bytes. */
  private readFrames(session: Session): void {
    const frameBytes = session.width * session.height * 3;
    let buffer: Buffer = Buffer.alloc(0);
    session.child.stdout.on('data', (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      while (buffer.length >= frameBytes) {
        session.frames.push(new Uint8Array(buffer.subarray(0, frameBytes)));
        buffer = buffer.subarray(frameBytes);
      }
      this.pair(session);
    });
  }

  /** showinfo prints one line per frame, in the same order as the frames on stdout. */
  private readTimes(session: Session): void {
    session.child.stderr.setEncoding('utf8');
    let partial = '';
    session.child.stderr.on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const match = /Parsed_showinfo.*\bpts_time:\s*(-?[\d.]+)/.exec(line);
        if (match) session.ptsQueue.push(Number(match[1]));
        else if (/error/i.test(line)) this.opts.log.debug({ ffmpeg: line.trim() }, 'analytics decoder');
      }
      this.pair(session);
    });
  }

  private pair(session: Session): void {
    while (session.frames.length > 0 && session.ptsQueue.length > 0) {
      const rgb = session.frames.shift() as Uint8Array;
      const ptsS = session.ptsQueue.shift() as number;
      this.opts.onFrame({
        rgb,
        width: session.width,
        height: session.height,
        sessionId: session.sessionId,
        ptsTicks: Math.round(ptsS * session.timescale),
      });
    }
  }

  private endSession(): void {
    const session = this.session;
    this.session = null;
    if (!session) return;
    session.child.stdin.end();
    session.child.kill('SIGKILL');
  }
}
