/**
 * Live-view latency benchmark: glass-to-glass latency of Vigil's live view in Chromium (its real
 * UI page, WebSocket + MSE), next to plain HLS of the same stream played by hls.js. See README.md
 * in this folder for what is measured and how far to trust it.
 *
 *   npx tsx bench/live-latency/run.ts [--duration 60] [--warmup 5] [--fps 15] [--gop 2] [--rounds 3]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { locateFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { CHROMIUM_PATH, launchChromium } from '../../test/helpers/browser.js';
import { startMiniRtspServer, type MiniRtspServer } from '../../test/helpers/mini-rtsp-server.js';
import { apiFetch, startTestVigil, tempDir, useToken } from '../../test/helpers/vigil.js';
import { formatMachine, machineInfo } from '../lib/machine.js';
import { machineTicks } from '../lib/proc.js';
import { startHlsBaseline, type HlsBaseline } from './hls.js';
import { PAGE_GLOBAL, samplerScript, type PageChunk, type PageHarvest, type PageSample } from './page.js';
import { startLiveSource, startReferenceReader, type LiveSource, type ReferenceReader } from './source.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CAMERA_ID = 'latency';
/** hls.js needs a few segments in the playlist before it starts; Vigil shows a frame within ~3 s. */
const FIRST_FRAME_TIMEOUT_MS = 60_000;
const POLL_MS = 500;
const LOOP_TIMER_MS = 10;
/** Samples are stamped with their display time, which lags the poll that collects them a little. */
const COLLECT_TAIL_MS = 1500;
/** Vigil's administrator: the page signs in with it, the status polls use its token. */
const BENCH_ADMIN = { name: 'bench', password: 'orchid tundra meter 51' };

type PathId = 'vigil' | 'webrtc' | 'hls';

const PATH_LABEL: Record<PathId, string> = {
  vigil: 'Vigil live view (WebSocket + MSE)',
  webrtc: 'Vigil live view over WebRTC (a browser without MSE)',
  hls: 'plain HLS + hls.js defaults',
};

/** The paths that open Vigil's own live page (signed in, the same video element). */
const isVigil = (path: PathId) => path === 'vigil' || path === 'webrtc';

function pathLabel(path: PathId, opts: Options): string {
  return path === 'vigil' && opts.whatIfBehindS !== null
    ? `${PATH_LABEL[path]}, WHAT-IF: seeked to ${opts.whatIfBehindS} s behind the newest frame`
    : PATH_LABEL[path];
}

interface Options {
  durationS: number;
  warmupS: number;
  fps: number;
  gopS: number;
  rounds: number;
  paths: PathId[];
  build: boolean;
  whatIfBehindS: number | null;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '60' },
      warmup: { type: 'string', default: '5' },
      fps: { type: 'string', default: '15' },
      gop: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '3' },
      paths: { type: 'string', default: 'vigil,hls' },
      build: { type: 'boolean', default: false },
      'what-if-behind': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      [
        'npx tsx bench/live-latency/run.ts [options]',
        '  --duration S   measured seconds per path, split over the rounds (default 60)',
        '  --warmup S     seconds after the first frame before measuring, per window (default 5)',
        '  --fps N        frame rate of the synthetic camera (default 15)',
        '  --gop S        keyframe interval of the synthetic camera, s (default 2)',
        '  --rounds N     alternate the paths N times, each window duration/N long (default 3)',
        '  --paths LIST   vigil,webrtc,hls (default vigil,hls)',
        '  --build        rebuild the web UI into dist/web first (default: only when it is missing)',
        "  --what-if-behind S  diagnosis only: 1 s after the first frame, seek Vigil's video to S",
        '                 behind the newest buffered frame (what a player keeping that lag would get)',
      ].join('\n'),
    );
    process.exit(0);
  }
  const number = (name: string, text: string, min: number) => {
    const value = Number(text);
    if (!Number.isFinite(value) || value < min)
      throw new Error(`--${name} must be a number ≥ ${min}, not '${text}'`);
    return value;
  };
  const paths = values.paths.split(',').map((p) => p.trim());
  for (const p of paths)
    if (!(p in PATH_LABEL)) throw new Error(`--paths: unknown path '${p}' (vigil, webrtc or hls)`);
  return {
    durationS: number('duration', values.duration, 5),
    warmupS: number('warmup', values.warmup, 0),
    fps: number('fps', values.fps, 1),
    gopS: number('gop', values.gop, 0.1),
    rounds: Math.round(number('rounds', values.rounds, 1)),
    paths: paths as PathId[],
    build: values.build,
    whatIfBehindS:
      values['what-if-behind'] === undefined ? null : number('what-if-behind', values['what-if-behind'], 0),
  };
}

