/** A point [x, y] in normalised image coordinates. */
type Point = readonly [number, number];

/** Twice the signed area of the triangle a, b, c: > 0 counter-clockwise, 0 when collinear. */
function cross(a: Point, b: Point, c: Point): number {
  return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
}

function onSegment(a: Point, b: Point, p: Point): boolean {
  return (
    Math.min(a[0], b[0]) <= p[0] &&
    p[0] <= Math.max(a[0], b[0]) &&
    Math.min(a[1], b[1]) <= p[1] &&
    p[1] <= Math.max(a[1], b[1])
  );
}

/** Whether segments ab and cd share a point (touching and overlapping count). */
export function segmentsIntersect(a: Point, b: Point, c: Point, d: Point): boolean {
  const d1 = cross(c, d, a);
  const d2 = cross(c, d, b);
  const d3 = cross(a, b, c);
  const d4 = cross(a, b, d);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
  return (
    (d1 === 0 && onSegment(c, d, a)) ||
    (d2 === 0 && onSegment(c, d, b)) ||
    (d3 === 0 && onSegment(a, b, c)) ||
    (d4 === 0 && onSegment(a, b, d))
  );
}

/**
 * The pairs of edges of a closed polygon that cross or touch other than at a shared corner;
 * edge i runs from point i to point i + 1 (0-based, the last back to the first). Empty for a
 * simple polygon.
 */
export function selfIntersections(polygon: readonly Point[]): Array<[number, number]> {
  const n = polygon.length;
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      // Neighbouring edges share a corner; that is not a crossing.
      if (j === i + 1 || (i === 0 && j === n - 1)) continue;
      if (segmentsIntersect(polygon[i]!, polygon[(i + 1) % n]!, polygon[j]!, polygon[(j + 1) % n]!))
        pairs.push([i, j]);
    }
  }
  return pairs;
}

/**
 * Why a closed polygon is not a simple one (edges crossing or touching other than at shared
 * corners, or no area at all), or undefined when it is. A mask drawn as a figure eight would
 * cover by the even-odd rule a different area from what its author meant, so it is refused.
 */
export function polygonProblem(polygon: readonly Point[]): string | undefined {
  const n = polygon.length;
  if (n < 3) return 'needs at least three points';
  const [first] = selfIntersections(polygon);
  if (first) {
    const [i, j] = first;
    return `edges ${i + 1}-${((i + 1) % n) + 1} and ${j + 1}-${((j + 1) % n) + 1} cross: draw the outline without crossing itself`;
  }
  let doubleArea = 0;
  for (let i = 0; i < n; i++) {
    const [x1, y1] = polygon[i]!;
    const [x2, y2] = polygon[(i + 1) % n]!;
    doubleArea += x1 * y2 - x2 * y1;
  }
  if (Math.abs(doubleArea) < 1e-9) return 'has no area: its points lie on one line';
  return undefined;
}
