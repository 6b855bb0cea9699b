import * as ort from 'onnxruntime-node';
import {
  defaultCacheDir,
  defaultModelDir,
  MODEL_FILE,
  type CenterNetOptions,
  CENTERNET_INPUT_NODE,
  CENTERNET_INPUT_SIZE,
  CENTERNET_OUTPUT_NODE,
  decodeCenterNetRows,
  prepareCenterNetInput,
} from '../centernet-io.js';
import type { Detection, Detector, DetectorInput } from '../types.js';
import { loadOrConvertCenterNet, type CachedModel } from './model-cache.js';

/** Names of CenterNet's raw outputs in the converted model. */
export const CENTERNET_RAW_OUTPUTS = [CENTERNET_OUTPUT_NODE, 'tower_0/keypoints', 'tower_0/wh'] as const;

/**
 * The CenterNet detector on onnxruntime's CPU provider: the same model, input and decoding as
 * CenterNetDetector, converted to ONNX once (model-cache.ts). onnxruntime runs the convolutions
 * with its own kernels (NCHWc blocked layout, AVX2/AVX-512 where the CPU has them) on `threads`
 * threads, which is where its speed over tfjs-wasm comes from.
 */
export class OrtCenterNetDetector implements Detector {
  readonly name: string;
  readonly inputSize = CENTERNET_INPUT_SIZE;
  private readonly input = new Float32Array(CENTERNET_INPUT_SIZE * CENTERNET_INPUT_SIZE * 3);
  private readonly resized = new Uint8Array(CENTERNET_INPUT_SIZE * CENTERNET_INPUT_SIZE * 3);
  private session: ort.InferenceSession | null;

  private constructor(
    session: ort.InferenceSession,
    readonly model: CachedModel,
    private readonly minScore: number,
    threads: number,
  ) {
    this.session = session;
    this.name = `centernet (mobilenetv3, onnxruntime cpu, ${threads} threads)`;
  }

  static async create(options: CenterNetOptions = {}): Promise<OrtCenterNetDetector> {
    const model = await loadOrConvertCenterNet(
      options.modelDir ?? defaultModelDir(),
      MODEL_FILE,
      options.cacheDir ?? defaultCacheDir(),
    );
    const threads = options.threads ?? 2;
    const session = await ort.InferenceSession.create(model.bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      // Idle pool threads spin for work by default: on a machine that also decodes and records,
      // that burns the cores the other cameras need. Sleeping threads wake within microseconds.
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    return new OrtCenterNetDetector(session, model, options.minScore ?? 0.2, threads);
  }

  async detect(inputs: readonly DetectorInput[]): Promise<Detection[][]> {
    const results: Detection[][] = [];
    for (const input of inputs) {
      const { scale } = prepareCenterNetInput(input, this.resized, this.input);
      const rows = (await this.run([CENTERNET_OUTPUT_NODE]))[CENTERNET_OUTPUT_NODE]!;
      results.push(decodeCenterNetRows(rows, scale, input, this.minScore));
    }
    return results;
  }

  /**
   * The raw outputs for one 512×512×3 float32 NHWC input (0..255): for checking the conversion
   * against tfjs (equivalence tests, benchmarks).
   */
  async runRaw(
    input: Float32Array,
    outputs: readonly string[] = CENTERNET_RAW_OUTPUTS,
  ): Promise<Record<string, Float32Array>> {
    this.input.set(input);
    return this.run(outputs);
  }

  async close(): Promise<void> {
    await this.session?.release();
    this.session = null;
  }

  private async run(outputs: readonly string[]): Promise<Record<string, Float32Array>> {
    const session = this.session;
    if (!session) throw new Error('detector is closed');
    const size = CENTERNET_INPUT_SIZE;
    const feeds = { [CENTERNET_INPUT_NODE]: new ort.Tensor('float32', this.input, [1, size, size, 3]) };
    const result = await session.run(feeds, [...outputs]);
    const out: Record<string, Float32Array> = {};
    for (const name of outputs) out[name] = result[name]!.data as Float32Array;
    return out;
  }
}
