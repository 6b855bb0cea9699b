/**
 * Plane geometry of zones and tripwires, in normalised coordinates (0..1 of the frame, y down).
 * Pure: no frames, no time.
 */
import { segmentsIntersect, selfIntersections } from '../../config/polygon.js';
import { pointInPolygon, type NormalisedPoint, type NormalisedPolygon } from '../geometry.js';

export { pointInPolygon, segmentsIntersect, selfIntersections };

/** Which point of a box decides where an object is (SceneConfig.referencePoint). */
export type ReferencePointMode = 'bottom-centre' | 'centre';

/** A box in normalised coordinates. */
export interface NormalisedBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function referencePointOf(box: NormalisedBox, mode: ReferencePointMode): [number, number] {
  const x = box.x + box.width / 2;
  return mode === 'centre' ? [x, box.y + box.height / 2] : [x, box.y + box.height];
}

/**
 * Signed distance of `p` from the infinite line through a and b, in normalised units: > 0 on the
 * line's right-hand side (standing on a, looking at b, on screen with y down), < 0 on its left.
 */
export function signedDistance(a: NormalisedPoint, b: NormalisedPoint, p: NormalisedPoint): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const length = Math.hypot(dx, dy);
  if (length === 0) return 0;
  // The cross product (b - a) × (p - a) is positive when p is clockwise from b seen from a,
  // which with y pointing down is the right-hand side.
  return (dx * (p[1] - a[1]) - dy * (p[0] - a[0])) / length;
}

/** Distance from p to the segment ab. */
export function distanceToSegment(a: NormalisedPoint, b: NormalisedPoint, p: NormalisedPoint): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const lengthSquared = dx * dx + dy * dy;
  const t =
    lengthSquared === 0
      ? 0
      : Math.min(1, Math.max(0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / lengthSquared));
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

/** Distance from p to the nearest edge of a closed polygon. */
export function distanceToPolygonEdge(polygon: NormalisedPolygon, p: NormalisedPoint): number {
  let best = Infinity;
  for (let i = 0; i < polygon.length; i++) {
    best = Math.min(best, distanceToSegment(polygon[i]!, polygon[(i + 1) % polygon.length]!, p));
  }
  return best;
}

/** Side of a line: +1 right-hand, -1 left-hand (see signedDistance). */
export type LineSide = 1 | -1;

/** A crossing of a directed line: A→B goes from its right-hand side to its left. */
export type CrossingDirection = 'a-to-b' | 'b-to-a';

/**
 * Follows one object's reference point against one tripwire, with hysteresis: a point only
 * counts as on a side once it is `marginDistance` from the line ("firmly"), and a crossing is
 * reported when the point is firmly on the side opposite to the one it was last firmly on, and
 * the way between those two firm points passes through the segment ab (not its extension).
 * A box jittering on the line never gets firmly across, so it never counts.
 */
export class LineCrossing {
  private firmSide: LineSide | null = null;
  private firmPoint: NormalisedPoint | null = null;

  constructor(
    private readonly a: NormalisedPoint,
    private readonly b: NormalisedPoint,
    private readonly marginDistance: number,
  ) {}

  /** The point's next position; the direction of a crossing completed by it, or null. */
  update(p: NormalisedPoint): CrossingDirection | null {
    const distance = signedDistance(this.a, this.b, p);
    if (Math.abs(distance) < this.marginDistance) return null;
    const side: LineSide = distance > 0 ? 1 : -1;
    const from = this.firmPoint;
    const previous = this.firmSide;
    this.firmSide = side;
    this.firmPoint = p;
    if (previous === null || previous === side || from === null) return null;
    if (!segmentsIntersect(from, p, this.a, this.b)) return null;
    return previous === 1 ? 'a-to-b' : 'b-to-a';
  }
}
