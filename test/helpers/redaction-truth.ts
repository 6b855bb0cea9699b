import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Box } from '../../src/analytics/geometry.js';
import { pixelatedRect } from '../../src/privacy/redaction/pixelate.js';
import { repoRoot } from './footage.js';

/** The hand-annotated faces of the Megamind test clip (test/fixtures/redaction/README.md). */
export interface FaceTruth {
  clip: string;
  sha256: string;
  width: number;
  height: number;
  frameCount: number;
  faces: Array<{ name: string; keys: Array<{ frame: number; box: [number, number, number, number] }> }>;
}

export function loadFaceTruth(): FaceTruth {
  const path = join(repoRoot, 'test', 'fixtures', 'redaction', 'megamind-faces.json');
  return JSON.parse(readFileSync(path, 'utf8')) as FaceTruth;
}

/** The annotated face boxes on one frame: linear between keys, none outside a face's first and last key. */
export function truthBoxesAt(truth: FaceTruth, frame: number): Box[] {
  const boxes: Box[] = [];
  for (const face of truth.faces) {
    const keys = face.keys;
    for (let i = 0; i < keys.length; i++) {
      const a = keys[i]!;
      const b = keys[Math.min(i + 1, keys.length - 1)]!;
      if (frame < a.frame || frame > b.frame) continue;
      const t = b.frame === a.frame ? 0 : (frame - a.frame) / (b.frame - a.frame);
      const [x, y, width, height] = a.box.map((v, k) => v + (b.box[k]! - v) * t) as [
        number,
        number,
        number,
        number,
      ];
      boxes.push({ x, y, width, height });
      break;
    }
  }
  return boxes;
}

/**
 * The share of `face` (0..1) that the pixelation of `blurred` covers, counted pixel by pixel on
 * the frame (the pixelated area is each box out to whole blocks, as pixelateBoxes changes it).
 */
export function coveredShare(
  face: Box,
  blurred: readonly Box[],
  frame: { width: number; height: number },
): number {
  const x0 = Math.max(0, Math.round(face.x));
  const y0 = Math.max(0, Math.round(face.y));
  const x1 = Math.min(frame.width, Math.round(face.x + face.width));
  const y1 = Math.min(frame.height, Math.round(face.y + face.height));
  if (x1 <= x0 || y1 <= y0) return 1;
  const rects = blurred.map((box) => pixelatedRect(box, frame));
  let covered = 0;
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++)
      if (rects.some((r) => x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height)) covered++;
  return covered / ((x1 - x0) * (y1 - y0));
}

/** A face counts as visible when less than this share of its annotated box is pixelated. */
export const HIDDEN_SHARE = 0.9;

export interface VisibilityResult {
  framesWithFace: number;
  framesWithVisibleFace: number;
  visibleFrames: number[];
  /** Frames with a visible face over all frames with an annotated face. */
  share: number;
}

/** Which annotated frames still show a face, given the boxes blurred on each frame. */
export function visibleFaceFrames(
  truth: FaceTruth,
  blurredPerFrame: ReadonlyArray<readonly Box[]>,
): VisibilityResult {
  let framesWithFace = 0;
  const visibleFrames: number[] = [];
  for (let frame = 0; frame < truth.frameCount; frame++) {
    const faces = truthBoxesAt(truth, frame);
    if (faces.length === 0) continue;
    framesWithFace++;
    const blurred = blurredPerFrame[frame] ?? [];
    if (faces.some((face) => coveredShare(face, blurred, truth) < HIDDEN_SHARE)) visibleFrames.push(frame);
  }
  return {
    framesWithFace,
    framesWithVisibleFace: visibleFrames.length,
    visibleFrames,
    share: framesWithFace === 0 ? 0 : visibleFrames.length / framesWithFace,
  };
}
