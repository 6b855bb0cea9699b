import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { boxFromCorners, clampBox } from '../geometry.js';
import { cocoLabel } from './coco-labels.js';
import { cropResizeRgb } from './image.js';
import type { Detection, Detector, DetectorInput } from './types.js';

/**
 * The one model file this detector loads, from @vladmandic/human's models folder. That package
 * also ships age, gender, emotion and face-recognition models: Vigil never loads them (refused
 * by design), which is why the name is fixed here and not configurable.
 */
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

const require = createRequire(import.meta.url);

/** The models folder of @vladmandic/human, found without importing (and so without running) the package. */
export function defaultModelDir(): string {
  return join(dirname(require.resolve('@vladmandic/human')), '..', 'models');
}

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
