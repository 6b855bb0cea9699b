import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import {
  CENTERNET_INPUT_NODE as INPUT_NODE,
  CENTERNET_INPUT_SIZE as INPUT_SIZE,
  CENTERNET_OUTPUT_NODE as OUTPUT_NODE,
  decodeCenterNetRows,
  defaultModelDir,
  MODEL_FILE,
  prepareCenterNetInput,
  type CenterNetOptions,
} from './centernet-io.js';
import type { Detection, Detector, DetectorInput } from './types.js';

export { defaultModelDir, MODEL_FILE, type CenterNetOptions } from './centernet-io.js';

const require = createRequire(import.meta.url);

let backendReady: Promise<void> | null = null;

/**
 * Select tfjs's WebAssembly backend, with the .wasm binaries read from the installed package
 * (no fetch, no network). Once per process (tfjs keeps one global backend); safe to call again.
 * In Node the wasm backend is single-threaded (tfjs disables its threads there): one inference
 * uses one core.
 */
export function initWasmBackend(): Promise<void> {
  backendReady ??= (async () => {
    const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    // A prefix, not a folder: tfjs appends the file name to it.
    setWasmPaths(`${wasmDir}/`);
    const ok = await tf.setBackend('wasm');
    if (!ok) throw new Error('tfjs could not initialise its WebAssembly backend');
    await tf.ready();
  })();
  backendReady.catch(() => {
    backendReady = null;
  });
  return backendReady;
}

/** A tfjs IOHandler that reads a graph model's JSON and single weights file from a folder. */
export async function loadModelArtifacts(modelDir: string): Promise<tf.io.ModelArtifacts> {
  const manifest = JSON.parse(await readFile(join(modelDir, MODEL_FILE), 'utf8')) as {
    modelTopology: object;
    weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
    format?: string;
    generatedBy?: string;
    convertedBy?: string;
    signature?: object;
  };
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of manifest.weightsManifest) {
    weightSpecs.push(...group.weights);
    // Weight file names come from the manifest; keep them inside the model folder.
    for (const path of group.paths)
      buffers.push(await readFile(join(modelDir, path.replace(/^.*[\\/]/, ''))));
  }
  const weights = Buffer.concat(buffers);
  return {
    modelTopology: manifest.modelTopology,
    weightSpecs,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    format: manifest.format,
    generatedBy: manifest.generatedBy,
    convertedBy: manifest.convertedBy,
    signature: manifest.signature,
  };
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
    await initWasmBackend();
    const modelDir = options.modelDir ?? defaultModelDir();
    const model = await loadGraphModel({ load: () => loadModelArtifacts(modelDir) });
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
