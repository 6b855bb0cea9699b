/**
 * The detector a worker thread runs: onnxruntime when it loads, tfjs-wasm otherwise. Imports
 * both runtimes lazily, so a machine without onnxruntime's native binary still gets tfjs.
 */
import type { CenterNetOptions } from './centernet-io.js';
import type { Detector } from './types.js';

export interface CreatedDetector {
  detector: Detector;
  /** Set when `auto` fell back to tfjs: why onnxruntime was not used. */
  fallbackReason?: string;
  /** What happened to the converted model (onnx only), e.g. "converted: no converted model yet". */
  modelNote?: string;
}

export async function createCenterNet(options: CenterNetOptions = {}): Promise<CreatedDetector> {
  const backend = options.backend ?? 'auto';
  if (backend !== 'tfjs') {
    try {
      const { OrtCenterNetDetector } = await import('./onnx/ort-detector.js');
      const detector = await OrtCenterNetDetector.create(options);
      const model = detector.model;
      const modelNote = model.converted
        ? `converted to ${model.path} (${model.reason})`
        : `cached ${model.path}, sha256 ${model.onnxSha256.slice(0, 12)}`;
      return { detector, modelNote };
    } catch (err) {
      if (backend === 'onnx') throw err;
      const fallbackReason = `onnxruntime: ${(err as Error).message}`;
      const { CenterNetDetector } = await import('./centernet.js');
      return { detector: await CenterNetDetector.create(options), fallbackReason };
    }
  }
  const { CenterNetDetector } = await import('./centernet.js');
  return { detector: await CenterNetDetector.create(options) };
}
