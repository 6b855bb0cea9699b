import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { Principal } from '../../src/auth/permissions.js';
import type { LiveMessage } from '../../src/contract/live.js';
import type { SystemResponse } from '../../src/contract/system.js';
import { parseFragment, parseInitSegment } from '../../src/media/mp4/index.js';
import type { MaskPolygon } from '../../src/privacy/mask-overlay.js';
import type { MaskPolicy } from '../../src/privacy/mask-policy.js';
import pino from 'pino';
import { locateFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { MaskedRecording } from '../../src/privacy/masked-video/index.js';
import { MonotonicWallClock } from '../../src/time/clock.js';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { FFMPEG } from '../helpers/media-tools.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startTestVigil, tempDir, waitFor, type TestVigil } from '../helpers/vigil.js';

/**
 * Privacy masks are burnt into every video a caller who must not see under them receives: live
 * view (one shared transcoder per mask set), recorded playback (HLS parts) and exports. Frames
 * are decoded with ffmpeg and the masked area's pixels checked, for a masked caller and for one
 * who may see everything.
 */

const PASSWORD = 'a long enough passphrase 7';
/** The top-left quarter of the picture. */
const QUARTER: MaskPolygon = [
  [0, 0],
  [0.5, 0],
  [0.5, 0.5],
  [0, 0.5],
];

/** Test configuration: users whose name starts with 'masked' may not see under QUARTER. */
class FixedMaskPolicy implements MaskPolicy {
  polygons: MaskPolygon[] = [QUARTER];
  private readonly listeners = new Set<(cameraId: string) => void>();
  masksFor(principal: Principal): readonly MaskPolygon[] {
    return principal.name.startsWith('masked') ? this.polygons : [];
  }
  permanentMasks(): readonly MaskPolygon[] {
    return this.polygons;
  }
  onChange(listener: (cameraId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  change(cameraId: string, polygons: MaskPolygon[]): void {
    this.polygons = polygons;
    for (const listener of this.listeners) listener(cameraId);
  }
}

interface Luma {
  /** Mean and maximum luma (0-255) inside the mask, well clear of its edges. */
  inside: { mean: number; max: number };
  /** Mean luma of the opposite quarter, which no mask covers. */
  outside: { mean: number };
}

/** Decodes one frame of an MP4 (a buffer or a URL) to grey and measures the two quarters. */
async function measureFrame(input: Buffer | string, headers?: string): Promise<Luma> {
  const width = 64;
  const height = 48;
  const source = typeof input === 'string' ? ['-i', input] : ['-f', 'mp4', '-i', 'pipe:0'];
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    ...(headers ? ['-headers', headers] : []),
    ...source,
    '-frames:v',
    '1',
    '-vf',
    `scale=${width}:${height}:flags=neighbor,format=gray`,
    '-f',
    'rawvideo',
    'pipe:1',
  ];
  const gray = await new Promise<Buffer>((resolve, reject) => {
    const child = spawn(FFMPEG, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => {
      const bytes = Buffer.concat(out);
      if (code === 0 && bytes.length === width * height) resolve(bytes);
      else reject(new Error(`ffmpeg could not decode a frame (${code}): ${err}`));
    });
    child.stdin.end(typeof input === 'string' ? undefined : input);
  });
  const region = (x0: number, y0: number, x1: number, y1: number) => {
    let sum = 0;
    let max = 0;
    let n = 0;
    for (let y = Math.round(y0 * height); y < Math.round(y1 * height); y++) {
      for (let x = Math.round(x0 * width); x < Math.round(x1 * width); x++) {
        const v = gray[y * width + x]!;
        sum += v;
        max = Math.max(max, v);
        n++;
      }
    }
    return { mean: sum / n, max };
  };
  return { inside: region(0.05, 0.05, 0.45, 0.45), outside: region(0.55, 0.55, 0.95, 0.95) };
}

/** The presentation times of every video frame ffmpeg decodes from an MP4 file or HLS URL. */
async function framePts(input: string, headers?: string): Promise<number[]> {
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    ...(headers ? ['-headers', headers] : []),
    '-i',
    input,
    '-map',
    '0:v:0',
    '-f',
    'framemd5',
    'pipe:1',
  ];
  const text = await new Promise<string>((resolve, reject) => {
    const child = spawn(FFMPEG, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`ffmpeg (${code}): ${err}`))));
  });
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => Number(line.split(',')[2]));
}