/** The newest modification time of any file under dir, ms. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.isFile()) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The UI is measured as built. Rebuilding by default would empty dist/web under anyone else
 * using it at the time, so only a missing build is made without being asked.
 */
function ensureWebBuild(force: boolean): void {
  const index = join(REPO_ROOT, 'dist', 'web', 'index.html');
  if (force || !existsSync(index)) {
    console.log('building the web UI into dist/web …');
    execFileSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    });
    return;
  }
  const builtAt = statSync(index).mtimeMs;
  if (newestMtime(join(REPO_ROOT, 'web', 'src')) > builtAt) {
    console.log('note: web/src has changed since dist/web was built; --build measures the current UI');
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The stream as Vigil saw it: that the camera is what the header says, and that it never reconnected. */
async function describeStream(url: string): Promise<string> {
  const response = await apiFetch(`${url}/api/cameras/${CAMERA_ID}/status`);
  const body = (await response.json()) as {
    streams?: {
      main?: {
        codec?: string;
        width?: number;
        height?: number;
        fps?: number;
        bitrateKbps?: number;
        reconnectCount?: number;
      };
    };
  };
  const m = body.streams?.main ?? {};
  return (
    `stream in Vigil: ${m.codec} ${m.width}×${m.height}, ${m.fps} fps, ${m.bitrateKbps} kbit/s, ` +
    `${m.reconnectCount} reconnects`
  );
}

/** Waits until Vigil reports the camera online, so the page's time to first frame is the player's. */
async function waitForOnline(url: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    const response = await apiFetch(`${url}/api/cameras/${CAMERA_ID}/status`).catch(() => null);
    const body = response?.ok
      ? ((await response.json()) as { streams?: { main?: { state?: string } } })
      : null;
    if (body?.streams?.main?.state === 'online') return (Date.now() - started) / 1000;
    if (Date.now() - started > FIRST_FRAME_TIMEOUT_MS)
      throw new Error('the camera did not come online in Vigil');
    await sleep(250);
  }
}

