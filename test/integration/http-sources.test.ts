/**
 * Cameras that are not RTSP H.264: MJPEG over HTTP, JPEG snapshots behind Digest authentication,
 * an HLS playlist with AAC audio, and an HTTP stream with G.711 audio. Every source is real: JPEG
 * frames and streams made by ffmpeg from the footage, served by a Node HTTP server in the test.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { extname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import type { LiveMessage } from '../../src/contract/live.js';
import { spawnAlawStream } from '../helpers/alaw-stream.js';
import { footagePaths } from '../helpers/footage.js';
import { closeServer, listenLocal } from '../helpers/local-server.js';
import { FFMPEG, FFPROBE } from '../helpers/media-tools.js';
import { apiFetch, getJson, startTestVigil, tempDir, type TestVigil, waitFor } from '../helpers/vigil.js';

const execFileAsync = promisify(execFile);

const MJPEG_FPS = 5;
const SNAPSHOT_INTERVAL_MS = 500;
const EXPORT_MS = 20_000;
const CAMERA_USER = 'cam';
const CAMERA_PASSWORD = 'right horse battery';
const REALM = 'snapshot camera';

const dir = tempDir('vigil-http-sources-');
const sockets = new Set<Socket>();
const children: ChildProcess[] = [];
let frames: Buffer[] = [];
let footage: { sub: string };
let vigil: TestVigil | undefined;
let port = 0;
let closedPort = 0;
const server = createServer((req, res) => route(req, res));
server.on('connection', (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

/** The frame of the footage for now, at MJPEG_FPS, looping. */
function currentFrame(): Buffer {
  return frames[Math.floor((Date.now() / 1000) * MJPEG_FPS) % frames.length] as Buffer;
}

