import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { FfmpegBinary } from '../../ingest/ffmpeg-binary.js';
import { diesWithVigil } from '../../ingest/process.js';
import { VigilError } from '../../errors/catalogue.js';

export interface VideoSize {
  width: number;
  height: number;
}

/** Last lines of ffmpeg's stderr, for an error that says what went wrong. */
function tail(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ');
}

/** The first video stream's size, from what `ffmpeg -i` prints (Vigil needs no ffprobe). */
export async function probeVideoSize(ffmpeg: FfmpegBinary, inputPath: string): Promise<VideoSize> {
  const [command, args] = diesWithVigil(ffmpeg.path, ['-hide_banner', '-nostdin', '-i', inputPath]);
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  await once(child, 'close');
  const size = parseVideoSize(stderr);
  if (!size)
    throw new VigilError(
      'REDACTION_FAILED',
      `${inputPath} has no video stream ffmpeg can read: ${tail(stderr)}`,
    );
  return size;
}

/** "Stream #0:0(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv), 720x528 [SAR 1:1 DAR 15:11], …" → size. */
export function parseVideoSize(ffmpegInfo: string): VideoSize | null {
  for (const line of ffmpegInfo.split('\n')) {
    if (!/Stream #\d+:\d+.*: Video:/.test(line)) continue;
    const match = /[\s,](\d{2,5})x(\d{2,5})[\s,]/.exec(line);
    if (match) return { width: Number(match[1]), height: Number(match[2]) };
  }
  return null;
}

/**
 * Decodes the first video stream to RGB frames, one call of `onFrame` each, in order; the next
 * frame is read only once `onFrame` has settled (backpressure through the pipe). Resolves with each
 * frame's presentation time in milliseconds, read from showinfo.
 */
export async function decodeFrames(
  ffmpeg: FfmpegBinary,
  inputPath: string,
  size: VideoSize,
  onFrame: (rgb: Uint8Array, index: number) => void | Promise<void>,
): Promise<number[]> {
  const [command, args] = diesWithVigil(ffmpeg.path, [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'info',
    '-i',
    inputPath,
    '-map',
    '0:v:0',
    '-vf',
    'showinfo',
    ...(ffmpeg.major >= 5 ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough']),
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ptsMs: number[] = [];
  let stderrTail = '';
  let partial = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderrTail = (stderrTail + text).slice(-4000);
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const match = /\] n:\s*\d+ pts:\s*-?\d+ pts_time:(-?[\d.]+)/.exec(line);
      if (match) ptsMs.push(Number(match[1]) * 1000);
    }
  });
  const closed = once(child, 'close') as Promise<[number | null]>;
  const frameBytes = size.width * size.height * 3;
  let frame = new Uint8Array(frameBytes);
  let filled = 0;
  let index = 0;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const take = Math.min(frameBytes - filled, chunk.length - offset);
        frame.set(chunk.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === frameBytes) {
          await onFrame(frame, index++);
          frame = new Uint8Array(frameBytes);
          filled = 0;
        }
      }
    }
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const [code] = await closed;
  if (code !== 0)
    throw new VigilError('REDACTION_FAILED', `ffmpeg could not decode ${inputPath}: ${tail(stderrTail)}`);
  // Every frame needs its time: a frame without one would fall outside the plan, and go unblurred.
  if (ptsMs.length < index)
    throw new VigilError(
      'REDACTION_FAILED',
      `ffmpeg reported times for ${ptsMs.length} of ${index} frames of ${inputPath}`,
    );
  return ptsMs.slice(0, index);
}

export interface FrameEncoder {
  /** Resolves when ffmpeg has taken the frame (its pipe drained). */
  write(rgb: Uint8Array): Promise<void>;
  /** Ends the input and waits for the file to be complete. */
  finish(): Promise<void>;
  /** Stops ffmpeg without finishing the file. */
  abort(): void;
}

/**
 * Encodes RGB frames at a constant `framesPerSecond` with libx264 into a progressive MP4 (moov at
 * the front), yuv420p so every player opens it. No audio: see docs/design/redaction.md.
 */
export function startEncoder(
  ffmpeg: FfmpegBinary,
  outputPath: string,
  size: VideoSize,
  framesPerSecond: number,
): FrameEncoder {
  const [command, args] = diesWithVigil(ffmpeg.path, [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-s',
    `${size.width}x${size.height}`,
    '-framerate',
    framesPerSecond.toFixed(6),
    '-i',
    'pipe:0',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '20',
    '-pix_fmt',
    'yuv420p',
    '-movflags',
    '+faststart',
    '-y',
    outputPath,
  ]);
  const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));
  const closed = once(child, 'close') as Promise<[number | null]>;
  // A write after ffmpeg died fails with EPIPE; the exit code says why.
  child.stdin.on('error', () => {});
  const failure = () =>
    new VigilError(
      'REDACTION_FAILED',
      `ffmpeg could not encode ${outputPath}: ${tail(stderr) || 'it exited'}`,
    );
  return {
    async write(rgb) {
      if (child.exitCode !== null) throw failure();
      if (!child.stdin.write(rgb)) await Promise.race([once(child.stdin, 'drain'), closed]);
    },
    async finish() {
      child.stdin.end();
      const [code] = await closed;
      if (code !== 0) throw failure();
    },
    abort() {
      child.kill('SIGKILL');
    },
  };
}
