/**
 * Recording benchmark: what Vigil costs to record N cameras' main streams, next to N plain
 * ffmpeg processes writing the same streams to segment files (the least any recorder can do).
 * See README.md in this folder for how to run it and what the columns mean.
 *
 *   npm run bench:recording -- [--cameras 1,8,16,32] [--seconds 60]
 */
import { execFile, execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { locateFfmpeg, type FfmpegBinary } from '../../src/ingest/ffmpeg-binary.js';
import { freePort, startCameras, type TestCameras } from '../../test/helpers/cameras.js';
import { spawnTracked, stopChild, type TrackedChild } from '../../test/helpers/children.js';
import { apiFetch, createAdminWithCli, useToken } from '../../test/helpers/vigil.js';
import { formatMachine, machineInfo } from '../lib/machine.js';
import {
  clockTicksPerSecond,
  machineTicks,
  median,
  scanProcesses,
  TreeMeter,
  type TreeUsage,
} from '../lib/proc.js';

const execFileAsync = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * After the last camera comes online: ffmpeg hands over what it buffered while probing in one
 * burst at connect, which is start-up cost, not steady recording.
 */
const SETTLE_MS = 3000;
/** Wait after the window before asking Vigil what it recorded: the last fragment (≤ 1 s) lands. */
const TAIL_MS = 3000;
const STATUS_POLL_MS = 5000;
/** A camera whose recording falls short of the window by more than this has lost video. */
const LOSS_TOLERANCE_MS = 3000;
const MiB = 2 ** 20;
/** Runs spoilt by an emulator crash are repeated up to this many times in all. */
const MAX_ATTEMPTS = 3;

/** 'vigil' pulls every camera with ffmpeg, 'vigil-native' with its own RTSP client (`ingest: native`). */
type System = 'vigil' | 'vigil-native' | 'baseline';
type IngestMode = 'ffmpeg' | 'native' | 'both';

interface CameraOutcome {
  id: string;
  /** Recorded media within the expected span. */
  recordedMs: number;
  /** What should have been recorded: the window (Vigil) or the whole run (baseline). */
  expectedMs: number;
  gapCount: number;
  fpsMin: number | null;
  fpsMax: number | null;
  lost: boolean;
}

interface SystemResult {
  system: System;
  n: number;
  /** 1 if this system ran first for this N, 2 if second, 3 if third. */
  position: number;
  windowMs: number;
  usage: TreeUsage;
  cameras: CameraOutcome[];
  emulatorCpuSeconds: number | null;
  /** Busy time of all cores of the machine during the window, as % of all cores. */
  machineBusyPct: number;
  machineStealPct: number;
  /** How many cameras were online when the window opened. */
  onlineAtStart: number;
  /** Emulator crashes while the cameras connected (relaunched). */
  emulatorRestarts: number;
  /** False if the emulator died after the cameras were online: the run says nothing then. */
  valid: boolean;
  details: string[];
}

interface Options {
  cameraCounts: number[];
  seconds: number;
  vigilMode: VigilMode;
  /** Extra node options for Vigil's process, for investigation (--cpu-prof, V8 heap flags). */
  vigilNodeArgs: string[];
  /** Which ingest the Vigil runs use; 'both' runs Vigil twice per N, to compare them in one run. */
  ingest: IngestMode;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      cameras: { type: 'string', default: '1,8,16,32' },
      seconds: { type: 'string', default: '60' },
      vigil: { type: 'string', default: 'auto' },
      'vigil-node-args': { type: 'string', default: '' },
      ingest: { type: 'string', default: 'ffmpeg' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      'npm run bench:recording -- [--cameras 1,8,16,32] [--seconds 60] [--vigil auto|dist|build|src] [--vigil-node-args="--cpu-prof ..."] [--ingest ffmpeg|native|both]',
    );
    process.exit(0);
  }
  const cameraCounts = values.cameras.split(',').map((s) => Number(s.trim()));
  if (cameraCounts.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(
      `--cameras must be a list of positive integers such as 1,8,16,32, got '${values.cameras}'`,
    );
  }
  const seconds = Number(values.seconds);
  if (!Number.isInteger(seconds) || seconds < 5) {
    throw new Error(`--seconds must be an integer of at least 5, got '${values.seconds}'`);
  }
  const vigilMode = values.vigil;
  if (vigilMode !== 'auto' && vigilMode !== 'src' && vigilMode !== 'dist' && vigilMode !== 'build') {
    throw new Error(`--vigil must be auto, src, dist or build, got '${vigilMode}'`);
  }
  const vigilNodeArgs = values['vigil-node-args'].split(/\s+/).filter((a) => a !== '');
  const ingest = values.ingest;
  if (ingest !== 'ffmpeg' && ingest !== 'native' && ingest !== 'both') {
    throw new Error(`--ingest must be ffmpeg, native or both, got '${ingest}'`);
  }
  return { cameraCounts, seconds, vigilMode, vigilNodeArgs, ingest };
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, Math.max(0, ms)));

