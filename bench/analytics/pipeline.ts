/**
 * Whole-pipeline analytics benchmark: the real Vigil (a child process, on emulated cameras with
 * real footage) measured per camera at 5 fps — CPU of Vigil's node process (with the detector
 * worker thread) and its ffmpeg children, what recording alone costs, frame-to-MQTT event latency,
 * how many busy cameras the machine keeps up with — next to a baseline that runs the same detector
 * on every full frame. See README.md in this folder.
 *
 *   npx tsx bench/analytics/pipeline.ts [--duration 60] [--max-cameras 6] [--warmup 15]
 */
import { spawn, execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { cropResizeRgb, fullFrameRegion, WorkerDetector } from '../../src/analytics/detector/index.js';
import { analysisSize } from '../../src/analytics/pipeline/frame-decoder.js';
import { locateFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { diesWithVigil } from '../../src/ingest/process.js';
import { camerasKind, freePort, startCameras, type TestCameras } from '../../test/helpers/cameras.js';
import { spawnTracked, stopChild, type TrackedChild } from '../../test/helpers/children.js';
import { startBroker } from '../../test/helpers/mqtt-broker.js';
import { apiFetch, createAdminWithCli, useToken } from '../../test/helpers/vigil.js';
import { formatMachine, machineInfo } from '../lib/machine.js';
import {
  clockTicksPerSecond,
  machineTicks,
  median,
  processTree,
  scanProcesses,
  type ProcStat,
} from '../lib/proc.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);
/** Vigil's default detect.fps, which the benchmark leaves at its default. */
const DETECT_FPS = 5;
/** A camera keeps up when it decodes at least this share of DETECT_FPS over the window. */
const KEEP_UP_SHARE = 0.95;
/** Below this many detector runs per camera per second, walking people are hard to track. */
const PRACTICAL_DETECTIONS_PER_S = 1;
const ANALYTICS_POLL_MS = 2000;
/** A run spoilt by an error or an emulator crash in the window is tried once more. */
const MAX_ATTEMPTS = 2;

// ---------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, Math.max(0, ms)));

function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** The administrator each benchmarked Vigil gets, made with the CLI before it starts. */
const BENCH_ADMIN = { name: 'bench', password: 'orchid tundra meter 51' };

async function getJson<T>(url: string): Promise<T> {
  const res = await apiFetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Polls until `check` is true or the deadline passes; returns whether it became true. */
async function pollUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return true;
    } catch {
      // Not ready yet (connection refused, camera connecting): try again.
    }
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const fmtMs = (value: number) => (Number.isFinite(value) ? `${Math.round(value)} ms` : '–');
const loadText = (load: readonly number[]) => load.map((v) => v.toFixed(2)).join(' ');

/** Every child process and temporary folder is undone here, on success, error or Ctrl-C. */
const cleanups = new Set<() => Promise<void> | void>();
function onCleanup(step: () => Promise<void> | void): () => void {
  cleanups.add(step);
  return () => cleanups.delete(step);
}
async function cleanupAll(): Promise<void> {
  for (const step of [...cleanups].reverse()) {
    cleanups.delete(step);
    try {
      await step();
    } catch (err) {
      process.stderr.write(`cleanup: ${String(err)}\n`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// CPU of a process tree, split into node's main thread, node's other threads (the detector's
// worker thread is one of them) and ffmpeg by role

type CpuPart =
  'node main thread' | 'node other threads' | 'ffmpeg ingest' | 'ffmpeg analytics decode' | 'other';
const CPU_PARTS: readonly CpuPart[] = [
  'node main thread',
  'node other threads',
  'ffmpeg ingest',
  'ffmpeg analytics decode',
  'other',
];

interface CpuResult {
  seconds: number;
  byPart: Record<CpuPart, number>;
  /** CPU of the tree in each one-second interval of the window, as % of one core. */
  perSecondPct: number[];
}

function parseStatText(text: string): { startTicks: number; cpuTicks: number } {
  // comm may hold spaces and parentheses: the last ')' ends it. Fields numbered as in proc(5).
  const rest = text
    .slice(text.lastIndexOf(')') + 2)
    .trim()
    .split(' ');
  const field = (n: number) => Number(rest[n - 3]);
  return { startTicks: field(22), cpuTicks: field(14) + field(15) };
}

function threadsOf(pid: number): Array<{ tid: number; startTicks: number; cpuTicks: number }> {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return []; // exited since the scan
  }
  const out: Array<{ tid: number; startTicks: number; cpuTicks: number }> = [];
  for (const tid of tids) {
    try {
      out.push({ tid: Number(tid), ...parseStatText(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')) });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/**
 * Like bench/lib/proc.ts's TreeMeter, per thread for node (the process total hides whether the
 * time went to the event loop or to inference) and per role for ffmpeg. Every process and thread
 * seen keeps its last reading, so one that exits inside the window still counts.
 */
class CpuMeter {
  private readonly atStart = new Map<string, number>();
  private readonly last = new Map<string, { ticks: number; part: CpuPart }>();
  private readonly ffmpegRole = new Map<string, CpuPart>();
  private readonly cumulativeTicks: number[] = [];
  private started = false;

  constructor(
    private readonly roots: () => readonly number[],
    private readonly ticksPerSecond: number,
  ) {}

  sample(all: Map<number, ProcStat>): void {
    for (const p of processTree(all, this.roots())) {
      const key = `${p.pid}:${p.startTicks}`;
      if (p.comm === 'node') {
        for (const t of threadsOf(p.pid)) {
          this.record(
            `${key}/${t.tid}:${t.startTicks}`,
            t.cpuTicks,
            t.tid === p.pid ? 'node main thread' : 'node other threads',
          );
        }
      } else {
        this.record(key, p.cpuTicks, this.roleOf(key, p));
      }
    }
    this.started = true;
    let used = 0;
    for (const [key, { ticks }] of this.last) used += ticks - (this.atStart.get(key) ?? 0);
    this.cumulativeTicks.push(used);
  }

  result(): CpuResult {
    const byPart = Object.fromEntries(CPU_PARTS.map((part) => [part, 0])) as Record<CpuPart, number>;
    for (const [key, { ticks, part }] of this.last) {
      byPart[part] += (ticks - (this.atStart.get(key) ?? 0)) / this.ticksPerSecond;
    }
    const perSecondPct: number[] = [];
    for (let i = 1; i < this.cumulativeTicks.length; i += 1) {
      const ticks = (this.cumulativeTicks[i] as number) - (this.cumulativeTicks[i - 1] as number);
      perSecondPct.push((100 * ticks) / this.ticksPerSecond);
    }
    const seconds = CPU_PARTS.reduce((sum, part) => sum + byPart[part], 0);
    return { seconds, byPart, perSecondPct };
  }

  private record(key: string, ticks: number, part: CpuPart): void {
    // A process or thread first seen after the window opened was born inside it: all its CPU counts.
    if (!this.started) this.atStart.set(key, ticks);
    this.last.set(key, { ticks, part });
  }

  private roleOf(key: string, p: ProcStat): CpuPart {
    if (p.comm !== 'ffmpeg') return 'other';
    let role = this.ffmpegRole.get(key);
    if (!role) {
      let argv = '';
      try {
        argv = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8');
      } catch {
        // Gone: it is counted by its last reading under whichever role it had, ingest by default.
      }
      // The analytics decoder writes raw frames; the ingest ffmpegs copy the stream into fMP4.
      role = argv.includes('rawvideo') ? 'ffmpeg analytics decode' : 'ffmpeg ingest';
      this.ffmpegRole.set(key, role);
    }
    return role;
  }
}

interface WindowInfo {
  startMs: number;
  endMs: number;
  machineBusyPct: number;
  machineStealPct: number;
  emulatorCpuSeconds: number | null;
  loadStart: number[];
  loadEnd: number[];
}

/** Samples the meter every second for `seconds` by the monotonic clock; the emulator apart. */
async function measureWindow(
  seconds: number,
  meter: CpuMeter,
  emulatorPid: number | null,
  ticksPerSecond: number,
): Promise<WindowInfo> {
  const emulatorTicks = (all: Map<number, ProcStat>) =>
    emulatorPid === null ? 0 : (all.get(emulatorPid)?.cpuTicks ?? Number.NaN);
  const loadStart = loadavg();
  const machineStart = machineTicks();
  const monoStart = performance.now();
  const startMs = Date.now();
  const first = scanProcesses();
  meter.sample(first);
  const emulatorStart = emulatorTicks(first);
  let emulatorEnd = emulatorStart;
  for (let k = 1; k <= seconds; k += 1) {
    await sleep(monoStart + k * 1000 - performance.now());
    const all = scanProcesses();
    meter.sample(all);
    emulatorEnd = emulatorTicks(all);
  }
  const endMs = startMs + Math.round(performance.now() - monoStart);
  const machineEnd = machineTicks();
  const total = machineEnd.total - machineStart.total;
  const pct = (ticks: number) => (total > 0 ? (100 * ticks) / total : Number.NaN);
  return {
    startMs,
    endMs,
    machineBusyPct: pct(machineEnd.busy - machineStart.busy),
    machineStealPct: pct(machineEnd.steal - machineStart.steal),
    emulatorCpuSeconds: emulatorPid === null ? null : (emulatorEnd - emulatorStart) / ticksPerSecond,
    loadStart,
    loadEnd: loadavg(),
  };
}

// ---------------------------------------------------------------------------------------------
// Which Vigil runs (as bench/recording does: the compiled CLI, a fresh build when dist/ is stale)

type VigilMode = 'auto' | 'src' | 'dist' | 'build';

interface VigilCommand {
  args: string[];
  what: string;
  buildDir: string | null;
}

function listFiles(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full, suffix));
    else if (entry.name.endsWith(suffix)) out.push(full);
  }
  return out;
}

function staleBuildFiles(): string[] {
  const srcRoot = join(REPO_ROOT, 'src');
  return listFiles(srcRoot, '.ts').filter((file) => {
    const built = join(REPO_ROOT, 'dist', relative(srcRoot, file)).replace(/\.ts$/, '.js');
    return !existsSync(built) || statSync(built).mtimeMs < statSync(file).mtimeMs;
  });
}

function sourceRevision(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', REPO_ROOT, ...args], { encoding: 'utf8' }).trim();
    const dirty = git('status', '--porcelain', '--', 'src') !== '';
    return `at ${git('rev-parse', '--short', 'HEAD')}${dirty ? ' with uncommitted changes in src/' : ''}`;
  } catch {
    return '(not a git checkout)';
  }
}

/** src/ compiled as `npm run build` does, into a temporary folder (dist/ is left alone). */
function buildToTemp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-build-'));
  execFileSync(
    process.execPath,
    [
      join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      join(REPO_ROOT, 'tsconfig.build.json'),
      '--outDir',
      join(dir, 'dist'),
    ],
    { stdio: 'inherit' },
  );
  copyFileSync(join(REPO_ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

function removeBuild(dir: string): void {
  // The link first, so no recursive delete can ever walk into the project's node_modules.
  if (existsSync(join(dir, 'node_modules'))) unlinkSync(join(dir, 'node_modules'));
  rmSync(dir, { recursive: true, force: true });
}

function vigilCommand(mode: VigilMode): VigilCommand {
  const dist = join(REPO_ROOT, 'dist', 'cli', 'main.js');
  if (mode === 'src') {
    return {
      args: ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'main.ts')],
      what: 'src/ through tsx (--vigil src)',
      buildDir: null,
    };
  }
  if (mode === 'dist') return { args: [dist], what: 'dist/cli/main.js (--vigil dist)', buildDir: null };
  const stale = existsSync(dist) ? staleBuildFiles() : null;
  if (mode === 'auto' && stale !== null && stale.length === 0) {
    return { args: [dist], what: 'dist/cli/main.js (up to date with src/)', buildDir: null };
  }
  const why =
    mode === 'build'
      ? '--vigil build'
      : stale === null
        ? 'there is no dist/cli'
        : `dist/ is older than ${stale.length} files of src/`;
  process.stderr.write(`building src/ into a temporary folder (${why})…\n`);
  const buildDir = buildToTemp();
  return {
    args: [join(buildDir, 'dist', 'cli', 'main.js')],
    what: `a fresh build of src/ in ${buildDir} (${why})`,
    buildDir,
  };
}

// ---------------------------------------------------------------------------------------------
// Cameras

interface Footage {
  main: string;
  sub: string;
}

/** The emulator's pid: our child whose command line names the emulator and its port. */
function findEmulatorPid(cameras: TestCameras): number | null {
  for (const p of scanProcesses().values()) {
    if (p.ppid !== process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a.endsWith('rtsp-cameras')) && argv.includes(String(cameras.port))) return p.pid;
    } catch {
      // Gone between the scan and the read.
    }
  }
  return null;
}

async function withCameras<T>(
  count: number,
  footage: Footage,
  body: (cameras: TestCameras) => Promise<T>,
): Promise<T> {
  const cameras = await startCameras({ count, footage, kind: 'emulator' });
  const off = onCleanup(() => cameras.stop());
  try {
    return await body(cameras);
  } finally {
    off();
    await cameras.stop();
  }
}

/**
 * A camera looking at a scene where nothing moves: one vtest-sub frame, looped as 10 fps H.264
 * (GOP 20, no B-frames). Synthetic (no sensor noise), so it shows the floor of the pipeline's
 * cost: decoding and motion, no detector. Written to a temporary folder removed at the end.
 */
function stillFootage(ffmpegPath: string, source: string): Footage {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-still-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const png = join(dir, 'still.png');
  const mp4 = join(dir, 'still.mp4');
  const quiet = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'];
  execFileSync(ffmpegPath, [...quiet, '-ss', '5', '-i', source, '-frames:v', '1', png]);
  execFileSync(ffmpegPath, [
    ...quiet,
    '-loop',
    '1',
    '-framerate',
    '10',
    '-i',
    png,
    '-t',
    '30',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-bf',
    '0',
    '-g',
    '20',
    '-keyint_min',
    '20',
    '-sc_threshold',
    '0',
    '-pix_fmt',
    'yuv420p',
    '-movflags',
    '+faststart',
    mp4,
  ]);
  return { main: mp4, sub: mp4 };
}

// ---------------------------------------------------------------------------------------------
// Vigil runs

interface AnalyticsStatus {
  framesDecoded: number;
  framesAnalysed: number;
  detectionRuns: number;
  lastFrameTimeMs: number | null;
  detector: string | null;
  error: string | null;
}

interface AnalyticsReading {
  atMs: number;
  byCamera: Map<string, AnalyticsStatus | null>;
}

interface CameraRates {
  id: string;
  decodedPerS: number;
  analysedPerS: number;
  detectionRunsPerS: number;
  /** Frames decoded but not analysed in the window (no place on the recording timeline, errors). */
  notAnalysed: number;
  /** Wall time at a poll minus the capture time of the camera's latest decoded frame. */
  lagMs: number[];
}

interface EventSample {
  cameraId: string;
  receivedMs: number;
  startTimeMs: number;
}

interface RunResult {
  name: string;
  kind: 'vigil' | 'baseline';
  cameras: number;
  detect: boolean;
  window: WindowInfo;
  cpu: CpuResult;
  perCamera: CameraRates[];
  /** 'new' events received on MQTT in the window. */
  events: EventSample[];
  baseline: BaselineRun | null;
  attempts: number;
  emulatorCrashed: boolean;
  notes: string[];
}

const windowSeconds = (r: RunResult) => (r.window.endMs - r.window.startMs) / 1000;
const cpuPerCameraMinute = (r: RunResult) => r.cpu.seconds / r.cameras / (windowSeconds(r) / 60);
const latencies = (r: RunResult) => r.events.map((e) => e.receivedMs - e.startTimeMs);

interface LogLine {
  level?: number;
  msg?: string;
}

interface CameraStatusBody {
  streams: Record<string, { state: string } | undefined>;
}

interface AnalyticsBody {
  status: AnalyticsStatus | null;
}

interface EventMessage {
  type?: string;
  after?: { cameraId?: string; startTimeMs?: number };
}

interface VigilSpec {
  name: string;
  count: number;
  footage: Footage;
  detect: boolean;
}

interface Context {
  options: Options;
  command: VigilCommand;
  ticksPerSecond: number;
  brokerUrl: string;
  subscriber: mqtt.MqttClient;
  runIndex: number;
}

function vigilYaml(
  spec: VigilSpec,
  cameras: TestCameras,
  dataDir: string,
  brokerUrl: string,
  prefix: string,
) {
  const lines = [
    'storage:',
    `  path: ${JSON.stringify(dataDir)}`,
    '  minFreeBytes: 1GB',
    'mqtt:',
    `  url: ${JSON.stringify(brokerUrl)}`,
    `  topicPrefix: ${prefix}`,
    'cameras:',
  ];
  for (let k = 1; k <= spec.count; k += 1) {
    lines.push(
      `  - id: cam${k}`,
      '    streams:',
      `      main: { url: ${JSON.stringify(cameras.urls(k).main)} }`,
      `      sub: { url: ${JSON.stringify(cameras.urls(k).sub)} }`,
    );
    // Analytics runs leave detect out: on by default with a sub stream, at its default 5 fps.
    if (!spec.detect) lines.push('    detect: { enabled: false }');
  }
  return `${lines.join('\n')}\n`;
}

async function startVigilProcess(
  configPath: string,
  command: VigilCommand,
  onLog: (line: LogLine) => void,
): Promise<{ child: TrackedChild; url: string; output: () => string }> {
  const port = await freePort();
  let output = '';
  let markUrl: (url: string) => void = () => undefined;
  const urlSeen = new Promise<string>((done) => {
    markUrl = done;
  });
  const child = spawnTracked(
    process.execPath,
    [...command.args, 'start', '--config', configPath, '--listen', `127.0.0.1:${port}`],
    {
      // TERM: if the benchmark dies, Vigil still stops its ffmpegs and closes its files.
      deathSignal: 'TERM',
      env: { ...process.env, VIGIL_LOG_LEVEL: 'info' },
      onStdoutLine: (line) => {
        output = (output + line + '\n').slice(-20_000);
        const match = /Vigil is running at (https?:\/\/[^\s"]+)/.exec(line);
        if (match?.[1]) markUrl(match[1]);
        if (line.startsWith('{')) {
          try {
            onLog(JSON.parse(line) as LogLine);
          } catch {
            // A line that merely starts with '{' is not a log record.
          }
        }
      },
    },
  );
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    urlSeen,
    child.exited.then(() => null),
    new Promise<null>((done) => {
      timer = setTimeout(() => done(null), 90_000);
    }),
  ]);
  clearTimeout(timer);
  if (outcome === null) {
    await stopChild(child);
    throw new Error(`Vigil did not start:\n${output}\n${child.stderrTail()}`);
  }
  return { child, url: outcome, output: () => `${output}\n${child.stderrTail()}` };
}

async function readAnalytics(url: string, ids: readonly string[]): Promise<AnalyticsReading> {
  const atMs = Date.now();
  const bodies = await Promise.all(
    ids.map((id) => getJson<AnalyticsBody>(`${url}/api/cameras/${id}/analytics`)),
  );
  return { atMs, byCamera: new Map(ids.map((id, i) => [id, bodies[i]?.status ?? null])) };
}

async function runVigil(spec: VigilSpec, ctx: Context): Promise<Omit<RunResult, 'attempts'>> {
  return withCameras(spec.count, spec.footage, async (cameras) => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-analytics-'));
    const removeDir = () => rmSync(dir, { recursive: true, force: true });
    const offDir = onCleanup(removeDir);
    ctx.runIndex += 1;
    const prefix = `vigil_bench_${process.pid}_${ctx.runIndex}`;
    const configPath = join(dir, 'vigil.yaml');
    writeFileSync(configPath, vigilYaml(spec, cameras, join(dir, 'data'), ctx.brokerUrl, prefix));

    const eventsTopic = `${prefix}/events`;
    const received: EventSample[] = [];
    const onMessage = (topic: string, payload: Buffer) => {
      if (topic !== eventsTopic) return;
      const receivedMs = Date.now();
      try {
        const change = JSON.parse(payload.toString()) as EventMessage;
        const startTimeMs = change.after?.startTimeMs;
        if (change.type === 'new' && typeof startTimeMs === 'number') {
          received.push({ cameraId: change.after?.cameraId ?? '?', receivedMs, startTimeMs });
        }
      } catch {
        // Not an event change: nothing to time.
      }
    };
    ctx.subscriber.on('message', onMessage);
    await ctx.subscriber.subscribeAsync(eventsTopic);

    const warnings: LogLine[] = [];
    let inWindow = false;
    const unsubscribe = async () => {
      ctx.subscriber.off('message', onMessage);
      await ctx.subscriber.unsubscribeAsync(eventsTopic).catch(() => undefined);
    };
    // Every API route needs sign-in: an administrator and a token first, as a user would make them.
    const vigil = await createAdminWithCli(configPath, {
      cli: ctx.command.args,
      user: BENCH_ADMIN,
      label: 'bench',
    })
      .then(async (token) => {
        const started = await startVigilProcess(configPath, ctx.command, (line) => {
          if (inWindow && (line.level ?? 0) >= 40) warnings.push(line);
        });
        useToken(started.url, token);
        return started;
      })
      .catch(async (err: unknown) => {
        await unsubscribe();
        throw err;
      });
    const offVigil = onCleanup(() => stopChild(vigil.child, 15_000));
    try {
      const ids = Array.from({ length: spec.count }, (_, i) => `cam${i + 1}`);
      const online = await pollUntil(
        async () => {
          const bodies = await Promise.all(
            ids.map((id) => getJson<CameraStatusBody>(`${vigil.url}/api/cameras/${id}/status`)),
          );
          return bodies.every((b) => b.streams.main?.state === 'online' && b.streams.sub?.state === 'online');
        },
        30_000 + spec.count * 5000,
        500,
      );
      if (!online) throw new Error(`not every stream came online:\n${vigil.output().slice(-3000)}`);
      if (spec.detect) {
        const analysing = await pollUntil(
          async () => {
            const reading = await readAnalytics(vigil.url, ids);
            return [...reading.byCamera.values()].every(
              (s) => s !== null && s.detector !== null && s.framesAnalysed > 0,
            );
          },
          60_000,
          500,
        );
        if (!analysing)
          throw new Error(`analytics did not start on every camera:\n${vigil.output().slice(-3000)}`);
      }
      await sleep(ctx.options.warmupS * 1000);

      const emulatorPid = findEmulatorPid(cameras);
      const meter = new CpuMeter(() => [vigil.child.pid], ctx.ticksPerSecond);
      const readings: AnalyticsReading[] = [];
      const poll = async () => readings.push(await readAnalytics(vigil.url, ids));
      await poll();
      let polling = true;
      const poller = (async () => {
        await sleep(ANALYTICS_POLL_MS / 2);
        while (polling) {
          await poll().catch(() => undefined);
          await sleep(ANALYTICS_POLL_MS);
        }
      })();
      inWindow = true;
      const window = await measureWindow(ctx.options.durationS, meter, emulatorPid, ctx.ticksPerSecond);
      inWindow = false;
      polling = false;
      await poller;
      await poll();
      const emulatorCrashed = emulatorPid !== null && findEmulatorPid(cameras) !== emulatorPid;

      const first = readings[0] as AnalyticsReading;
      const last = readings.at(-1) as AnalyticsReading;
      const spanS = (last.atMs - first.atMs) / 1000;
      const perCamera: CameraRates[] = ids.map((id) => {
        const a = first.byCamera.get(id);
        const b = last.byCamera.get(id);
        const delta = (f: (s: AnalyticsStatus) => number) => (a && b ? f(b) - f(a) : 0);
        const lagMs = readings
          .map((r) => {
            const s = r.byCamera.get(id);
            const frameMs = s?.lastFrameTimeMs;
            return typeof frameMs === 'number' ? r.atMs - frameMs : Number.NaN;
          })
          .filter((v) => Number.isFinite(v));
        return {
          id,
          decodedPerS: delta((s) => s.framesDecoded) / spanS,
          analysedPerS: delta((s) => s.framesAnalysed) / spanS,
          detectionRunsPerS: delta((s) => s.detectionRuns) / spanS,
          notAnalysed: delta((s) => s.framesDecoded) - delta((s) => s.framesAnalysed),
          lagMs,
        };
      });
      const notes: string[] = [];
      if (warnings.length > 0) {
        const counts = new Map<string, number>();
        for (const w of warnings) counts.set(w.msg ?? '?', (counts.get(w.msg ?? '?') ?? 0) + 1);
        notes.push(
          `warnings logged in the window: ${[...counts].map(([msg, n]) => `${n}× ${msg}`).join('; ')}`,
        );
      }
      return {
        name: spec.name,
        kind: 'vigil' as const,
        cameras: spec.count,
        detect: spec.detect,
        window,
        cpu: meter.result(),
        perCamera,
        events: received.filter((e) => e.receivedMs >= window.startMs && e.receivedMs <= window.endMs),
        baseline: null,
        emulatorCrashed,
        notes,
      };
    } finally {
      offVigil();
      await stopChild(vigil.child, 15_000);
      await unsubscribe();
      offDir();
      removeDir();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Baseline: the detector on every full frame, no motion gating, no region selection

interface BaselineStats {
  framesDecoded: number;
  inferences: number;
  /** Frames that arrived while the detector was busy with an earlier one: never looked at. */
  dropped: number;
  detectMsSum: number;
  persons: number;
}

interface BaselineResult {
  decodedPerS: number;
  inferencesPerS: number;
  droppedPerS: number;
  /** Frame handed to the worker → detections back (crop + copy + inference + reply). */
  detectMsMean: number;
  personsPerInference: number;
}

/** The baseline's own process: ffmpeg → raw frames at 5 fps → WorkerDetector on each full frame. */
async function baselineChild(url: string, width: number, height: number, fps: number): Promise<void> {
  const ffmpeg = await locateFfmpeg();
  const detector = await WorkerDetector.create();
  const inputSize = detector.inputSize;
  const region = fullFrameRegion({ width, height });
  const input = new Uint8Array(inputSize * inputSize * 3);
  const stats: BaselineStats = {
    framesDecoded: 0,
    inferences: 0,
    dropped: 0,
    detectMsSum: 0,
    persons: 0,
  };
  let busy = false;
  const intervalS = (1 / fps) * 0.95;
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-rtsp_transport',
    'tcp',
    '-i',
    url,
    '-an',
    '-vf',
    // The same selection by time and scaling as Vigil's analytics decoder.
    `select='isnan(prev_selected_t)+gte(t-prev_selected_t,${intervalS.toFixed(4)})',` +
      `scale=${width}:${height}:flags=area`,
    ...(ffmpeg.major >= 5 ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough']),
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ];
  const [command, commandArgs] = diesWithVigil(ffmpeg.path, args);
  // Not spawnTracked: that reads stdout as text, and these are raw frames.
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
  const frameBytes = width * height * 3;
  let buffer: Buffer = Buffer.alloc(0);
  const onFrame = (rgb: Uint8Array) => {
    stats.framesDecoded += 1;
    if (busy) {
      stats.dropped += 1;
      return;
    }
    busy = true;
    const startMs = performance.now();
    const crop = cropResizeRgb({ data: rgb, width, height }, region.box, inputSize, inputSize, input);
    detector
      .detect([crop])
      .then((perInput) => {
        stats.inferences += 1;
        stats.detectMsSum += performance.now() - startMs;
        stats.persons += (perInput[0] ?? []).filter((d) => d.label === 'person' && d.score >= 0.5).length;
      })
      .catch((err: unknown) => process.stderr.write(`baseline detector: ${String(err)}\n`))
      .finally(() => {
        busy = false;
      });
  };
  child.stdout.on('data', (chunk: Buffer) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    while (buffer.length >= frameBytes) {
      onFrame(new Uint8Array(buffer.subarray(0, frameBytes)));
      buffer = buffer.subarray(frameBytes);
    }
  });
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    child.kill('SIGKILL');
    await detector.close().catch(() => undefined);
    process.exit(code);
  };
  child.on('exit', (code) => {
    if (!stopping) process.stderr.write(`baseline ffmpeg exited (${code})\n`);
    void stop(1);
  });
  process.on('SIGTERM', () => void stop(0));
  // The parent asks for the counters over stdin, one line per question; its end means stop.
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === 'stats') process.stdout.write(`${JSON.stringify(stats)}\n`);
  });
  lines.on('close', () => void stop(0));
}

async function runBaseline(footage: Footage, ctx: Context): Promise<Omit<RunResult, 'attempts'>> {
  const probe = execFileSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=width,height',
      '-of',
      'csv=p=0',
      footage.sub,
    ],
    { encoding: 'utf8' },
  ).trim();
  const [w, h] = probe.split(',').map(Number);
  if (!w || !h) throw new Error(`ffprobe could not read the size of ${footage.sub}: '${probe}'`);
  const size = analysisSize(w, h);
  return withCameras(1, footage, async (cameras) => {
    const answers: Array<(stats: BaselineStats) => void> = [];
    const child = spawnTracked(
      process.execPath,
      [
        '--import',
        'tsx',
        THIS_FILE,
        '--baseline-child',
        cameras.urls(1).sub,
        '--size',
        `${size.width}x${size.height}`,
      ],
      {
        deathSignal: 'TERM',
        onStdoutLine: (line) => {
          if (!line.startsWith('{')) return;
          answers.shift()?.(JSON.parse(line) as BaselineStats);
        },
      },
    );
    const offChild = onCleanup(() => stopChild(child, 5000));
    const ask = () =>
      new Promise<BaselineStats>((resolveStats, reject) => {
        const answer = (stats: BaselineStats) => {
          clearTimeout(timer);
          resolveStats(stats);
        };
        const timer = setTimeout(() => {
          // Unanswered: out of the queue, so a late answer cannot go to the next question.
          answers.splice(answers.indexOf(answer), 1);
          reject(new Error(`the baseline did not answer:\n${child.stderrTail()}`));
        }, 10_000);
        answers.push(answer);
        child.process.stdin.write('stats\n');
      });
    try {
      const started = await pollUntil(async () => (await ask()).inferences > 0, 60_000, 500);
      if (!started) throw new Error(`the baseline did not start:\n${child.stderrTail()}`);
      await sleep(ctx.options.warmupS * 1000);
      const emulatorPid = findEmulatorPid(cameras);
      const meter = new CpuMeter(() => [child.pid], ctx.ticksPerSecond);
      const a = await ask();
      const aMs = Date.now();
      const window = await measureWindow(ctx.options.durationS, meter, emulatorPid, ctx.ticksPerSecond);
      const b = await ask();
      const spanS = (Date.now() - aMs) / 1000;
      const inferences = b.inferences - a.inferences;
      const baseline: BaselineResult = {
        decodedPerS: (b.framesDecoded - a.framesDecoded) / spanS,
        inferencesPerS: inferences / spanS,
        droppedPerS: (b.dropped - a.dropped) / spanS,
        detectMsMean: inferences > 0 ? (b.detectMsSum - a.detectMsSum) / inferences : Number.NaN,
        personsPerInference: inferences > 0 ? (b.persons - a.persons) / inferences : Number.NaN,
      };
      return {
        name: 'baseline: detector on every full frame',
        kind: 'baseline' as const,
        cameras: 1,
        detect: true,
        window,
        cpu: meter.result(),
        perCamera: [
          {
            id: 'cam1',
            decodedPerS: baseline.decodedPerS,
            analysedPerS: baseline.inferencesPerS,
            detectionRunsPerS: baseline.inferencesPerS,
            notAnalysed: b.dropped - a.dropped,
            lagMs: [],
          },
        ],
        events: [],
        baseline: { ...b, ...baseline },
        emulatorCrashed: emulatorPid !== null && findEmulatorPid(cameras) !== emulatorPid,
        notes: [],
      };
    } finally {
      offChild();
      child.process.stdin.end();
      await stopChild(child, 5000);
    }
  });
}

