import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import sharp from 'sharp';

/** A packed RGB frame (height × width × 3 bytes, no row padding), as the detection pipeline has it. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** A box in pixels of the frame. */
export interface PixelBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface SnapshotJpegs {
  /** The whole frame with the box drawn. */
  frame: Buffer;
  /** The region around the box. */
  crop: Buffer;
  /** Where the crop lies in the frame, in pixels (privacy masks are mapped into the crop with it). */
  cropRegion: PixelBox;
}

const FRAME_QUALITY = 80;
const CROP_QUALITY = 85;
/** Context kept around the box in the crop, as a fraction of the box's size on each side. */
const CROP_MARGIN = 0.25;
/** A crop is never smaller than this (a distant person is a few pixels wide)… */
const CROP_MIN_SIDE_PX = 64;
/** …nor bigger: a crop of a car filling the frame need not be the frame again. */
const CROP_MAX_SIDE_PX = 480;
const BOX_COLOUR = '#ff3b30';

function rawInput(image: RgbImage) {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
}

/** The box clamped to the frame, on whole pixels, at least 1×1. */
function clampBox(box: PixelBox, width: number, height: number): PixelBox {
  const x1 = Math.min(Math.max(0, Math.floor(box.x)), width - 1);
  const y1 = Math.min(Math.max(0, Math.floor(box.y)), height - 1);
  const x2 = Math.min(Math.max(x1 + 1, Math.ceil(box.x + box.width)), width);
  const y2 = Math.min(Math.max(y1 + 1, Math.ceil(box.y + box.height)), height);
  return { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
}

/** The crop region: the box with a margin, grown to the minimum side, inside the frame. */
export function cropRegion(box: PixelBox, width: number, height: number): PixelBox {
  const inner = clampBox(box, width, height);
  const cropWidth = Math.min(
    width,
    Math.max(CROP_MIN_SIDE_PX, Math.round(inner.width * (1 + 2 * CROP_MARGIN))),
  );
  const cropHeight = Math.min(
    height,
    Math.max(CROP_MIN_SIDE_PX, Math.round(inner.height * (1 + 2 * CROP_MARGIN))),
  );
  const centreX = inner.x + inner.width / 2;
  const centreY = inner.y + inner.height / 2;
  const x = Math.min(Math.max(0, Math.round(centreX - cropWidth / 2)), width - cropWidth);
  const y = Math.min(Math.max(0, Math.round(centreY - cropHeight / 2)), height - cropHeight);
  return { x, y, width: cropWidth, height: cropHeight };
}

function boxSvg(box: PixelBox, width: number, height: number): Buffer {
  const inner = clampBox(box, width, height);
  // Thick enough to see on a phone, thin enough not to hide a small object.
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 240));
  const half = stroke / 2;
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
      `<rect x="${inner.x + half}" y="${inner.y + half}" width="${Math.max(1, inner.width - stroke)}" ` +
      `height="${Math.max(1, inner.height - stroke)}" fill="none" stroke="${BOX_COLOUR}" stroke-width="${stroke}"/>` +
      `</svg>`,
  );
}

/** Renders an event's two JPEGs from an RGB frame: the frame with the box drawn, and a crop around it. */
export async function renderSnapshots(image: RgbImage, box: PixelBox): Promise<SnapshotJpegs> {
  const { width, height } = image;
  const region = cropRegion(box, width, height);
  const longest = Math.max(region.width, region.height);
  const [frame, crop] = await Promise.all([
    rawInput(image)
      .composite([{ input: boxSvg(box, width, height), top: 0, left: 0 }])
      .jpeg({ quality: FRAME_QUALITY })
      .toBuffer(),
    rawInput(image)
      .extract({ left: region.x, top: region.y, width: region.width, height: region.height })
      .resize(
        longest > CROP_MAX_SIDE_PX
          ? { width: CROP_MAX_SIDE_PX, height: CROP_MAX_SIDE_PX, fit: 'inside' }
          : {},
      )
      .jpeg({ quality: CROP_QUALITY })
      .toBuffer(),
  ]);
  return { frame, crop, cropRegion: region };
}

/**
 * Writes a file so that readers see the old content or the new, never a torn one: a temporary
 * file in the same folder, flushed, then renamed over the target.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.datasync();
  } catch (err) {
    await handle.close();
    await rm(temporary, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}
