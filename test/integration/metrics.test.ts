import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { footagePaths, type FootagePaths } from '../helpers/footage.js';
import { FFPROBE } from '../helpers/media-tools.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startTestVigil, tempDir, waitFor, type TestVigil } from '../helpers/vigil.js';

const execFileAsync = promisify(execFile);
const PASSWORD = 'a long enough passphrase 7';
/** The address Prometheus scrapes from in this test; 127.0.0.3 is any other machine. */
const LISTED = '127.0.0.2';
const NOT_LISTED = '127.0.0.3';

// A tiny parser of the Prometheus text format (0.0.4), strict: a line it cannot read fails the test.

interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Exposition {
  series: Series[];
  types: Map<string, string>;
  help: Map<string, string>;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/;

function parseNumber(text: string): number {
  // Prometheus reads values with Go's ParseFloat: Inf and NaN in any case (prom-client writes Nan).
  if (/^\+?inf$/i.test(text)) return Infinity;
  if (/^-inf$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  const value = Number(text);
  assert.ok(text !== '' && !Number.isNaN(value), `'${text}' is not a sample value`);
  return value;
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest !== '') {
    const match = LABEL.exec(rest);
    assert.ok(match, `cannot read the labels at '${rest}'`);
    const [whole, name, escaped] = match as unknown as [string, string, string];
    assert.ok(!(name in labels), `label ${name} twice`);
    labels[name] = escaped.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(whole.length);
  }
  return labels;
}

function parseExposition(text: string): Exposition {
  const exposition: Exposition = { series: [], types: new Map(), help: new Map() };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment as unknown as [string, string, string, string];
      const table = kind === 'HELP' ? exposition.help : exposition.types;
      assert.ok(!table.has(name), `${kind} of ${name} twice`);
      table.set(name, rest);
      continue;
    }
    assert.ok(!line.startsWith('#') || /^# /.test(line), `a comment without a space: ${line}`);
    if (line.startsWith('#')) continue;
    const sample = SAMPLE_LINE.exec(line);
    assert.ok(sample, `not a sample line: ${JSON.stringify(line)}`);
    const [, name, labels, value] = sample as unknown as [string, string, string | undefined, string];
    exposition.series.push({ name, labels: parseLabels(labels ?? ''), value: parseNumber(value) });
  }
  return exposition;
}

/** The family a sample belongs to: histograms write name_bucket, name_sum and name_count. */
function familyOf(exposition: Exposition, name: string): string {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return exposition.types.get(base) === 'histogram' ? base : name;
}

/** The value of the one series with these labels (others may exist), undefined when there is none. */
function valueOf(
  exposition: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = exposition.series.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)} names ${found.length} series`);
  return found[0]?.value;
}

function sumOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  return exposition.series
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Bytes of every file under a folder, as the disk has them now. */
async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

async function frameRateOf(path: string): Promise<number> {
  const { stdout } = await execFileAsync(FFPROBE, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=avg_frame_rate',
    '-of',
    'csv=p=0',
    path,
  ]);
  const [num, den] = stdout.trim().split('/').map(Number);
  assert.ok(num && den, `frame rate of ${path}: ${stdout}`);
  return num / den;
}

describe('GET /metrics: Prometheus metrics of a recording Vigil', { timeout: 300_000 }, () => {
  let cameras: TestCameras;
  let footage: FootagePaths;
  let cameraFps: number;
  let vigil: TestVigil;
  let port: number;
  let storageDir: string;
  /** An administrator's token scoped to metrics.view alone: what Prometheus is given. */
  let scrapeToken: string;
  let viewerToken: string;
  /** An administrator's token without the metrics.view scope. */
  let systemToken: string;

  async function scrape(token: string | null = scrapeToken): Promise<{ text: string; durationMs: number }> {
    const startedMs = performance.now();
    const res = await fetch(`${vigil.url}/metrics`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return { text, durationMs: performance.now() - startedMs };
  }

  const metrics = async () => parseExposition((await scrape()).text);

  before(async () => {
    footage = await footagePaths();
    cameraFps = await frameRateOf(footage.main);
    cameras = await startCameras({ count: 1, footage: { main: footage.main, sub: footage.sub } });
    vigil = await startTestVigil(
      `