interface MeasuredWindow {
  path: PathId;
  round: number;
  startMs: number;
  endMs: number;
  samples: PageSample[];
  chunks: PageChunk[];
  /** Frames the reference reader decoded while this window ran. */
  reference: Array<{ atMs: number; captureMs: number | null }>;
  notes: string[];
  pageErrors: string[];
  machineBusyPct: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

async function measureWindow(
  browser: Browser,
  path: PathId,
  round: number,
  url: string,
  opts: Options,
  reference: ReferenceReader,
): Promise<MeasuredWindow> {
  const durationMs = (opts.durationS * 1000) / opts.rounds;
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const pageErrors: string[] = [];
  try {
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => pageErrors.push(`exception: ${error.message}`));
    const selector = isVigil(path) ? `video.live-video[data-camera="${CAMERA_ID}"]` : 'video#v';
    await page.addInitScript({ content: samplerScript(selector, path === 'vigil') });
    if (path === 'webrtc') {
      // No Media Source Extensions, as on iPhone Safari: the live view falls back to WebRTC.
      await page.addInitScript({ content: 'delete window.MediaSource; delete window.ManagedMediaSource;' });
    }
    if (isVigil(path)) {
      // Signed in as a person would be: the session cookie lands in this context's cookie jar,
      // so the UI opens signed in and its live WebSocket carries the cookie.
      const signIn = await context.request.post(`${new URL(url).origin}/api/session`, {
        data: { name: BENCH_ADMIN.name, password: BENCH_ADMIN.password },
      });
      if (!signIn.ok())
        throw new Error(`signing in to Vigil: HTTP ${signIn.status()} ${await signIn.text()}`);
    }
    await page.goto(url);
    const harvest: PageHarvest = { samples: [], chunks: [], notes: [] };
    const collect = async () => {
      const got = (await page.evaluate(`window.${PAGE_GLOBAL}.take()`)) as PageHarvest;
      harvest.samples.push(...got.samples);
      harvest.chunks.push(...got.chunks);
      harvest.notes.push(...got.notes);
    };
    const openedAt = Date.now();
    while (!harvest.samples.some((s) => s.captureMs !== null)) {
      if (Date.now() - openedAt > FIRST_FRAME_TIMEOUT_MS) {
        throw new Error(
          `${PATH_LABEL[path]}: no readable frame within ${FIRST_FRAME_TIMEOUT_MS / 1000} s` +
            ` (${harvest.samples.length} frames seen; page errors: ${pageErrors.join('; ') || 'none'})`,
        );
      }
      await sleep(POLL_MS);
      await collect();
    }
    const firstFrameAt = Date.now();
    const firstFrameS = (firstFrameAt - openedAt) / 1000;
    if (path === 'vigil' && opts.whatIfBehindS !== null) {
      // A what-if, not Vigil as shipped: where a player that kept this target lag would sit.
      await sleep(1000);
      await page.evaluate(
        `(() => { const v = document.querySelector(${JSON.stringify(selector)}); const b = v.buffered;` +
          ` if (b.length > 0) v.currentTime = b.end(b.length - 1) - ${opts.whatIfBehindS}; })()`,
      );
    }
    await sleep(Math.max(0, firstFrameAt + opts.warmupS * 1000 - Date.now()));
    await collect();
    const warmup = stats(
      harvest.samples.flatMap((s) => (s.captureMs === null ? [] : [s.displayMs - s.captureMs])),
    );
    reference.take();
    const loop = monitorEventLoopDelay({ resolution: LOOP_TIMER_MS });
    loop.enable();
    const ticksBefore = machineTicks();
    const startMs = Date.now();
    const endMs = startMs + durationMs;
    const referenceFrames: MeasuredWindow['reference'] = [];
    while (Date.now() < endMs) {
      await sleep(Math.min(POLL_MS, endMs - Date.now()));
      await collect();
      referenceFrames.push(...reference.take());
    }
    const ticksAfter = machineTicks();
    loop.disable();
    await sleep(COLLECT_TAIL_MS);
    await collect();
    const inWindow = harvest.samples.filter((s) => s.displayMs >= startMs && s.displayMs < endMs);
    const busy = ticksAfter.busy - ticksBefore.busy;
    const total = ticksAfter.total - ticksBefore.total;
    return {
      path,
      round,
      startMs,
      endMs,
      samples: inWindow,
      chunks: harvest.chunks,
      reference: referenceFrames.filter((f) => f.atMs >= startMs && f.atMs < endMs),
      notes: [
        `first readable frame ${firstFrameS.toFixed(1)} s after opening the page`,
        `latency in the warm-up before the window: p50 ${ms(warmup.p50)} ms, max ${ms(warmup.max)} ms`,
        `display time ${ms(stats(inWindow.map((x) => x.leadMs)).p50)} ms after the sampler read the frame (p50)`,
        ...harvest.notes,
      ],
      pageErrors,
      machineBusyPct: total > 0 ? (100 * busy) / total : Number.NaN,
      // The histogram holds whole timer intervals; the lag is what exceeds the interval.
      loopDelayP99Ms: Math.max(0, loop.percentile(99) / 1e6 - LOOP_TIMER_MS),
      loopDelayMaxMs: Math.max(0, loop.max / 1e6 - LOOP_TIMER_MS),
    };
  } finally {
    await context.close();
  }
}