function assertMasked(luma: Luma, what: string): void {
  assert.ok(luma.inside.max < 30, `${what}: the masked area is black (max luma ${luma.inside.max})`);
  assert.ok(luma.outside.mean > 30, `${what}: the rest is a picture (mean luma ${luma.outside.mean})`);
}

function assertUnmasked(luma: Luma, what: string): void {
  assert.ok(luma.inside.mean > 30, `${what}: the area is not blacked out (mean luma ${luma.inside.mean})`);
}

/** A live WebSocket viewer: collects the last init segment and the fragments after it. */
class LiveClient {
  readonly socket: WebSocket;
  init: Buffer | null = null;
  fragments: Buffer[] = [];
  statuses: LiveMessage[] = [];
  inits = 0;
  private expectInit = false;

  constructor(url: string, token: string) {
    this.socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    this.socket.on('message', (data: Buffer, binary: boolean) => {
      if (!binary) {
        const message = JSON.parse(data.toString()) as LiveMessage;
        if (message.type === 'init') this.expectInit = true;
        if (message.type === 'status') this.statuses.push(message);
        return;
      }
      if (this.expectInit) {
        this.init = data;
        this.fragments = [];
        this.inits += 1;
        this.expectInit = false;
      } else if (this.init) this.fragments.push(data);
    });
  }

