import type { EventPathPoint } from '../contract/events.js';
import type { HeatMap } from '../contract/scene.js';
import type { EventQuery, EventStore } from './store.js';

/** The heat map's grid: 48 × 36 cells, 4:3 like most cameras, coarse enough to read at a glance. */
export const HEATMAP_COLUMNS = 48;
export const HEATMAP_ROWS = 36;
/** Events read for one heat map at the most; `eventCount` says how many were. */
export const HEATMAP_MAX_EVENTS = 20_000;

type Point = Pick<EventPathPoint, 'x' | 'y'>;

function cellOf(value: number, cells: number): number {
  return Math.min(cells - 1, Math.max(0, Math.floor(value * cells)));
}

/**
 * The cells a segment from `a` to `b` (normalised) passes through, in order, walking the grid
 * cell by cell (Amanatides & Woo): a fast mover, seen far apart in two frames, still leaves a
 * continuous trail.
 */
export function cellsOnSegment(a: Point, b: Point, columns: number, rows: number): number[] {
  let cx = cellOf(a.x, columns);
  let cy = cellOf(a.y, rows);
  const endX = cellOf(b.x, columns);
  const endY = cellOf(b.y, rows);
  const cells = [cy * columns + cx];
  const dx = (b.x - a.x) * columns;
  const dy = (b.y - a.y) * rows;
  const stepX = Math.sign(dx);
  const stepY = Math.sign(dy);
  // Distance along the segment (0..1) to the next vertical and horizontal cell border.
  const ax = a.x * columns;
  const ay = a.y * rows;
  let tMaxX = stepX === 0 ? Infinity : ((stepX > 0 ? cx + 1 : cx) - ax) / dx;
  let tMaxY = stepY === 0 ? Infinity : ((stepY > 0 ? cy + 1 : cy) - ay) / dy;
  const tDeltaX = stepX === 0 ? Infinity : Math.abs(1 / dx);
  const tDeltaY = stepY === 0 ? Infinity : Math.abs(1 / dy);
  // At most one step per border crossed: bounded even for points outside 0..1.
  for (let guard = columns + rows; (cx !== endX || cy !== endY) && guard > 0; guard--) {
    if (tMaxX < tMaxY) {
      cx += stepX;
      tMaxX += tDeltaX;
    } else {
      cy += stepY;
      tMaxY += tDeltaY;
    }
    if (cx < 0 || cx >= columns || cy < 0 || cy >= rows) break;
    cells.push(cy * columns + cx);
  }
  return cells;
}

/**
 * Counts, per cell, the paths that passed it: each path adds at most 1 to a cell, however long
 * it stayed there (a parked car is one car, not a hot spot). Row-major, `columns × rows`.
 */
export function heatGrid(paths: Iterable<readonly Point[]>, columns: number, rows: number): number[] {
  const counts = new Array<number>(columns * rows).fill(0);
  const seen = new Uint8Array(columns * rows);
  for (const path of paths) {
    if (path.length === 0) continue;
    seen.fill(0);
    const mark = (cell: number): void => {
      if (seen[cell]) return;
      seen[cell] = 1;
      counts[cell]! += 1;
    };
    if (path.length === 1) mark(cellOf(path[0]!.y, rows) * columns + cellOf(path[0]!.x, columns));
    for (let i = 1; i < path.length; i++) {
      for (const cell of cellsOnSegment(path[i - 1]!, path[i]!, columns, rows)) mark(cell);
    }
  }
  return counts;
}

/** The heat map of a camera's events overlapping [fromMs, toMs), of one label or all. */
export async function heatMapOf(
  store: Pick<EventStore, 'query'>,
  cameraId: string,
  range: { fromMs: number; toMs: number },
  label: string | null,
): Promise<HeatMap> {
  const paths: EventPathPoint[][] = [];
  const query: EventQuery = { cameraId, ...range, ...(label !== null ? { label } : {}), limit: 500 };
  let cursor: string | null = null;
  do {
    const page = await store.query(cursor !== null ? { ...query, cursor } : query);
    for (const event of page.events) paths.push(event.path);
    cursor = page.nextCursor;
  } while (cursor !== null && paths.length < HEATMAP_MAX_EVENTS);
  const used = paths.slice(0, HEATMAP_MAX_EVENTS);
  return {
    cameraId,
    ...range,
    label,
    columns: HEATMAP_COLUMNS,
    rows: HEATMAP_ROWS,
    cells: heatGrid(used, HEATMAP_COLUMNS, HEATMAP_ROWS),
    eventCount: used.length,
  };
}
