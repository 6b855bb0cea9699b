import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { apiFetch, getJson, startTestVigil, type TestVigil, waitFor } from '../helpers/vigil.js';
import { FFMPEG, FFPROBE } from '../helpers/media-tools.js';
import { GAP_TOLERANCE_MS } from '../../src/storage/spans.js';

const execFileAsync = promisify(execFile);

interface Span {
  startTimeMs: number;
  endTimeMs: number;
}
interface Recordings {
  recordings: Span[];
  gaps: Span[];
}

/** ffmpeg's HTTP client (and its HLS demuxer, for every part) sends this header: the API token. */
function authHeaderArgs(token: string | null): string[] {
  return token ? ['-headers', `Authorization: Bearer ${token}\r\n`] : [];
}

async function ffprobeJson(
  target: string,
  token: string | null = null,
): Promise<{
  format: { duration: string };
  streams: Array<{ codec_name: string; width?: number; height?: number; nb_read_frames?: string }>;
}> {
  const { stdout } = await execFileAsync(
    FFPROBE,
    [
      '-v',
      'error',
      '-count_frames',
      '-show_format',
      '-show_streams',
      '-of',
      'json',
      ...authHeaderArgs(token),
      target,
    ],
    { timeout: 60_000 },
  );
  return JSON.parse(stdout);
}