/** The baseline's counters at the window's end and its rates over the window. */
type BaselineRun = BaselineStats & BaselineResult;

// ---------------------------------------------------------------------------------------------
// Options and the whole run

interface Options {
  durationS: number;
  warmupS: number;
  /** The scaling part starts at this many cameras (to resume a run). */
  minCameras: number;
  maxCameras: number;
  footageDir: string;
  vigil: VigilMode;
  parts: Set<'single' | 'still' | 'baseline' | 'scaling'>;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '60' },
      warmup: { type: 'string', default: '15' },
      'max-cameras': { type: 'string', default: '6' },
      'min-cameras': { type: 'string', default: '1' },
      footage: { type: 'string' },
      vigil: { type: 'string', default: 'auto' },
      parts: { type: 'string', default: 'single,still,baseline,scaling' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      'npx tsx bench/analytics/pipeline.ts [--duration 60] [--warmup 15] [--min-cameras 1] [--max-cameras 6] ' +
        '[--footage DIR] [--vigil auto|dist|build|src] [--parts single,still,baseline,scaling]',
    );
    process.exit(0);
  }
  const durationS = Number(values.duration);
  if (!Number.isInteger(durationS) || durationS < 5) throw new Error(`--duration must be an integer ≥ 5`);
  const warmupS = Number(values.warmup);
  if (!Number.isFinite(warmupS) || warmupS < 0) throw new Error(`--warmup must be a number ≥ 0`);
  const maxCameras = Number(values['max-cameras']);
  const minCameras = Number(values['min-cameras']);
  if (!Number.isInteger(minCameras) || minCameras < 1 || minCameras > Number(values['max-cameras']))
    throw new Error(`--min-cameras must be an integer from 1 to --max-cameras`);
  if (!Number.isInteger(maxCameras) || maxCameras < 1)
    throw new Error(`--max-cameras must be an integer ≥ 1`);
  const vigil = values.vigil;
  if (vigil !== 'auto' && vigil !== 'src' && vigil !== 'dist' && vigil !== 'build') {
    throw new Error(`--vigil must be auto, src, dist or build, got '${vigil}'`);
  }
  const parts = new Set<'single' | 'still' | 'baseline' | 'scaling'>();
  for (const part of values.parts.split(',').map((p) => p.trim())) {
    if (part !== 'single' && part !== 'still' && part !== 'baseline' && part !== 'scaling') {
      throw new Error(`--parts takes single, still, baseline and scaling, got '${part}'`);
    }
    parts.add(part);
  }
  const footageDir = resolve(
    values.footage ?? process.env.VIGIL_FOOTAGE ?? join(REPO_ROOT, '..', 'shared', 'footage'),
  );
  return { durationS, warmupS, minCameras, maxCameras, footageDir, vigil, parts };
}

