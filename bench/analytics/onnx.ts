/**
 * CenterNet per inference: onnxruntime (the converted model; 1 and 2 threads) against tfjs-wasm,
 * at 512×512 on a real vtest frame, interleaved round by round so that both see the same load.
 * Then each backend's sustained rate through WorkerDetector (the path Vigil uses) for a few
 * seconds, and the number of cameras at 5 fps that rate covers with one detector input per frame.
 * Prints Markdown. See README.md next to this file.
 *
 *   npx tsx bench/analytics/onnx.ts [--runs 15] [--sustain-s 10] [--footage ../shared/footage]
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CenterNetDetector } from '../../src/analytics/detector/centernet.js';
import { OrtCenterNetDetector } from '../../src/analytics/detector/onnx/ort-detector.js';
import {
  cropResizeRgb,
  WorkerDetector,
  type Detector,
  type RgbImage,
} from '../../src/analytics/detector/index.js';
import { locateFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { formatMachine, machineInfo } from '../lib/machine.js';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1]! : fallback;
}

const RUNS = Math.max(5, Number(option('runs', '15')));
const SUSTAIN_MS = Math.max(2, Number(option('sustain-s', '10'))) * 1000;
const FOOTAGE = resolve(
  option('footage', process.env['VIGIL_FOOTAGE'] ?? join(here, '..', '..', '..', 'shared', 'footage')),
);
const FPS = 5;

const median = (samples: number[]): number => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const p90 = (samples: number[]): number => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))]!;
};

async function frame512(): Promise<RgbImage> {
  const ffmpeg = await locateFfmpeg();
  const { stdout } = await run(
    ffmpeg.path,
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-ss',
      '5',
      '-i',
      join(FOOTAGE, 'vtest-main.mp4'),
      '-frames:v',
      '1',
    ].concat(['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']),
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  const frame = { data: new Uint8Array(stdout), width: 1280, height: stdout.length / (1280 * 3) };
  return cropResizeRgb(frame, { x: 0, y: 0, width: 1280, height: 1280 }, 512, 512);
}

async function sustained(detector: Detector, input: RgbImage): Promise<number> {
  await detector.detect([input]);
  const start = performance.now();
  let count = 0;
  while (performance.now() - start < SUSTAIN_MS) {
    await detector.detect([input]);
    count++;
  }
  return (count * 1000) / (performance.now() - start);
}

async function main(): Promise<void> {
  const input = await frame512();
  const cacheDir = await mkdtemp(join(tmpdir(), 'vigil-bench-onnx-'));
  const loadBefore = loadavg()[0]!;
  const t0 = performance.now();
  const ort2 = await OrtCenterNetDetector.create({ cacheDir, threads: 2 });
  const convertMs = performance.now() - t0;
  const t1 = performance.now();
  const ort1 = await OrtCenterNetDetector.create({ cacheDir, threads: 1 });
  const cachedLoadMs = performance.now() - t1;
  const tfjs = await CenterNetDetector.create();
  const backends: Array<[string, Detector]> = [
    ['onnxruntime, 2 threads', ort2],
    ['onnxruntime, 1 thread', ort1],
    ['tfjs-wasm (1 thread)', tfjs],
  ];
  const samples = new Map<string, number[]>(backends.map(([name]) => [name, []]));
  // CPU time (all threads of this process) per inference: on a shared machine wall time mostly
  // measures the neighbours; CPU time is what the inference itself costs.
  const cpuMs = new Map<string, number[]>(backends.map(([name]) => [name, []]));
  for (const [, detector] of backends) await detector.detect([input]);
  for (let round = 0; round < RUNS; round++) {
    for (const [name, detector] of backends) {
      const cpuStart = process.cpuUsage();
      const start = performance.now();
      await detector.detect([input]);
      samples.get(name)!.push(performance.now() - start);
      const cpu = process.cpuUsage(cpuStart);
      cpuMs.get(name)!.push((cpu.user + cpu.system) / 1000);
    }
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  for (const [, detector] of backends) await detector.close();

  const rates: Array<[string, number]> = [];
  for (const backend of ['onnx', 'tfjs'] as const) {
    const worker = await WorkerDetector.create({ backend, cacheDir });
    rates.push([worker.name, await sustained(worker, input)]);
    await worker.close();
  }
  await rm(cacheDir, { recursive: true, force: true });
  const loadAfter = loadavg()[0]!;

  const tfjsMedian = median(samples.get('tfjs-wasm (1 thread)')!);
  console.log(formatMachine(machineInfo((await locateFfmpeg()).path)));
  console.log(`load average (1 min): ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after\n`);
  console.log(
    `conversion + session (first start): ${convertMs.toFixed(0)} ms; from the cache: ${cachedLoadMs.toFixed(0)} ms\n`,
  );
  const tfjsCpu = median(cpuMs.get('tfjs-wasm (1 thread)')!);
  console.log(
    '| backend, 512×512 | wall median | wall p90 | CPU median | runs | tfjs ÷ this, wall | tfjs ÷ this, CPU |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const [name, values] of samples) {
    const m = median(values);
    const cpu = median(cpuMs.get(name)!);
    const cells = [
      name,
      `${m.toFixed(0)} ms`,
      `${p90(values).toFixed(0)} ms`,
      `${cpu.toFixed(0)} ms`,
      values.length,
    ];
    cells.push((tfjsMedian / m).toFixed(2), (tfjsCpu / cpu).toFixed(2));
    console.log(`| ${cells.join(' | ')} |`);
  }
  console.log(
    `\n| WorkerDetector, sustained ${SUSTAIN_MS / 1000} s | inferences/s | cameras at ${FPS} fps, one input per frame |`,
  );
  console.log('|---|---|---|');
  for (const [name, rate] of rates)
    console.log(`| ${name} | ${rate.toFixed(1)} | ${(rate / FPS).toFixed(1)} |`);
}

await main();
