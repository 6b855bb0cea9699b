import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { boxFromCorners, clampBox } from '../geometry.js';
import { cocoLabel } from './coco-labels.js';
import { cropResizeRgb } from './image.js';
import { defaultModelDir, loadModel } from './tfjs-models.js';
import type { Detection, Detector, DetectorInput } from './types.js';

const MODEL_FILE = 'centernet.json';
const INPUT_NODE = 'tower_0/images';
const OUTPUT_NODE = 'tower_0/detections';
const INPUT_SIZE = 512;

export interface CenterNetOptions {
  /**
   * Folder holding centernet.json and centernet.bin. Default: the models folder of the installed
   * @vladmandic/human package. Only for packaging (e.g. a trimmed install); the file name is fixed.
   */
  modelDir?: string;
  /** Raw detections below this score are dropped inside the detector; the label filters come after. */
  minScore?: number;
}

/**
 * COCO-80 object detector: MobileNetV3 CenterNet (from @vladmandic/human's models), on tfjs's
 * WebAssembly backend. Measured behaviour of this model (docs/design/analytics.md):
 * - input [1, 512, 512, 3] float32 RGB in 0..255 (not normalised: 0..1 input finds nothing);
 * - output `tower_0/detections` [1, 100, 6]: x1, y1, x2, y2 in input pixels, score 0..1, class
 *   index 0..79 in the usual COCO order (0 person, 2 car, 7 truck), sorted by score.
 *
 * Inference is synchronous inside tfjs (about 200 ms per input on one core): call it from a
 * worker thread (WorkerDetector) so the main thread keeps serving video.
 */
export class CenterNetDetector implements Detector {
  readonly name = 'centernet (mobilenetv3, tfjs wasm)';
  readonly inputSize = INPUT_SIZE;
  private readonly input = new Float32Array(INPUT_SIZE * INPUT_SIZE * 3);
  private readonly resized = new Uint8Array(INPUT_SIZE * INPUT_SIZE * 3);
  private model: GraphModel | null;

  private constructor(
    model: GraphModel,
    private readonly minScore: number,
  ) {
    this.model = model;
  }

  static async create(options: CenterNetOptions = {}): Promise<CenterNetDetector> {
    const modelDir = options.modelDir ?? defaultModelDir();
    const model = await loadModel(MODEL_FILE, modelDir);
    if (!model.outputNodes.includes(OUTPUT_NODE) && !model.outputs.some((o) => o.name === OUTPUT_NODE)) {
      model.dispose();
      throw new Error(`${join(modelDir, MODEL_FILE)} has no output ${OUTPUT_NODE}: not the CenterNet model`);
    }
    return new CenterNetDetector(model, options.minScore ?? 0.2);
  }

  async detect(inputs: readonly DetectorInput[]): Promise<Detection[][]> {
    const results: Detection[][] = [];
    for (const input of inputs) results.push(await this.detectOne(input));
    return results;
  }

  async close(): Promise<void> {
    this.model?.dispose();
    this.model = null;
  }

  private async detectOne(image: DetectorInput): Promise<Detection[]> {
    const model = this.model;
    if (!model) throw new Error('detector is closed');
    // Anything but the model's size is letterboxed into it: a square region of the image's longer side.
    const side = Math.max(image.width, image.height);
    const square = image.width === INPUT_SIZE && image.height === INPUT_SIZE;
    const pixels = square
      ? image.data
      : cropResizeRgb(image, { x: 0, y: 0, width: side, height: side }, INPUT_SIZE, INPUT_SIZE, this.resized)
          .data;
    const input = this.input;
    for (let i = 0; i < input.length; i++) input[i] = pixels[i]!;
    const tensor = tf.tensor4d(input, [1, INPUT_SIZE, INPUT_SIZE, 3], 'float32');
    let output: tf.Tensor | null = null;
    try {
      output = model.execute({ [INPUT_NODE]: tensor }, OUTPUT_NODE) as tf.Tensor;
      const rows = await output.data();
      return this.decode(rows, side / INPUT_SIZE, image);
    } finally {
      tensor.dispose();
      output?.dispose();
    }
  }

  /** Rows of [x1, y1, x2, y2, score, class] in model pixels → detections in the image's pixels. */
  private decode(rows: ArrayLike<number>, scale: number, image: DetectorInput): Detection[] {
    const detections: Detection[] = [];
    for (let r = 0; r + 6 <= rows.length; r += 6) {
      const score = rows[r + 4]!;
      if (!(score >= this.minScore)) continue;
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
}