const failures: string[] = [];

/** Runs one measurement, again if it failed or the emulator crashed in its window; undefined if it never worked. */
async function attempt(
  what: string,
  run: () => Promise<Omit<RunResult, 'attempts'>>,
): Promise<RunResult | undefined> {
  for (let k = 1; ; k += 1) {
    process.stderr.write(`running ${what}… `);
    try {
      const result = await run();
      if (result.emulatorCrashed && k < MAX_ATTEMPTS) {
        process.stderr.write('the camera emulator crashed in the window; again\n');
        continue;
      }
      process.stderr.write('done\n');
      const full = { ...result, attempts: k };
      for (const line of describe(full)) console.log(line);
      return full;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`failed: ${message.split('\n')[0]}\n`);
      if (k >= MAX_ATTEMPTS) {
        console.log(`${what}: FAILED ${k} times; last error: ${message.slice(0, 2000)}`);
        failures.push(what);
        return undefined;
      }
    }
  }
}

/**
 * Every camera decodes at least KEEP_UP_SHARE of DETECT_FPS and analyses as many of those frames.
 * Not "all of them": at a segment roll the recorder has no open segment for a moment, and a frame
 * decoded then has no place on the timeline and is not analysed (one per camera per roll).
 */
function keepsUp(r: RunResult): boolean {
  return r.perCamera.every(
    (c) => c.decodedPerS >= KEEP_UP_SHARE * DETECT_FPS && c.analysedPerS >= KEEP_UP_SHARE * c.decodedPerS,
  );
}

