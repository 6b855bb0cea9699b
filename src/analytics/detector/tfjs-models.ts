import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { defaultModelDir, type ModelFile } from './model-files.js';

export { defaultModelDir, type ModelFile } from './model-files.js';

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
export async function loadModelArtifacts(
  modelDir: string,
  modelFile: ModelFile,
): Promise<tf.io.ModelArtifacts> {
  const manifest = JSON.parse(await readFile(join(modelDir, modelFile), 'utf8')) as {
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

/** One of the allowed graph models, on the WebAssembly backend (initialised here if need be). */
export async function loadModel(modelFile: ModelFile, modelDir = defaultModelDir()): Promise<GraphModel> {
  await initWasmBackend();
  return loadGraphModel({ load: () => loadModelArtifacts(modelDir, modelFile) });
}