/** RFC 7616 Digest with qop=auth, checked independently of Vigil's own implementation. */
function digestOk(req: IncomingMessage): boolean {
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Digest ')) return false;
  const params = new Map<string, string>();
  for (const m of header.matchAll(/(\w+)=(?:"([^"]*)"|([^\s,]+))/g))
    params.set(m[1] ?? '', m[2] ?? m[3] ?? '');
  const ha1 = md5(`${params.get('username')}:${REALM}:${CAMERA_PASSWORD}`);
  const ha2 = md5(`GET:${params.get('uri')}`);
  const expected = md5(
    `${ha1}:${params.get('nonce')}:${params.get('nc')}:${params.get('cnonce')}:auth:${ha2}`,
  );
  return params.get('username') === CAMERA_USER && params.get('response') === expected;
}

function route(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (path === '/video.mjpg') {
    res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=frame' });
    const timer = setInterval(() => {
      const jpeg = currentFrame();
      res.write(`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
      res.write(jpeg);
      res.write('\r\n');
    }, 1000 / MJPEG_FPS);
    res.on('close', () => clearInterval(timer));
  } else if (path === '/snapshot.jpg') {
    if (!digestOk(req)) {
      res.writeHead(401, {
        'www-authenticate': `Digest realm="${REALM}", nonce="${randomBytes(8).toString('hex')}", qop="auth"`,
      });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'image/jpeg' });
    res.end(currentFrame());
  } else if (path === '/index.html') {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html>camera login</html>');
  } else if (path.startsWith('/hls/')) {
    try {
      const body = readFileSync(join(dir, 'hls', path.slice('/hls/'.length).replace(/[^\w.-]/g, '')));
      const type = extname(path) === '.m3u8' ? 'application/vnd.apple.mpegurl' : 'video/mp2t';
      res.writeHead(200, { 'content-type': type });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  } else if (path === '/alaw.mkv') {
    // A live HTTP stream with H.264 video and G.711 A-law audio, as some cameras send.
    res.writeHead(200, { 'content-type': 'video/x-matroska' });
    const child = spawnAlawStream(footage.sub);
    children.push(child);
    child.stdout?.pipe(res);
    res.on('close', () => child.kill('SIGKILL'));
  } else {
    res.writeHead(404);
    res.end();
  }
}

before(async () => {
  footage = await footagePaths();
  const jpegDir = join(dir, 'jpeg');
  mkdirSync(jpegDir);
  mkdirSync(join(dir, 'hls'));
  await execFileAsync(FFMPEG, [
    ...['-v', 'error', '-i', footage.sub, '-t', '30', '-vf', `fps=${MJPEG_FPS}`, '-q:v', '5'],
    join(jpegDir, 'f%04d.jpg'),
  ]);
  frames = readdirSync(jpegDir)
    .sort()
    .map((name) => readFileSync(join(jpegDir, name)));
  // A live HLS source: H.264 copied from the footage, AAC audio.
  const hls = spawn(FFMPEG, [
    ...['-v', 'error', '-re', '-stream_loop', '-1', '-i', footage.sub],
    ...['-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
    ...['-map', '0:v:0', '-map', '1:a:0', '-c:v', 'copy', '-c:a', 'aac', '-b:a', '64k'],
    ...['-f', 'hls', '-hls_time', '2', '-hls_list_size', '6', '-hls_flags', 'delete_segments'],
    join(dir, 'hls', 'index.m3u8'),
  ]);
  children.push(hls);
  port = await listenLocal(server);
  const closed = createServer();
  closedPort = await listenLocal(closed);
  await new Promise<void>((done) => closed.close(() => done()));
  await waitFor('the HLS playlist', () => readdirSync(join(dir, 'hls')).includes('index.m3u8'), 20_000);
});

after(async () => {
  await vigil?.close();
  for (const child of children) child.kill('SIGKILL');
  await closeServer(server, sockets);
});

interface StreamStatusBody {
  streams: {
    main: { state: string; codec: string | null; lastError: { kind: string; message: string } | null };
  };
}

async function recordedMs(camera: string): Promise<number> {
  const { body } = await getJson<{ recordings: Array<{ startTimeMs: number; endTimeMs: number }> }>(
    `${vigil?.url}/api/cameras/${camera}/recordings`,
  );
  const last = body.recordings.at(-1);
  return last ? last.endTimeMs - last.startTimeMs : 0;
}

interface Probe {
  streams: Array<{ codec_type: string; codec_name: string; nb_read_packets?: string }>;
  format: { duration: string };
}

/** Exports the last EXPORT_MS of a camera, checks it plays, and returns what ffprobe sees. */
async function exportLast(camera: string): Promise<Probe> {
  const { body } = await getJson<{ recordings: Array<{ endTimeMs: number }> }>(
    `${vigil?.url}/api/cameras/${camera}/recordings`,
  );
  const toMs = body.recordings.at(-1)?.endTimeMs ?? 0;
  const res = await apiFetch(
    `${vigil?.url}/api/cameras/${camera}/export.mp4?from=${toMs - EXPORT_MS}&to=${toMs}`,
  );
  assert.equal(res.status, 200, `export of ${camera}`);
  const file = join(dir, `${camera}.mp4`);
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  const decoded = await execFileAsync(FFMPEG, ['-v', 'error', '-i', file, '-f', 'null', '-']);
  assert.equal(decoded.stderr.trim(), '', `${camera}'s export decodes without errors`);
  const { stdout } = await execFileAsync(FFPROBE, [
    ...['-v', 'error', '-count_packets', '-of', 'json'],
    ...['-show_entries', 'stream=codec_type,codec_name,nb_read_packets:format=duration', file],
  ]);
  const probe = JSON.parse(stdout) as Probe;
  const durationS = Number(probe.format.duration);
  assert.ok(Math.abs(durationS - EXPORT_MS / 1000) <= 2, `${camera}'s export lasts ${durationS} s`);
  return probe;
}

/** The MSE type of a camera's live init segment, as a browser viewer gets it. */
function liveMimeType(camera: string): Promise<string> {
  const socket = new WebSocket(`${vigil?.url.replace(/^http/, 'ws')}/api/cameras/${camera}/live`, {
    headers: { authorization: `Bearer ${vigil?.token}` },
  });
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no live init from ${camera}`)), 20_000);
    socket.on('message', (data, binary) => {
      if (binary) return;
      const message = JSON.parse(String(data)) as LiveMessage;
      if (message.type !== 'init') return;
      clearTimeout(timer);
      resolve(message.mimeType);
    });
    socket.on('error', reject);
  }).finally(() => socket.close());
}

function videoFps(probe: Probe): number {
  const video = probe.streams.find((s) => s.codec_type === 'video');
  return Number(video?.nb_read_packets) / Number(probe.format.duration);
}

test(
  'MJPEG, snapshot, HLS and G.711 cameras record H.264 at their real rate, with audio, and export',
  { timeout: 180_000 },
  async (t) => {
    const base = `http://127.0.0.1:${port}`;
    vigil = await startTestVigil(`
storage: { path: ./data, minFreeBytes: 1MB }
cameras:
  - id: mjpeg
    streams:
      main: { url: "${base}/video.mjpg" }
  - id: snap
    streams:
      main:
        url: "${base}/snapshot.jpg"
        kind: snapshot
        snapshotIntervalMs: ${SNAPSHOT_INTERVAL_MS}
        user: ${CAMERA_USER}
        password: "${CAMERA_PASSWORD}"
  - id: hls
    streams:
      main: { url: "${base}/hls/index.m3u8" }
  - id: alaw
    streams:
      main: { url: "${base}/alaw.mkv" }
  - id: wrongpass
    streams:
      main: { url: "${base}/snapshot.jpg", user: ${CAMERA_USER}, password: "not it" }
  - id: offline
    streams:
      main: { url: "http://127.0.0.1:${closedPort}/video.mjpg", kind: mjpeg }
  - id: notjpeg
    streams:
      main: { url: "${base}/index.html", kind: snapshot }
`);
    const url = vigil.url;
    const cameras = ['mjpeg', 'snap', 'hls', 'alaw'];
    const status = async (camera: string) =>
      (await getJson<StreamStatusBody>(`${url}/api/cameras/${camera}/status`)).body.streams.main;

    await waitFor(
      `${EXPORT_MS / 1000 + 3} s of recording from every source`,
      async () => {
        const spans = await Promise.all(cameras.map(recordedMs));
        if (spans.every((ms) => ms > EXPORT_MS + 3000)) return true;
        const states = await Promise.all(cameras.map(async (c) => JSON.stringify(await status(c))));
        throw new Error(`recorded ${spans.join(', ')} ms of ${cameras.join(', ')}; ${states.join('; ')}`);
      },
      60_000,
      1000,
    );

    for (const camera of cameras)
      assert.equal((await status(camera)).codec, 'h264', `${camera} records H.264`);

    const mjpeg = await exportLast('mjpeg');
    const mjpegFps = videoFps(mjpeg);
    assert.ok(
      Math.abs(mjpegFps - MJPEG_FPS) <= MJPEG_FPS * 0.1,
      `MJPEG recorded at ${mjpegFps.toFixed(2)} fps`,
    );

    const snap = await exportLast('snap');
    const snapFps = videoFps(snap);
    const pollFps = 1000 / SNAPSHOT_INTERVAL_MS;
    assert.ok(
      Math.abs(snapFps - pollFps) <= pollFps * 0.1,
      `snapshots recorded at ${snapFps.toFixed(2)} fps`,
    );

    const hls = await exportLast('hls');
    assert.deepEqual(
      hls.streams.map((s) => s.codec_name),
      ['h264', 'aac'],
      'HLS: H.264 and AAC copied',
    );
    const alaw = await exportLast('alaw');
    assert.deepEqual(
      alaw.streams.map((s) => s.codec_name),
      ['h264', 'aac'],
      'G.711 audio is recorded as AAC',
    );

    // The system page shows what encoding costs, per stream, between two looks.
    const systemStreams = async () => {
      const { body } = await getJson<{
        cameras: Array<{ id: string; streams: Array<{ cpuPercent: number | null; transcoding: boolean }> }>;
      }>(`${url}/api/system`);
      return new Map(body.cameras.map((c) => [c.id, c.streams[0]]));
    };
    await systemStreams();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const system = await systemStreams();
    const mjpegCpu = system.get('mjpeg');
    assert.equal(mjpegCpu?.transcoding, true);
    assert.ok((mjpegCpu?.cpuPercent ?? 0) > 0, 'the MJPEG encode shows its CPU');
    assert.equal(system.get('hls')?.transcoding, false);
    t.diagnostic(
      `MJPEG ${mjpegFps.toFixed(2)} fps, snapshots ${snapFps.toFixed(2)} fps; ` +
        `ingest CPU: mjpeg ${mjpegCpu?.cpuPercent?.toFixed(1)}%, snap ${system.get('snap')?.cpuPercent?.toFixed(1)}%, ` +
        `hls ${system.get('hls')?.cpuPercent?.toFixed(1)}%, alaw ${system.get('alaw')?.cpuPercent?.toFixed(1)}%`,
    );

    // "Test connection" detects MJPEG from the Content-Type and reports what recording will store.
    const probe = await apiFetch(`${url}/api/cameras/probe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${base}/video.mjpg` }),
    });
    const probed = (await probe.json()) as { ok: boolean; codec?: string };
    assert.deepEqual([probed.ok, probed.codec], [true, 'h264'], JSON.stringify(probed));

    // Live view carries the audio track to the browser's MSE player.
    assert.match(await liveMimeType('alaw'), /^video\/mp4; codecs="avc1\.[0-9a-f]+,mp4a\.40\.2"$/i);
    assert.match(await liveMimeType('hls'), /mp4a\.40\.2/);

    const wrongpass = await status('wrongpass');
    assert.equal(wrongpass.lastError?.kind, 'unauthorized');
    assert.match(wrongpass.lastError?.message ?? '', /password/);
    const offline = await status('offline');
    assert.equal(offline.lastError?.kind, 'connection_refused');
    assert.match(offline.lastError?.message ?? '', /connection refused/);
    const notJpeg = await status('notjpeg');
    assert.equal(notJpeg.lastError?.kind, 'invalid_data');
    assert.match(notJpeg.lastError?.message ?? '', /text\/html, not a JPEG/);
  },
);