function describe(r: RunResult): string[] {
  const partText = CPU_PARTS.filter((p) => r.cpu.byPart[p] > 0)
    .map((p) => `${p} ${r.cpu.byPart[p].toFixed(2)} s`)
    .join(', ');
  const lines = [
    `${r.name}, ${r.cameras} camera${r.cameras > 1 ? 's' : ''}: window ${windowSeconds(r).toFixed(1)} s` +
      (r.attempts > 1 ? ` (attempt ${r.attempts})` : ''),
    `  CPU ${r.cpu.seconds.toFixed(2)} s = ${fmt(cpuPerCameraMinute(r), 2)} s per camera-minute; ` +
      `median per second ${fmt(median(r.cpu.perSecondPct), 0)}% of one core (${partText})`,
    `  machine busy ${fmt(r.window.machineBusyPct, 0)}% of all cores (steal ${fmt(r.window.machineStealPct, 0)}%); ` +
      `load average ${loadText(r.window.loadStart)} → ${loadText(r.window.loadEnd)}; emulator ` +
      (r.window.emulatorCpuSeconds === null
        ? 'not measured'
        : `${fmt((100 * r.window.emulatorCpuSeconds) / windowSeconds(r), 1)}% of one core (not counted)`) +
      (r.emulatorCrashed ? '; THE EMULATOR CRASHED IN THE WINDOW' : ''),
  ];
  if (r.baseline) {
    const b = r.baseline;
    lines.push(
      `  frames ${fmt(b.decodedPerS, 2)}/s, inferences ${fmt(b.inferencesPerS, 2)}/s, dropped ${fmt(b.droppedPerS, 2)}/s; ` +
        `frame → detections ${fmtMs(b.detectMsMean)} on average; ${fmt(b.personsPerInference, 1)} persons ≥ 0.5 per frame`,
    );
  } else if (r.detect) {
    for (const c of r.perCamera) {
      lines.push(
        `  ${c.id}: decoded ${fmt(c.decodedPerS, 2)}/s, analysed ${fmt(c.analysedPerS, 2)}/s, ` +
          `detector runs ${fmt(c.detectionRunsPerS, 2)}/s, not analysed ${c.notAnalysed}, ` +
          `frame lag median ${fmtMs(median(c.lagMs))}, max ${fmtMs(Math.max(...c.lagMs))}`,
      );
    }
    const l = latencies(r);
    lines.push(
      `  ${r.events.length} 'new' events on MQTT in the window; latency from the capture of the confirming ` +
        `frame: p50 ${fmtMs(percentile(l, 0.5))}, p95 ${fmtMs(percentile(l, 0.95))}, ` +
        `min ${fmtMs(Math.min(...l))}, max ${fmtMs(Math.max(...l))}`,
    );
  }
  for (const note of r.notes) lines.push(`  ${note}`);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Report

function meanOf(r: RunResult, f: (c: CameraRates) => number): number {
  return r.perCamera.reduce((sum, c) => sum + f(c), 0) / r.perCamera.length;
}

/** Mean over the cameras of a run, and the worst camera. */
function meanMin(r: RunResult, f: (c: CameraRates) => number): string {
  return `${fmt(meanOf(r, f), 2)} (min ${fmt(Math.min(...r.perCamera.map(f)), 2)})`;
}

function markdownTable(header: string[], rows: string[][]): string {
  const out = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows) out.push(`| ${row.join(' | ')} |`);
  return out.join('\n');
}

