/**
 * Geometry shared by motion detection, region selection, the detector and the tracker.
 *
 * Conventions (one for all of analytics):
 * - A `Box` is axis-aligned, in **pixels of a named frame size**: `x`, `y` is the top-left corner
 *   (origin at the image's top-left, y down), `width` and `height` are ≥ 0. Values may be
 *   fractional (a detection mapped back from a scaled crop is rarely on whole pixels). Which frame
 *   a box belongs to is part of the name of whatever holds it (`frameBox`, `cropBox`, `motionBox`)
 *   or of the API around it; convert with `scaleBox` or `boxFromNormalised`/`boxToNormalised`.
 * - Zones, lines and masks come from the config in **normalised** coordinates (0..1 of the frame's
 *   width and height), as the glossary says. They stay normalised until they meet a raster.
 */

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface FrameSize {
  width: number;
  height: number;
}

/** A point in normalised image coordinates: [x, y], each 0..1 of the frame's width and height. */
export type NormalisedPoint = readonly [number, number];

/** A closed polygon in normalised coordinates (the last point connects back to the first). */
export type NormalisedPolygon = readonly NormalisedPoint[];

export function boxArea(box: Box): number {
  return Math.max(0, box.width) * Math.max(0, box.height);
}

export function boxCentre(box: Box): { x: number; y: number } {
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** Box from its two corners, in either order. */
export function boxFromCorners(x1: number, y1: number, x2: number, y2: number): Box {
  const x = Math.min(x1, x2);
  const y = Math.min(y1, y2);
  return { x, y, width: Math.abs(x2 - x1), height: Math.abs(y2 - y1) };
}

/** The overlap of two boxes, or null when they do not overlap (touching edges do not overlap). */
export function intersection(a: Box, b: Box): Box | null {
  const x1 = Math.max(a.x, b.x);
  const y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width);
  const y2 = Math.min(a.y + a.height, b.y + b.height);
  if (x2 <= x1 || y2 <= y1) return null;
  return { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
}

/** Area of the overlap, without allocating (the tracker's cost matrix calls this a lot). */
export function intersectionArea(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/** The smallest box containing both (the "union" of two boxes as a box, not as a set of pixels). */
export function enclosingBox(a: Box, b: Box): Box {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return {
    x,
    y,
    width: Math.max(a.x + a.width, b.x + b.width) - x,
    height: Math.max(a.y + a.height, b.y + b.height) - y,
  };
}

/** Intersection over union, 0..1; 0 for two empty boxes. */
export function iou(a: Box, b: Box): number {
  const inter = intersectionArea(a, b);
  if (inter === 0) return 0;
  return inter / (boxArea(a) + boxArea(b) - inter);
}

/**
 * Intersection over the smaller box's area, 0..1. Catches a box that lies inside another (a
 * person cut in half at a crop edge next to the whole person), which IoU scores low.
 */
export function intersectionOverMin(a: Box, b: Box): number {
  const inter = intersectionArea(a, b);
  if (inter === 0) return 0;
  return inter / Math.min(boxArea(a), boxArea(b));
}

/** The part of a box inside the frame (a zero-size box when it lies wholly outside). */
export function clampBox(box: Box, frame: FrameSize): Box {
  const x1 = Math.min(Math.max(box.x, 0), frame.width);
  const y1 = Math.min(Math.max(box.y, 0), frame.height);
  const x2 = Math.min(Math.max(box.x + box.width, 0), frame.width);
  const y2 = Math.min(Math.max(box.y + box.height, 0), frame.height);
  return { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
}

/** Grow (or, with a negative margin, shrink) a box by `marginPx` on every side. */
export function expandBox(box: Box, marginPx: number): Box {
  const width = Math.max(0, box.width + 2 * marginPx);
  const height = Math.max(0, box.height + 2 * marginPx);
  const centre = boxCentre(box);
  return { x: centre.x - width / 2, y: centre.y - height / 2, width, height };
}

/** Scale a box from one frame size to another (e.g. motion plane 320×180 → detect frame 1280×720). */
export function scaleBox(box: Box, from: FrameSize, to: FrameSize): Box {
  const sx = to.width / from.width;
  const sy = to.height / from.height;
  return { x: box.x * sx, y: box.y * sy, width: box.width * sx, height: box.height * sy };
}

export function boxToNormalised(box: Box, frame: FrameSize): Box {
  return scaleBox(box, frame, { width: 1, height: 1 });
}

export function boxFromNormalised(box: Box, frame: FrameSize): Box {
  return scaleBox(box, { width: 1, height: 1 }, frame);
}

/**
 * Position a span of `length` around `centre` so that it stays within [0, limit] when it fits;
 * a span longer than the limit is centred on it (and overhangs both ends equally).
 */
function placeSpan(centre: number, length: number, limit: number): number {
  if (length >= limit) return (limit - length) / 2;
  return Math.min(Math.max(centre - length / 2, 0), limit - length);
}

/**
 * A square around a box with a margin of `marginFraction` of the box's longer side on each side,
 * at least `minSidePx`, shifted (not shrunk) to lie inside the frame. A square larger than the
 * frame's shorter side cannot lie inside it: it is centred on that axis and overhangs, which a
 * crop fills with padding.
 */
export function squareAround(box: Box, marginFraction: number, frame: FrameSize, minSidePx = 0): Box {
  const longer = Math.max(box.width, box.height);
  const side = Math.max(longer * (1 + 2 * marginFraction), minSidePx);
  const centre = boxCentre(box);
  return {
    x: placeSpan(centre.x, side, frame.width),
    y: placeSpan(centre.y, side, frame.height),
    width: side,
    height: side,
  };
}

/** Gap between two boxes along the axis where they are furthest apart; ≤ 0 when they overlap. */
export function boxGap(a: Box, b: Box): number {
  const gapX = Math.max(a.x, b.x) - Math.min(a.x + a.width, b.x + b.width);
  const gapY = Math.max(a.y, b.y) - Math.min(a.y + a.height, b.y + b.height);
  return Math.max(gapX, gapY);
}

/**
 * Merge boxes that overlap or lie within `gapPx` of each other into their enclosing boxes,
 * repeatedly, until no two remaining boxes are that close. Order of the result: by first
 * appearance of a member in the input.
 */
export function mergeBoxes(boxes: readonly Box[], gapPx = 0): Box[] {
  const merged = boxes.map((b) => ({ ...b }));
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = 0; i < merged.length; i++) {
      for (let j = i + 1; j < merged.length; j++) {
        // Touching boxes (gap exactly 0) merge even with gapPx 0: they are one blob split by a row.
        if (boxGap(merged[i]!, merged[j]!) <= gapPx) {
          merged[i] = enclosingBox(merged[i]!, merged[j]!);
          merged.splice(j, 1);
          changed = true;
          j = i;
        }
      }
    }
  }
  return merged;
}

/**
 * Even-odd (crossing number) test; `x`, `y` in the polygon's coordinates. Points exactly on an
 * edge may fall either way, as they do for any raster.
 */
export function pointInPolygon(x: number, y: number, polygon: NormalisedPolygon): boolean {
  let inside = false;
  const n = polygon.length;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const [xi, yi] = polygon[i]!;
    const [xj, yj] = polygon[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * Rasterise normalised polygons onto a `width`×`height` grid: a pixel is set (1) when its centre
 * lies inside any polygon (even-odd per polygon, as `pointInPolygon`). Writes into `out` when
 * given (it is cleared first), else into a new array. Scanline fill: cost is one pass over the
 * edges per row, not one polygon test per pixel.
 */
export function rasterisePolygons(
  polygons: readonly NormalisedPolygon[],
  width: number,
  height: number,
  out: Uint8Array = new Uint8Array(width * height),
): Uint8Array {
  if (out.length < width * height)
    throw new RangeError(`mask buffer holds ${out.length} < ${width * height}`);
  out.fill(0, 0, width * height);
  const crossings: number[] = [];
  for (const polygon of polygons) {
    if (polygon.length < 3) continue;
    for (let row = 0; row < height; row++) {
      const y = (row + 0.5) / height;
      crossings.length = 0;
      for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
        const [xi, yi] = polygon[i]!;
        const [xj, yj] = polygon[j]!;
        if (yi > y !== yj > y) crossings.push(((xj - xi) * (y - yi)) / (yj - yi) + xi);
      }
      crossings.sort((a, b) => a - b);
      for (let k = 0; k + 1 < crossings.length; k += 2)
        fillRowSpan(out, row * width, width, crossings[k]!, crossings[k + 1]!);
    }
  }
  return out;
}

/** Set the pixels of one row whose centres lie in [left, right) (normalised x). */
function fillRowSpan(out: Uint8Array, rowStart: number, width: number, left: number, right: number): void {
  // Pixel c's centre is (c + 0.5) / width; inside when left ≤ centre < right, matching pointInPolygon.
  const first = Math.max(0, Math.ceil(left * width - 0.5));
  const last = Math.min(width - 1, Math.ceil(right * width - 0.5) - 1);
  if (last >= first) out.fill(1, rowStart + first, rowStart + last + 1);
}

/** The point a detection stands on: the bottom centre of its box (feet, wheels). */
export function referencePoint(box: Box): { x: number; y: number } {
  return { x: box.x + box.width / 2, y: box.y + box.height };
}

/**
 * Whether a box, in pixels of `frame`, stands inside any of the normalised polygons (its
 * reference point does). Analytics drops such detections: what a permanent privacy mask covers
 * is not watched at all.
 */
export function standsInAny(box: Box, frame: FrameSize, polygons: readonly NormalisedPolygon[]): boolean {
  if (polygons.length === 0 || frame.width <= 0 || frame.height <= 0) return false;
  const point = referencePoint(box);
  // Inside the frame, so a box standing on the frame's bottom edge meets a mask drawn to that edge.
  const x = Math.min(Math.max(point.x / frame.width, 0), 1 - 1e-9);
  const y = Math.min(Math.max(point.y / frame.height, 0), 1 - 1e-9);
  return polygons.some((polygon) => polygon.length >= 3 && pointInPolygon(x, y, polygon));
}
