import type { Box } from '../geometry.js';
import type { RowExtents } from './morphology.js';

/** A blob of changed pixels: its bounding box and size. */
export interface MotionBox extends Box {
  /** Changed pixels in the blob (not the box's area). */
  areaPx: number;
}

/**
 * Connected components (8-connectivity) of a binary plane, by the classic two-pass algorithm with
 * union-find over provisional labels. Buffers are sized for the worst case once, at construction.
 */
export class ConnectedComponents {
  private readonly labels: Int32Array;
  private readonly parent: Int32Array;
  /** Provisional root → compact component index (−1 = not yet seen this frame). */
  private readonly compact: Int32Array;
  private readonly minX: Int32Array;
  private readonly minY: Int32Array;
  private readonly maxX: Int32Array;
  private readonly maxY: Int32Array;
  private readonly count: Int32Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    const n = width * height;
    // Label 0 is "background"; at most one provisional label per pixel.
    this.labels = new Int32Array(n);
    this.parent = new Int32Array(n + 1);
    this.compact = new Int32Array(n + 1);
    this.minX = new Int32Array(n);
    this.minY = new Int32Array(n);
    this.maxX = new Int32Array(n);
    this.maxY = new Int32Array(n);
    this.count = new Int32Array(n);
  }

  /**
   * Components of `blobs` (non-zero = foreground). Each component's box and area count only the
   * pixels set in `weight` (the undilated changes), so a box is tight around what changed even
   * though dilation decided what belongs together. Components with fewer than `minAreaPx` such
   * pixels are dropped. Largest first. The extents bound the set pixels of each plane's rows
   * (see RowExtents): only those are visited.
   */
  label(
    blobs: Uint8Array,
    blobExtents: RowExtents,
    weight: Uint8Array,
    weightExtents: RowExtents,
    minAreaPx: number,
  ): MotionBox[] {
    const provisional = this.firstPass(blobs, blobExtents);
    const found = this.secondPass(weight, weightExtents, provisional);
    const boxes: MotionBox[] = [];
    for (let c = 0; c < found; c++) {
      const areaPx = this.count[c]!;
      if (areaPx === 0 || areaPx < minAreaPx) continue;
      const x = this.minX[c]!;
      const y = this.minY[c]!;
      boxes.push({ x, y, width: this.maxX[c]! - x + 1, height: this.maxY[c]! - y + 1, areaPx });
    }
    return boxes.sort((a, b) => b.areaPx - a.areaPx);
  }

  /** Assign provisional labels, recording equivalences; returns the number of labels used. */
  private firstPass(blobs: Uint8Array, extents: RowExtents): number {
    const { width, height, labels, parent } = this;
    // Neighbour reads reach outside the extents: everything else must read as background.
    labels.fill(0);
    let next = 1;
    for (let y = 0; y < height; y++) {
      const lo = extents.min[y]!;
      if (lo < 0) continue;
      const hi = extents.max[y]!;
      const row = y * width;
      for (let x = lo; x <= hi; x++) {
        const i = row + x;
        if (blobs[i] === 0) {
          labels[i] = 0;
          continue;
        }
        // Already-visited neighbours: west, north-west, north, north-east.
        let label = 0;
        if (x > 0) label = this.join(label, labels[i - 1]!);
        if (y > 0) {
          const up = i - width;
          if (x > 0) label = this.join(label, labels[up - 1]!);
          label = this.join(label, labels[up]!);
          if (x + 1 < width) label = this.join(label, labels[up + 1]!);
        }
        if (label === 0) {
          label = next++;
          parent[label] = label;
        }
        labels[i] = label;
      }
    }
    return next;
  }

  /** Union two labels (0 = none) and return the smaller root. */
  private join(a: number, b: number): number {
    if (b === 0) return a;
    const rootB = this.find(b);
    if (a === 0) return rootB;
    const rootA = this.find(a);
    if (rootA === rootB) return rootA;
    const low = rootA < rootB ? rootA : rootB;
    this.parent[rootA + rootB - low] = low;
    return low;
  }

  private find(label: number): number {
    const parent = this.parent;
    let root = label;
    while (parent[root] !== root) root = parent[root]!;
    // Path compression keeps later finds short.
    while (parent[label] !== root) {
      const up = parent[label]!;
      parent[label] = root;
      label = up;
    }
    return root;
  }

  /** Resolve labels to components and accumulate boxes; returns the number of components. */
  private secondPass(weight: Uint8Array, extents: RowExtents, provisional: number): number {
    const { width, height, labels, compact, minX, minY, maxX, maxY, count } = this;
    compact.fill(-1, 0, provisional);
    let found = 0;
    for (let y = 0; y < height; y++) {
      const lo = extents.min[y]!;
      if (lo < 0) continue;
      const hi = extents.max[y]!;
      const row = y * width;
      for (let x = lo; x <= hi; x++) {
        const i = row + x;
        const label = labels[i]!;
        if (label === 0 || weight[i] === 0) continue;
        const root = this.find(label);
        let c = compact[root]!;
        if (c < 0) {
          c = found++;
          compact[root] = c;
          minX[c] = x;
          maxX[c] = x;
          minY[c] = y;
          maxY[c] = y;
          count[c] = 0;
        }
        if (x < minX[c]!) minX[c] = x;
        if (x > maxX[c]!) maxX[c] = x;
        if (y > maxY[c]!) maxY[c] = y;
        count[c]! += 1;
      }
    }
    return found;
  }
}
