import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { clampBox, type Box } from '../../analytics/geometry.js';
import {
  cropResizeRgb,
  mapBoxFromRegion,
  nmsPerLabel,
  type RgbImage,
} from '../../analytics/detector/index.js';
import { loadModel } from '../../analytics/detector/tfjs-models.js';

/** Where a face is in one frame: a box in the frame's pixels and the detector's score 0..1. Nothing else. */
export interface FaceDetection {
  box: Box;
  score: number;
}

/** Finds faces in frames; a test or another model may stand in for BlazeFace. */
export interface FaceDetector {
  readonly name: string;
  /** `tiles: false` looks at the whole frame only (cheaper; small faces may be missed). */
  detectFaces(frame: RgbImage, options?: { tiles?: boolean }): FaceDetection[];
  close(): void;
}

export interface BlazeFaceOptions {
  /** Folder holding blazeface.json and .bin; default: @vladmandic/human's models. */
  modelDir?: string;
  /** Faces scoring below this are dropped. Low on purpose: a missed face is worse than a blurred shoulder. */
  minScore?: number;
  /**
   * Tiles per side on top of the whole frame: BlazeFace sees 256×256, so a face under about 20 px
   * there (a background face in a 720p frame) is missed at full frame but found in a tile.
   * 0 = whole frame only; 2 = the frame plus 2×2 overlapping tiles (5 model runs).
   */
  tiles?: number;
}

const INPUT_SIZE = 256;
const ROW_LENGTH = 17;
/** A tile overlaps its neighbours by this share of its side, so a face on a seam is whole in one. */
const TILE_OVERLAP = 0.25;

/**
 * BlazeFace ("back" model, 256×256) from @vladmandic/human's models folder, on tfjs's WebAssembly
 * backend, as the analytics detector runs CenterNet. It reports boxes and scores only; its six
 * landmarks are not read. Measured output layout: four tensors, [1,512,1] and [1,384,1] logits
 * with [1,512,16] and [1,384,16] regressors (dx, dy, w, h in input pixels, then landmarks), for
 * anchors on a 16-px grid (2 each) then a 32-px grid (6 each).
 */
export class BlazeFaceDetector implements FaceDetector {
  readonly name = 'blazeface (tfjs wasm)';
  private readonly anchors = blazeFaceAnchors(INPUT_SIZE);
  private readonly input = new Float32Array(INPUT_SIZE * INPUT_SIZE * 3);
  private readonly resized = new Uint8Array(INPUT_SIZE * INPUT_SIZE * 3);

  private constructor(
    private model: GraphModel | null,
    private readonly minScore: number,
    private readonly tiles: number,
  ) {}

  static async create(options: BlazeFaceOptions = {}): Promise<BlazeFaceDetector> {
    const model = await loadModel('blazeface.json', options.modelDir);
    return new BlazeFaceDetector(model, options.minScore ?? 0.3, options.tiles ?? 2);
  }

  detectFaces(frame: RgbImage, options: { tiles?: boolean } = {}): FaceDetection[] {
    const found: FaceDetection[] = [];
    for (const region of faceRegions(frame, options.tiles === false ? 0 : this.tiles))
      found.push(...this.detectInRegion(frame, region));
    const merged = nmsPerLabel(
      found.map((face) => ({ box: face.box, score: face.score, label: 'face' })),
      { iouThreshold: 0.3, containmentThreshold: 0.7 },
    );
    return merged.map((face) => ({ box: face.box, score: face.score }));
  }

  close(): void {
    this.model?.dispose();
    this.model = null;
  }

  private detectInRegion(frame: RgbImage, region: Box): FaceDetection[] {
    const model = this.model;
    if (!model) throw new Error('face detector is closed');
    const pixels = cropResizeRgb(frame, region, INPUT_SIZE, INPUT_SIZE, this.resized).data;
    // The model wants -1..1.
    for (let i = 0; i < this.input.length; i++) this.input[i] = pixels[i]! / 127.5 - 1;
    const tensor = tf.tensor4d(this.input, [1, INPUT_SIZE, INPUT_SIZE, 3], 'float32');
    let outputs: tf.Tensor[] = [];
    try {
      outputs = model.execute(tensor) as tf.Tensor[];
      const bySize = [...outputs].sort((a, b) => a.size - b.size);
      // Sizes: logits 384, logits 512, regressors 384×16, regressors 512×16.
      const rows = [
        { logits: bySize[1]!.dataSync(), regressors: bySize[3]!.dataSync(), count: 512 },
        { logits: bySize[0]!.dataSync(), regressors: bySize[2]!.dataSync(), count: 384 },
      ];
      return this.decode(rows, region, frame);
    } finally {
      tensor.dispose();
      for (const output of outputs) output.dispose();
    }
  }

  private decode(
    groups: Array<{ logits: ArrayLike<number>; regressors: ArrayLike<number>; count: number }>,
    region: Box,
    frame: RgbImage,
  ): FaceDetection[] {
    const faces: FaceDetection[] = [];
    let anchor = 0;
    for (const group of groups) {
      for (let i = 0; i < group.count; i++, anchor++) {
        const score = 1 / (1 + Math.exp(-group.logits[i]!));
        if (!(score >= this.minScore)) continue;
        const r = i * (ROW_LENGTH - 1);
        const cx = this.anchors[anchor * 2]! + group.regressors[r]!;
        const cy = this.anchors[anchor * 2 + 1]! + group.regressors[r + 1]!;
        const w = group.regressors[r + 2]!;
        const h = group.regressors[r + 3]!;
        if (!(w > 0 && h > 0)) continue;
        const inputBox = { x: cx - w / 2, y: cy - h / 2, width: w, height: h };
        const box = clampBox(mapBoxFromRegion(inputBox, region, INPUT_SIZE), frame);
        if (box.width > 0 && box.height > 0) faces.push({ box, score });
      }
    }
    return faces;
  }
}

/** Anchor centres (x, y pairs, input pixels): a 16-px grid with 2 anchors a cell, then a 32-px grid with 6. */
export function blazeFaceAnchors(inputSize: number): Float32Array {
  const specs = [
    { stride: inputSize / 16, perCell: 2 },
    { stride: inputSize / 8, perCell: 6 },
  ];
  const out: number[] = [];
  for (const { stride, perCell } of specs) {
    const cells = Math.ceil(inputSize / stride);
    for (let gy = 0; gy < cells; gy++)
      for (let gx = 0; gx < cells; gx++)
        for (let n = 0; n < perCell; n++) out.push(stride * (gx + 0.5), stride * (gy + 0.5));
  }
  return Float32Array.from(out);
}

/**
 * The square regions a frame is searched in: the whole frame (letterboxed to a square of its
 * longer side), then `tiles`×`tiles` overlapping squares covering it. Pure, for tests.
 */
export function faceRegions(frame: { width: number; height: number }, tiles: number): Box[] {
  const side = Math.max(frame.width, frame.height);
  const regions: Box[] = [
    { x: (frame.width - side) / 2, y: (frame.height - side) / 2, width: side, height: side },
  ];
  if (tiles < 2) return regions;
  const tileSide = Math.min(side, Math.ceil(side / (tiles - (tiles - 1) * TILE_OVERLAP)));
  const positions = (length: number): number[] => {
    if (length <= tileSide) return [(length - tileSide) / 2];
    const step = (length - tileSide) / (tiles - 1);
    return Array.from({ length: tiles }, (_, i) => Math.round(i * step));
  };
  for (const y of positions(frame.height))
    for (const x of positions(frame.width)) regions.push({ x, y, width: tileSide, height: tileSide });
  return regions;
}