function cpuRow(name: string, r: RunResult): string[] {
  const perMin = (s: number) => fmt(s / r.cameras / (windowSeconds(r) / 60), 2);
  return [
    name,
    fmt(cpuPerCameraMinute(r), 2),
    `${fmt((100 * r.cpu.seconds) / windowSeconds(r) / r.cameras, 0)}%`,
    `${fmt(median(r.cpu.perSecondPct) / r.cameras, 0)}%`,
    perMin(r.cpu.byPart['node main thread']),
    perMin(r.cpu.byPart['node other threads']),
    perMin(r.cpu.byPart['ffmpeg ingest']),
    perMin(r.cpu.byPart['ffmpeg analytics decode']),
    r.detect ? fmt(r.perCamera[0]?.analysedPerS ?? Number.NaN, 2) : '–',
    r.detect ? fmt(r.perCamera[0]?.detectionRunsPerS ?? Number.NaN, 2) : '–',
  ];
}

function shareRow(name: string, on: RunResult, off: RunResult): string[] {
  const d = (f: (r: RunResult) => number) => fmt(f(on) - f(off), 2);
  const perMin = (part: CpuPart) => (r: RunResult) =>
    r.cpu.byPart[part] / r.cameras / (windowSeconds(r) / 60);
  return [
    name,
    d(cpuPerCameraMinute),
    `${fmt((100 * (cpuPerCameraMinute(on) - cpuPerCameraMinute(off))) / 60, 0)}%`,
    `${fmt(median(on.cpu.perSecondPct) - median(off.cpu.perSecondPct), 0)}%`,
    d(perMin('node main thread')),
    d(perMin('node other threads')),
    d(perMin('ffmpeg ingest')),
    d(perMin('ffmpeg analytics decode')),
    '',
    '',
  ];
}

