/**
 * Micro-benchmark of the analytics building blocks on real footage: detector inference, motion
 * per frame at the analysis resolution, tracker per update. Prints a Markdown table.
 *
 *   npx tsx bench/analytics/micro.ts [--runs 20] [--footage ../shared/footage]
 *
 * About 30 s of one core (the detector runs dominate). See README.md next to this file.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CenterNetDetector } from '../../src/analytics/detector/centernet.js';
import { WorkerDetector, cropResizeRgb, type RgbImage } from '../../src/analytics/detector/index.js';
import { LumaDownscaler, MotionDetector } from '../../src/analytics/motion/index.js';
import { Tracker, type TrackerDetection } from '../../src/analytics/tracking/index.js';
import { locateFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { formatMachine, machineInfo } from '../lib/machine.js';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1]! : fallback;
}

const RUNS = Math.max(20, Number(option('runs', '20')));
const FOOTAGE = resolve(
  option('footage', process.env.VIGIL_FOOTAGE ?? join(here, '..', '..', '..', 'shared', 'footage')),
);

interface Stats {
  median: number;
  p95: number;
  n: number;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: at(0.5), p95: at(0.95), n: sorted.length };
}

async function decode(
  ffmpeg: string,
  file: string,
  filters: string,
  pixelFormat: 'gray' | 'rgb24',
  inputArgs: string[] = [],
  maxFrames = 0,
): Promise<Buffer> {
  const { stdout } = await run(
    ffmpeg,
    ['-hide_banner', '-loglevel', 'error', ...inputArgs, '-i', join(FOOTAGE, file), '-vf', filters]
      .concat(maxFrames > 0 ? ['-frames:v', String(maxFrames)] : [])
      .concat(['-pix_fmt', pixelFormat, '-f', 'rawvideo', '-']),
    { encoding: 'buffer', maxBuffer: 1 << 30 },
  );
  return stdout;
}

function planes(raw: Buffer, bytesPerFrame: number): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let offset = 0; offset + bytesPerFrame <= raw.length; offset += bytesPerFrame) {
    // Copies: each frame in its own buffer, as the pipeline will hand them over.
    frames.push(new Uint8Array(raw.subarray(offset, offset + bytesPerFrame)));
  }
  return frames;
}

const rows: string[][] = [];
function report(what: string, unit: string, s: Stats, extra = ''): void {
  const digits = unit === 'µs' ? 1 : unit === 'ms' && s.median < 10 ? 3 : 0;
  rows.push([
    what,
    `${s.median.toFixed(digits)} ${unit}`,
    `${s.p95.toFixed(digits)} ${unit}`,
    String(s.n),
    extra,
  ]);
  console.error(`  ${what}: median ${s.median.toFixed(digits)} ${unit} ${extra}`);
}

function time(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

async function benchDetector(ffmpeg: string): Promise<void> {
  console.error('detector…');
  const raw = await decode(ffmpeg, 'vtest-main.mp4', 'null', 'rgb24', ['-ss', '5'], 1);
  const frame: RgbImage = { data: new Uint8Array(raw.subarray(0, 1280 * 960 * 3)), width: 1280, height: 960 };
  const crop = cropResizeRgb(frame, { x: 600, y: 200, width: 512, height: 512 }, 512, 512);
  const out = new Uint8Array(512 * 512 * 3);
  report(
    'crop + resize 1280×960 → 512×512 (bilinear, full frame letterboxed)',
    'ms',
    stats(
      Array.from({ length: 50 }, () =>
        time(() => cropResizeRgb(frame, { x: 0, y: -160, width: 1280, height: 1280 }, 512, 512, out)),
      ),
    ),
  );
  const loadStart = performance.now();
  const detector = await CenterNetDetector.create();
  const loadMs = performance.now() - loadStart;
  for (let i = 0; i < 3; i++) await detector.detect([crop]);
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await detector.detect([crop]);
    samples.push(performance.now() - start);
  }
  const s = stats(samples);
  report(
    'CenterNet 512×512, in process',
    'ms',
    s,
    `${(1000 / s.median).toFixed(1)} inferences/s; model load ${loadMs.toFixed(0)} ms`,
  );
  await detector.close();

  const worker = await WorkerDetector.create({ backend: 'tfjs' });
  for (let i = 0; i < 3; i++) await worker.detect([crop]);
  const workerSamples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await worker.detect([crop]);
    workerSamples.push(performance.now() - start);
  }
  const w = stats(workerSamples);
  report(
    'CenterNet 512×512, WorkerDetector (round trip)',
    'ms',
    w,
    `${(1000 / w.median).toFixed(1)} inferences/s`,
  );
  await worker.close();
}

async function benchMotion(ffmpeg: string): Promise<void> {
  console.error('motion…');
  const cases = [
    { file: 'vtest-sub.mp4', width: 320, height: 240, note: 'people walking, 10 fps' },
    { file: 'vtest-sub.mp4', width: 320, height: 180, note: 'same, squeezed to 16:9' },
    { file: 'tree-sub.mp4', width: 320, height: 240, note: 'tree in the wind, 15 fps' },
  ];
  for (const c of cases) {
    const frames = planes(
      await decode(ffmpeg, c.file, `scale=${c.width}:${c.height}:flags=area`, 'gray'),
      c.width * c.height,
    );
    const motion = new MotionDetector(c.width, c.height);
    // Warm-up pass (JIT), then the measured passes over the whole clip.
    for (const frame of frames) motion.detect(frame);
    motion.reset();
    const samples: number[] = [];
    let withMotion = 0;
    for (let pass = 0; pass < 2; pass++) {
      for (const frame of frames) {
        const start = performance.now();
        const result = motion.detect(frame);
        samples.push(performance.now() - start);
        if (pass === 0 && result.boxes.length > 0) withMotion += 1;
      }
    }
    report(
      `motion ${c.width}×${c.height}, ${c.file}`,
      'ms',
      stats(samples),
      `${c.note}; ${withMotion}/${frames.length} frames with motion`,
    );
  }
  const sub = planes(await decode(ffmpeg, 'vtest-sub.mp4', 'null', 'gray'), 640 * 480);
  const downscaler = new LumaDownscaler(640, 480, 320, 240);
  const out = new Uint8Array(320 * 240);
  for (const frame of sub.slice(0, 50)) downscaler.downscale({ data: frame, width: 640, height: 480 }, out);
  report(
    'luma downscale 640×480 → 320×240 (box filter)',
    'ms',
    stats(
      sub.map((frame) => time(() => downscaler.downscale({ data: frame, width: 640, height: 480 }, out))),
    ),
  );
}

/** Objects walking across a 1280×720 frame with jittery boxes, 10 % missed detections, one false positive in 20 frames. */
function syntheticScene(objects: number, frames: number): TrackerDetection[][] {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const walkers = Array.from({ length: objects }, () => ({
    x: random() * 1200,
    y: random() * 600,
    vx: (random() - 0.5) * 20,
    vy: (random() - 0.5) * 6,
  }));
  return Array.from({ length: frames }, (_, f) => {
    const detections: TrackerDetection[] = [];
    for (const w of walkers) {
      const x = (((w.x + w.vx * f) % 1280) + 1280) % 1280;
      const y = (((w.y + w.vy * f) % 720) + 720) % 720;
      if (random() < 0.1) continue;
      detections.push({
        box: { x: x + (random() - 0.5) * 4, y: y + (random() - 0.5) * 4, width: 40, height: 100 },
        label: 'person',
        score: 0.5 + random() * 0.4,
      });
    }
    if (f % 20 === 0)
      detections.push({
        box: { x: random() * 1200, y: random() * 600, width: 30, height: 30 },
        label: 'car',
        score: 0.5,
      });
    return detections;
  });
}

