import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { FRAGMENTED_MP4_FORMAT } from '../../src/ingest/ffmpeg-args.js';
import { scanSegmentFile } from '../../src/media/mp4/index.js';
import { segmentPath } from '../../src/storage/layout.js';
import { openDatabase } from '../../src/storage/db.js';
import { fsck } from '../../src/storage/fsck.js';
import { recoverStorage } from '../../src/storage/recovery.js';
import { SegmentIndex } from '../../src/storage/segment-index.js';
import { tempDir } from '../helpers/vigil.js';
import pino from 'pino';
import { FFMPEG } from '../helpers/media-tools.js';

const execFileAsync = promisify(execFile);
const T0 = Date.UTC(2026, 10, 26, 10);

/** A real 4 s segment file as the recorder writes it (fragmented MP4, 1 s fragments). */
async function makeSegmentFile(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  await execFileAsync(FFMPEG, [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=10:duration=4',
    '-c:v',
    'libx264',
    '-g',
    '20',
    '-pix_fmt',
    'yuv420p',
    ...FRAGMENTED_MP4_FORMAT,
    '-y',
    path,
  ]);
}

async function addSegment(index: SegmentIndex, root: string, startTimeMs: number, state: 'open' | 'closed') {
  const path = segmentPath('cam1', 'main', startTimeMs);
  await makeSegmentFile(join(root, path));
  const scanned = await scanSegmentFile(join(root, path));
  const id = await index.insertOpen({
    cameraId: 'cam1',
    stream: 'main',
    timelineId: 1,
    startTimeMs,
    codec: 'h264',
    width: 320,
    height: 240,
    timescale: scanned.init.tracks[0]!.timescale,
    startTicks: 0,
    path,
  });
  if (state === 'closed') {
    await index.close(id, {
      startTimeMs,
      endTimeMs: startTimeMs + 4000,
      byteLength: scanned.validByteLength,
      frameCount: 40,
      keyframeCount: 2,
    });
  }
  return { id, path };
}

test(
  'fsck finds missing, orphan, torn and open segments; --repair fixes them; recovery closes open ones',
  { timeout: 60_000 },
  async () => {
    const root = tempDir();
    const db = await openDatabase(join(root, 'index.sqlite'));
    const index = new SegmentIndex(db);
    const clean = await addSegment(index, root, T0, 'closed');
    const missing = await addSegment(index, root, T0 + 4000, 'closed');
    const torn = await addSegment(index, root, T0 + 8000, 'closed');
    const open = await addSegment(index, root, T0 + 12_000, 'open');
    unlinkSync(join(root, missing.path));
    appendFileSync(join(root, torn.path), Buffer.from('moof-that-never-finished'));
    const orphanPath = segmentPath('cam1', 'main', T0 + 99_000);
    copyFileSync(join(root, clean.path), join(root, orphanPath));

    const report = await fsck(index, root, { repair: false, nowMs: T0 + 60_000 });
    const kinds = Object.fromEntries(report.problems.map((p) => [p.path, p.kind]));
    assert.deepEqual(kinds, {
      [missing.path]: 'missing-file',
      [torn.path]: 'torn-segment',
      [open.path]: 'open-segment',
      [orphanPath]: 'orphan-file',
    });
    assert.ok(report.problems.every((p) => !p.repaired));

    const repaired = await fsck(index, root, { repair: true, nowMs: T0 + 60_000 });
    assert.ok(
      repaired.problems.every((p) => p.repaired),
      JSON.stringify(repaired.problems),
    );
    assert.ok(existsSync(join(root, 'lost+found', orphanPath)), 'orphans go to lost+found, never deleted');
    const openRow = await index.get(open.id);
    assert.equal(openRow?.state, 'closed');
    assert.equal(openRow?.frame_count, 40);
    assert.equal(openRow?.end_time_ms, T0 + 12_000 + 4000);
    assert.equal(statSync(join(root, torn.path)).size, (await index.get(torn.id))?.byte_length);

    const again = await fsck(index, root, { repair: false, nowMs: T0 + 60_000 });
    assert.deepEqual(again.problems, []);

    // Start-up recovery cuts a torn open segment back to its last complete fragment.
    const crashed = await addSegment(index, root, T0 + 20_000, 'open');
    const fullLength = statSync(join(root, crashed.path)).size;
    appendFileSync(join(root, crashed.path), Buffer.alloc(5000, 7));
    const outcome = await recoverStorage(index, root, T0 + 60_000, pino({ level: 'silent' }));
    assert.equal(outcome.truncated, 1);
    assert.equal(statSync(join(root, crashed.path)).size, fullLength);
    assert.deepEqual((await fsck(index, root, { repair: false, nowMs: T0 + 60_000 })).problems, []);
    await db.destroy();
  },
);
