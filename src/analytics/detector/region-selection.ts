import { boxArea, clampBox, enclosingBox, squareAround, type Box, type FrameSize } from '../geometry.js';
import { mapBoxFromRegion } from './image.js';
import { nmsPerLabel, type NmsOptions } from './nms.js';
import type { Detection } from './types.js';

export interface RegionOptions {
  /** Side of the detector's square input (512 for CenterNet). */
  inputSize: number;
  /** Most crops per frame: each costs one inference (about 200 ms on one core for CenterNet). */
  maxRegions: number;
  /** Context around the boxes, as a fraction of the longer side, on each side: the model needs some. */
  marginFraction: number;
  /** When the crops would cover more than this fraction of the frame, one full-frame pass is cheaper. */
  fullFrameFraction: number;
}

export const DEFAULT_REGION_OPTIONS: Readonly<RegionOptions> = {
  inputSize: 512,
  maxRegions: 3,
  marginFraction: 0.25,
  fullFrameFraction: 0.6,
};

/** A square part of the frame to run the detector on, in frame pixels; it may overhang the frame (padding). */
export interface Region {
  box: Box;
  /** The whole frame, letterboxed into the square. */
  fullFrame: boolean;
}

/**
 * Choose the crops to run the detector on, from where something moves and where tracks are
 * expected (both in frame pixels). Boxes that fit together in one crop without shrinking it
 * further share it; each crop is a square of at least the model's input size where the frame
 * allows (so small objects are seen at full resolution, never downscaled), shifted to lie within
 * the frame. Too many crops are merged pairwise (cheapest merge first); crops covering most of
 * the frame become one letterboxed full-frame region. No boxes: no regions (nothing to look at).
 */
export function selectRegions(
  motionBoxes: readonly Box[],
  trackBoxes: readonly Box[],
  frame: FrameSize,
  options: Partial<RegionOptions> = {},
): Region[] {
  const opts = { ...DEFAULT_REGION_OPTIONS, ...options };
  const boxes = [...motionBoxes, ...trackBoxes].map((b) => clampBox(b, frame)).filter((b) => boxArea(b) > 0);
  if (boxes.length === 0) return [];
  const minSide = Math.min(opts.inputSize, frame.width, frame.height);
  const side = (bounds: Box) =>
    Math.max(Math.max(bounds.width, bounds.height) * (1 + 2 * opts.marginFraction), minSide);
  let clusters = clusterBoxes(boxes, side);
  while (clusters.length > opts.maxRegions) clusters = mergeCheapestPair(clusters, side);
  const squares = clusters.map((bounds) => squareAround(bounds, opts.marginFraction, frame, minSide));
  const covered = squares.reduce((sum, square) => sum + boxArea(clampBox(square, frame)), 0);
  if (covered > opts.fullFrameFraction * frame.width * frame.height) return [fullFrameRegion(frame)];
  return squares.map((box) => ({ box, fullFrame: false }));
}

/** The whole frame as one square region, centred, padded on the shorter axis. */
export function fullFrameRegion(frame: FrameSize): Region {
  return {
    box: squareAround({ x: 0, y: 0, width: frame.width, height: frame.height }, 0, frame),
    fullFrame: true,
  };
}

/**
 * Greedy clustering, largest box first: a box joins the first cluster whose crop it fits in
 * without making the crop larger than it already is (or than the minimum crop), else it starts
 * a cluster. Repeated until no two clusters can be joined that way.
 */
function clusterBoxes(boxes: readonly Box[], side: (bounds: Box) => number): Box[] {
  let clusters = [...boxes].sort((a, b) => boxArea(b) - boxArea(a));
  for (;;) {
    const next: Box[] = [];
    for (const box of clusters) {
      const home = next.findIndex(
        (bounds) => side(enclosingBox(bounds, box)) <= Math.max(side(bounds), side(box)),
      );
      if (home >= 0) next[home] = enclosingBox(next[home]!, box);
      else next.push(box);
    }
    if (next.length === clusters.length) return next;
    clusters = next;
  }
}

/** Join the two clusters whose joint crop is smallest. */
function mergeCheapestPair(clusters: readonly Box[], side: (bounds: Box) => number): Box[] {
  let best = { i: 0, j: 1, side: Infinity };
  for (let i = 0; i < clusters.length; i++) {
    for (let j = i + 1; j < clusters.length; j++) {
      const joint = side(enclosingBox(clusters[i]!, clusters[j]!));
      if (joint < best.side) best = { i, j, side: joint };
    }
  }
  const merged = clusters.filter((_, k) => k !== best.i && k !== best.j);
  merged.push(enclosingBox(clusters[best.i]!, clusters[best.j]!));
  return merged;
}

/**
 * Detections of each region's crop (in the crop's `inputSize` pixels) to frame pixels: scaled,
 * offset, clipped to the frame (a box in the padding disappears), then de-duplicated across
 * crops with per-label NMS.
 */
export function detectionsToFrame(
  perRegion: readonly (readonly Detection[])[],
  regions: readonly Region[],
  inputSize: number,
  frame: FrameSize,
  nms: Partial<NmsOptions> = {},
): Detection[] {
  const all: Detection[] = [];
  perRegion.forEach((detections, index) => {
    const region = regions[index];
    if (!region) throw new RangeError(`detections for region ${index}, but only ${regions.length} regions`);
    for (const detection of detections) {
      const box = clampBox(mapBoxFromRegion(detection.box, region.box, inputSize), frame);
      if (box.width >= 1 && box.height >= 1) all.push({ ...detection, box });
    }
  });
  return nmsPerLabel(all, nms);
}