interface Results {
  stillOn?: RunResult;
  vtestOn?: RunResult;
  vtestOff?: RunResult;
  treeOn?: RunResult;
  treeOff?: RunResult;
  baseline?: RunResult;
  scaling: RunResult[];
}

function printReport(results: Results, options: Options, nproc: number): void {
  const out: string[] = ['', '## Results', ''];
  const { vtestOn, vtestOff, treeOn, treeOff, baseline } = results;
  if (vtestOn || treeOn || baseline) {
    out.push(
      `### One camera at ${DETECT_FPS} fps: CPU (window ${options.durationS} s after ${options.warmupS} s of warm-up)`,
      '',
      markdownTable(
        [
          'run',
          'CPU s/cam-min',
          '% of one core (window)',
          '% of one core (median of 1 s)',
          'node main',
          'node other threads',
          'ffmpeg ingest',
          'ffmpeg decode',
          'frames analysed/s',
          'detector runs/s',
        ],
        [
          ...(vtestOn ? [cpuRow('vtest: Vigil, detect on (default)', vtestOn)] : []),
          ...(vtestOff ? [cpuRow('vtest: Vigil, recording only', vtestOff)] : []),
          ...(vtestOn && vtestOff
            ? [shareRow('vtest: analytics share (difference)', vtestOn, vtestOff)]
            : []),
          ...(treeOn ? [cpuRow('tree: Vigil, detect on (default)', treeOn)] : []),
          ...(treeOff ? [cpuRow('tree: Vigil, recording only', treeOff)] : []),
          ...(treeOn && treeOff ? [shareRow('tree: analytics share (difference)', treeOn, treeOff)] : []),
          ...(results.stillOn ? [cpuRow('still picture: Vigil, detect on (default)', results.stillOn)] : []),
          ...(baseline ? [cpuRow('vtest: baseline, detector on every full frame', baseline)] : []),
        ],
      ),
      '',
      'CPU columns after the first three are CPU seconds per camera-minute by part.',
      '',
    );
  }
  if (vtestOn && baseline?.baseline) {
    const v = vtestOn.perCamera[0] as CameraRates;
    const b = baseline.baseline;
    const ratio = (x: number, y: number) => (y > 0 ? `${(x / y).toFixed(2)}×` : '–');
    const vigilCpu = cpuPerCameraMinute(vtestOn);
    const baseCpu = cpuPerCameraMinute(baseline);
    // Other scenes through Vigil, for scale: the baseline costs the same whatever the scene.
    const others = [treeOn, results.stillOn];
    const other = (f: (r: RunResult, c: CameraRates) => number) =>
      others.map((r) => (r?.perCamera[0] ? fmt(f(r, r.perCamera[0]), 2) : '–'));
    const share = vtestOff ? vigilCpu - cpuPerCameraMinute(vtestOff) : Number.NaN;
    const rows = [
      [
        'frames in per s',
        fmt(v.decodedPerS, 2),
        fmt(b.decodedPerS, 2),
        ratio(v.decodedPerS, b.decodedPerS),
        ...other((_, c) => c.decodedPerS),
      ],
      [
        'detector inferences per s',
        fmt(v.detectionRunsPerS, 2),
        fmt(b.inferencesPerS, 2),
        ratio(v.detectionRunsPerS, b.inferencesPerS),
        ...other((_, c) => c.detectionRunsPerS),
      ],
      [
        'frames not given to the detector per s (Vigil: motion only; baseline: dropped, detector busy)',
        fmt(v.decodedPerS - v.detectionRunsPerS, 2),
        fmt(b.droppedPerS, 2),
        ratio(v.decodedPerS - v.detectionRunsPerS, b.droppedPerS),
        ...other((_, c) => c.decodedPerS - c.detectionRunsPerS),
      ],
      [
        'CPU s/min, whole (Vigil: recording + analytics)',
        fmt(vigilCpu, 2),
        fmt(baseCpu, 2),
        ratio(vigilCpu, baseCpu),
        ...other((r) => cpuPerCameraMinute(r)),
      ],
      [
        'CPU s/min, analytics only (Vigil: detect on − recording only)',
        fmt(share, 2),
        fmt(baseCpu, 2),
        ratio(share, baseCpu),
        treeOn && treeOff ? fmt(cpuPerCameraMinute(treeOn) - cpuPerCameraMinute(treeOff), 2) : '–',
        '–',
      ],
    ];
    out.push(
      '### vtest: Vigil pipeline vs the detector on every full frame (same run)',
      '',
      markdownTable(
        ['', 'Vigil, vtest', 'baseline, vtest', 'Vigil/baseline', 'Vigil, tree', 'Vigil, still picture'],
        rows,
      ),
      '',
    );
  }
  const vtestRuns = [...(vtestOn ? [vtestOn] : []), ...results.scaling.filter((r) => r !== vtestOn)];
  if (vtestRuns.length > 0) {
    const rows = vtestRuns.map((r) => {
      const l = latencies(r);
      const runsPerS = meanOf(r, (c) => c.detectionRunsPerS);
      // The track was confirmed on its 3rd hit: two detector runs of this camera after its first.
      const confirmMs = runsPerS > 0 ? 2000 / runsPerS : Number.NaN;
      return [
        String(r.cameras),
        String(l.length),
        fmtMs(percentile(l, 0.5)),
        fmtMs(percentile(l, 0.95)),
        `${fmtMs(Math.min(...l))} / ${fmtMs(Math.max(...l))}`,
        fmtMs(median(r.perCamera.flatMap((c) => c.lagMs))),
        fmt(runsPerS, 2),
        fmtMs(confirmMs),
        fmtMs(percentile(l, 0.5) + confirmMs),
      ];
    });
    out.push(
      "### Frame → MQTT 'new' event latency (vtest), from the capture of the frame that confirmed the track",
      '',
      markdownTable(
        [
          'cameras',
          'events',
          'p50',
          'p95',
          'min / max',
          'frame lag (median)',
          'detector runs/cam/s',
          '+ 2 detector intervals (est.)',
          'p50 from the first detection (est.)',
        ],
        rows,
      ),
      '',
    );
  }
  if (results.scaling.length > 0) {
    const rows = results.scaling.map((r) => {
      const lags = r.perCamera.flatMap((c) => c.lagMs);
      return [
        String(r.cameras),
        `${fmt((100 * r.cpu.seconds) / windowSeconds(r) / nproc, 0)}%`,
        `${fmt(median(r.cpu.perSecondPct) / nproc, 0)}%`,
        meanMin(r, (c) => c.decodedPerS),
        meanMin(r, (c) => c.analysedPerS),
        String(r.perCamera.reduce((sum, c) => sum + c.notAnalysed, 0)),
        meanMin(r, (c) => c.detectionRunsPerS),
        `${fmtMs(median(lags))} / ${fmtMs(Math.max(...lags))}`,
        `${r.events.length}`,
        fmtMs(percentile(latencies(r), 0.5)),
        `${fmt(r.window.machineBusyPct, 0)}%`,
        `${fmt(r.window.loadStart[0] ?? Number.NaN, 2)} → ${fmt(r.window.loadEnd[0] ?? Number.NaN, 2)}`,
        keepsUp(r) ? 'yes' : 'NO',
      ];
    });
    out.push(
      `### Cameras of vtest at ${DETECT_FPS} fps on this machine (${nproc} cores)`,
      '',
      markdownTable(
        [
          'cameras',
          'Vigil CPU, % of machine (window)',
          '(median of 1 s)',
          'frames decoded/cam/s',
          'frames analysed/cam/s',
          'decoded, not analysed (all cameras)',
          'detector runs/cam/s',
          'frame lag median / max',
          "'new' events",
          'event latency p50',
          'machine busy',
          'load (1 min) start → end',
          'keeps up',
        ],
        rows,
      ),
      '',
    );
    const sustained = results.scaling.filter(keepsUp).map((r) => r.cameras);
    const firstDrop = results.scaling.find((r) => !keepsUp(r));
    const slow = results.scaling.find(
      (r) => meanOf(r, (c) => c.detectionRunsPerS) < PRACTICAL_DETECTIONS_PER_S,
    );
    out.push(
      `Keeps up (every camera decodes ≥ ${KEEP_UP_SHARE * DETECT_FPS} frames/s and analyses ≥ ${KEEP_UP_SHARE * 100} % of them): ` +
        (sustained.length > 0 ? `up to ${Math.max(...sustained)} cameras` : 'not even one camera') +
        (firstDrop
          ? `; ${firstDrop.cameras} cameras drop frames.`
          : `; no drops up to ${options.maxCameras} (--max-cameras).`),
      slow
        ? `Detector runs per camera fall below ${PRACTICAL_DETECTIONS_PER_S}/s at ${slow.cameras} cameras.`
        : `Detector runs per camera stayed at or above ${PRACTICAL_DETECTIONS_PER_S}/s in every run.`,
      '',
    );
  }
  const all = [vtestOn, vtestOff, treeOn, treeOff, results.stillOn, baseline, ...results.scaling].filter(
    (r): r is RunResult => r !== undefined,
  );
  const loads = all.flatMap((r) => [r.window.loadStart[0] ?? Number.NaN, r.window.loadEnd[0] ?? Number.NaN]);
  const busy = all.map((r) => r.window.machineBusyPct);
  if (all.length > 0) {
    out.push(
      `Load average (1 min) at the windows' starts and ends: ${fmt(Math.min(...loads), 2)}–${fmt(Math.max(...loads), 2)} ` +
        `(median ${fmt(median(loads), 2)}); whole machine busy ${fmt(Math.min(...busy), 0)}–${fmt(Math.max(...busy), 0)}% ` +
        `of all cores in the windows.`,
      '',
    );
  }
  if (failures.length > 0) out.push(`Runs that failed (see above): ${failures.join('; ')}.`, '');
  console.log(out.join('\n'));
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  process.chdir(REPO_ROOT);
  const vtest: Footage = {
    main: join(options.footageDir, 'vtest-main.mp4'),
    sub: join(options.footageDir, 'vtest-sub.mp4'),
  };
  const tree: Footage = {
    main: join(options.footageDir, 'tree-sub.mp4'),
    sub: join(options.footageDir, 'tree-sub.mp4'),
  };
  for (const file of [vtest.main, vtest.sub, tree.sub]) {
    if (!existsSync(file)) throw new Error(`footage missing: ${file} (--footage DIR or VIGIL_FOOTAGE)`);
  }
  await camerasKind('emulator'); // throws with what is missing when the emulator cannot run
  const stopOnSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping every child process…\n`);
    void cleanupAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);

  const ffmpeg = await locateFfmpeg();
  const ticksPerSecond = clockTicksPerSecond();
  const machine = machineInfo(ffmpeg.path);
  const nproc = Number(machine.nproc) || 1;
  const results: Results = { scaling: [] };
  try {
    const command = vigilCommand(options.vigil);
    const buildDir = command.buildDir;
    if (buildDir) onCleanup(() => removeBuild(buildDir));
    const broker = await startBroker();
    onCleanup(() => broker.stop());
    const subscriber = mqtt.connect(broker.url, { reconnectPeriod: 1000 });
    onCleanup(() => subscriber.endAsync(true));
    await new Promise<void>((done, fail) => {
      subscriber.once('connect', () => done());
      subscriber.once('error', fail);
    });

    console.log(`# Vigil analytics pipeline benchmark, ${new Date().toISOString()}`);
    console.log('');
    console.log('```');
    console.log(formatMachine(machine));
    console.log(`Vigil ${sourceRevision()} runs from ${command.what}`);
    console.log(`load average at the start: ${loadText(loadavg())}`);
    console.log(
      `window ${options.durationS} s after ${options.warmupS} s of warm-up; detect fps ${DETECT_FPS} (default); ` +
        `MQTT broker ${broker.url}; footage ${options.footageDir}`,
    );
    console.log('');
    const ctx: Context = { options, command, ticksPerSecond, brokerUrl: broker.url, subscriber, runIndex: 0 };
    const single = options.parts.has('single');
    if (single) {
      results.vtestOn = await attempt('vtest, detect on', () =>
        runVigil({ name: 'vtest: Vigil, detect on', count: 1, footage: vtest, detect: true }, ctx),
      );
    }
    if (options.parts.has('baseline')) {
      results.baseline = await attempt('vtest baseline', () => runBaseline(vtest, ctx));
    }
    if (single) {
      results.vtestOff = await attempt('vtest, recording only', () =>
        runVigil({ name: 'vtest: Vigil, recording only', count: 1, footage: vtest, detect: false }, ctx),
      );
      results.treeOn = await attempt('tree, detect on', () =>
        runVigil({ name: 'tree: Vigil, detect on', count: 1, footage: tree, detect: true }, ctx),
      );
      results.treeOff = await attempt('tree, recording only', () =>
        runVigil({ name: 'tree: Vigil, recording only', count: 1, footage: tree, detect: false }, ctx),
      );
    }
    if (options.parts.has('still')) {
      const still = stillFootage(ffmpeg.path, vtest.sub);
      results.stillOn = await attempt('still picture, detect on', () =>
        runVigil({ name: 'still picture: Vigil, detect on', count: 1, footage: still, detect: true }, ctx),
      );
    }
    if (options.parts.has('scaling')) {
      for (let n = options.minCameras; n <= options.maxCameras; n += 1) {
        const run =
          n === 1 && results.vtestOn
            ? results.vtestOn
            : await attempt(`${n} vtest cameras`, () =>
                runVigil(
                  { name: `vtest ×${n}: Vigil, detect on`, count: n, footage: vtest, detect: true },
                  ctx,
                ),
              );
        if (!run) break;
        results.scaling.push(run);
        if (!keepsUp(run)) break;
      }
    }
    console.log(`load average at the end: ${loadText(loadavg())}`);
    console.log('```');
  } finally {
    await cleanupAll();
  }
  printReport(results, options, nproc);
}

const childIndex = process.argv.indexOf('--baseline-child');
if (childIndex >= 0) {
  const url = process.argv[childIndex + 1] ?? '';
  const sizeIndex = process.argv.indexOf('--size');
  const [width, height] = (process.argv[sizeIndex + 1] ?? '').split('x').map(Number);
  if (!url || !width || !height) throw new Error('--baseline-child URL --size WxH');
  baselineChild(url, width, height, DETECT_FPS).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
} else {
  main().catch(async (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    await cleanupAll();
    process.exit(1);
  });
}