function benchTracker(): void {
  console.error('tracker…');
  for (const objects of [3, 10, 30]) {
    const scene = syntheticScene(objects, 2000);
    const warm = new Tracker();
    scene.slice(0, 200).forEach((detections, f) => warm.update(detections, f * 200));
    const tracker = new Tracker();
    const samples = scene.map((detections, f) => time(() => tracker.update(detections, f * 200)) * 1000);
    report(`tracker update, ${objects} objects`, 'µs', stats(samples), 'synthetic walkers, 10 % misses');
  }
}

async function main(): Promise<void> {
  if (!existsSync(join(FOOTAGE, 'vtest-main.mp4')) || !existsSync(join(FOOTAGE, 'tree-sub.mp4'))) {
    throw new Error(
      `footage not found in ${FOOTAGE}: pass --footage DIR (vtest-main.mp4, vtest-sub.mp4, tree-sub.mp4)`,
    );
  }
  const ffmpeg = await locateFfmpeg();
  const header = `${formatMachine(machineInfo(ffmpeg.path))}\ndate: ${new Date().toISOString().slice(0, 10)}`;
  console.error(header);
  await benchDetector(ffmpeg.path);
  await benchMotion(ffmpeg.path);
  benchTracker();
  console.log(header.replace(/^/gm, '    '));
  console.log('');
  console.log('| what | median | p95 | samples | notes |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

await main();
