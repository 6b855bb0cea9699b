import { spawn } from 'node:child_process';
import { snapshotArgs } from '../ingest/ffmpeg-args.js';
import type { IngestFragment } from '../ingest/fragment.js';
import { VigilError } from '../errors/catalogue.js';

/**
 * The fragments since the last keyframe, so a snapshot can decode the latest frame without
 * touching the disk or the camera. Bounded: a GOP longer than maxFragments is cut at its head.
 */
export class LatestGop {
  private fragments: IngestFragment[] = [];
  private cached: { fragment: IngestFragment; jpeg: Promise<Buffer> } | null = null;

  constructor(private readonly maxFragments = 30) {}

  add(fragment: IngestFragment): void {
    const startsGop = fragment.parsed.startsWithKeyframe;
    const sameConnection = this.fragments[0]?.connectionId === fragment.connectionId;
    if (startsGop || !sameConnection) this.fragments = [];
    if (!startsGop && this.fragments.length === 0) return;
    this.fragments.push(fragment);
    if (this.fragments.length > this.maxFragments) this.fragments = [];
  }

  clear(): void {
    this.fragments = [];
    this.cached = null;
  }

  /** The latest frame as JPEG; concurrent requests for the same frame share one decode. */
  snapshot(ffmpegPath: string): Promise<Buffer> {
    const last = this.fragments.at(-1);
    const first = this.fragments[0];
    if (!last || !first) {
      return Promise.reject(
        new VigilError(
          'SNAPSHOT_UNAVAILABLE',
          'the stream has not delivered a frame yet; try again in a few seconds',
        ),
      );
    }
    if (this.cached?.fragment === last) return this.cached.jpeg;
    const videoTrackId = first.init.tracks.find((t) => t.kind === 'video')?.trackId;
    const frameCount = this.fragments.reduce(
      (n, f) => n + (f.parsed.tracks.find((t) => t.trackId === videoTrackId)?.samples.length ?? 0),
      0,
    );
    const input = Buffer.concat([first.init.bytes, ...this.fragments.map((f) => f.bytes)]);
    const jpeg = decodeLastFrame(ffmpegPath, input, frameCount);
    this.cached = { fragment: last, jpeg };
    jpeg.catch(() => {
      if (this.cached?.jpeg === jpeg) this.cached = null;
    });
    return jpeg;
  }
}

function decodeLastFrame(ffmpegPath: string, input: Buffer, frameCount: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath, snapshotArgs(frameCount), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const jpeg = Buffer.concat(out);
      if (code === 0 && jpeg.length > 0) resolve(jpeg);
      else
        reject(
          new VigilError(
            'SNAPSHOT_UNAVAILABLE',
            `cannot decode the latest frame: ${stderr.trim().split('\n').at(-1) ?? code}`,
          ),
        );
    });
    // EPIPE when ffmpeg fails early; the close handler reports why.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}
