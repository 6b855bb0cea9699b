import type { PixelBox, RgbImage } from './snapshot.js';

/**
 * Re-identification across short track breaks: whether a new track is the object an event lost
 * a moment ago (behind a sign, crossing another person, a missed detection or two), scored from
 * where the lost object should be by now, how alike the colours of the two boxes are, and the
 * label. Pure: no I/O, no clock. Boxes are in pixels of the camera's frame, times in milliseconds.
 *
 * The appearance is a coarse colour histogram of the clothes region of the box, compared with the
 * Bhattacharyya coefficient. It is not biometric: no face, no gait, no body measurements; it only
 * tells a red jacket from a black one, lives in memory with the event, and is dropped with it.
 */

/** Chromatic pixels: hue in 12 sectors × saturation in 2 levels. */
const HUE_BINS = 12;
const SATURATION_BINS = 2;
/** Pixels too grey or too dark for a hue (black, white, grey clothes): 4 levels of brightness. */
const GREY_BINS = 4;
export const HISTOGRAM_BINS = HUE_BINS * SATURATION_BINS + GREY_BINS;
/** Below this saturation or value a pixel's hue is noise. */
const MIN_SATURATION = 0.2;
const MIN_VALUE = 0.15;
/**
 * The part of the box sampled, as fractions of it: the clothes, not the head (no faces), nor the
 * ground at the feet, nor the background at the sides.
 */
const REGION = { left: 0.25, right: 0.75, top: 0.2, bottom: 0.9 };
/** Samples per side of the region at most: about 500 pixels, microseconds per box. */
const SAMPLES_PER_SIDE = 24;
/** Fewer sampled pixels than this say nothing about colour. */
const MIN_SAMPLES = 16;

/** A normalised colour histogram (sums to 1), HISTOGRAM_BINS long. */
export type Appearance = Float32Array;

export interface ReidOptions {
  /** Longest break between the lost object's last detection and the new track's first sighting. */
  maxGapMs: number;
  /** How far from where the lost object should be a new track may be, in box sizes, at no gap. */
  baseReach: number;
  /** Reach added per second of gap: the longer the break, the less certain the prediction. */
  reachPerSecond: number;
  /** Largest ratio between the two boxes' areas (either way): a far person is not a near one. */
  maxAreaRatio: number;
  /** Least colour similarity (Bhattacharyya coefficient, 0–1) when both boxes have a histogram. */
  minSimilarity: number;
  /** Weight of appearance in the score; the rest is position. */
  appearanceWeight: number;
  /** Least score for a match. */
  minScore: number;
}

export const DEFAULT_REID_OPTIONS: Readonly<ReidOptions> = {
  maxGapMs: 5000,
  baseReach: 1,
  reachPerSecond: 0.5,
  maxAreaRatio: 2.5,
  minSimilarity: 0.85,
  appearanceWeight: 0.5,
  minScore: 0.2,
};

/** An event whose object is not seen right now (its track ended or is coasting). */
export interface LostObject {
  label: string;
  /** Box at the last detection. */
  box: PixelBox;
  /** Time of the last detection. */
  seenMs: number;
  /** Velocity at the last detection (the tracker's Kalman state), pixels per millisecond. */
  velocity: { x: number; y: number };
  appearance: Appearance | null;
}

/** A track that opens no event yet. */
export interface Newcomer {
  label: string;
  box: PixelBox;
  timeMs: number;
  appearance: Appearance | null;
}

/** Where a lost object is expected at `timeMs` if it kept its last velocity, same size. */
export function predictedBox(lost: LostObject, timeMs: number): PixelBox {
  const gapMs = Math.max(0, timeMs - lost.seenMs);
  return {
    ...lost.box,
    x: lost.box.x + lost.velocity.x * gapMs,
    y: lost.box.y + lost.velocity.y * gapMs,
  };
}

const centre = (box: PixelBox) => ({ x: box.x + box.width / 2, y: box.y + box.height / 2 });

/**
 * How far `box`'s centre is from the way the lost object could have gone — anywhere between where
 * it was last seen and where its velocity would have taken it (people slow down and stop behind
 * things, and a velocity from a few frames is rough) — in sizes of the lost box (its larger side).
 */
export function distanceFromWay(lost: LostObject, box: PixelBox, timeMs: number): number {
  const from = centre(lost.box);
  const to = centre(predictedBox(lost, timeMs));
  const at = centre(box);
  const wayX = to.x - from.x;
  const wayY = to.y - from.y;
  const length2 = wayX * wayX + wayY * wayY;
  const t =
    length2 === 0 ? 0 : Math.min(1, Math.max(0, ((at.x - from.x) * wayX + (at.y - from.y) * wayY) / length2));
  const gap = Math.hypot(at.x - (from.x + t * wayX), at.y - (from.y + t * wayY));
  return gap / Math.max(lost.box.width, lost.box.height, 1e-6);
}

/** Bhattacharyya coefficient of two normalised histograms: 1 for the same colours, 0 for none shared. */
export function similarity(a: Appearance, b: Appearance): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.sqrt(a[i]! * b[i]!);
  return Math.min(1, sum);
}

/**
 * Score of "the newcomer is the lost object", 0–1, or null when it cannot be: another label, a
 * break too long or negative, too far from the prediction, a size too different, or colours too
 * unlike.
 */
