import { boxCentre, iou, type Box } from '../../analytics/geometry.js';

/**
 * From detections on some frames to boxes to blur on every frame. A detector misses a face now
 * and then (a turn of the head, motion blur, a hand in front): a box is therefore carried from
 * one detection to the next (linear interpolation), and held for some frames before its first
 * and after its last detection, growing as it gets older, so the frames around a miss are
 * covered too. The whole clip is known in advance (an export), so holding backwards is possible:
 * a face is blurred in the frames before the detector first sees it. Pure, for tests.
 */
export interface HoldOptions {
  /** Frames a box is kept before its first and after its last detection. */
  holdFrames: number;
  /** Detections of one object at most this many frames apart are joined by interpolation. */
  maxGapFrames: number;
  /** Added on each side of a detected box, as a share of its width and height. */
  marginFraction: number;
  /** Added on each side for every frame away from the nearest detection, as a share of the box. */
  growPerFrameFraction: number;
  /** Two boxes in consecutive detections are one object above this IoU ... */
  minIou: number;
  /** ... or when their centres are closer than this share of the larger box's side. */
  maxCentreShift: number;
}

export const DEFAULT_HOLD_OPTIONS: Readonly<HoldOptions> = {
  holdFrames: 12,
  maxGapFrames: 36,
  marginFraction: 0.3,
  growPerFrameFraction: 0.02,
  minIou: 0.1,
  maxCentreShift: 0.6,
};

/** One object's detections, in frame order. */
export interface LinkedTrack {
  frames: number[];
  boxes: Box[];
}

/**
 * Joins detections into tracks: each frame's boxes (null where the detector did not run) are
 * matched greedily, best overlap first, to the tracks seen within `maxGapFrames`.
 */
export function linkDetections(
  detections: ReadonlyArray<readonly Box[] | null>,
  options: Readonly<HoldOptions> = DEFAULT_HOLD_OPTIONS,
): LinkedTrack[] {
  const tracks: LinkedTrack[] = [];
  for (let frame = 0; frame < detections.length; frame++) {
    const boxes = detections[frame];
    if (!boxes || boxes.length === 0) continue;
    const open = tracks.filter((t) => frame - t.frames[t.frames.length - 1]! <= options.maxGapFrames);
    const pairs: Array<{ track: LinkedTrack; box: number; score: number }> = [];
    for (const track of open) {
      const last = track.boxes[track.boxes.length - 1]!;
      boxes.forEach((box, index) => {
        const score = matchScore(last, box, options);
        if (score > 0) pairs.push({ track, box: index, score });
      });
    }
    pairs.sort((a, b) => b.score - a.score);
    const usedTracks = new Set<LinkedTrack>();
    const usedBoxes = new Set<number>();
    for (const pair of pairs) {
      if (usedTracks.has(pair.track) || usedBoxes.has(pair.box)) continue;
      usedTracks.add(pair.track);
      usedBoxes.add(pair.box);
      pair.track.frames.push(frame);
      pair.track.boxes.push(boxes[pair.box]!);
    }
    boxes.forEach((box, index) => {
      if (!usedBoxes.has(index)) tracks.push({ frames: [frame], boxes: [box] });
    });
  }
  return tracks;
}

/** Above 0 when the two boxes may be one object: IoU, else a small score for a near centre. */
function matchScore(a: Box, b: Box, options: Readonly<HoldOptions>): number {
  const overlap = iou(a, b);
  if (overlap >= options.minIou) return overlap;
  const ca = boxCentre(a);
  const cb = boxCentre(b);
  const side = Math.max(a.width, a.height, b.width, b.height);
  const shift = Math.hypot(ca.x - cb.x, ca.y - cb.y) / side;
  return shift <= options.maxCentreShift ? 0.01 * (1 - shift / options.maxCentreShift) + 1e-6 : 0;
}

/** The boxes to blur on each of `frameCount` frames, from the linked tracks. */
export function heldBoxes(
  tracks: readonly LinkedTrack[],
  frameCount: number,
  options: Readonly<HoldOptions> = DEFAULT_HOLD_OPTIONS,
): Box[][] {
  const out: Box[][] = Array.from({ length: frameCount }, () => []);
  const put = (frame: number, box: Box, age: number) => {
    if (frame < 0 || frame >= frameCount) return;
    out[frame]!.push(grow(box, options.marginFraction + age * options.growPerFrameFraction));
  };
  for (const track of tracks) {
    const first = track.frames[0]!;
    const last = track.frames[track.frames.length - 1]!;
    for (let age = options.holdFrames; age >= 1; age--) put(first - age, track.boxes[0]!, age);
    for (let i = 0; i < track.frames.length; i++) {
      const frame = track.frames[i]!;
      put(frame, track.boxes[i]!, 0);
      const next = track.frames[i + 1];
      if (next === undefined) continue;
      for (let between = frame + 1; between < next; between++) {
        const t = (between - frame) / (next - frame);
        const age = Math.min(between - frame, next - between);
        put(between, lerpBox(track.boxes[i]!, track.boxes[i + 1]!, t), age);
      }
    }
    for (let age = 1; age <= options.holdFrames; age++)
      put(last + age, track.boxes[track.boxes.length - 1]!, age);
  }
  return out;
}

export function lerpBox(a: Box, b: Box, t: number): Box {
  return {
    x: a.x + (b.x - a.x) * t,
    y: a.y + (b.y - a.y) * t,
    width: a.width + (b.width - a.width) * t,
    height: a.height + (b.height - a.height) * t,
  };
}

/** The box grown on every side by `fraction` of its own width and height. */
export function grow(box: Box, fraction: number): Box {
  const dx = box.width * fraction;
  const dy = box.height * fraction;
  return { x: box.x - dx, y: box.y - dy, width: box.width + 2 * dx, height: box.height + 2 * dy };
}