server: { metricsAllowFrom: ["${LISTED}", "10.9.0.0/16"] }
storage: { path: ./data, minFreeBytes: 1MB }
recording: { segmentDurationMs: 5000 }
cameras:
  - id: cam1
    streams:
      main: { url: "${cameras.urls(1).main}" }
      sub: { url: "${cameras.urls(1).sub}" }
`,
      tempDir(),
    );
    port = Number(new URL(vigil.url).port);
    storageDir = join(vigil.dir, 'data');
    const admin = await vigil.auth.store.findUser('admin');
    assert.ok(admin);
    scrapeToken = (
      await vigil.auth.store.createToken(admin.id, { label: 'prometheus', scopes: ['metrics.view'] })
    ).token;
    systemToken = (await vigil.auth.store.createToken(admin.id, { label: 'system', scopes: ['system.view'] }))
      .token;
    const viewer = await vigil.auth.store.createUser({ name: 'viewer1', role: 'viewer', password: PASSWORD });
    viewerToken = (await vigil.auth.store.createToken(viewer.id, { label: 'viewer' })).token;
    await waitFor(
      'recording on both streams',
      () => vigil.cameras.liveSegment('cam1', 'sub') !== null,
      30_000,
    );
  });

  after(async () => {
    await vigil?.close();
    await cameras?.stop();
  });

  test('the text is well formed: every series has HELP and TYPE, names carry units', async (t: TestContext) => {
    const { text, durationMs } = await scrape();
    const laterMs: number[] = [];
    for (let i = 0; i < 5; i += 1) laterMs.push((await scrape()).durationMs);
    laterMs.sort((a, b) => a - b);
    t.diagnostic(
      `scrapes of one camera (main and sub), ${text.length} bytes: the first ${durationMs.toFixed(1)} ms ` +
        `(sets up Node's process metrics), then a median of ${laterMs[2]?.toFixed(1)} ms`,
    );
    const exposition = parseExposition(text);
    for (const series of exposition.series) {
      const family = familyOf(exposition, series.name);
      assert.ok(exposition.types.has(family), `${series.name} has no TYPE`);
      assert.ok(exposition.help.has(family), `${series.name} has no HELP`);
      if (exposition.types.get(family) === 'counter')
        assert.match(family, /_total$/, 'counters end in _total');
    }
    const ours = [...exposition.types.keys()].filter((name) => name.startsWith('vigil_'));
    for (const name of ours) {
      assert.match(
        name,
        /_(total|bytes|seconds|per_second|depth|viewers|up|info)$/,
        `${name} says its unit (or what it counts)`,
      );
    }
    for (const name of [
      'vigil_stream_up',
      'vigil_stream_frames_per_second',
      'vigil_stream_received_bytes_total',
      'vigil_stream_reconnects_total',
      'vigil_recording_lag_seconds',
      'vigil_recording_written_bytes_total',
      'vigil_recording_dropped_fragments_total',
      'vigil_live_viewers',
      'vigil_storage_used_bytes',
      'vigil_storage_free_bytes',
      'vigil_storage_oldest_recording_age_seconds',
      'vigil_detector_latency_seconds',
      'vigil_analytics_queue_depth',
      'vigil_analytics_frames_analysed_total',
      'vigil_analytics_frames_skipped_total',
      'vigil_events_total',
      'vigil_http_request_duration_seconds',
    ]) {
      assert.ok(exposition.types.has(name), `${name} is exported`);
    }
    assert.equal(valueOf(exposition, 'vigil_build_info'), 1);
    assert.ok((valueOf(exposition, 'process_resident_memory_bytes') ?? 0) > 0, "Node's process metrics");
  });

  test('streams: bytes written grow, the frame rate is the camera’s, nothing lags', async (t: TestContext) => {
    const main = { camera: 'cam1', stream: 'main' };
    const first = await metrics();
    const firstAtMs = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    const second = await metrics();
    const elapsedS = (performance.now() - firstAtMs) / 1000;
    for (const stream of ['main', 'sub']) {
      const labels = { camera: 'cam1', stream };
      assert.equal(valueOf(second, 'vigil_stream_up', labels), 1, `${stream} is online`);
      const written = [first, second].map(
        (m) => valueOf(m, 'vigil_recording_written_bytes_total', labels) ?? 0,
      );
      assert.ok(written[0]! > 0, `${stream}: bytes written`);
      assert.ok(written[1]! > written[0]!, `${stream}: bytes written grow (${written.join(' → ')})`);
      const received = valueOf(second, 'vigil_stream_received_bytes_total', labels) ?? 0;
      assert.ok(received > 0, `${stream}: bytes received`);
      // Everything received is written (plus init segments), less fragments before the first keyframe.
      assert.ok(
        (written[1] ?? 0) <= received * 1.05 + 100_000,
        `${stream}: wrote ${written[1]} of ${received} received`,
      );
    }
    const fps = valueOf(second, 'vigil_stream_frames_per_second', main) ?? 0;
    const frames = [first, second].map((m) => valueOf(m, 'vigil_stream_received_frames_total', main) ?? 0);
    const framesPerSecond = ((frames[1] ?? 0) - (frames[0] ?? 0)) / elapsedS;
    const mainBytes = [first, second].map((m) => valueOf(m, 'vigil_stream_received_bytes_total', main) ?? 0);
    const kbitPerSecond = (((mainBytes[1] ?? 0) - (mainBytes[0] ?? 0)) * 8) / elapsedS / 1000;
    t.diagnostic(
      `camera ${cameraFps} fps; Vigil says ${fps} fps, ${framesPerSecond.toFixed(2)} frames/s between ` +
        `scrapes; main stream ${kbitPerSecond.toFixed(0)} kbit/s`,
    );
    assert.ok(Math.abs(fps - cameraFps) <= cameraFps * 0.15, `fps ${fps}, camera ${cameraFps}`);
    assert.ok(
      Math.abs(framesPerSecond - cameraFps) <= cameraFps * 0.35,
      `frames/s between scrapes ${framesPerSecond}, camera ${cameraFps}`,
    );
    // Sampled at one instant: a segment's fsync on a busy disk may hold a fragment for a moment.
    assert.ok((valueOf(second, 'vigil_recording_lag_seconds', main) ?? 99) < 5, 'recording keeps up');
    const status = (await (
      await fetch(`${vigil.url}/api/cameras/cam1/status`, {
        headers: { authorization: `Bearer ${vigil.token}` },
      })
    ).json()) as {
      streams: Record<string, { reconnectCount: number; recording: { droppedFragmentCount: number } }>;
    };
    assert.ok(
      (valueOf(second, 'vigil_stream_reconnects_total', main) ?? -1) <=
        (status.streams['main']?.reconnectCount ?? -1),
    );
    assert.ok(
      (valueOf(second, 'vigil_recording_dropped_fragments_total', main) ?? -1) <=
        (status.streams['main']?.recording.droppedFragmentCount ?? -1),
    );
  });

  test('storage: used bytes are the files on the disk, free and size are the file system’s', async () => {
    // A segment can roll between reading the disk and scraping: take the first of a few tries
    // whose scrape lies between the disk before and after it.
    let last = '';
    const recordings = join(storageDir, 'recordings', 'cam1');
    const matched = await waitFor(
      'vigil_storage_used_bytes to match the files on the disk',
      async () => {
        const before = await bytesUnder(recordings);
        const exposition = await metrics();
        const afterBytes = await bytesUnder(recordings);
        const used = valueOf(exposition, 'vigil_storage_used_bytes', { camera: 'cam1' }) ?? -1;
        last = `disk ${before}..${afterBytes}, metric ${used}`;
        return used >= before && used <= afterBytes ? exposition : undefined;
      },
      20_000,
      500,
    ).catch((err: Error) => assert.fail(`${err.message} (${last})`));
    const fs = await statfs(storageDir);
    assert.equal(valueOf(matched, 'vigil_storage_size_bytes'), fs.blocks * fs.bsize);
    const free = valueOf(matched, 'vigil_storage_free_bytes') ?? 0;
    // The disk is shared with whatever else runs: close, and bavail (Vigil's share), not bfree.
    assert.ok(
      Math.abs(free - fs.bavail * fs.bsize) < 512 * 1024 * 1024,
      `free ${free} vs ${fs.bavail * fs.bsize}`,
    );
    const system = (await (
      await fetch(`${vigil.url}/api/system`, { headers: { authorization: `Bearer ${vigil.token}` } })
    ).json()) as { cameras: Array<{ id: string; oldestRecordingMs: number | null }> };
    const oldestMs = system.cameras.find((c) => c.id === 'cam1')?.oldestRecordingMs ?? null;
    assert.ok(oldestMs !== null);
    const ageS = valueOf(matched, 'vigil_storage_oldest_recording_age_seconds', { camera: 'cam1' }) ?? -1;
    const expectedS = (Date.now() - oldestMs) / 1000;
    assert.ok(
      ageS > 0 && Math.abs(ageS - expectedS) < 5,
      `oldest recording ${ageS} s old, expected ${expectedS}`,
    );
    assert.equal(valueOf(matched, 'vigil_storage_shortfall_bytes'), 0);
  });

  test('analytics and events: frames analysed, detector calls timed, events counted as the API lists them', async (t: TestContext) => {
    const analysed = await waitFor(
      'analytics to analyse frames',
      async () => {
        const exposition = await metrics();
        return (valueOf(exposition, 'vigil_analytics_frames_analysed_total', { camera: 'cam1' }) ?? 0) > 0
          ? exposition
          : undefined;
      },
      90_000,
      1000,
    );
    assert.ok((valueOf(analysed, 'vigil_analytics_queue_depth') ?? -1) >= 0);
    for (const reason of ['not_recorded', 'detector_busy']) {
      assert.ok(
        (valueOf(analysed, 'vigil_analytics_frames_skipped_total', { camera: 'cam1', reason }) ?? -1) >= 0,
      );
    }
    if (!footage.real) {
      t.diagnostic('generated footage has no people: detector latency and events not checked');
      return;
    }
    const detected = await waitFor(
      'an event on cam1',
      async () => {
        const exposition = await metrics();
        return sumOf(exposition, 'vigil_events_total', { camera: 'cam1' }) > 0 ? exposition : undefined;
      },
      120_000,
      1000,
    );
    const calls = valueOf(detected, 'vigil_detector_latency_seconds_count', { camera: 'cam1' }) ?? 0;
    const totalS = valueOf(detected, 'vigil_detector_latency_seconds_sum', { camera: 'cam1' }) ?? 0;
    t.diagnostic(`${calls} detector calls, mean ${((totalS / calls) * 1000).toFixed(0)} ms`);
    assert.ok(calls > 0 && totalS / calls > 0.001 && totalS / calls < 30, `${calls} calls, ${totalS} s`);
    assert.ok((valueOf(detected, 'vigil_events_total', { camera: 'cam1', label: 'person' }) ?? 0) >= 1);
    // Every event opened since start-up is counted once: the same number the API lists.
    const listed = async () => {
      const res = await fetch(`${vigil.url}/api/events?camera=cam1&limit=500`, {
        headers: { authorization: `Bearer ${vigil.token}` },
      });
      return ((await res.json()) as { events: unknown[] }).events.length;
    };
    const before = await listed();
    const counted = sumOf(await metrics(), 'vigil_events_total', { camera: 'cam1' });
    const afterCount = await listed();
    assert.ok(
      counted >= before && counted <= afterCount,
      `counted ${counted}, the API lists ${before}..${afterCount}`,
    );
  });

  test('live viewers are counted while they watch', async () => {
    const viewers = async () =>
      valueOf(await metrics(), 'vigil_live_viewers', { camera: 'cam1', stream: 'main' });
    assert.equal(await viewers(), 0);
    const socket = new WebSocket(`${vigil.url.replace('http', 'ws')}/api/cameras/cam1/live?stream=main`, {
      headers: { authorization: `Bearer ${vigil.token}` },
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    try {
      await waitFor('one live viewer', async () => ((await viewers()) === 1 ? true : undefined), 5_000);
    } finally {
      socket.close();
    }
    await waitFor('no live viewer', async () => ((await viewers()) === 0 ? true : undefined), 5_000);
  });

  test('who may scrape: a metrics.view token or a listed address, nobody else', async () => {
    const get = (headers: Record<string, string>, localAddress?: string, target = '/metrics') =>
      rawRequest(port, 'GET', target, headers, undefined, localAddress ? { localAddress } : {});
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const expect = (res: { statusCode: number; body: string }, status: number, code?: string) => {
      assert.equal(res.statusCode, status, res.body.slice(0, 200));
      if (code) assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, code);
      if (status !== 200) assert.doesNotMatch(res.body, /vigil_/, 'no metric leaks in a refusal');
    };
    expect(await get({}), 401, 'AUTH_REQUIRED');
    expect(await get(bearer(viewerToken)), 403, 'FORBIDDEN');
    const scoped = await get(bearer(systemToken));
    expect(scoped, 403, 'FORBIDDEN');
    assert.match(scoped.body, /lacks the scope 'metrics\.view'/);
    expect(await get(bearer('vgl_not_a_real_token_at_all')), 401, 'AUTH_FAILED');
    const ok = await get(bearer(scrapeToken));
    expect(ok, 200);
    assert.match(ok.body, /^vigil_stream_up\{camera="cam1",stream="main"\} 1$/m);
    // The scrape token opens nothing else, not even the signed-in routes.
    for (const path of ['/api/system', '/api/health', '/api/cameras', '/api/tokens', '/api/users']) {
      assert.equal((await get(bearer(scrapeToken), undefined, path)).statusCode, 403, path);
    }
    // The address is the connection's own: headers a client writes do not make it another.
    expect(await get({}, LISTED), 200);
    expect(await get({}, NOT_LISTED), 401, 'AUTH_REQUIRED');
    for (const header of ['x-forwarded-for', 'x-real-ip', 'forwarded']) {
      const value = header === 'forwarded' ? `for=${LISTED}` : LISTED;
      expect(await get({ [header]: value }, NOT_LISTED), 401, 'AUTH_REQUIRED');
    }
    // A token sent from a listed address must still be a real one.
    expect(await get(bearer('vgl_not_a_real_token_at_all'), LISTED), 401, 'AUTH_FAILED');
    // The API description says who may scrape by naming the key, never the addresses.
    const description = await get({ authorization: `Bearer ${vigil.token}` }, undefined, '/api/openapi.json');
    expect(description, 200);
    assert.match(description.body, /server\.metricsAllowFrom/);
    assert.doesNotMatch(description.body, /127\.0\.0\.2|10\.9\.0\.0/);
  });

  test('no other spelling of /metrics answers, from anywhere', async () => {
    const spellings = [
      '/METRICS',
      '/Metrics',
      '/metrics/',
      '/%6detrics',
      '/%6Detrics',
      '/metric%73',
      '//metrics',
      '/./metrics',
      '/api/../metrics',
      '/x/../metrics',
      '/metrics;x=1',
      '/metrics%2f',
      '/metrics/.',
      '/metrics\\',
      '/metrics%00',
      '/METRICS?x=1',
      'http://127.0.0.1/metrics',
    ];
    for (const target of spellings) {
      for (const [who, headers, localAddress] of [
        ['anonymous, not listed', {}, NOT_LISTED],
        ['anonymous, listed', {}, LISTED],
        ['scrape token', { authorization: `Bearer ${scrapeToken}` }, NOT_LISTED],
      ] as const) {
        const res = await rawRequest(port, 'GET', target, headers, undefined, { localAddress });
        assert.ok([400, 404].includes(res.statusCode), `${target} as ${who}: ${res.statusCode}`);
        assert.doesNotMatch(res.body, /vigil_/, `${target} as ${who} shows metrics`);
      }
    }
    // The canonical path with a query string is the same route.
    const withQuery = await rawRequest(port, 'GET', '/metrics?name[]=vigil_stream_up', {}, undefined, {
      localAddress: LISTED,
    });
    assert.equal(withQuery.statusCode, 200);
  });

  test('HTTP durations are labelled with route patterns, never the URL', async () => {
    const admin = { authorization: `Bearer ${vigil.token}` };
    const requests: Array<[string, string]> = [
      ['GET', '/api/cameras/secret-name-xyz/status'],
      ['GET', '/api/cameras/secret-name-xyz/recordings?from=secret-query-abc'],
      ['GET', '/api/events?label=secret-query-abc'],
      ['GET', '/secret-ui-path-xyz'],
      ['POST', '/api/secret-post-path'],
      ['DELETE', '/api/cameras/secret-name-xyz'],
      ['GET', '/api/cameras/%73ecret-escaped'],
    ];
    for (const [method, target] of requests) {
      const res = await rawRequest(port, method, target, admin);
      assert.ok(res.statusCode < 500, `${method} ${target}: ${res.statusCode}`);
    }
    const { text } = await scrape();
    assert.doesNotMatch(text, /secret/, 'no URL, parameter or query reaches a label');
    const exposition = parseExposition(text);
    const patterns = new Set([...vigil.server.vigilRoutes.map((r) => r.url), 'unmatched']);
    const http = exposition.series.filter((s) => s.name === 'vigil_http_request_duration_seconds_count');
    for (const series of http) {
      assert.ok(patterns.has(series.labels['route'] ?? ''), `route label ${series.labels['route']}`);
      assert.match(series.labels['status_class'] ?? '', /^[1-5]xx$/);
    }
    const timed = (method: string, route: string, statusClass: string) =>
      valueOf(exposition, 'vigil_http_request_duration_seconds_count', {
        method,
        route,
        status_class: statusClass,
      }) ?? 0;
    assert.ok(timed('GET', '/api/cameras/:id/status', '4xx') >= 1);
    assert.ok(timed('POST', 'unmatched', '4xx') >= 1, 'no route: unmatched');
    assert.ok(timed('GET', '/metrics', '2xx') >= 1, 'scrapes are timed too');
  });

  test('two Vigils in one process keep their own metrics', async () => {
    const other = await startTestVigil(
      `
storage: { path: ./data, minFreeBytes: 1MB }
cameras:
  - id: pattern
    streams:
      main: { url: "testsrc:?size=320x240&fps=5" }
`,
      tempDir(),
    );
    try {
      await waitFor(
        'the second Vigil recording',
        () => other.cameras.liveSegment('pattern', 'main') !== null,
        20_000,
      );
      const res = await fetch(`${other.url}/metrics`, {
        headers: { authorization: `Bearer ${other.token}` },
      });
      assert.equal(res.status, 200);
      const theirs = parseExposition(await res.text());
      const ours = await metrics();
      assert.equal(valueOf(theirs, 'vigil_stream_up', { camera: 'pattern', stream: 'main' }), 1);
      assert.equal(valueOf(theirs, 'vigil_stream_up', { camera: 'cam1', stream: 'main' }), undefined);
      assert.equal(valueOf(ours, 'vigil_stream_up', { camera: 'pattern', stream: 'main' }), undefined);
      assert.equal(valueOf(ours, 'vigil_stream_up', { camera: 'cam1', stream: 'main' }), 1);
    } finally {
      await other.close();
    }
  });
});
