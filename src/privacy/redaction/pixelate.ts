import type { Box } from '../../analytics/geometry.js';
import type { RgbImage } from '../../analytics/detector/index.js';

/**
 * Blocks across the longer side of a box, at most: 5 blocks leave a face as a few flat colours.
 * Research on de-pixelation shows faces recognisable at 8×8 and above, so this stays below it.
 */
export const BLOCKS_ACROSS = 5;
/** Block sides are multiples of this, on a grid anchored at the frame's corner (see below). */
const BLOCK_STEP_PX = 8;

/** The block side for a box: about a fifth of its longer side, a multiple of 8, at least 8 px. */
export function blockSizeFor(box: Box): number {
  const wanted = Math.max(box.width, box.height) / BLOCKS_ACROSS;
  return Math.max(BLOCK_STEP_PX, Math.ceil(wanted / BLOCK_STEP_PX) * BLOCK_STEP_PX);
}

/**
 * Pixelates the boxes in place: every block of the grid that a box touches becomes the mean
 * colour of that block. The output inside a box depends only on the block means, so no
 * sharpening brings back detail (many pictures give the same output). The grid is anchored at the
 * frame's corner, not at the box: a box that moves by a pixel does not shift the blocks, so
 * frames cannot be averaged against each other to recover sub-block detail. Pure apart from
 * writing into `frame`.
 */
export function pixelateBoxes(frame: RgbImage, boxes: readonly Box[]): void {
  for (const box of boxes) pixelateBox(frame, box);
}

/** The pixels a box's pixelation changes: the box out to whole blocks of the grid, inside the frame. */
export function pixelatedRect(box: Box, frame: { width: number; height: number }): Box {
  const block = blockSizeFor(box);
  const x0 = Math.max(0, Math.floor(box.x / block) * block);
  const y0 = Math.max(0, Math.floor(box.y / block) * block);
  const x1 = Math.min(frame.width, Math.ceil((box.x + box.width) / block) * block);
  const y1 = Math.min(frame.height, Math.ceil((box.y + box.height) / block) * block);
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}

function pixelateBox(frame: RgbImage, box: Box): void {
  const block = blockSizeFor(box);
  const { x: x0, y: y0, width, height } = pixelatedRect(box, frame);
  const x1 = x0 + width;
  const y1 = y0 + height;
  for (let by = y0; by < y1; by += block) {
    for (let bx = x0; bx < x1; bx += block) {
      fillBlockWithMean(frame, bx, by, Math.min(bx + block, x1), Math.min(by + block, y1));
    }
  }
}

function fillBlockWithMean(frame: RgbImage, x0: number, y0: number, x1: number, y1: number): void {
  const { data, width } = frame;
  let r = 0;
  let g = 0;
  let b = 0;
  for (let y = y0; y < y1; y++) {
    for (let i = (y * width + x0) * 3, end = (y * width + x1) * 3; i < end; i += 3) {
      r += data[i]!;
      g += data[i + 1]!;
      b += data[i + 2]!;
    }
  }
  const count = (x1 - x0) * (y1 - y0);
  if (count <= 0) return;
  const mr = Math.round(r / count);
  const mg = Math.round(g / count);
  const mb = Math.round(b / count);
  for (let y = y0; y < y1; y++) {
    for (let i = (y * width + x0) * 3, end = (y * width + x1) * 3; i < end; i += 3) {
      data[i] = mr;
      data[i + 1] = mg;
      data[i + 2] = mb;
    }
  }
}