describe('recording core against emulated cameras', { timeout: 240_000 }, () => {
  let cameras: TestCameras;
  let vigil: TestVigil;
  let startedAtMs: number;

  before(async () => {
    cameras = await startCameras({ count: 2 });
    startedAtMs = Date.now();
    vigil = await startTestVigil(`
storage: { path: ./data, minFreeBytes: 1MB }
recording: { segmentDurationMs: 6000 }
ingest: { stallTimeoutMs: 4000 }
cameras:
  - id: cam1
    name: Camera one
    streams:
      main: { url: "${cameras.urls(1).main}" }
      sub: { url: "${cameras.urls(1).sub}" }
  - id: unreachable
    streams:
      main: { url: "rtsp://127.0.0.1:9/nothing" }
`);
  });

  after(async () => {
    await vigil?.close();
    await cameras?.stop();
  });

  test('recording starts within 10 s of start-up', async () => {
    const firstSpanAtMs = await waitFor(
      'a recorded span',
      async () => {
        const { body } = await getJson<Recordings>(`${vigil.url}/api/cameras/cam1/recordings`);
        return body.recordings.length > 0 ? Date.now() : undefined;
      },
      15_000,
    );
    assert.ok(firstSpanAtMs - startedAtMs < 10_000, `first span after ${firstSpanAtMs - startedAtMs} ms`);
  });

  test('status reports codec, resolution, fps and bitrate measured from the stream', async () => {
    // Measured over the last 10 s: the first fragment of a connection can hold a few frames with
    // near-identical timestamps, so the rate converges to the camera's within seconds.
    const main = await waitFor(
      'fps near 10',
      async () => {
        const { body } = await getJson<{ streams: Record<string, Record<string, unknown>> }>(
          `${vigil.url}/api/cameras/cam1/status`,
        );
        const stream = body.streams.main;
        return stream?.state === 'online' && Math.abs(Number(stream.fps) - 10) < 1.5 ? stream : undefined;
      },
      30_000,
    );
    assert.equal(main.codec, 'h264');
    assert.ok((main.width as number) >= 640);
    assert.ok((main.bitrateKbps as number) > 50);
    assert.ok((main.uptimeMs as number) > 0);
  });

  test('an unreachable camera says why, and the others keep recording', async () => {
    const status = await waitFor(
      'an error on the unreachable camera',
      async () => {
        const { body } = await getJson<{
          streams: { main: { state: string; lastError: { message: string } | null } };
        }>(`${vigil.url}/api/cameras/unreachable/status`);
        return body.streams.main.lastError ? body.streams.main : undefined;
      },
      20_000,
    );
    assert.notEqual(status.state, 'online');
    assert.match(status.lastError!.message, /connection refused/);
    const { body } = await getJson<{ streams: { main: { state: string } } }>(
      `${vigil.url}/api/cameras/cam1/status`,
    );
    assert.equal(body.streams.main.state, 'online');
  });

  test('snapshot.jpg returns the latest frame as JPEG', async () => {
    const res = await waitFor(
      'a snapshot',
      async () => {
        const r = await apiFetch(`${vigil.url}/api/cameras/cam1/snapshot.jpg`);
        return r.status === 200 ? r : undefined;
      },
      15_000,
    );
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    const jpeg = Buffer.from(await res.arrayBuffer());
    assert.equal(jpeg.readUInt16BE(0), 0xffd8);
    const file = join(vigil.dir, 'snap.jpg');
    writeFileSync(file, jpeg);
    const probe = await ffprobeJson(file);
    assert.ok((probe.streams[0]?.width ?? 0) >= 640);
  });

  test('the vod playlist plays from the requested instant (decoded with ffmpeg)', async () => {
    const spans = await waitFor(
      '20 s of recording',
      async () => {
        const { body } = await getJson<Recordings>(`${vigil.url}/api/cameras/cam1/recordings`);
        const span = body.recordings.at(-1);
        return span && span.endTimeMs - span.startTimeMs > 20_000 ? body.recordings : undefined;
      },
      40_000,
    );
    const span = spans.at(-1)!;
    const fromMs = span.startTimeMs + 7_000;
    const toMs = fromMs + 8_000;
    const url = `${vigil.url}/api/cameras/cam1/vod.m3u8?from=${fromMs}&to=${new Date(toMs).toISOString()}`;
    const playlist = await (await apiFetch(url)).text();
    const firstPartMs = Date.parse(/#EXT-X-PROGRAM-DATE-TIME:(\S+)/.exec(playlist)![1]!);
    assert.ok(
      firstPartMs <= fromMs && fromMs - firstPartMs <= 2_100,
      `first part at ${firstPartMs - fromMs} ms`,
    );
    const probe = await ffprobeJson(url, vigil.token);
    const frames = Number(probe.streams[0]?.nb_read_frames);
    // 8 s at 10 fps, plus up to one GOP (2 s) before 'from' and the part running past 'to'.
    assert.ok(frames >= 75 && frames <= 125, `decoded ${frames} frames`);
    const { stderr } = await execFileAsync(
      FFMPEG,
      ['-v', 'error', ...authHeaderArgs(vigil.token), '-i', url, '-f', 'null', '-'],
      {
        timeout: 60_000,
      },
    );
    assert.equal(stderr.trim(), '');
  });

  test('an export matches the requested duration within one GOP and supports Range', async () => {
    const { body } = await getJson<Recordings>(`${vigil.url}/api/cameras/cam1/recordings`);
    const span = body.recordings.at(-1)!;
    const fromMs = span.startTimeMs + 3_000;
    const toMs = fromMs + 12_000;
    const url = `${vigil.url}/api/cameras/cam1/export.mp4?from=${fromMs}&to=${toMs}`;
    const res = await apiFetch(url);
    assert.equal(res.status, 200);
    const full = Buffer.from(await res.arrayBuffer());
    assert.equal(Number(res.headers.get('content-length')), full.length);
    const file = join(vigil.dir, 'export.mp4');
    writeFileSync(file, full);
    const probe = await ffprobeJson(file);
    const durationS = Number(probe.format.duration);
    assert.ok(Math.abs(durationS - 12) <= 2, `export lasts ${durationS} s`);
    const ranged = await apiFetch(url, { headers: { range: 'bytes=1000-1999' } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get('content-range'), `bytes 1000-1999/${full.length}`);
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), full.subarray(1000, 2000));
  });

  test('a camera that hangs with its connection open is restarted by the watchdog', async () => {
    const streamStatus = async () =>
      (
        await getJson<{
          streams: { main: { state: string; lastError: { kind: string; atMs: number } | null } };
        }>(`${vigil.url}/api/cameras/cam1/status`)
      ).body.streams.main;
    const frozenAtMs = Date.now();
    await cameras.freeze();
    const stalled = await waitFor(
      'the watchdog',
      async () => {
        const s = await streamStatus();
        return s.lastError?.kind === 'stalled' && s.lastError.atMs >= frozenAtMs ? s : undefined;
      },
      15_000,
    );
    assert.notEqual(stalled.state, 'online');
    await cameras.thaw();
    await waitFor('the stream to come back', async () => (await streamStatus()).state === 'online', 30_000);
  });

  test('a camera restart leaves a gap and recording resumes within 10 s of its return', async () => {
    await cameras.stop();
    const lostAtMs = Date.now();
    await waitFor(
      'the camera to be seen offline',
      async () => {
        const { body } = await getJson<{ streams: { main: { state: string } } }>(
          `${vigil.url}/api/cameras/cam1/status`,
        );
        return body.streams.main.state !== 'online';
      },
      20_000,
    );
    // A real camera reboots for tens of seconds; an outage shorter than GAP_TOLERANCE_MS would
    // rightly be merged into one recording, so keep this one clearly longer.
    await delay(Math.max(0, lostAtMs + 3 * GAP_TOLERANCE_MS - Date.now()));
    await cameras.start();
    const backAtMs = Date.now();
    const resumed = await waitFor(
      'recording to resume',
      async () => {
        const { body } = await getJson<Recordings>(
          `${vigil.url}/api/cameras/cam1/recordings?from=${startedAtMs - 60_000}`,
        );
        const last = body.recordings.at(-1);
        return last && last.startTimeMs > lostAtMs ? { body, seenAtMs: Date.now() } : undefined;
      },
      20_000,
    );
    assert.ok(resumed.seenAtMs - backAtMs < 10_000, `resumed ${resumed.seenAtMs - backAtMs} ms after return`);
    assert.ok(resumed.body.recordings.length >= 2, 'a gap separates the recordings');
  });
});