interface Stats {
  n: number;
  min: number;
  p50: number;
  p95: number;
  max: number;
}

/** Nearest-rank percentiles: every reported value is one that was measured. */
function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: rank(50),
    p95: rank(95),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

interface Breakdown {
  /** Capture to arrival in the page of the fragment/segment holding the frame. */
  upstream: number[];
  /** Arrival in the page to display. */
  inPage: number[];
  unmatched: number;
}

/**
 * Splits each frame's latency at the arrival of the chunk that carried it: the chunk with the
 * latest start at or before the frame's media time. Chunk times restart with a new MediaSource
 * (a reconnect), so only chunks of the same window count, and a match further away than a
 * keyframe interval plus a margin is taken as no match.
 */
function breakdown(measured: MeasuredWindow, gopS: number): Breakdown {
  const chunks = [...measured.chunks].sort((a, b) => a.startS - b.startS);
  const out: Breakdown = { upstream: [], inPage: [], unmatched: 0 };
  for (const sample of measured.samples) {
    if (sample.captureMs === null) continue;
    let lo = 0;
    let hi = chunks.length - 1;
    let found: PageChunk | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const chunk = chunks[mid] as PageChunk;
      if (chunk.startS <= sample.mediaTime + 0.001) {
        found = chunk;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (!found || sample.mediaTime - found.startS > gopS + 1) {
      out.unmatched += 1;
      continue;
    }
    out.upstream.push(found.arrivalMs - sample.captureMs);
    out.inPage.push(sample.displayMs - found.arrivalMs);
  }
  return out;
}

const ms = (value: number) => (Number.isFinite(value) ? String(Math.round(value)) : '—');

function statsRow(label: string, s: Stats, extra: string[]): string {
  return `| ${label} | ${s.n} | ${extra.join(' | ')} | ${ms(s.min)} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.max)} |`;
}

function report(windows: MeasuredWindow[], opts: Options): string {
  const lines: string[] = [];
  const byPath = (path: PathId) => windows.filter((w) => w.path === path);
  const latencies = (ws: MeasuredWindow[]) =>
    ws.flatMap((w) => w.samples.flatMap((s) => (s.captureMs === null ? [] : [s.displayMs - s.captureMs])));
  lines.push('Glass-to-glass latency, ms (frame made → frame expected on screen in headless Chromium):');
  lines.push('');
  lines.push('| path | n | unreadable | frames shown | min | p50 | p95 | max |');
  lines.push('|---|---|---|---|---|---|---|---|');
  const medians: Partial<Record<PathId, number>> = {};
  for (const path of opts.paths) {
    const ws = byPath(path);
    const s = stats(latencies(ws));
    medians[path] = s.p50;
    const failed = ws.reduce((sum, w) => sum + w.samples.filter((x) => x.captureMs === null).length, 0);
    const expected = ws.reduce((sum, w) => sum + ((w.endMs - w.startMs) / 1000) * opts.fps, 0);
    const shown = ws.reduce((sum, w) => sum + w.samples.length, 0);
    lines.push(
      statsRow(pathLabel(path, opts), s, [String(failed), `${((100 * shown) / expected).toFixed(1)} %`]),
    );
  }
  const refs = windows.flatMap((w) => w.reference);
  const refLatency = refs.flatMap((f) => (f.captureMs === null ? [] : [f.atMs - f.captureMs]));
  const refFailed = refs.filter((f) => f.captureMs === null).length;
  const refExpected = windows.reduce((sum, w) => sum + ((w.endMs - w.startMs) / 1000) * opts.fps, 0);
  lines.push(
    statsRow('reference: ffmpeg decoding the RTSP stream (no player)', stats(refLatency), [
      String(refFailed),
      `${((100 * refs.length) / refExpected).toFixed(1)} %`,
    ]),
  );
  lines.push('');
  if (medians.vigil !== undefined && medians.hls !== undefined) {
    lines.push(`ratio of medians, HLS / Vigil: ${(medians.hls / medians.vigil).toFixed(1)}×`);
  }
  if (medians.webrtc !== undefined && medians.hls !== undefined) {
    lines.push(`ratio of medians, HLS / Vigil over WebRTC: ${(medians.hls / medians.webrtc).toFixed(1)}×`);
  }
  if (medians.hls !== undefined && (medians.vigil !== undefined || medians.webrtc !== undefined))
    lines.push('');
  lines.push(
    'Where the time goes, ms (split at the arrival in the page of the fragment or segment holding the frame):',
  );
  lines.push('');
  lines.push(
    '| path | capture → arrival p50 | p95 | arrival → display p50 | p95 | unmatched | buffered ahead p50, s | p95 | playbackRate ≠ 1 |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|');
  // WebRTC frames arrive as RTP inside the browser's media stack: the page sees no fragments.
  for (const path of opts.paths.filter((p) => p !== 'webrtc')) {
    const ws = byPath(path);
    const parts = ws.map((w) => breakdown(w, opts.gopS));
    const up = stats(parts.flatMap((p) => p.upstream));
    const inPage = stats(parts.flatMap((p) => p.inPage));
    const unmatched = parts.reduce((sum, p) => sum + p.unmatched, 0);
    const samples = ws.flatMap((w) => w.samples);
    const ahead = stats(samples.flatMap((s) => (s.aheadS === null ? [] : [s.aheadS * 1000])));
    const fast = samples.filter((s) => s.playbackRate !== 1).length;
    lines.push(
      `| ${pathLabel(path, opts)} | ${ms(up.p50)} | ${ms(up.p95)} | ${ms(inPage.p50)} | ${ms(inPage.p95)} | ${unmatched} | ` +
        `${(ahead.p50 / 1000).toFixed(2)} | ${(ahead.p95 / 1000).toFixed(2)} | ` +
        `${samples.length > 0 ? ((100 * fast) / samples.length).toFixed(0) : '—'} % |`,
    );
  }
  lines.push('');
  lines.push('Windows:');
  for (const w of windows) {
    const s = stats(w.samples.flatMap((x) => (x.captureMs === null ? [] : [x.displayMs - x.captureMs])));
    lines.push(
      `- ${w.path} round ${w.round}: ${new Date(w.startMs).toISOString()}, ${((w.endMs - w.startMs) / 1000).toFixed(0)} s, ` +
        `p50 ${ms(s.p50)} ms, p95 ${ms(s.p95)} ms; machine busy ${w.machineBusyPct.toFixed(0)} %, event loop lag of the bench process ` +
        `p99 ${w.loopDelayP99Ms.toFixed(1)} ms / max ${w.loopDelayMaxMs.toFixed(1)} ms; ${w.notes.join('; ')}` +
        (w.pageErrors.length > 0 ? `; page errors: ${w.pageErrors.slice(0, 5).join(' | ')}` : ''),
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const cleanups: Array<() => Promise<void>> = [];
  let cleaning: Promise<void> | null = null;
  const cleanup = () => {
    cleaning ??= (async () => {
      for (const step of cleanups.reverse())
        await step().catch((err: unknown) => console.error(`cleanup: ${String(err)}`));
    })();
    return cleaning;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  try {
    ensureWebBuild(opts.build);
    const ffmpeg = await locateFfmpeg();
    console.log(formatMachine(machineInfo(ffmpeg.path)));
    console.log(`chromium: ${execFileSync(CHROMIUM_PATH, ['--version'], { encoding: 'utf8' }).trim()}`);
    console.log(
      `load average at start: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log(
      `source: 640×360 grey timecode frames, ${opts.fps} fps, keyframe every ${opts.gopS} s, x264 ultrafast zerolatency`,
    );
    console.log(
      `windows: ${opts.paths.join(' then ')}, ${opts.rounds} round(s) of ${opts.durationS / opts.rounds} s each ` +
        `after ${opts.warmupS} s of warm-up`,
    );

    const source: LiveSource = await startLiveSource({ fps: opts.fps, gopSeconds: opts.gopS });
    cleanups.push(() => source.stop());
    const rtsp: MiniRtspServer = await startMiniRtspServer({
      count: 1,
      main: source.url,
      sub: source.url,
      ffmpegPath: ffmpeg.path,
      sourceArgs: source.encoderArgs,
    });
    cleanups.push(() => rtsp.stop());
    const rtspUrl = rtsp.urls(1).main;
    const reference = startReferenceReader(ffmpeg.path, ['-rtsp_transport', 'tcp', '-i', rtspUrl]);
    cleanups.push(() => reference.stop());

    const dataDir = tempDir('vigil-bench-live-');
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const vigil = await startTestVigil(
      [
        'storage:',
        `  path: ${JSON.stringify(join(dataDir, 'data'))}`,
        '  minFreeBytes: 1GB',
        'cameras:',
        `  - id: ${CAMERA_ID}`,
        '    name: Latency test',
        '    streams:',
        `      main: { url: ${JSON.stringify(rtspUrl)} }`,
        '',
      ].join('\n'),
      dataDir,
      { users: false },
    );
    cleanups.push(() => vigil.close());
    const admin = await vigil.auth.store.createFirstAdmin(BENCH_ADMIN.name, BENCH_ADMIN.password);
    useToken(vigil.url, (await vigil.auth.store.createToken(admin.id, { label: 'bench' })).token);
    const onlineAfterS = await waitForOnline(vigil.url);
    console.log(`vigil: ${vigil.url}, camera online ${onlineAfterS.toFixed(1)} s after start`);

    let hls: HlsBaseline | null = null;
    if (opts.paths.includes('hls')) {
      const started = await startHlsBaseline({
        ffmpeg: ffmpeg.path,
        rtspUrl,
        hlsJsPath: join(REPO_ROOT, 'node_modules', 'hls.js', 'dist', 'hls.min.js'),
      });
      hls = started;
      cleanups.push(() => started.stop());
    }

    // Our own SIGINT handler stops the browser in order with everything else.
    const browser = await launchChromium({ handleSIGINT: false, handleSIGTERM: false });
    cleanups.push(() => browser.close());

    const windows: MeasuredWindow[] = [];
    for (let round = 1; round <= opts.rounds; round += 1) {
      // Alternating the order spreads any drift in the machine's load over both paths.
      const order = round % 2 === 1 ? opts.paths : [...opts.paths].reverse();
      for (const path of order) {
        const url = isVigil(path) ? `${vigil.url}/#/live/${CAMERA_ID}` : (hls as HlsBaseline).pageUrl;
        console.log(`measuring ${PATH_LABEL[path]}, round ${round} …`);
        hls?.takeNotFound();
        const measured = await measureWindow(browser, path, round, url, opts, reference);
        const missing = hls?.takeNotFound() ?? [];
        if (path === 'hls' && missing.length > 0) measured.notes.push(`HTTP 404 for ${missing.join(', ')}`);
        windows.push(measured);
      }
    }
    console.log(await describeStream(vigil.url));
    console.log(
      `source: ${source.framesMade()} frames made, ${source.framesLate()} of them late by > 1 frame; ` +
        `encoder backlog at most ${Math.round(source.maxBacklogBytes() / 1024)} KiB`,
    );
    console.log(
      `load average at end: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log('');
    console.log(report(windows, opts));
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
