import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gopParts, parseInitSegment, scanSegmentBuffer, type VirtualMp4 } from '../../media/mp4/index.js';
import type { PlayableSegment, PlaybackService } from '../../recording/playback.js';
import { maskOverlayPng, type MaskPolygon } from '../mask-overlay.js';
import { BoundedByteCache } from './bounded-cache.js';
import { decodeTimeShifts, firstPresentationTicks, shiftDecodeTimes } from './decode-times.js';
import { maskKey, maskedFileArgs, maskedPartArgs } from './mask-args.js';
import { maskingFailed, runMasking } from './spawn-masked.js';
import type { VideoTransform } from '../../media/video-transform.js';

/** Masked parts kept for players that seek back: ~25 GOPs of a 4 Mbit/s main stream at 2 s. */
export const MASKED_CACHE_BYTES = 64 * 1024 * 1024;

export interface MaskedPlaybackDeps {
  ffmpeg: { path: string; major: number };
  playback: Pick<PlaybackService, 'scan' | 'initBytes' | 'partStream'>;
  maxCacheBytes?: number;
}

/** An export with masks burnt in, in a temporary file that remove() deletes. */
export interface MaskedFile {
  path: string;
  byteLength: number;
  remove(): Promise<void>;
}

/**
 * Recordings with privacy masks for callers who must not see under them: each HLS part (one GOP)
 * re-encoded on request with the mask picture over it, on the recording's own timeline so the
 * playlist plays unchanged; results kept in a bounded cache by segment, part and mask set.
 * Exports are re-encoded whole.
 */
export class MaskedPlayback {
  private readonly cache: BoundedByteCache;

  constructor(private readonly deps: MaskedPlaybackDeps) {
    this.cache = new BoundedByteCache(deps.maxCacheBytes ?? MASKED_CACHE_BYTES);
  }

