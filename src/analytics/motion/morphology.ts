/**
 * Per-row extent of the set pixels of a binary plane: `min[y]`..`max[y]` (inclusive) bound the
 * set pixels of row y, `min[y] = -1` when the row is empty. Motion is sparse (a few percent of
 * the pixels), so everything after the first full-frame pass works only inside these extents.
 */
export class RowExtents {
  readonly min: Int32Array;
  readonly max: Int32Array;

  constructor(readonly height: number) {
    this.min = new Int32Array(height).fill(-1);
    this.max = new Int32Array(height).fill(-1);
  }

  clear(): void {
    this.min.fill(-1);
    this.max.fill(-1);
  }

  /**
   * Measure the extents of a binary plane. With `words` (see `wordView`), scans 4 pixels at a
   * time: most rows are empty or nearly so.
   */
  measure(plane: Uint8Array, width: number, words: Uint32Array | null): void {
    for (let y = 0; y < this.height; y++) {
      const row = y * width;
      let first = -1;
      let last = -1;
      if (words) {
        const w0 = row / 4;
        const w1 = w0 + width / 4;
        let firstWord = w0;
        while (firstWord < w1 && words[firstWord] === 0) firstWord += 1;
        if (firstWord < w1) {
          let lastWord = w1 - 1;
          while (words[lastWord] === 0) lastWord -= 1;
          first = firstWord * 4;
          while (plane[first] === 0) first += 1;
          last = lastWord * 4 + 3;
          while (plane[last] === 0) last -= 1;
        }
      } else {
        for (let i = row; i < row + width; i++) {
          if (plane[i] !== 0) {
            if (first < 0) first = i;
            last = i;
          }
        }
      }
      this.min[y] = first < 0 ? -1 : first - row;
      this.max[y] = last < 0 ? -1 : last - row;
    }
  }

  /** Widen row y's extent to include lo..hi. */
  include(y: number, lo: number, hi: number): void {
    const min = this.min[y]!;
    if (min < 0) {
      this.min[y] = lo;
      this.max[y] = hi;
      return;
    }
    if (lo < min) this.min[y] = lo;
    if (hi > this.max[y]!) this.max[y] = hi;
  }
}

/** A 4-pixels-per-word view of a plane for RowExtents.measure, when rows start on word boundaries. */
export function wordView(plane: Uint8Array, width: number): Uint32Array | null {
  const aligned = width % 4 === 0 && plane.byteOffset % 4 === 0 && plane.byteLength % 4 === 0;
  return aligned ? new Uint32Array(plane.buffer, plane.byteOffset, plane.byteLength / 4) : null;
}

/**
 * Binary dilation with a (2r+1)×(2r+1) square, separably: each set pixel spreads along its row
 * into `scratch`, then each touched row spreads up and down into `dst`. Only rows and columns
 * within the extents are visited, so the cost follows the amount of motion, not the frame size.
 * `dstExtents` receives the extents of the result.
 */
export function dilate(
  src: Uint8Array,
  srcExtents: RowExtents,
  dst: Uint8Array,
  dstExtents: RowExtents,
  scratch: Uint8Array,
  width: number,
  height: number,
  radius: number,
): void {
  const r = Math.max(0, Math.floor(radius));
  dst.fill(0, 0, width * height);
  scratch.fill(0, 0, width * height);
  dstExtents.clear();
  for (let y = 0; y < height; y++) {
    const lo = srcExtents.min[y]!;
    if (lo < 0) continue;
    const hi = srcExtents.max[y]!;
    spreadRow(src, scratch, y * width, lo, hi, width, r);
    const outLo = Math.max(0, lo - r);
    const outHi = Math.min(width - 1, hi + r);
    for (let ty = Math.max(0, y - r); ty <= Math.min(height - 1, y + r); ty++) {
      orRow(scratch, y * width, dst, ty * width, outLo, outHi);
      dstExtents.include(ty, outLo, outHi);
    }
  }
}

/** Set dst[x - r .. x + r] for every set src[x], x in lo..hi, within the row. */
function spreadRow(
  src: Uint8Array,
  dst: Uint8Array,
  row: number,
  lo: number,
  hi: number,
  width: number,
  r: number,
): void {
  // A run of set pixels is written once, widened by r, instead of once per pixel.
  let x = lo;
  while (x <= hi) {
    if (src[row + x] === 0) {
      x += 1;
      continue;
    }
    let end = x;
    while (end + 1 <= hi && src[row + end + 1] !== 0) end += 1;
    dst.fill(1, row + Math.max(0, x - r), row + Math.min(width - 1, end + r) + 1);
    x = end + 1;
  }
}

function orRow(
  src: Uint8Array,
  srcRow: number,
  dst: Uint8Array,
  dstRow: number,
  lo: number,
  hi: number,
): void {
  for (let x = lo; x <= hi; x++) dst[dstRow + x]! |= src[srcRow + x]!;
}
