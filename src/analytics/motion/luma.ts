/**
 * Luma planes: the input of motion detection. Pure helpers that work in caller-owned buffers so a
 * per-frame loop allocates nothing.
 */

/** An 8-bit luma (grey) plane, row-major, `stride` bytes per row (≥ width; defaults to width). */
export interface LumaPlane {
  data: Uint8Array;
  width: number;
  height: number;
  stride?: number;
}

/**
 * Downscale by area averaging (a box filter over each output pixel's footprint in the source),
 * for any ratio ≥ 1 on each axis. Area averaging, not point sampling: averaging removes sensor
 * noise and H.264 blocking that would otherwise show up as motion.
 *
 * Build one per (source size, output size) and reuse it: the column spans and the row
 * accumulator are computed once.
 */
export class LumaDownscaler {
  private readonly colStart: Int32Array;
  private readonly colEnd: Int32Array;
  private readonly rowStart: Int32Array;
  private readonly rowEnd: Int32Array;
  private readonly columnSums: Uint32Array;

  constructor(
    readonly srcWidth: number,
    readonly srcHeight: number,
    readonly dstWidth: number,
    readonly dstHeight: number,
  ) {
    if (dstWidth > srcWidth || dstHeight > srcHeight || dstWidth < 1 || dstHeight < 1) {
      throw new RangeError(`cannot downscale ${srcWidth}x${srcHeight} to ${dstWidth}x${dstHeight}`);
    }
    this.colStart = new Int32Array(dstWidth);
    this.colEnd = new Int32Array(dstWidth);
    for (let x = 0; x < dstWidth; x++) {
      this.colStart[x] = Math.floor((x * srcWidth) / dstWidth);
      this.colEnd[x] = Math.floor(((x + 1) * srcWidth) / dstWidth);
    }
    this.rowStart = new Int32Array(dstHeight);
    this.rowEnd = new Int32Array(dstHeight);
    for (let y = 0; y < dstHeight; y++) {
      this.rowStart[y] = Math.floor((y * srcHeight) / dstHeight);
      this.rowEnd[y] = Math.floor(((y + 1) * srcHeight) / dstHeight);
    }
    this.columnSums = new Uint32Array(srcWidth);
  }

  /** Downscale `src` (which must have the source size) into `dst` (dstWidth×dstHeight bytes). */
  downscale(src: LumaPlane, dst: Uint8Array): Uint8Array {
    if (src.width !== this.srcWidth || src.height !== this.srcHeight) {
      throw new RangeError(`expected ${this.srcWidth}x${this.srcHeight}, got ${src.width}x${src.height}`);
    }
    const stride = src.stride ?? src.width;
    if (this.srcWidth === 2 * this.dstWidth && this.srcHeight === 2 * this.dstHeight) {
      return this.halve(src.data, stride, dst);
    }
    const { data } = src;
    const sums = this.columnSums;
    for (let oy = 0; oy < this.dstHeight; oy++) {
      const y0 = this.rowStart[oy]!;
      const y1 = this.rowEnd[oy]!;
      sums.fill(0);
      for (let y = y0; y < y1; y++) {
        const row = y * stride;
        for (let x = 0; x < this.srcWidth; x++) sums[x]! += data[row + x]!;
      }
      const rows = y1 - y0;
      const outRow = oy * this.dstWidth;
      for (let ox = 0; ox < this.dstWidth; ox++) {
        const x0 = this.colStart[ox]!;
        const x1 = this.colEnd[ox]!;
        let sum = 0;
        for (let x = x0; x < x1; x++) sum += sums[x]!;
        const count = rows * (x1 - x0);
        // Round half up in integers: (2·sum + count) / (2·count).
        dst[outRow + ox] = Math.floor((2 * sum + count) / (2 * count));
      }
    }
    return dst;
  }

  /** The common case (640×480 sub stream → 320×240) without the general path's bookkeeping: 4× faster. */
  private halve(data: Uint8Array, stride: number, dst: Uint8Array): Uint8Array {
    const { dstWidth, dstHeight } = this;
    for (let oy = 0; oy < dstHeight; oy++) {
      let top = 2 * oy * stride;
      let bottom = top + stride;
      let o = oy * dstWidth;
      const end = o + dstWidth;
      for (; o < end; o++, top += 2, bottom += 2) {
        dst[o] = (data[top]! + data[top + 1]! + data[bottom]! + data[bottom + 1]! + 2) >> 2;
      }
    }
    return dst;
  }
}

/**
 * BT.601 luma from packed RGB (HWC, 3 bytes per pixel) into `out` (width×height bytes), with the
 * integer weights 77/150/29 (sum 256). For a pipeline that decodes RGB for the detector and wants
 * motion from the same frame; asking ffmpeg for `gray` directly is cheaper when only motion runs.
 */
export function lumaFromRgb(rgb: Uint8Array, width: number, height: number, out: Uint8Array): Uint8Array {
  const n = width * height;
  for (let i = 0, p = 0; i < n; i++, p += 3) {
    out[i] = (77 * rgb[p]! + 150 * rgb[p + 1]! + 29 * rgb[p + 2]! + 128) >> 8;
  }
  return out;
}