export function reidScore(lost: LostObject, newcomer: Newcomer, options: ReidOptions): number | null {
  if (lost.label !== newcomer.label) return null;
  const gapMs = newcomer.timeMs - lost.seenMs;
  if (gapMs < 0 || gapMs > options.maxGapMs) return null;
  const reach = options.baseReach + (options.reachPerSecond * gapMs) / 1000;
  const distance = distanceFromWay(lost, newcomer.box, newcomer.timeMs);
  if (distance > reach) return null;
  const areaRatio =
    (lost.box.width * lost.box.height) / Math.max(newcomer.box.width * newcomer.box.height, 1e-12);
  if (areaRatio > options.maxAreaRatio || areaRatio < 1 / options.maxAreaRatio) return null;
  const position = 1 - distance / reach;
  if (!lost.appearance || !newcomer.appearance) return position >= options.minScore ? position : null;
  const alike = similarity(lost.appearance, newcomer.appearance);
  if (alike < options.minSimilarity) return null;
  const score = (1 - options.appearanceWeight) * position + options.appearanceWeight * alike;
  return score >= options.minScore ? score : null;
}

/**
 * One-to-one matching of newcomers to lost objects, best score first (greedy): with a handful of
 * candidates a frame, and scores that gate out most pairs, greedy and optimal agree almost always.
 * Returns [lost index, newcomer index] pairs.
 */
export function assignNewcomers(
  lost: readonly LostObject[],
  newcomers: readonly Newcomer[],
  options: ReidOptions,
): Array<[number, number]> {
  const pairs: ScoredPair[] = [];
  lost.forEach((object, i) =>
    newcomers.forEach((newcomer, j) => {
      const score = reidScore(object, newcomer, options);
      if (score !== null) pairs.push([i, j, score]);
    }),
  );
  return greedyOneToOne(pairs);
}

/** A candidate pair: index on one side, index on the other, score (higher is better). */
export type ScoredPair = [number, number, number];

/** One-to-one pairs, highest score first; each index is used once on its side. */
export function greedyOneToOne(pairs: readonly ScoredPair[]): Array<[number, number]> {
  const sorted = [...pairs].sort((a, b) => b[2] - a[2]);
  const usedA = new Set<number>();
  const usedB = new Set<number>();
  const result: Array<[number, number]> = [];
  for (const [a, b] of sorted) {
    if (usedA.has(a) || usedB.has(b)) continue;
    usedA.add(a);
    usedB.add(b);
    result.push([a, b]);
  }
  return result;
}

/** RGB (0–255) to the histogram bin of its colour. */
export function colourBin(r: number, g: number, b: number): number {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const value = max / 255;
  const saturation = max === 0 ? 0 : (max - min) / max;
  if (saturation < MIN_SATURATION || value < MIN_VALUE)
    return HUE_BINS * SATURATION_BINS + Math.min(GREY_BINS - 1, Math.floor(value * GREY_BINS));
  let hue: number;
  const chroma = max - min;
  if (max === r) hue = ((g - b) / chroma + 6) % 6;
  else if (max === g) hue = (b - r) / chroma + 2;
  else hue = (r - g) / chroma + 4;
  const hueBin = Math.min(HUE_BINS - 1, Math.floor((hue / 6) * HUE_BINS));
  const saturationBin = Math.min(
    SATURATION_BINS - 1,
    Math.floor(((saturation - MIN_SATURATION) / (1 - MIN_SATURATION)) * SATURATION_BINS),
  );
  return hueBin * SATURATION_BINS + saturationBin;
}

/**
 * The colour histogram of the clothes region of `box` (frame pixels), from at most
 * SAMPLES_PER_SIDE² pixels on a grid; null when the box is too small to say anything.
 */
export function appearanceOf(image: RgbImage, box: PixelBox): Appearance | null {
  const x0 = Math.max(0, Math.floor(box.x + box.width * REGION.left));
  const x1 = Math.min(image.width, Math.ceil(box.x + box.width * REGION.right));
  const y0 = Math.max(0, Math.floor(box.y + box.height * REGION.top));
  const y1 = Math.min(image.height, Math.ceil(box.y + box.height * REGION.bottom));
  if (x1 <= x0 || y1 <= y0) return null;
  const stepX = Math.max(1, (x1 - x0) / SAMPLES_PER_SIDE);
  const stepY = Math.max(1, (y1 - y0) / SAMPLES_PER_SIDE);
  const histogram = new Float32Array(HISTOGRAM_BINS);
  let samples = 0;
  for (let y = y0; y < y1; y += stepY) {
    const row = Math.floor(y) * image.width;
    for (let x = x0; x < x1; x += stepX) {
      const i = (row + Math.floor(x)) * 3;
      histogram[colourBin(image.data[i]!, image.data[i + 1]!, image.data[i + 2]!)]! += 1;
      samples += 1;
    }
  }
  if (samples < MIN_SAMPLES) return null;
  for (let i = 0; i < histogram.length; i++) histogram[i]! /= samples;
  return histogram;
}

/** Running average of an object's appearance: `weight` of the new view, the rest of the old. */
export function blendAppearance(running: Appearance | null, next: Appearance, weight: number): Appearance {
  if (!running) return Float32Array.from(next);
  for (let i = 0; i < running.length; i++) running[i] = (1 - weight) * running[i]! + weight * next[i]!;
  return running;
}
