/**
 * The wall-clock time a frame was made, written into its pixels as big black and white blocks,
 * so whoever shows the frame can tell how old it is without any side channel.
 *
 * 64 blocks, row by row: a 4-bit start marker, the time in ms (44 bits, most significant first)
 * and a CRC-16 of it. Blocks are 32×32 px in a 640×360 frame: after H.264 at any sane quality and
 * scaling to any size a player picks, the middle of a block is still clearly black or white.
 * The marker catches a frame that is not ours or is read at the wrong place; the CRC catches
 * blocks misread because the decoder showed a broken picture (a lost reference, a half-decoded
 * frame).
 *
 * decodeTimecode and blockCenter run inside the browser too (their source is sent to the page):
 * they must stay self-contained, using nothing outside their own bodies and their parameters.
 */

export interface TimecodeLayout {
  /** The frame size the layout is drawn for; readers scale positions to the size they see. */
  width: number;
  height: number;
  x0: number;
  y0: number;
  block: number;
  columns: number;
  rows: number;
}

export const LAYOUT: TimecodeLayout = {
  width: 640,
  height: 360,
  x0: 64,
  y0: 32,
  block: 32,
  columns: 16,
  rows: 4,
};

export const MARKER_BITS = [1, 0, 1, 1];
export const TIME_BITS = 44;
export const CRC_BITS = 16;
const BLACK = 16;
const WHITE = 235;
const BACKGROUND = 60;

/** CRC-16/CCITT-FALSE of the time as 6 big-endian bytes. */
export function timecodeCrc(ms: number): number {
  let crc = 0xffff;
  for (let i = 5; i >= 0; i -= 1) {
    crc ^= (Math.floor(ms / 2 ** (8 * i)) % 256) << 8;
    for (let bit = 0; bit < 8; bit += 1)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The 64 bits for a time: marker, time, CRC. */
export function timecodeBits(ms: number): number[] {
  const bits = [...MARKER_BITS];
  for (let i = TIME_BITS - 1; i >= 0; i -= 1) bits.push(Math.floor(ms / 2 ** i) % 2);
  const crc = timecodeCrc(ms);
  for (let i = CRC_BITS - 1; i >= 0; i -= 1) bits.push((crc >> i) & 1);
  return bits;
}

/** Where block `index` is, in px of a frame `width` wide, and how big (scaled from the layout). */
export function blockCenter(
  layout: TimecodeLayout,
  index: number,
  width: number,
): { x: number; y: number; size: number } {
  const scale = width / layout.width;
  const column = index % layout.columns;
  const row = Math.floor(index / layout.columns);
  return {
    x: (layout.x0 + (column + 0.5) * layout.block) * scale,
    y: (layout.y0 + (row + 0.5) * layout.block) * scale,
    size: layout.block * scale,
  };
}

export type DecodeResult = { ok: true; ms: number } | { ok: false; why: 'unclear' | 'marker' | 'crc' };

/**
 * Reads the time back from the mean brightness (0-255) of the middle of each block. A block
 * neither clearly dark nor clearly bright makes the whole reading fail rather than guess.
 */
export function decodeTimecode(meanOfBlock: (index: number) => number): DecodeResult {
  const marker = [1, 0, 1, 1];
  const timeBits = 44;
  const crcBits = 16;
  const bits: number[] = [];
  for (let i = 0; i < marker.length + timeBits + crcBits; i += 1) {
    const mean = meanOfBlock(i);
    if (mean > 80 && mean < 176) return { ok: false, why: 'unclear' };
    bits.push(mean >= 128 ? 1 : 0);
  }
  for (let i = 0; i < marker.length; i += 1) if (bits[i] !== marker[i]) return { ok: false, why: 'marker' };
  let ms = 0;
  for (let i = 0; i < timeBits; i += 1) ms = ms * 2 + (bits[marker.length + i] ?? 0);
  let crc = 0;
  for (let i = 0; i < crcBits; i += 1) crc = crc * 2 + (bits[marker.length + timeBits + i] ?? 0);
  // The same CRC as timecodeCrc, repeated here because this function must stand alone in a page.
  let expected = 0xffff;
  for (let i = 5; i >= 0; i -= 1) {
    expected ^= (Math.floor(ms / 2 ** (8 * i)) % 256) << 8;
    for (let bit = 0; bit < 8; bit += 1) {
      expected = expected & 0x8000 ? ((expected << 1) ^ 0x1021) & 0xffff : (expected << 1) & 0xffff;
    }
  }
  return crc === expected ? { ok: true, ms } : { ok: false, why: 'crc' };
}

/** A frame's background: dark grey, so neither a black nor a white block blends into it. */
export function blankFrame(width: number, height: number): Buffer {
  return Buffer.alloc(width * height, BACKGROUND);
}

/**
 * Draws the time into a grey (one byte per pixel) frame of the layout's size, plus a moving bar
 * below it: a picture that never changes would let a frozen player look live.
 */
export function drawFrame(
  frame: Buffer,
  background: Buffer,
  layout: TimecodeLayout,
  ms: number,
  n: number,
): void {
  background.copy(frame);
  const { width } = layout;
  const bits = timecodeBits(ms);
  for (let index = 0; index < bits.length; index += 1) {
    const column = index % layout.columns;
    const row = Math.floor(index / layout.columns);
    const x = layout.x0 + column * layout.block;
    const y = layout.y0 + row * layout.block;
    const value = bits[index] ? WHITE : BLACK;
    for (let dy = 0; dy < layout.block; dy += 1) {
      frame.fill(value, (y + dy) * width + x, (y + dy) * width + x + layout.block);
    }
  }
  const barTop = layout.y0 + layout.rows * layout.block + 32;
  const barX = (n * 8) % (width - 16);
  for (let y = barTop; y < Math.min(layout.height, barTop + 96); y += 1) {
    frame.fill(WHITE, y * width + barX, y * width + barX + 16);
  }
}
