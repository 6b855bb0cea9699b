import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import {
  CENTERNET_INPUT_NODE as INPUT_NODE,
  CENTERNET_INPUT_SIZE as INPUT_SIZE,
  CENTERNET_OUTPUT_NODE as OUTPUT_NODE,
  decodeCenterNetRows,
  MODEL_FILE,
  prepareCenterNetInput,
  type CenterNetOptions,
} from './centernet-io.js';
import { defaultModelDir, loadModel } from './tfjs-models.js';
import type { Detection, Detector, DetectorInput } from './types.js';

export { MODEL_FILE, type CenterNetOptions } from './centernet-io.js';
export { defaultModelDir, initWasmBackend } from './tfjs-models.js';

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
    const { scale } = prepareCenterNetInput(image, this.resized, this.input);
    const tensor = tf.tensor4d(this.input, [1, INPUT_SIZE, INPUT_SIZE, 3], 'float32');
    let output: tf.Tensor | null = null;
    try {
      output = model.execute({ [INPUT_NODE]: tensor }, OUTPUT_NODE) as tf.Tensor;
      const rows = await output.data();
      return decodeCenterNetRows(rows, scale, image, this.minScore);
    } finally {
      tensor.dispose();
      output?.dispose();
    }
  }
}
