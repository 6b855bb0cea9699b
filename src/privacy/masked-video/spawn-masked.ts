import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { VigilError } from '../../errors/catalogue.js';
import { diesWithVigil } from '../../ingest/process.js';
import { MASK_PICTURE_FD } from './mask-args.js';

/** An ffmpeg that masks: media in on stdin, the mask picture on fd 3, media out on stdout. */
export interface MaskingProcess {
  child: ChildProcess;
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
}

/** Starts ffmpeg with the mask picture on its fd 3; it dies with Vigil. */
export function spawnMasking(ffmpegPath: string, args: readonly string[], maskPng: Buffer): MaskingProcess {
  const [command, commandArgs] = diesWithVigil(ffmpegPath, args);
  const child = spawn(command, commandArgs, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  const maskPipe = child.stdio[MASK_PICTURE_FD] as Writable;
  // EPIPE when ffmpeg fails early; the exit handler reports why.
  maskPipe.on('error', () => undefined);
  maskPipe.end(maskPng);
  const { stdin, stdout, stderr } = child as ChildProcess & {
    stdin: Writable;
    stdout: Readable;
    stderr: Readable;
  };
  stdin.on('error', () => undefined);
  return { child, stdin, stdout, stderr };
}

/** The last lines ffmpeg wrote to stderr: why it failed. */
export function keepStderrTail(stderr: Readable, lines = 8): () => string {
  const kept: string[] = [];
  let partial = '';
  stderr.setEncoding('utf8');
  stderr.on('data', (text: string) => {
    const split = (partial + text).split('\n');
    partial = split.pop() ?? '';
    for (const line of split) {
      if (line.trim() === '') continue;
      kept.push(line.trim());
      if (kept.length > lines) kept.shift();
    }
  });
  return () => [...kept, partial.trim()].filter((l) => l !== '').join('; ');
}

/**
 * Runs a masking ffmpeg to the end: `input` (if any) on stdin, stdout collected. A failure is
 * MASKED_VIDEO_FAILED: the caller gets an error, never the unmasked video.
 */
export function runMasking(
  ffmpegPath: string,
  args: readonly string[],
  maskPng: Buffer,
  input: Buffer | null,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const { child, stdin, stdout, stderr } = spawnMasking(ffmpegPath, args, maskPng);
    const out: Buffer[] = [];
    const why = keepStderrTail(stderr);
    stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.on('error', (err) => reject(maskingFailed(err.message)));
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(maskingFailed(why() || `ffmpeg exited with code ${code}`));
    });
    stdin.end(input ?? undefined);
  });
}

export function maskingFailed(reason: string): VigilError {
  return new VigilError(
    'MASKED_VIDEO_FAILED',
    `the video with privacy masks could not be made (${reason}); the unmasked video is not sent. ` +
      'check that the ffmpeg Vigil uses (system page) has libx264, and the server log',
  );
}
