/**
 * The ONNX detector against the tfjs one on real frames (vtest-main.mp4; generated footage where
 * ../shared/footage is missing): raw outputs within float tolerance, the same detections. Also the
 * conversion cache (reuse, a corrupted cache rebuilt) and the fallback to tfjs when onnxruntime
 * cannot take the model. About 15 s of one core (one conversion, tfjs inferences).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import {
  CENTERNET_INPUT_NODE,
  CENTERNET_INPUT_SIZE,
  decodeCenterNetRows,
  defaultModelDir,
  prepareCenterNetInput,
} from '../../src/analytics/detector/centernet-io.js';
import { initWasmBackend, loadModelArtifacts } from '../../src/analytics/detector/tfjs-models.js';
import { createCenterNet } from '../../src/analytics/detector/create-detector.js';
import {
  CENTERNET_RAW_OUTPUTS,
  OrtCenterNetDetector,
} from '../../src/analytics/detector/onnx/ort-detector.js';
import type { Detection, RgbImage } from '../../src/analytics/detector/types.js';
import { WorkerDetector } from '../../src/analytics/detector/worker-detector.js';
import { locateFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { footagePaths } from '../helpers/footage.js';

const run = promisify(execFile);
const SIZE = CENTERNET_INPUT_SIZE;
const SECONDS = [2, 5, 8, 11];
/**
 * Tolerances of the raw outputs, relative to max(1, |value|): float32 sums in another order,
 * nothing more (measured on vtest on an AMD EPYC: detections 5e-4 px, keypoints 6e-6, wh 8e-3 on
 * values to ~100; on an Intel Xeon with the generated test pattern a box edge near 0 differed by
 * 2e-4, since each CPU's vector kernels sum in their own order).
 */
const TOLERANCE = { 'tower_0/detections': 1e-3, 'tower_0/keypoints': 1e-4, 'tower_0/wh': 2e-3 } as const;

let cacheDir: string;
let ort: OrtCenterNetDetector;
let tfjs: GraphModel;
const frames: RgbImage[] = [];
let realFootage = false;

async function frameAt(path: string, seconds: number): Promise<RgbImage> {
  const ffmpeg = await locateFfmpeg();
  const probe = ['-hide_banner', '-loglevel', 'error', '-ss', String(seconds), '-i', path, '-frames:v', '1'];
  // Scaled so the longer side is 1280 (vtest-main is 1280×960 already): a typical analysed frame.
  const { stdout } = await run(
    ffmpeg.path,
    [...probe, '-vf', 'scale=1280:-2', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  const width = 1280;
  const height = stdout.length / (width * 3);
  assert.ok(Number.isInteger(height) && height > 0, 'one whole RGB frame');
  return { data: new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length), width, height };
}

async function runTfjs(input: Float32Array): Promise<Record<string, Float32Array>> {
  const tensor = tf.tensor4d(input, [1, SIZE, SIZE, 3], 'float32');
  try {
    const outputs = tfjs.execute({ [CENTERNET_INPUT_NODE]: tensor }, [
      ...CENTERNET_RAW_OUTPUTS,
    ]) as tf.Tensor[];
    const result: Record<string, Float32Array> = {};
    for (const [i, name] of CENTERNET_RAW_OUTPUTS.entries()) {
      result[name] = (await outputs[i]!.data()) as Float32Array;
      outputs[i]!.dispose();
    }
    return result;
  } finally {
    tensor.dispose();
  }
}

function iou(a: Detection['box'], b: Detection['box']): number {
  const x = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const y = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const overlap = x * y;
  return overlap / (a.width * a.height + b.width * b.height - overlap);
}

before(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'vigil-onnx-'));
  const footage = await footagePaths();
  realFootage = footage.real;
  for (const seconds of SECONDS) frames.push(await frameAt(footage.main, seconds));
  await initWasmBackend();
  tfjs = await loadGraphModel({ load: () => loadModelArtifacts(defaultModelDir(), 'centernet.json') });
  ort = await OrtCenterNetDetector.create({ cacheDir, threads: 1 });
});

after(async () => {
  await ort?.close();
  tfjs?.dispose();
  await rm(cacheDir, { recursive: true, force: true });
});