function listFiles(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full, suffix));
    else if (entry.name.endsWith(suffix)) out.push(full);
  }
  return out;
}

type VigilMode = 'auto' | 'src' | 'dist' | 'build';

interface VigilCommand {
  /** Node arguments that start the CLI. */
  args: string[];
  what: string;
  /** A temporary build to delete at the end. */
  buildDir: string | null;
}

function staleBuildFiles(): string[] {
  const srcRoot = join(REPO_ROOT, 'src');
  return listFiles(srcRoot, '.ts').filter((file) => {
    const built = join(REPO_ROOT, 'dist', relative(srcRoot, file)).replace(/\.ts$/, '.js');
    return !existsSync(built) || statSync(built).mtimeMs < statSync(file).mtimeMs;
  });
}

/** Which code is measured: the commit, and whether src/ differs from it. */
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

/**
 * Compiles src/ as `npm run build` does, but into a temporary folder, so dist/ is left alone.
 * package.json and node_modules sit next to it as they do next to dist/: the CLI reads its
 * version from ../../package.json and resolves its dependencies from node_modules.
 */
function buildToTemp(): string {
  const dir = tempDir('vigil-bench-build-');
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
  // Data files the compiled code reads from src/, as dist/ does in a checkout.
  mkdirSync(join(dir, 'src', 'auth'), { recursive: true });
  copyFileSync(
    join(REPO_ROOT, 'src', 'auth', 'common-passwords.txt'),
    join(dir, 'src', 'auth', 'common-passwords.txt'),
  );
  return dir;
}

/**
 * How to start Vigil. Users run the compiled CLI, and tsx costs memory a user never pays (its
 * loader hooks run on a thread with their own V8 heap), so `auto` runs dist/ when it is up to
 * date and otherwise a fresh build in a temporary folder: a stale dist/ would benchmark code that
 * is no longer there.
 */
function vigilCommand(mode: VigilMode): VigilCommand {
  const dist = join(REPO_ROOT, 'dist', 'cli', 'main.js');
  if (mode === 'src') {
    return {
      args: ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'main.ts')],
      what: 'src/ through tsx (--vigil src; tsx adds memory)',
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
        ? 'there is no dist/'
        : `dist/ is older than ${stale.length} files of src/`;
  const buildDir = buildToTemp();
  return {
    args: [join(buildDir, 'dist', 'cli', 'main.js')],
    what: `a fresh build of src/ in ${buildDir} (${why})`,
    buildDir,
  };
}

/** The emulator's pid: our child whose command line names the emulator and its port. */
function findEmulatorPid(cameras: TestCameras): number | null {
  if (cameras.kind !== 'emulator') return null;
  for (const p of scanProcesses().values()) {
    if (p.ppid !== process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a.endsWith('rtsp-cameras')) && argv.includes(String(cameras.port))) return p.pid;
    } catch {
      // Gone between the scan and the read: not the emulator, which is still running.
    }
  }
  return null;
}

/**
 * The camera emulator, watched. gst-rtsp-server (1.22, Debian 12) sometimes aborts when several
 * clients connect at once ("gst_rtsp_media_get_rates: assertion failed"), as every recorder does
 * at start. A crash while the cameras connect is relaunched on the same port (the recorders
 * reconnect, as they would to a rebooted camera); a crash after that spoils the run, which is
 * then repeated.
 */
class Emulator {
  restarts = 0;
  private pid: number | null;

  constructor(readonly cameras: TestCameras) {
    this.pid = findEmulatorPid(cameras);
  }

