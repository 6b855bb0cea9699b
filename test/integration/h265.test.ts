import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { h265FootagePath } from '../helpers/footage.js';
import { apiFetch, getJson, startTestVigil, type TestVigil, waitFor } from '../helpers/vigil.js';
import { FFMPEG, FFPROBE } from '../helpers/media-tools.js';

const execFileAsync = promisify(execFile);

let cameras: TestCameras | undefined;
let vigil: TestVigil | undefined;

after(async () => {
  await vigil?.close();
  await cameras?.stop();
});

test(
  'an H.265 camera is recorded, played and exported without transcoding',
  { timeout: 120_000 },
  async () => {
    const footage = await h265FootagePath();
    cameras = await startCameras({ count: 1, footage: { main: footage, sub: footage } });
    vigil = await startTestVigil(`
storage: { path: ./data, minFreeBytes: 1MB }
cameras:
  - id: hevc
    streams:
      main: { url: "${cameras.urls(1).main}" }
`);
    const url = vigil.url;
    const span = await waitFor(
      '8 s of H.265 recording',
      async () => {
        const { body } = await getJson<{ recordings: Array<{ startTimeMs: number; endTimeMs: number }> }>(
          `${url}/api/cameras/hevc/recordings`,
        );
        const last = body.recordings.at(-1);
        return last && last.endTimeMs - last.startTimeMs > 8_000 ? last : undefined;
      },
      40_000,
    );
    const { body: status } = await getJson<{
      streams: { main: { codec: string; ingest: string; ingestFallbackReason: string | null } };
    }>(`${url}/api/cameras/hevc/status`);
    assert.equal(status.streams.main.codec, 'h265');
    // ingest: auto (the default) pulls H.265 over RTSP natively, without falling back to ffmpeg.
    assert.deepEqual(
      [status.streams.main.ingest, status.streams.main.ingestFallbackReason],
      ['native', null],
    );

    const fromMs = span.startTimeMs + 2_000;
    const toMs = fromMs + 4_000;
    const res = await apiFetch(`${url}/api/cameras/hevc/export.mp4?from=${fromMs}&to=${toMs}`);
    assert.equal(res.status, 200);
    const file = join(vigil.dir, 'hevc.mp4');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const { stdout } = await execFileAsync(FFPROBE, [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_name:format=duration',
      '-of',
      'json',
      file,
    ]);
    const probe = JSON.parse(stdout) as {
      streams: Array<{ codec_name: string }>;
      format: { duration: string };
    };
    assert.equal(probe.streams[0]?.codec_name, 'hevc');
    assert.ok(Math.abs(Number(probe.format.duration) - 4) <= 2, `export lasts ${probe.format.duration} s`);
    const decoded = await execFileAsync(FFMPEG, ['-v', 'error', '-i', file, '-f', 'null', '-']);
    assert.equal(decoded.stderr.trim(), '');
    const vod = await execFileAsync(FFMPEG, [
      '-v',
      'error',
      // The HLS demuxer sends the API token with the playlist and every part.
      '-headers',
      `Authorization: Bearer ${vigil?.token}\r\n`,
      '-i',
      `${url}/api/cameras/hevc/vod.m3u8?from=${fromMs}&to=${toMs}`,
      '-f',
      'null',
      '-',
    ]);
    assert.equal(vod.stderr.trim(), '');
  },
);
