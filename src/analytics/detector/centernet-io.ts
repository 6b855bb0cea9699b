import { homedir } from 'node:os';
import { join } from 'node:path';
import { boxFromCorners, clampBox } from '../geometry.js';
import { cocoLabel } from './coco-labels.js';
import { cropResizeRgb } from './image.js';
import type { Detection, DetectorInput } from './types.js';

/**
 * The one model file this detector loads, from @vladmandic/human's models folder. That package
 * also ships age, gender, emotion and face-recognition models: Vigil never loads them (refused
 * by design), which is why the name is fixed here and not configurable.
 */
export const MODEL_FILE = 'centernet.json';

export interface CenterNetOptions {
  /**
   * Which runtime runs the model: `onnx` (onnxruntime on the CPU, the model converted once and
   * cached), `tfjs` (tfjs's WebAssembly backend) or `auto` (onnx, else tfjs). Default `auto`.
   */
  backend?: 'auto' | 'onnx' | 'tfjs';
  /** Folder for the converted ONNX model (backend onnx/auto). Default: the OS temp folder. */
  cacheDir?: string;
  /** onnxruntime's intra-op threads. Default 2. */
  threads?: number;
  /**
   * Folder holding centernet.json and centernet.bin. Default: the models folder of the installed
   * @vladmandic/human package. Only for packaging (e.g. a trimmed install); the file name is fixed.
   */
  modelDir?: string;
  /** Raw detections below this score are dropped inside the detector; the label filters come after. */
  minScore?: number;
}

export { defaultModelDir } from './model-files.js';

/**
 * Where the converted ONNX model is cached by default: the user's cache folder (XDG), never the
 * storage folder (fsck would take it for an orphan recording).
 */
export function defaultCacheDir(): string {
  return join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'vigil', 'models');
}

/** The CenterNet graph's input, output and size, the same whichever runtime runs it. */
export const CENTERNET_INPUT_NODE = 'tower_0/images';
export const CENTERNET_OUTPUT_NODE = 'tower_0/detections';
export const CENTERNET_INPUT_SIZE = 512;

/**
 * Fill `input` (512×512×3 float32, RGB 0..255, NHWC) from an image: a 512×512 image as is,
 * anything else letterboxed (a square of its longer side, resized into `resized`). Returns the
 * factor from model pixels back to the image's pixels.
 */
export function prepareCenterNetInput(
  image: DetectorInput,
  resized: Uint8Array,
  input: Float32Array,
): { scale: number } {
  const size = CENTERNET_INPUT_SIZE;
  const side = Math.max(image.width, image.height);
  const square = image.width === size && image.height === size;
  const pixels = square
    ? image.data
    : cropResizeRgb(image, { x: 0, y: 0, width: side, height: side }, size, size, resized).data;
  for (let i = 0; i < input.length; i++) input[i] = pixels[i]!;
  return { scale: side / size };
}

/** Rows of [x1, y1, x2, y2, score, class] in model pixels → detections in the image's pixels. */
export function decodeCenterNetRows(
  rows: ArrayLike<number>,
  scale: number,
  image: DetectorInput,
  minScore: number,
): Detection[] {
  const detections: Detection[] = [];
  for (let r = 0; r + 6 <= rows.length; r += 6) {
    const score = rows[r + 4]!;
    if (!(score >= minScore)) continue;
    const label = cocoLabel(Math.round(rows[r + 5]!));
    if (label === null) continue;
    const box = clampBox(
      boxFromCorners(rows[r]! * scale, rows[r + 1]! * scale, rows[r + 2]! * scale, rows[r + 3]! * scale),
      image,
    );
    if (box.width > 0 && box.height > 0) detections.push({ box, label, score });
  }
  return detections;
}