  get currentPid(): number | null {
    return this.pid;
  }

  /** Relaunches the emulator if it has died; returns whether it did. */
  async revive(): Promise<boolean> {
    await this.cameras.start();
    const pid = findEmulatorPid(this.cameras);
    if (pid === this.pid) return false;
    this.pid = pid;
    this.restarts += 1;
    return true;
  }

  /** Whether the emulator process `pid` is still the one running. */
  stillRunning(pid: number | null): boolean {
    return this.cameras.kind !== 'emulator' || (pid !== null && findEmulatorPid(this.cameras) === pid);
  }
}

interface Window {
  startMs: number;
  endMs: number;
  machineBusyPct: number;
  machineStealPct: number;
}

/**
 * Samples the meters at the window's start, every second, and at its end, `seconds` later by the
 * monotonic clock (a wall-clock step must not stretch the window).
 */
async function measureWindow(seconds: number, meters: TreeMeter[]): Promise<Window> {
  const sampleAll = () => {
    const all = scanProcesses();
    for (const meter of meters) meter.sample(all);
  };
  const machineStart = machineTicks();
  const monoStart = performance.now();
  const startMs = Date.now();
  sampleAll();
  for (let k = 1; k <= seconds; k += 1) {
    await sleep(monoStart + k * 1000 - performance.now());
    sampleAll();
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
  };
}

function cameraUrl(cameras: TestCameras, k: number): string {
  return cameras.urls(k).main;
}

function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

// ---------------------------------------------------------------------------------------------
// Vigil

interface StreamStatusView {
  state: string;
  fps: number | null;
  reconnectCount: number;
  lastError: { message: string } | null;
}

interface RecorderStatusView {
  droppedFragmentCount: number;
  lastError: { message: string } | null;
}

interface CameraListBody {
  cameras: Array<{
    id: string;
    streams: { main?: { status: StreamStatusView; recording: RecorderStatusView } };
  }>;
}

interface CameraStatusBody {
  streams: { main?: StreamStatusView };
}

interface RecordingsBody {
  recordings: Array<{ durationMs: number }>;
  gaps: Array<{ durationMs: number }>;
  segmentCount: number;
}

/** The administrator each benchmarked Vigil gets, made with the CLI before it starts. */
const BENCH_ADMIN = { name: 'bench', password: 'orchid tundra meter 51' };

