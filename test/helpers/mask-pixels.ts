import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { FFMPEG } from './media-tools.js';

/**
 * Pixel checks for privacy masks: whether a region of a picture or of a video's first frame is
 * blacked out, measured on what a decoder gives.
 */

/** A normalised rectangle [x1, y1, x2, y2]. */
export type Rect = [number, number, number, number];

/** Mean luma (0..255) at or below which a region counts as blacked out; JPEG noise stays well under it. */
export const BLACK_MAX = 6;

/** The rectangle as a mask polygon (config and API shape). */
export function polygon([x1, y1, x2, y2]: Rect): Array<[number, number]> {
  return [
    [x1, y1],
    [x2, y1],
    [x2, y2],
    [x1, y2],
  ];
}

/** Mean luma of a normalised rectangle of a picture. */
export async function meanLuma(image: Buffer, [x1, y1, x2, y2]: Rect): Promise<number> {
  const { data, info } = await sharp(image).greyscale().raw().toBuffer({ resolveWithObject: true });
  let sum = 0;
  let count = 0;
  for (let y = Math.floor(y1 * info.height); y < Math.ceil(y2 * info.height); y++) {
    for (let x = Math.floor(x1 * info.width); x < Math.ceil(x2 * info.width); x++) {
      sum += data[y * info.width + x]!;
      count += 1;
    }
  }
  return sum / count;
}

/** The first frame of an MP4, as JPEG, decoded by ffmpeg. */
export async function firstFrame(mp4: Buffer): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-first-frame-'));
  try {
    await writeFile(join(dir, 'in.mp4'), mp4);
    await promisify(execFile)(FFMPEG, [
      '-v',
      'error',
      '-i',
      join(dir, 'in.mp4'),
      '-frames:v',
      '1',
      join(dir, 'f.jpg'),
    ]);
    return await sharp(join(dir, 'f.jpg')).toBuffer();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
