import { boxCentre, boxFromNormalised, type Box, type FrameSize } from '../../analytics/geometry.js';
import { lerpBox } from './hold.js';
import type { ManualRedaction, TrackPathPoint } from './options.js';

/** A stored path point further than this from a time says nothing about where the track is then. */
const MAX_PATH_GAP_MS = 2000;

/**
 * Where a stored track's centre is at `timeMs` (wall time), normalised, interpolated between its
 * points; null outside the path (beyond MAX_PATH_GAP_MS from its ends) or across a long gap.
 */
export function pathCentreAt(
  path: readonly TrackPathPoint[],
  timeMs: number,
): { x: number; y: number } | null {
  if (path.length === 0) return null;
  const first = path[0]!;
  const last = path[path.length - 1]!;
  if (timeMs <= first.timeMs)
    return first.timeMs - timeMs <= MAX_PATH_GAP_MS ? { x: first.x, y: first.y } : null;
  if (timeMs >= last.timeMs) return timeMs - last.timeMs <= MAX_PATH_GAP_MS ? { x: last.x, y: last.y } : null;
  for (let i = 1; i < path.length; i++) {
    const b = path[i]!;
    if (b.timeMs < timeMs) continue;
    const a = path[i - 1]!;
    if (b.timeMs - a.timeMs > 2 * MAX_PATH_GAP_MS) return null;
    const t = b.timeMs === a.timeMs ? 0 : (timeMs - a.timeMs) / (b.timeMs - a.timeMs);
    return { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t };
  }
  return null;
}

/**
 * A hand-drawn box at `atMs` from the clip's start, in frame pixels; null before its first key and
 * after its last. With a followed track, the box moves by the track's displacement since the
 * nearest key (where the track is known at both times).
 */
export function manualBoxAt(
  manual: ManualRedaction,
  atMs: number,
  frame: FrameSize,
  clipStartTimeMs: number | undefined,
): Box | null {
  const keys = [...manual.keys].sort((a, b) => a.atMs - b.atMs);
  if (keys.length === 0) return null;
  const first = keys[0]!;
  const last = keys[keys.length - 1]!;
  if (atMs < first.atMs || atMs > last.atMs) return null;
  let box = first.box;
  let nearestKeyMs = first.atMs;
  for (let i = 1; i < keys.length; i++) {
    const a = keys[i - 1]!;
    const b = keys[i]!;
    if (atMs > b.atMs) continue;
    const t = b.atMs === a.atMs ? 0 : (atMs - a.atMs) / (b.atMs - a.atMs);
    box = lerpBox(a.box, b.box, t);
    nearestKeyMs = t < 0.5 ? a.atMs : b.atMs;
    break;
  }
  if (manual.follow && clipStartTimeMs !== undefined) {
    const now = pathCentreAt(manual.follow.path, clipStartTimeMs + atMs);
    const then = pathCentreAt(manual.follow.path, clipStartTimeMs + nearestKeyMs);
    if (now && then) box = { ...box, x: box.x + now.x - then.x, y: box.y + now.y - then.y };
  }
  return boxFromNormalised(box, frame);
}

/**
 * The person box that is the kept track's: among the boxes containing the track's centre, the one
 * whose centre is nearest to it; null when none contains it.
 */
export function keptPersonBox(
  persons: readonly Box[],
  centrePx: { x: number; y: number } | null,
): Box | null {
  if (!centrePx) return null;
  let best: Box | null = null;
  let bestDistance = Infinity;
  for (const box of persons) {
    if (!boxContains(box, centrePx)) continue;
    const c = boxCentre(box);
    const distance = Math.hypot(c.x - centrePx.x, c.y - centrePx.y);
    if (distance < bestDistance) {
      best = box;
      bestDistance = distance;
    }
  }
  return best;
}

/** Whether a point (pixels) lies in a box, edges included. */
export function boxContains(box: Box, point: { x: number; y: number }): boolean {
  return (
    point.x >= box.x && point.x <= box.x + box.width && point.y >= box.y && point.y <= box.y + box.height
  );
}