  /** The init segment the masked parts of this segment decode with. */
  async initBytes(segment: PlayableSegment, polygons: readonly MaskPolygon[]): Promise<Buffer> {
    const key = `init|${segment.id}|${maskKey(polygons)}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const first = gopParts(await this.deps.playback.scan(segment)).find((p) => p.startsWithKeyframe);
    if (!first) throw maskingFailed(`segment ${segment.id} has no keyframe yet`);
    const { init, fragments } = await this.maskPart(
      segment,
      first.offset,
      first.offset + first.length,
      polygons,
    );
    this.cache.set(key, init);
    this.cache.set(partKey(segment, first.offset, first.offset + first.length, polygons), fragments);
    return init;
  }

  /** Bytes [start, end) of the segment (whole fragments starting at a keyframe), masked. */
  async partBytes(
    segment: PlayableSegment,
    startByte: number,
    endByte: number,
    polygons: readonly MaskPolygon[],
  ): Promise<Buffer> {
    const bytes = await this.maskedPart(segment, startByte, endByte, polygons);
    void this.readAhead(segment, endByte, polygons);
    return bytes;
  }

  /**
   * Masks the part after the one just sent while the player plays that one: encoding a GOP takes
   * about as long as playing it on a busy machine, and a player asks for the next part only when
   * it needs it. A failure here is left for the player's own request to report.
   */
  private async readAhead(segment: PlayableSegment, startByte: number, polygons: readonly MaskPolygon[]) {
    try {
      const next = gopParts(await this.deps.playback.scan(segment)).find(
        (p) => p.offset === startByte && p.startsWithKeyframe,
      );
      if (next) await this.maskedPart(segment, next.offset, next.offset + next.length, polygons);
    } catch {
      // Reported when the player asks for it.
    }
  }

  private maskedPart(
    segment: PlayableSegment,
    startByte: number,
    endByte: number,
    polygons: readonly MaskPolygon[],
  ): Promise<Buffer> {
    return this.cache.getOrCompute(partKey(segment, startByte, endByte, polygons), async () => {
      const { init, fragments } = await this.maskPart(segment, startByte, endByte, polygons);
      this.cache.set(`init|${segment.id}|${maskKey(polygons)}`, init);
      return fragments;
    });
  }

  /** An export (or event clip) with the masks burnt in; the caller sends and then removes it. */
  async exportFile(mp4: VirtualMp4, polygons: readonly MaskPolygon[]): Promise<MaskedFile> {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-masked-'));
    const remove = () => rm(dir, { recursive: true, force: true });
    try {
      const inputPath = join(dir, 'input.mp4');
      const outputPath = join(dir, 'masked.mp4');
      await pipeline(mp4.createReadStream(0, mp4.byteLength - 1), createWriteStream(inputPath));
      await maskMp4(inputPath, outputPath, polygons, this.deps.ffmpeg.path, this.deps.ffmpeg.major);
      await rm(inputPath);
      return { path: outputPath, byteLength: (await stat(outputPath)).size, remove };
    } catch (err) {
      await remove();
      throw err;
    }
  }

  private async maskPart(
    segment: PlayableSegment,
    startByte: number,
    endByte: number,
    polygons: readonly MaskPolygon[],
  ): Promise<{ init: Buffer; fragments: Buffer }> {
    const scanned = await this.deps.playback.scan(segment);
    const part = await readAll(await this.deps.playback.partStream(segment, startByte, endByte));
    const video = scanned.init.tracks.find((t) => t.kind === 'video');
    if (!video?.width || !video.height) throw maskingFailed(`segment ${segment.id} has no video size`);
    const png = await maskOverlayPng(polygons, video.width, video.height);
    const output = await runMasking(
      this.deps.ffmpeg.path,
      maskedPartArgs({ timescale: video.timescale, ffmpegMajor: this.deps.ffmpeg.major }),
      png,
      Buffer.concat([scanned.init.bytes, part]),
    );
    const masked = scanSegmentBuffer(output);
    if (masked.fragments.length === 0) throw maskingFailed(`no frames came out of segment ${segment.id}`);
    const original = scanned.fragments.filter((f) => f.fileOffset >= startByte && f.fileOffset < endByte);
    const shifts = decodeTimeShifts(
      firstPresentationTicks(scanned.init, original),
      masked.init,
      firstPresentationTicks(masked.init, masked.fragments),
    );
    shiftDecodeTimes(output, masked.fragments, shifts);
    const first = masked.fragments[0]!;
    const last = masked.fragments.at(-1)!;
    return {
      init: Buffer.from(masked.init.bytes),
      fragments: Buffer.from(output.subarray(first.fileOffset, last.fileOffset + last.byteLength)),
    };
  }
}

/** Where a masked part is cached: the segment, the part's bytes and the mask set. */
export function partKey(
  segment: Pick<PlayableSegment, 'id'>,
  startByte: number,
  endByte: number,
  polygons: readonly MaskPolygon[],
): string {
  return `part|${segment.id}|${startByte}-${endByte}|${maskKey(polygons)}`;
}

/**
 * The export transform: `inputPath` (an MP4 with one video track, any layout) re-encoded to
 * `outputPath` with the polygons blacked out in every frame, audio copied. Throws
 * MASKED_VIDEO_FAILED when ffmpeg fails; then nothing is left at outputPath to send by mistake.
 */
export async function maskMp4(
  inputPath: string,
  outputPath: string,
  polygons: readonly MaskPolygon[],
  ffmpegPath: string,
  ffmpegMajor = 5,
): Promise<void> {
  const { width, height } = await mp4VideoSize(inputPath);
  const png = await maskOverlayPng(polygons, width, height);
  try {
    await runMasking(ffmpegPath, maskedFileArgs(inputPath, outputPath, ffmpegMajor), png, null);
  } catch (err) {
    await rm(outputPath, { force: true });
    throw err;
  }
}

/** The size of an MP4's video track, from its moov wherever it lies in the file. */
export async function mp4VideoSize(path: string): Promise<{ width: number; height: number }> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const header = Buffer.alloc(16);
    let offset = 0;
    let ftyp: Buffer = Buffer.alloc(0);
    while (offset + 8 <= size) {
      await file.read(header, 0, 16, offset);
      const boxSize = readSize(header, size - offset);
      const type = header.toString('latin1', 4, 8);
      if (type === 'ftyp' || type === 'moov') {
        const bytes = Buffer.alloc(boxSize);
        await file.read(bytes, 0, boxSize, offset);
        if (type === 'ftyp') ftyp = bytes;
        else {
          const video = parseInitSegment(Buffer.concat([ftyp, bytes])).tracks.find((t) => t.kind === 'video');
          if (video?.width && video.height) return { width: video.width, height: video.height };
          break;
        }
      }
      offset += boxSize;
    }
  } finally {
    await file.close();
  }
  throw maskingFailed(`${path} has no video track of known size`);
}

function readSize(header: Buffer, remaining: number): number {
  const size = header.readUInt32BE(0);
  if (size === 1) return Number(header.readBigUInt64BE(8));
  if (size === 0) return remaining;
  if (size < 8) throw maskingFailed(`a box has an impossible size ${size}`);
  return size;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The privacy masks as an export transform (src/export: a bundle's video, declared in its
 * manifest): the polygons hidden from the exporter, blacked out by re-encoding.
 */
export function maskTransform(
  polygons: readonly MaskPolygon[],
  ffmpeg: { path: string; major: number },
): VideoTransform {
  return {
    describe: () => ({
      name: 'privacy-masks',
      description: 'areas under privacy masks blacked out, re-encoded with H.264',
      polygons: polygons.map((polygon) => polygon.map(([x, y]) => [x, y])),
    }),
    apply: (inputPath, outputPath) => maskMp4(inputPath, outputPath, polygons, ffmpeg.path, ffmpeg.major),
  };
}
