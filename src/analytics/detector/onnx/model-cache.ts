/**
 * The converted CenterNet model on disk: converted at first start, then reused while the source
 * model and the converter are unchanged. Next to the model a small JSON records the SHA-256 of
 * the source files and of the ONNX bytes; a cache whose bytes do not match (a torn write, a
 * corrupted disk, a hand-edited file) is converted again.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CENTERNET_OUTPUT_NODE } from '../centernet-io.js';
import { convertTfjsGraph } from './convert.js';
import { readTfjsGraph, type TfjsModelJson } from './tfjs-graph.js';

/** Bump when the converter's output changes, so caches made by an older converter are rebuilt. */
export const CONVERTER_VERSION = 1;
const ONNX_FILE = 'centernet.onnx';
const MANIFEST_FILE = 'centernet.onnx.json';

export interface CachedModel {
  /** The ONNX model bytes, checked against `onnxSha256`. */
  bytes: Uint8Array;
  path: string;
  sourceSha256: string;
  onnxSha256: string;
  /** True when this call converted (first start, changed source, or a bad cache). */
  converted: boolean;
  /** Why an existing cache was not used, when `converted` is true. */
  reason: string;
}

interface Manifest {
  converterVersion: number;
  sourceSha256: string;
  onnxSha256: string;
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** Read the TFJS model `modelFile` (+ its weight files) from `modelDir`; returns its text, weights and hash. */
async function readSource(
  modelDir: string,
  modelFile: string,
): Promise<{ json: TfjsModelJson; weights: Buffer; sha: string }> {
  const text = await readFile(join(modelDir, modelFile));
  const json = JSON.parse(text.toString('utf8')) as TfjsModelJson;
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest)
    // Weight file names come from the manifest; keep them inside the model folder.
    for (const path of group.paths)
      buffers.push(await readFile(join(modelDir, path.replace(/^.*[\\/]/, ''))));
  const weights = Buffer.concat(buffers);
  const hash = createHash('sha256').update(text).update(weights);
  return { json, weights, sha: hash.digest('hex') };
}

async function readCache(
  cacheDir: string,
  sourceSha: string,
): Promise<{ bytes: Uint8Array; manifest: Manifest } | string> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(cacheDir, MANIFEST_FILE), 'utf8')) as Manifest;
  } catch {
    return 'no converted model yet';
  }
  if (manifest.converterVersion !== CONVERTER_VERSION) return 'converted by another converter version';
  if (manifest.sourceSha256 !== sourceSha) return 'the source model changed';
  let bytes: Buffer;
  try {
    bytes = await readFile(join(cacheDir, ONNX_FILE));
  } catch {
    return 'the converted model file is missing';
  }
  if (sha256(bytes) !== manifest.onnxSha256) return 'the converted model does not match its checksum';
  return { bytes, manifest };
}

/**
 * The CenterNet model as ONNX: from `cacheDir` when a valid conversion of the same source is
 * there, else converted from the TFJS files in `modelDir` and written to `cacheDir`.
 */
export async function loadOrConvertCenterNet(
  modelDir: string,
  modelFile: string,
  cacheDir: string,
): Promise<CachedModel> {
  const source = await readSource(modelDir, modelFile);
  const path = join(cacheDir, ONNX_FILE);
  const cached = await readCache(cacheDir, source.sha);
  if (typeof cached !== 'string')
    return {
      bytes: cached.bytes,
      path,
      sourceSha256: source.sha,
      onnxSha256: cached.manifest.onnxSha256,
      converted: false,
      reason: '',
    };
  const bytes = convertTfjsGraph(readTfjsGraph(source.json, source.weights), {
    outputs: [CENTERNET_OUTPUT_NODE, 'tower_0/keypoints', 'tower_0/wh'],
  });
  const manifest: Manifest = {
    converterVersion: CONVERTER_VERSION,
    sourceSha256: source.sha,
    onnxSha256: sha256(bytes),
  };
  let reason = cached;
  try {
    await writeCache(cacheDir, path, bytes, manifest);
  } catch (err) {
    // Not fatal: the model runs from memory, and the next start converts again.
    reason += `; not cached (${(err as Error).message})`;
  }
  return { bytes, path, sourceSha256: source.sha, onnxSha256: manifest.onnxSha256, converted: true, reason };
}

async function writeCache(
  cacheDir: string,
  path: string,
  bytes: Uint8Array,
  manifest: Manifest,
): Promise<void> {
  await mkdir(cacheDir, { recursive: true });
  // Model first, manifest last, each through a rename: a crash leaves either the old pair or a
  // manifest that no longer matches the model (rebuilt next start), never a trusted torn file.
  await writeAtomic(path, bytes);
  await writeAtomic(join(cacheDir, MANIFEST_FILE), Buffer.from(JSON.stringify(manifest, null, 2)));
}

async function writeAtomic(path: string, data: Uint8Array): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, data);
  await rename(temp, path);
}
