import { createHash } from 'node:crypto';
import type { MaskPolygon } from './mask-overlay.js';

/** A part of a frame in normalised coordinates (0..1 of the frame), as an event stores its crop's. */
export interface NormalisedRegion {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Polygons of a frame in the coordinates of a picture showing only `region` of it (an event's
 * crop): 0..1 of the region. Points may fall outside 0..1; the overlay clips them at the edge,
 * so a mask reaching into the crop covers exactly its part there.
 */
export function polygonsInRegion(polygons: readonly MaskPolygon[], region: NormalisedRegion): MaskPolygon[] {
  if (region.width <= 0 || region.height <= 0) return [];
  return polygons.map((polygon) =>
    polygon.map(([x, y]) => [(x - region.x) / region.width, (y - region.y) / region.height] as const),
  );
}

/** A short fingerprint of a set of polygons, for ETags: a picture masked differently is another picture. */
export function masksFingerprint(polygons: readonly MaskPolygon[]): string {
  if (polygons.length === 0) return 'open';
  return createHash('sha256').update(JSON.stringify(polygons)).digest('base64url').slice(0, 12);
}