async function getJson<T>(url: string): Promise<T> {
  const res = await apiFetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

function vigilYaml(n: number, cameras: TestCameras, dataDir: string, native: boolean): string {
  const lines = ['storage:', `  path: ${JSON.stringify(dataDir)}`, '  minFreeBytes: 1GB', 'cameras:'];
  for (let k = 1; k <= n; k += 1) {
    lines.push(
      `  - id: cam${k}`,
      '    streams:',
      '      main:',
      `        url: ${JSON.stringify(cameraUrl(cameras, k))}`,
      // Explicit both ways: the default (auto) is native for these cameras.
      `        ingest: ${native ? 'native' : 'ffmpeg'}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

interface LogLine {
  level?: number;
  time?: number;
  msg?: string;
  camera?: string;
  reason?: string;
}

async function startVigilProcess(
  configPath: string,
  command: VigilCommand,
  nodeArgs: string[],
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
    [...nodeArgs, ...command.args, 'start', '--config', configPath, '--listen', `127.0.0.1:${port}`],
    {
      // TERM: if the benchmark dies, Vigil still closes its segments and stops its ffmpegs.
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
            // A line that merely starts with '{' is not a log record; it is kept in output.
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
      timer = setTimeout(() => done(null), 60_000);
    }),
  ]);
  clearTimeout(timer);
  if (outcome === null) {
    await stopChild(child);
    throw new Error(`Vigil did not start:\n${output}\n${child.stderrTail()}`);
  }
  return { child, url: outcome, output: () => `${output}\n${child.stderrTail()}` };
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

function onlineTimeoutMs(n: number): number {
  return 30_000 + n * 1000;
}

async function runVigil(
  n: number,
  seconds: number,
  emulator: Emulator,
  command: VigilCommand,
  ticksPerSecond: number,
  nodeArgs: string[],
  system: 'vigil' | 'vigil-native' = 'vigil',
): Promise<Omit<SystemResult, 'position'>> {
  const dir = tempDir('vigil-bench-');
  const configPath = join(dir, 'vigil.yaml');
  writeFileSync(configPath, vigilYaml(n, emulator.cameras, join(dir, 'data'), system === 'vigil-native'));
  const warnings: LogLine[] = [];
  let inWindow = false;
  // Every API route needs sign-in: an administrator and a token first, as a user would make them.
  const token = await createAdminWithCli(configPath, {
    cli: command.args,
    user: BENCH_ADMIN,
    label: 'bench',
  });
  const vigil = await startVigilProcess(configPath, command, nodeArgs, (line) => {
    if (inWindow && (line.level ?? 0) >= 40) warnings.push(line);
  });
  useToken(vigil.url, token);
  try {
    const ids = Array.from({ length: n }, (_, i) => `cam${i + 1}`);
    const online = new Set<string>();
    await pollUntil(
      async () => {
        await emulator.revive();
        await Promise.all(
          ids
            .filter((id) => !online.has(id))
            .map(async (id) => {
              const body = await getJson<CameraStatusBody>(`${vigil.url}/api/cameras/${id}/status`);
              if (body.streams.main?.state === 'online') online.add(id);
            }),
        );
        return online.size === n;
      },
      onlineTimeoutMs(n),
      500,
    );
    const emuPid = emulator.currentPid;
    await sleep(SETTLE_MS);

    const meter = new TreeMeter(() => [vigil.child.pid], ticksPerSecond);
    const emuMeter = new TreeMeter(() => (emuPid === null ? [] : [emuPid]), ticksPerSecond, false);

    // fps, states and API latency while recording: the fps in status covers the last 10 s only.
    const fps = new Map<string, number[]>();
    const offlineSeen = new Set<string>();
    const apiLatencyMs: number[] = [];
    let first: CameraListBody | null = null;
    let last: CameraListBody | null = null;
    let polling = true;
    const poll = async (inside: boolean) => {
      const t0 = performance.now();
      const body = await getJson<CameraListBody>(`${vigil.url}/api/cameras`);
      if (inside) apiLatencyMs.push(performance.now() - t0);
      first ??= body;
      last = body;
      for (const camera of body.cameras) {
        const status = camera.streams.main?.status;
        if (!status) continue;
        if (status.state !== 'online') offlineSeen.add(camera.id);
        if (status.fps !== null) fps.set(camera.id, [...(fps.get(camera.id) ?? []), status.fps]);
      }
    };
    // Counters at the window's start, to subtract from those at its end.
    await poll(false);
    const poller = (async () => {
      await sleep(STATUS_POLL_MS / 2);
      while (polling) {
        await poll(true).catch(() => undefined);
        await sleep(STATUS_POLL_MS);
      }
    })();

    inWindow = true;
    const window = await measureWindow(seconds, [meter, emuMeter]);
    inWindow = false;
    const valid = emulator.stillRunning(emuPid);
    polling = false;
    await poller;
    await sleep(TAIL_MS);
    await poll(false).catch(() => undefined);

    const windowMs = window.endMs - window.startMs;
    const outcomes: CameraOutcome[] = [];
    for (const id of ids) {
      const rec = await getJson<RecordingsBody>(
        `${vigil.url}/api/cameras/${id}/recordings?from=${window.startMs}&to=${window.endMs}`,
      );
      const recordedMs = rec.recordings.reduce((sum, r) => sum + r.durationMs, 0);
      const gapCount = rec.gaps.filter((g) => g.durationMs > 0).length;
      const samples = fps.get(id) ?? [];
      outcomes.push({
        id,
        recordedMs,
        expectedMs: windowMs,
        gapCount,
        fpsMin: samples.length > 0 ? Math.min(...samples) : null,
        fpsMax: samples.length > 0 ? Math.max(...samples) : null,
        lost: gapCount > 0 || recordedMs < windowMs - LOSS_TOLERANCE_MS || offlineSeen.has(id),
      });
    }

    const details: string[] = [];
    details.push(
      `GET /api/cameras latency during window: median ${median(apiLatencyMs).toFixed(1)} ms, ` +
        `max ${Math.max(...apiLatencyMs).toFixed(1)} ms (${apiLatencyMs.length} polls)`,
    );
    const reconnects = (body: CameraListBody | null) =>
      body?.cameras.reduce((sum, c) => sum + (c.streams.main?.status.reconnectCount ?? 0), 0) ?? 0;
    const dropped = (body: CameraListBody | null) =>
      body?.cameras.reduce((sum, c) => sum + (c.streams.main?.recording.droppedFragmentCount ?? 0), 0) ?? 0;
    details.push(
      `reconnects during window: ${reconnects(last) - reconnects(first)}; ` +
        `fragments dropped by recorders: ${dropped(last) - dropped(first)}; ` +
        `cameras seen not online: ${offlineSeen.size}`,
    );
    if (warnings.length > 0) {
      const counts = new Map<string, number>();
      for (const w of warnings) {
        const key = `${w.msg ?? '?'}${w.reason ? `: ${w.reason}` : ''}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      details.push(
        `warnings/errors logged in window: ${[...counts].map(([msg, count]) => `${count}× ${msg}`).join('; ')}`,
      );
    }
    return {
      system,
      n,
      windowMs,
      usage: meter.result(),
      cameras: outcomes,
      emulatorCpuSeconds: emuPid === null ? null : emuMeter.result().cpuSeconds,
      machineBusyPct: window.machineBusyPct,
      machineStealPct: window.machineStealPct,
      onlineAtStart: online.size,
      emulatorRestarts: emulator.restarts,
      valid,
      details,
    };
  } finally {
    // Generous grace: with many cameras, closing means an fdatasync per open segment.
    await stopChild(vigil.child, 15_000);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Baseline: one plain ffmpeg per camera

function baselineArgs(url: string, dir: string, k: number): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-rtsp_transport',
    'tcp',
    '-i',
    url,
    '-map',
    '0:v:0',
    '-c',
    'copy',
    '-f',
    'segment',
    '-segment_time',
    '60',
    '-segment_format',
    'mp4',
    '-segment_format_options',
    'movflags=+frag_keyframe+empty_moov+default_base_moof',
    '-reset_timestamps',
    '1',
    join(dir, `cam${k}-%03d.mp4`),
  ];
}

interface ProbeResult {
  durationS: number;
  packets: number;
}

async function probe(ffprobe: string, file: string): Promise<ProbeResult> {
  const { stdout } = await execFileAsync(
    ffprobe,
    [
      '-v',
      'error',
      '-count_packets',
      '-select_streams',
      'v:0',
      '-show_entries',
      'format=duration:stream=nb_read_packets',
      '-of',
      'json',
      file,
    ],
    { timeout: 60_000 },
  );
  const body = JSON.parse(stdout) as {
    format?: { duration?: string };
    streams?: Array<{ nb_read_packets?: string }>;
  };
  return {
    durationS: Number(body.format?.duration ?? 0) || 0,
    packets: Number(body.streams?.[0]?.nb_read_packets ?? 0) || 0,
  };
}

async function runBaseline(
  n: number,
  seconds: number,
  emulator: Emulator,
  ffmpeg: FfmpegBinary,
  ffprobe: string,
  ticksPerSecond: number,
): Promise<Omit<SystemResult, 'position'>> {
  const dir = tempDir('vigil-bench-baseline-');
  const children: TrackedChild[] = [];
  const spawnCamera = (k: number) =>
    spawnTracked(ffmpeg.path, baselineArgs(cameraUrl(emulator.cameras, k), dir, k), { deathSignal: 'TERM' });
  try {
    for (let k = 1; k <= n; k += 1) children.push(spawnCamera(k));
    // Online = its first file has data: ffmpeg writes the header once it has probed the stream.
    const onlineAtMs = new Map<number, number>();
    await pollUntil(
      async () => {
        await emulator.revive();
        for (let k = 1; k <= n; k += 1) {
          const child = children[k - 1] as TrackedChild;
          if (child.process.exitCode !== null || child.process.signalCode !== null) {
            // Its camera went away while connecting (an emulator crash): start it again, afresh.
            for (const f of readdirSync(dir)) if (f.startsWith(`cam${k}-`)) rmSync(join(dir, f));
            onlineAtMs.delete(k);
            children[k - 1] = spawnCamera(k);
            continue;
          }
          if (onlineAtMs.has(k)) continue;
          const file = join(dir, `cam${k}-000.mp4`);
          if (existsSync(file) && statSync(file).size > 0) onlineAtMs.set(k, Date.now());
        }
        return onlineAtMs.size === n;
      },
      onlineTimeoutMs(n),
      200,
    );
    const emuPid = emulator.currentPid;
    await sleep(SETTLE_MS);

    const pids = children.map((c) => c.pid);
    const meter = new TreeMeter(() => pids, ticksPerSecond);
    const emuMeter = new TreeMeter(() => (emuPid === null ? [] : [emuPid]), ticksPerSecond, false);
    const window = await measureWindow(seconds, [meter, emuMeter]);
    const valid = emulator.stillRunning(emuPid);
    const diedEarly = children
      .map((c, i) => ({ k: i + 1, c }))
      .filter(({ c }) => c.process.exitCode !== null || c.process.signalCode !== null);
    const stopAtMs = Date.now();
    // SIGTERM: ffmpeg ends its files cleanly, as at a planned stop.
    await Promise.all(children.map((c) => stopChild(c, 10_000)));

    const files = readdirSync(dir);
    const outcomes: CameraOutcome[] = [];
    for (let k = 1; k <= n; k += 1) {
      const mine = files.filter((f) => f.startsWith(`cam${k}-`) && f.endsWith('.mp4')).sort();
      let durationS = 0;
      let packets = 0;
      for (const f of mine) {
        const r = await probe(ffprobe, join(dir, f));
        durationS += r.durationS;
        packets += r.packets;
      }
      const started = onlineAtMs.get(k);
      // Its whole run, from its first file to the stop: that contains the window.
      const expectedMs = started === undefined ? stopAtMs - window.startMs : stopAtMs - started;
      const recordedMs = Math.round(durationS * 1000);
      const died = diedEarly.some((d) => d.k === k);
      const fpsValue = durationS > 0 ? Math.round((packets / durationS) * 10) / 10 : null;
      outcomes.push({
        id: `cam${k}`,
        recordedMs,
        expectedMs,
        gapCount: died ? 1 : 0,
        fpsMin: fpsValue,
        fpsMax: fpsValue,
        lost: died || recordedMs < expectedMs - LOSS_TOLERANCE_MS,
      });
    }
    const details: string[] = [];
    if (diedEarly.length > 0) {
      details.push(
        `ffmpeg exited during the window for ${diedEarly.map((d) => `cam${d.k}`).join(', ')}: ` +
          (diedEarly[0]?.c.stderrTail().trim().split('\n').at(-1) ?? ''),
      );
    }
    return {
      system: 'baseline',
      n,
      windowMs: window.endMs - window.startMs,
      usage: meter.result(),
      cameras: outcomes,
      emulatorCpuSeconds: emuPid === null ? null : emuMeter.result().cpuSeconds,
      machineBusyPct: window.machineBusyPct,
      machineStealPct: window.machineStealPct,
      onlineAtStart: onlineAtMs.size,
      emulatorRestarts: emulator.restarts,
      valid,
      details,
    };
  } finally {
    await Promise.all(children.map((c) => stopChild(c, 10_000)));
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function cpuPerCameraMinute(r: SystemResult): number {
  return r.usage.cpuSeconds / (r.n * (r.windowMs / 60_000));
}

function rssPerCameraMiB(r: SystemResult): number {
  return r.usage.rssMedianBytes / r.n / MiB;
}

function pssPerCameraMiB(r: SystemResult): number {
  return r.usage.pssMedianBytes / r.n / MiB;
}

function missingSeconds(r: SystemResult): number {
  return r.cameras.reduce((sum, c) => sum + Math.max(0, c.expectedMs - c.recordedMs), 0) / 1000;
}

/** Columns before `leftColumns` are left-aligned text; the rest are right-aligned numbers. */
function formatTable(rows: string[][], leftColumns: number): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i < leftColumns ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function fpsRange(cameras: CameraOutcome[]): string {
  const mins = cameras.map((c) => c.fpsMin).filter((v): v is number => v !== null);
  const maxs = cameras.map((c) => c.fpsMax).filter((v): v is number => v !== null);
  if (mins.length === 0) return 'no fps seen';
  return `fps ${Math.min(...mins).toFixed(1)}–${Math.max(...maxs).toFixed(1)}`;
}

function describe(r: SystemResult): string[] {
  const u = r.usage;
  const byComm = Object.entries(u.cpuSecondsByComm)
    .sort((a, b) => b[1] - a[1])
    .map(([comm, s]) => `${comm} ${s.toFixed(2)} s`)
    .join(', ');
  const rssByComm = Object.entries(u.rssMedianBytesByComm)
    .sort((a, b) => b[1] - a[1])
    .map(([comm, b]) => `${comm} ${(b / MiB).toFixed(1)}`)
    .join(', ');
  const lost = r.cameras.filter((c) => c.lost);
  const lines = [
    `N=${r.n} ${r.system} (ran ${['first', 'second', 'third'][r.position - 1] ?? r.position}): window ${(r.windowMs / 1000).toFixed(2)} s, ` +
      `${r.onlineAtStart}/${r.n} cameras online at its start`,
    `  CPU ${u.cpuSeconds.toFixed(2)} s = ${((100 * u.cpuSeconds) / (r.windowMs / 1000)).toFixed(1)}% of one core ` +
      `(${byComm}); ${u.processCount} processes, ${u.exitedCount} exited in the window`,
    `  RSS median ${(u.rssMedianBytes / MiB).toFixed(1)} MiB (${rssByComm}), max ${(u.rssMaxBytes / MiB).toFixed(1)} MiB; ` +
      `PSS median ${(u.pssMedianBytes / MiB).toFixed(1)} MiB`,
    `  machine busy ${r.machineBusyPct.toFixed(0)}% of all cores (steal ${r.machineStealPct.toFixed(0)}%); emulator ` +
      (r.emulatorCpuSeconds === null
        ? 'not measured'
        : `${((100 * r.emulatorCpuSeconds) / (r.windowMs / 1000)).toFixed(1)}% of one core (not counted)`) +
      (r.emulatorRestarts > 0 ? `, relaunched ${r.emulatorRestarts}× while the cameras connected` : '') +
      (r.valid ? '' : '; THE EMULATOR CRASHED DURING THE WINDOW: this run says nothing'),
    `  ${fpsRange(r.cameras)}${r.system === 'baseline' ? ' (packets / duration of the files)' : ' (status polls)'}; ` +
      `cameras losing video: ${lost.length > 0 ? lost.map((c) => `${c.id} −${((c.expectedMs - c.recordedMs) / 1000).toFixed(1)} s/${c.gapCount} gaps`).join(', ') : 'none'}`,
    ...r.details.map((d) => `  ${d}`),
  ];
  return lines;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  process.chdir(REPO_ROOT);
  const ffmpeg = await locateFfmpeg();
  const ffprobe = ffmpeg.path.includes('/') ? join(ffmpeg.path, '..', 'ffprobe') : 'ffprobe';
  try {
    execFileSync(ffprobe, ['-version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      `no ffprobe at '${ffprobe}': the baseline's files are measured with it (apt-get install ffmpeg)`,
    );
  }
  const ticksPerSecond = clockTicksPerSecond();
  const command = vigilCommand(options.vigilMode);
  const machine = machineInfo(ffmpeg.path);

  console.log(`Vigil recording benchmark, ${new Date().toISOString()}`);
  console.log(formatMachine(machine));
  console.log(`ffmpeg for both systems: ${ffmpeg.path} (${ffmpeg.origin}); CLK_TCK ${ticksPerSecond}`);
  console.log(`Vigil ${sourceRevision()} runs from ${command.what}`);
  if (options.vigilNodeArgs.length > 0) {
    console.log(`Vigil's node runs with ${options.vigilNodeArgs.join(' ')} (not a default run)`);
  }
  const orderText = options.cameraCounts
    .map((n, i) => `N=${n} ${i % 2 === 0 ? 'baseline then Vigil' : 'Vigil then baseline'}`)
    .join('; ');
  console.log(
    `cameras ${options.cameraCounts.join(',')}, window ${options.seconds} s after all online + ${SETTLE_MS / 1000} s; ` +
      `order alternates: ${orderText}`,
  );
  console.log('');

  const results: SystemResult[] = [];
  try {
    await runAll(options, results, { command, ffmpeg, ffprobe, ticksPerSecond });
  } finally {
    if (command.buildDir) {
      // The link first, so no recursive delete can ever walk into the project's node_modules.
      unlinkSync(join(command.buildDir, 'node_modules'));
      rmSync(command.buildDir, { recursive: true, force: true });
    }
  }
  printSummary(options, results);
}

interface RunContext {
  command: VigilCommand;
  ffmpeg: FfmpegBinary;
  ffprobe: string;
  ticksPerSecond: number;
}

async function runAll(options: Options, results: SystemResult[], ctx: RunContext): Promise<void> {
  const { command, ffmpeg, ffprobe, ticksPerSecond } = ctx;
  for (const [i, n] of options.cameraCounts.entries()) {
    const vigils: System[] =
      options.ingest === 'both'
        ? ['vigil', 'vigil-native']
        : [options.ingest === 'native' ? 'vigil-native' : 'vigil'];
    const systems: System[] = ['baseline', ...vigils];
    const order = i % 2 === 0 ? systems : [...systems].reverse();
    for (const [j, system] of order.entries()) {
      for (let attempt = 1; ; attempt += 1) {
        // A fresh emulator for each run, so both systems meet the same, unused cameras.
        const emulator = new Emulator(await startCameras({ count: n }));
        let result: Omit<SystemResult, 'position'>;
        try {
          process.stdout.write(`running N=${n} ${system} on ${emulator.cameras.kind} cameras… `);
          result =
            system !== 'baseline'
              ? await runVigil(
                  n,
                  options.seconds,
                  emulator,
                  command,
                  ticksPerSecond,
                  options.vigilNodeArgs,
                  system,
                )
              : await runBaseline(n, options.seconds, emulator, ffmpeg, ffprobe, ticksPerSecond);
        } finally {
          await emulator.cameras.stop();
        }
        if (!result.valid && attempt < MAX_ATTEMPTS) {
          console.log(`the camera emulator crashed during the window: running N=${n} ${system} again`);
          continue;
        }
        const full: SystemResult = { ...result, position: j + 1 };
        results.push(full);
        console.log('done');
        for (const line of describe(full)) console.log(line);
        break;
      }
    }
  }
}

function printSummary(options: Options, results: SystemResult[]): void {
  console.log('');
  const header = [
    'N',
    'system',
    'ran',
    'CPU s/cam-min',
    'RSS MiB/cam (median)',
    'PSS MiB/cam (median)',
    'missing video s (total)',
    'cameras with gaps',
  ];
  const rows = results.map((r) => [
    String(r.n),
    r.valid ? r.system : `${r.system} (emulator crashed)`,
    ['1st', '2nd', '3rd'][r.position - 1] ?? String(r.position),
    cpuPerCameraMinute(r).toFixed(3),
    rssPerCameraMiB(r).toFixed(1),
    pssPerCameraMiB(r).toFixed(1),
    missingSeconds(r).toFixed(1),
    `${r.cameras.filter((c) => c.lost).length}/${r.n}`,
  ]);
  console.log(formatTable([header, ...rows], 3));
  console.log('');
  const ratioRows = [['N', 'ratio', 'CPU', 'RSS', 'PSS']];
  const pairs: Array<[label: string, System, System]> = [
    ['Vigil (ffmpeg ingest)/baseline', 'vigil', 'baseline'],
    ['Vigil (native ingest)/baseline', 'vigil-native', 'baseline'],
    ['native/ffmpeg ingest', 'vigil-native', 'vigil'],
  ];
  for (const n of options.cameraCounts) {
    for (const [label, top, bottom] of pairs) {
      const a = results.find((r) => r.n === n && r.system === top);
      const b = results.find((r) => r.n === n && r.system === bottom);
      if (!a || !b) continue;
      const ratio = (f: (r: SystemResult) => number) => `${(f(a) / f(b)).toFixed(2)}×`;
      ratioRows.push([
        String(n),
        label,
        ratio(cpuPerCameraMinute),
        ratio(rssPerCameraMiB),
        ratio(pssPerCameraMiB),
      ]);
    }
  }
  console.log(formatTable(ratioRows, 2));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
