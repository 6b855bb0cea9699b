import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { FFMPEG, FFPROBE } from '../helpers/media-tools.js';
import { startTestVigil, tempDir, type TestVigil } from '../helpers/vigil.js';
import { assertOrderedWithoutOverlap, faultScale } from './fault-helpers.js';

const run = promisify(execFile);

/**
 * A camera that changes resolution mid-stream (a user changes the encoder settings, or the
 * camera switches profile at night): new parameter sets arrive in-band, the SDP still describes
 * the old ones. Recording must go on, and every recorded frame must decode.
 */

const RECORD_MS = faultScale(35_000, 180_000);

const PART_MS = 8000;

/**
 * 8 s at 640x360 and 8 s at 320x240 by turns, as one MPEG-TS stream longer than the recording:
 * the server loops a file by seeking back to its start, and the seam of that loop (not a camera's
 * behaviour) cuts the B-frames at the end of the file from their references.
 */
async function footageThatChangesSize(dir: string): Promise<string> {
  const part = async (size: string) => {
    const path = join(dir, `${size}.ts`);
    await run(FFMPEG, [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi'],
      ...['-i', `testsrc2=size=${size}:rate=10:duration=${PART_MS / 1000}`],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-g', '10', '-keyint_min', '10', '-sc_threshold', '0'],
      ...['-bsf:v', 'h264_mp4toannexb', '-f', 'mpegts', path],
    ]);
    return path;
  };
  const sizes = [await part('640x360'), await part('320x240')];
  const partCount = Math.ceil(RECORD_MS / PART_MS) + 4;
  const list = join(dir, 'parts.txt');
  writeFileSync(list, Array.from({ length: partCount }, (_, i) => `file '${sizes[i % 2]}'\n`).join(''));
  // Joined by the concat demuxer, so the timestamps run on across each change as a camera's do
  // (files laid end to end would jump back to the start at every change).
  const path = join(dir, 'changes-size.ts');
  await run(FFMPEG, [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'concat', '-safe', '0'],
    ...['-i', list, '-c', 'copy', '-f', 'mpegts', path],
  ]);
  return path;
}

describe('a camera changing resolution mid-stream', { timeout: 120_000 + RECORD_MS }, () => {
  let cameras: TestCameras;
  let vigil: TestVigil;

  before(async () => {
    const footage = await footageThatChangesSize(tempDir('vigil-fault-size-'));
    // Our RTSP server: it serves any file ffmpeg reads, here a stream whose size changes.
    cameras = await startCameras({ count: 1, kind: 'mini', footage: { main: footage, sub: footage } });
    vigil = await startTestVigil(`
storage: { path: ./data, minFreeBytes: 1MB }
recording: { segmentDurationMs: 2000 }
cameras:
  - id: cam1
    streams: { main: { url: "${cameras.urls(1).main}" } }
`);
  });

  after(async () => {
    await vigil?.close();
    await cameras?.stop();
  });

  const rows = async () =>
    (await vigil.index.all()).filter((s) => s.camera_id === 'cam1' && s.state === 'closed');

  test('recording goes on across the changes, without overlaps, with frames of both sizes', async (t) => {
    await new Promise((r) => setTimeout(r, RECORD_MS));
    const segments = await rows();
    assertOrderedWithoutOverlap(
      segments.map((s) => ({
        id: s.id,
        startTimeMs: s.start_time_ms,
        endTimeMs: s.end_time_ms,
        state: s.state,
      })),
      'cam1',
    );
    const recordedMs = segments.reduce((sum, s) => sum + (s.end_time_ms - s.start_time_ms), 0);
    assert.ok(recordedMs >= RECORD_MS * 0.8, `recorded ${recordedMs} ms of ${RECORD_MS} ms`);
    const frameSizes = new Map<string, number>();
    for (const segment of segments) {
      for (const size of (await frames(segment.path)).sizes)
        frameSizes.set(size, (frameSizes.get(size) ?? 0) + 1);
    }
    assert.ok(frameSizes.has('640,360') && frameSizes.has('320,240'), JSON.stringify([...frameSizes]));
    t.diagnostic(
      `${segments.length} segments, ${recordedMs} ms; frames ${JSON.stringify(Object.fromEntries(frameSizes))}`,
    );
  });

  // The SDP describes the first parameter sets only: the keyframe that brings new ones starts a
  // new segment with a new init, so no segment holds frames of two sizes.
  test('every segment decodes without errors, at the size its row gives', async () => {
    for (const segment of await rows()) {
      const decoded = await frames(segment.path);
      assert.equal(decoded.errors, '', `segment ${segment.id} decodes without errors`);
      for (const size of decoded.sizes) assert.equal(size, `${segment.width},${segment.height}`);
    }
  });

  /** Every frame's decoded size, and the decoder's complaints. */
  async function frames(path: string): Promise<{ sizes: string[]; errors: string }> {
    const probed = await run(FFPROBE, [
      ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=width,height'],
      ...['-of', 'csv=p=0', join(vigil.dir, 'data', path)],
    ]);
    // A frame with side data (e.g. new parameter sets) gets an empty third column: width and height only.
    const sizes = probed.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(',').slice(0, 2).join(','));
    return { sizes, errors: probed.stderr.trim() };
  }
});