test('onnxruntime and tfjs agree on real frames: raw outputs and detections', async (t) => {
  const input = new Float32Array(SIZE * SIZE * 3);
  const resized = new Uint8Array(SIZE * SIZE * 3);
  const worst: Record<string, number> = {};
  let compared = 0;
  for (const frame of frames) {
    const { scale } = prepareCenterNetInput(frame, resized, input);
    const expected = await runTfjs(input);
    const actual = await ort.runRaw(input);
    for (const name of CENTERNET_RAW_OUTPUTS) {
      const want = expected[name]!;
      const got = actual[name]!;
      assert.equal(got.length, want.length, name);
      let max = 0;
      for (let i = 0; i < want.length; i++) {
        const diff = Math.abs(got[i]! - want[i]!);
        max = Math.max(max, diff);
        assert.ok(
          diff <= TOLERANCE[name] * Math.max(1, Math.abs(want[i]!)),
          `${name}[${i}]: ${got[i]} vs ${want[i]}`,
        );
      }
      worst[name] = Math.max(worst[name] ?? 0, max);
    }
    const minScore = 0.2;
    const want = decodeCenterNetRows(expected['tower_0/detections']!, scale, frame, minScore);
    const got = decodeCenterNetRows(actual['tower_0/detections']!, scale, frame, minScore);
    for (const d of want) {
      const match = got.find((g) => g.label === d.label && iou(g.box, d.box) >= 0.9);
      // A detection right at the score threshold may fall on either side of it.
      if (!match && d.score < minScore + 0.01) continue;
      assert.ok(match, `tfjs ${d.label} ${d.score.toFixed(3)} at ${JSON.stringify(d.box)} has no onnx match`);
      assert.ok(Math.abs(match.score - d.score) <= 0.01, `${d.label}: score ${match.score} vs ${d.score}`);
      compared++;
    }
    assert.ok(Math.abs(got.length - want.length) <= 1, `detection count ${got.length} vs ${want.length}`);
  }
  // Generated test patterns may hold nothing the model takes for an object.
  if (realFootage) assert.ok(compared >= 5, `only ${compared} detections to compare`);
  t.diagnostic(`max abs difference: ${JSON.stringify(worst)}; ${compared} detections matched`);
});

test('the converted model is cached, reused, and rebuilt when corrupted', async () => {
  assert.equal(ort.model.converted, true);
  const again = await OrtCenterNetDetector.create({ cacheDir, threads: 1 });
  try {
    assert.equal(again.model.converted, false, 'second start reads the cache');
    assert.equal(again.model.onnxSha256, ort.model.onnxSha256);
  } finally {
    await again.close();
  }
  const bytes = await readFile(ort.model.path);
  bytes[bytes.length >> 1] ^= 0xff;
  await writeFile(ort.model.path, bytes);
  const rebuilt = await OrtCenterNetDetector.create({ cacheDir, threads: 1 });
  try {
    assert.equal(rebuilt.model.converted, true);
    assert.match(rebuilt.model.reason, /checksum/);
    assert.equal(rebuilt.model.onnxSha256, ort.model.onnxSha256, 'the conversion is deterministic');
  } finally {
    await rebuilt.close();
  }
});

test('auto falls back to tfjs, with the reason, when the model has an op the converter lacks', async () => {
  // A copy of the model whose output Identity is a Snapshot: tfjs runs it, the converter refuses it.
  const modelDir = await mkdtemp(join(tmpdir(), 'vigil-model-'));
  try {
    const json = await readFile(join(defaultModelDir(), 'centernet.json'), 'utf8');
    const edited = json.replace(
      /"name":\s*"tower_0\/detections",\s*"op":\s*"Identity"/,
      '"name": "tower_0/detections", "op": "Snapshot"',
    );
    assert.notEqual(edited, json, 'the output node was found');
    await writeFile(join(modelDir, 'centernet.json'), edited);
    await copyFile(join(defaultModelDir(), 'centernet.bin'), join(modelDir, 'centernet.bin'));
    const auto = await createCenterNet({ backend: 'auto', modelDir, cacheDir: join(modelDir, 'cache') });
    try {
      assert.match(auto.detector.name, /tfjs/);
      assert.match(auto.fallbackReason ?? '', /Snapshot/);
      const [detections] = await auto.detector.detect([frames[1]!]);
      if (realFootage)
        assert.ok(
          detections!.some((d) => d.label === 'person'),
          'tfjs finds the people',
        );
    } finally {
      await auto.detector.close();
    }
    await assert.rejects(
      createCenterNet({ backend: 'onnx', modelDir, cacheDir: join(modelDir, 'cache') }),
      /Snapshot/,
    );
  } finally {
    await rm(modelDir, { recursive: true, force: true });
  }
});

test('closing the worker during an onnxruntime inference lets it finish (no abort)', async () => {
  const worker = await WorkerDetector.create({ backend: 'onnx', cacheDir, threads: 1 });
  assert.match(worker.name, /onnxruntime/);
  assert.match(worker.modelNote ?? '', /cached/);
  const running = worker.detect([frames[0]!]);
  await worker.close();
  // Terminating the thread here would abort this whole process: the answer arrives instead.
  const [detections] = await running;
  assert.ok(Array.isArray(detections));
  await assert.rejects(worker.detect([frames[0]!]), /closed/);
});