  /** Init and fragments from a keyframe on, once `count` fragments have arrived. */
  async video(count: number, afterInits = 1): Promise<Buffer> {
    await waitFor('live fragments', () => this.inits >= afterInits && this.fragments.length >= count, 30_000);
    return Buffer.concat([this.init!, ...this.fragments]);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.readyState === WebSocket.CLOSED) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

describe('privacy masks in every video output', { timeout: 240_000 }, () => {
  let cameras: TestCameras;
  let vigil: TestVigil;
  let port: number;
  const policy = new FixedMaskPolicy();
  const tokens: Record<'masked' | 'masked2' | 'plain', string> = { masked: '', masked2: '', plain: '' };
  let recordedFromMs = 0;

  const liveUrl = () => `${vigil.url.replace(/^http/, 'ws')}/api/cameras/cam/live`;
  const get = (path: string, token: string) =>
    rawRequest(port, 'GET', path, { authorization: `Bearer ${token}` });
  const getBytes = async (path: string, token: string) => {
    const res = await fetch(`${vigil.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
  };

  before(async () => {
    cameras = await startCameras({ count: 1 });
    vigil = await startTestVigil(
      `
storage: { path: ./data, minFreeBytes: 1MB }
recording: { segmentDurationMs: 4000 }
cameras:
  - id: cam
    streams:
      main: { url: "${cameras.urls(1).sub}" }
`,
      tempDir(),
      { vigil: { maskPolicy: policy, maskedIdleStopMs: 500 } },
    );
    port = Number(new URL(vigil.url).port);
    for (const name of ['masked', 'masked2', 'plain'] as const) {
      const user = await vigil.auth.store.createUser({ name, role: 'operator', password: PASSWORD });
      tokens[name] = (await vigil.auth.store.createToken(user.id, { label: name })).token;
    }
    await waitFor(
      'two closed segments',
      async () => {
        const segments = await vigil.index.inRange('cam', 'main', 0, Date.now() + 60_000);
        return segments.filter((s) => s.state !== 'open').length >= 2 ? true : undefined;
      },
      60_000,
    );
    recordedFromMs = (await vigil.index.inRange('cam', 'main', 0, Date.now()))[0]!.start_time_ms;
  });

  after(async () => {
    await vigil?.close();
    await cameras?.stop();
  });

  test('live: masked viewers share one transcoder and see black; others get the copy stream', async () => {
    const plain = new LiveClient(liveUrl(), tokens.plain);
    const first = new LiveClient(liveUrl(), tokens.masked);
    const second = new LiveClient(liveUrl(), tokens.masked2);
    try {
      assertMasked(await measureFrame(await first.video(10)), 'first masked viewer');
      assertMasked(await measureFrame(await second.video(10)), 'second masked viewer');
      assertUnmasked(await measureFrame(await plain.video(10)), 'viewer without masks');

      const running = vigil.maskedVideo.transcoders();
      assert.equal(running.length, 1, 'one transcoder for two viewers with the same masks');
      assert.equal(running[0]!.viewerCount, 2);
      const transcoder = vigil.maskedVideo.live.transcoderFor('cam', 'main', running[0]!.maskKey)!;
      const pid = transcoder.pid;
      assert.ok(pid !== null && existsSync(`/proc/${pid}`), 'its ffmpeg runs');

      // Its CPU is measured and shown on the system page and in the metrics.
      const system = await waitFor(
        'the CPU of the transcoder on the system page',
        async () => {
          const res = await get('/api/system', vigil.token!);
          const body = JSON.parse(res.body) as SystemResponse;
          return body.maskedTranscoders[0]?.cpuPercent !== null &&
            body.maskedTranscoders[0]?.cpuPercent !== undefined
            ? body
            : undefined;
        },
        15_000,
      );
      assert.equal(system.maskedTranscoders[0]!.viewerCount, 2);
      assert.ok(system.maskedTranscoders[0]!.cpuPercent! > 0);
      const metrics = await get('/metrics', vigil.token!);
      assert.match(
        metrics.body,
        /vigil_masked_transcoder_cpu_seconds_total\{camera="cam",stream="main",masks="[0-9a-f]+"\} [\d.e-]+/,
      );

      await first.close();
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(vigil.maskedVideo.transcoders().length, 1, 'still running for the second viewer');
      await second.close();
      await waitFor('the transcoder to stop', () => vigil.maskedVideo.transcoders().length === 0, 10_000);
      await waitFor('its ffmpeg to exit', () => !existsSync(`/proc/${pid}`), 10_000);
    } finally {
      await Promise.all([plain.close(), first.close(), second.close()]);
    }
  });

  test('live: when the masks change, a watching viewer moves to the feed that fits', async () => {
    const viewer = new LiveClient(liveUrl(), tokens.masked);
    try {
      assertMasked(await measureFrame(await viewer.video(5)), 'before the change');
      policy.change('cam', []);
      assertUnmasked(await measureFrame(await viewer.video(5, 2)), 'after the mask was removed');
      policy.change('cam', [QUARTER]);
      assertMasked(await measureFrame(await viewer.video(5, 3)), 'after the mask came back');
    } finally {
      policy.polygons = [QUARTER];
      await viewer.close();
    }
  });

  test('live: a transcoder that dies is reported to its viewers and restarted, never replaced by the copy stream', async () => {
    const viewer = new LiveClient(liveUrl(), tokens.masked);
    try {
      assertMasked(await measureFrame(await viewer.video(5)), 'before');
      const key = vigil.maskedVideo.transcoders()[0]!.maskKey;
      const pid = vigil.maskedVideo.live.transcoderFor('cam', 'main', key)!.pid!;
      process.kill(pid, 'SIGKILL');
      const error = await waitFor(
        'an error status',
        () => viewer.statuses.find((m) => m.type === 'status' && m.state === 'error'),
        10_000,
      );
      assert.ok(error.type === 'status' && /privacy masks could not be made/.test(error.reason ?? ''));
      // Restarted at a later keyframe: a new init, and masked again.
      assertMasked(await measureFrame(await viewer.video(5, 2)), 'after the restart');
      const status = vigil.maskedVideo.transcoders()[0]!;
      assert.equal(status.lastError, null, 'recovered');
      assert.ok(viewer.statuses.some((m) => m.type === 'status' && m.state === 'online'));
    } finally {
      await viewer.close();
    }
  });

  test('playback: HLS parts are masked for a masked caller, on the recording timeline', async () => {
    // Ends in the past: the two playlists compared below, read a moment apart, list the same
    // parts (a range up to now would grow between the reads).
    const to = Date.now() - 5000;
    const path = `/api/cameras/cam/vod.m3u8?from=${recordedFromMs}&to=${to}`;
    const playlist = await get(path, tokens.masked);
    assert.equal(playlist.statusCode, 200, playlist.body);
    const init = playlist.body.match(/URI="(segments\/[^"]+)"/)![1]!;
    const part = playlist.body.split('\n').find((l) => l.startsWith('segments/'))!;

    const masked = await getBytes(`/api/cameras/cam/${part}`, tokens.masked);
    const maskedInit = await getBytes(`/api/cameras/cam/${init}`, tokens.masked);
    const plain = await getBytes(`/api/cameras/cam/${part}`, tokens.plain);
    const plainInit = await getBytes(`/api/cameras/cam/${init}`, tokens.plain);
    assert.equal(masked.status, 200);
    assert.equal(plain.status, 200);
    assertMasked(await measureFrame(Buffer.concat([maskedInit.bytes, masked.bytes])), 'masked HLS part');
    assertUnmasked(await measureFrame(Buffer.concat([plainInit.bytes, plain.bytes])), 'plain HLS part');

    // The masked part shows its first picture when the stored one does, so the playlist's times
    // hold. (Its decode times may differ: the camera's B-frames delay decoding, the re-encoder's
    // pictures need no reordering.)
    const presentationStart = (initBytes: Buffer, partBytes: Buffer) => {
      const parsed = parseInitSegment(initBytes);
      const video = parsed.tracks.find((t) => t.kind === 'video')!;
      const fragment = parseFragment(partBytes, 0, parsed);
      const first = fragment.tracks.find((t) => t.trackId === video.trackId)!.samples[0]!;
      return first.decodeTime + first.compositionOffsetTicks;
    };
    assert.equal(
      presentationStart(maskedInit.bytes, masked.bytes),
      presentationStart(plainInit.bytes, plain.bytes),
    );

    // A player (ffmpeg's HLS demuxer) plays the masked playlist through, every frame at the
    // time of the same frame in the plain one.
    const playlistAs = (name: 'masked' | 'plain') =>
      [`${vigil.url}${path}`, `Authorization: Bearer ${tokens[name]}\r\n`] as const;
    assertMasked(await measureFrame(...playlistAs('masked')), 'masked HLS playlist');
    const maskedPts = await framePts(...playlistAs('masked'));
    const plainPts = await framePts(...playlistAs('plain'));
    assert.ok(maskedPts.length >= 20, `${maskedPts.length} frames`);
    assert.deepEqual(maskedPts, plainPts);
  });

  test('export: the MP4 is re-encoded with the masks for a masked caller only', async () => {
    const path = `/api/cameras/cam/export.mp4?from=${recordedFromMs}&to=${recordedFromMs + 3000}`;
    const masked = await getBytes(path, tokens.masked);
    const plain = await getBytes(path, tokens.plain);
    assert.equal(masked.status, 200);
    assert.equal(plain.status, 200);
    const dir = tempDir();
    await writeFile(join(dir, 'masked.mp4'), masked.bytes);
    await writeFile(join(dir, 'plain.mp4'), plain.bytes);
    assertMasked(await measureFrame(join(dir, 'masked.mp4')), 'masked export');
    assertUnmasked(await measureFrame(join(dir, 'plain.mp4')), 'plain export');
    // Every frame is there, at its time.
    const maskedPts = await framePts(join(dir, 'masked.mp4'));
    assert.ok(maskedPts.length >= 20, `${maskedPts.length} frames`);
    assert.deepEqual(maskedPts, await framePts(join(dir, 'plain.mp4')));
  });

  test('event clip: re-encoded with the masks for a masked caller only', async () => {
    const event = await vigil.events.store.insert({
      cameraId: 'cam',
      label: 'person',
      trackId: 1,
      startTimeMs: recordedFromMs + 500,
      endTimeMs: recordedFromMs + 2500,
      maxScore: 0.9,
      box: { x: 0.1, y: 0.1, width: 0.2, height: 0.4 },
      path: [],
      zones: [],
      snapshotPath: null,
      cropPath: null,
      snapshotTimeMs: null,
      clipStartMs: recordedFromMs,
      clipEndMs: recordedFromMs + 3000,
      createdAtMs: Date.now(),
      updatedAtMs: Date.now(),
    });
    const masked = await getBytes(`/api/events/${event.id}/clip.mp4`, tokens.masked);
    const plain = await getBytes(`/api/events/${event.id}/clip.mp4`, tokens.plain);
    assert.equal(masked.status, 200);
    assert.equal(plain.status, 200);
    const dir = tempDir();
    await writeFile(join(dir, 'masked.mp4'), masked.bytes);
    await writeFile(join(dir, 'plain.mp4'), plain.bytes);
    assertMasked(await measureFrame(join(dir, 'masked.mp4')), 'masked clip');
    assertUnmasked(await measureFrame(join(dir, 'plain.mp4')), 'plain clip');
  });

  test('mask at recording: the stored video itself is masked, for everyone, while the camera asks for it', async () => {
    const camera = vigil.cameras.list().find((c) => c.config.id === 'cam')!;
    const recording = new MaskedRecording({
      policy,
      ffmpeg: await locateFfmpeg(),
      log: pino({ level: 'silent' }),
      clock: new MonotonicWallClock(),
    });
    // The camera's config as it is with privacy.maskAtRecording set.
    await recording.cameraStarted({
      ...camera,
      config: Object.assign({}, camera.config, { privacy: { maskAtRecording: true } }),
    });
    const switchedAtMs = Date.now();
    const closedSegmentAfter = (ms: number) =>
      waitFor(
        'a closed segment recorded after the switch',
        async () => {
          const rows = await vigil.index.inRange('cam', 'main', ms, Date.now());
          return rows.find((r) => r.state !== 'open' && r.start_time_ms >= ms);
        },
        30_000,
      );
    try {
      const masked = await closedSegmentAfter(switchedAtMs);
      assert.equal(recording.status().length, 1, 'one recording transcoder for the stream');
      const path = `/api/cameras/cam/export.mp4?from=${masked.start_time_ms}&to=${masked.start_time_ms + 3000}`;
      // Even a caller who may see everything gets it masked: what is under the mask was not stored.
      const res = await getBytes(path, tokens.plain);
      assert.equal(res.status, 200);
      const dir = tempDir();
      await writeFile(join(dir, 'recorded.mp4'), res.bytes);
      assertMasked(await measureFrame(join(dir, 'recorded.mp4')), 'recorded with masks');
      const pts = await framePts(join(dir, 'recorded.mp4'));
      assert.ok(pts.length >= 20, `${pts.length} frames in 3 s`);
    } finally {
      recording.cameraStopping('cam');
      recording.stop();
    }
    const plain = await closedSegmentAfter(Date.now());
    const path = `/api/cameras/cam/export.mp4?from=${plain.start_time_ms}&to=${plain.start_time_ms + 3000}`;
    const dir = tempDir();
    await writeFile(join(dir, 'after.mp4'), (await getBytes(path, tokens.plain)).bytes);
    assertUnmasked(await measureFrame(join(dir, 'after.mp4')), 'recorded from the copy stream again');
  });
});
