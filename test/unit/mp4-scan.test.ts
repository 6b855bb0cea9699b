import assert from 'node:assert/strict';
import { appendFileSync, openSync, closeSync, ftruncateSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { VigilError } from '../../src/errors/catalogue.js';
import {
  fragmentTimeRange,
  gopParts,
  scanSegmentBuffer,
  scanSegmentFile,
  type ScannedFile,
  type TrackInfo,
} from '../../src/media/mp4/index.js';
import {
  makeRecording,
  splitStream,
  tempDir,
  writeSegment,
  type SplitStream,
} from '../helpers/fixtures-mp4.js';

let dir: ReturnType<typeof tempDir>;
let recording: string;
let stream: SplitStream;
let segment: string;

before(async () => {
  dir = tempDir();
  recording = await makeRecording(join(dir.path, 'rec.mp4'), { codec: 'h264', durationS: 6, audio: true });
  stream = splitStream(readFileSync(recording));
  segment = writeSegment(join(dir.path, 'segment.mp4'), stream, 0);
});

after(() => dir?.remove());

function isCorrupt(err: unknown): boolean {
  return err instanceof VigilError && err.code === 'MEDIA_CORRUPT';
}

function videoOf(scanned: ScannedFile): TrackInfo {
  return scanned.init.tracks.find((t) => t.kind === 'video') as TrackInfo;
}

test('a segment file: init, then fragments laid end to end', async () => {
  const scanned = await scanSegmentFile(segment);
  assert.equal(scanned.initByteLength, stream.init.length);
  assert.ok(scanned.init.bytes.equals(stream.init));
  assert.equal(scanned.fragments.length, stream.fragments.length);
  assert.equal(scanned.torn, false);
  assert.equal(scanned.validByteLength, scanned.fileByteLength);
  let offset = scanned.initByteLength;
  scanned.fragments.forEach((f, i) => {
    assert.equal(f.fileOffset, offset);
    assert.equal(f.byteLength, stream.fragments[i]?.length);
    offset += f.byteLength;
  });
  assert.equal(offset, scanned.fileByteLength);
  assert.equal(scanned.fragments[0]?.startsWithKeyframe, true);
  assert.deepEqual(
    scanSegmentBuffer(readFileSync(segment)),
    scanned,
    'the buffer scan agrees with the file scan',
  );
});

test("ffmpeg's own file ends with an mfra box: complete, so not torn", async () => {
  const scanned = await scanSegmentFile(recording);
  assert.equal(scanned.torn, false);
  assert.equal(scanned.validByteLength, scanned.fileByteLength);
  assert.equal(scanned.fragments.length, stream.fragments.length);
});

test('a torn tail: cut inside the last mdat, inside the last moof, or zeros after a crash', async () => {
  const whole = readFileSync(segment);
  const full = scanSegmentBuffer(whole);
  const last = full.fragments.at(-1);
  assert.ok(last);
  const previousEnd = last.fileOffset;
  const cuts = {
    'inside the last mdat':
      last.fileOffset + last.moofByteLength + Math.floor((last.byteLength - last.moofByteLength) / 2),
    'inside the last mdat header': last.fileOffset + last.moofByteLength + 4,
    'inside the last moof': last.fileOffset + 20,
    'just after the last moof': last.fileOffset + last.moofByteLength,
  };
  for (const [name, cut] of Object.entries(cuts)) {
    const path = join(dir.path, 'torn.mp4');
    writeFileSync(path, whole.subarray(0, cut));
    const scanned = await scanSegmentFile(path);
    assert.equal(scanned.torn, true, name);
    assert.equal(scanned.validByteLength, previousEnd, name);
    assert.equal(scanned.fileByteLength, cut, name);
    assert.equal(scanned.fragments.length, full.fragments.length - 1, name);
  }

  // After a power cut a file system may keep the new length but not the data: zeros.
  const zeros = join(dir.path, 'zeros.mp4');
  writeFileSync(zeros, whole);
  appendFileSync(zeros, Buffer.alloc(5000));
  const scanned = await scanSegmentFile(zeros);
  assert.equal(scanned.torn, true);
  assert.equal(scanned.validByteLength, whole.length);
  assert.equal(scanned.fragments.length, full.fragments.length);

  const garbage = Buffer.concat([whole, Buffer.from('\x00\x00\x00\x10\x01\x02\x03\x04garbage!')]);
  assert.equal(scanSegmentBuffer(garbage).validByteLength, whole.length);
});

test('without a complete init there is nothing to read: MEDIA_CORRUPT', async () => {
  const whole = readFileSync(segment);
  assert.throws(() => scanSegmentBuffer(Buffer.alloc(0)), /empty/);
  assert.throws(() => scanSegmentBuffer(whole.subarray(0, stream.init.length - 1)), /no complete init/);
  assert.throws(() => scanSegmentBuffer(Buffer.concat(stream.fragments)), /before any moov/);
  assert.throws(() => scanSegmentBuffer(Buffer.alloc(100)), isCorrupt);
  await assert.rejects(scanSegmentFile(join(dir.path, 'missing.mp4')), /ENOENT/);
  // Only the init: valid, just empty.
  const initOnly = scanSegmentBuffer(stream.init);
  assert.equal(initOnly.fragments.length, 0);
  assert.equal(initOnly.torn, false);
});

test('scanning skips mdat payloads: a fragment with a 1 GiB mdat is scanned without reading it', async () => {
  const path = join(dir.path, 'sparse.mp4');
  const whole = readFileSync(segment);
  const last = scanSegmentBuffer(whole).fragments.at(-1);
  assert.ok(last);
  const patched = Buffer.from(whole);
  const mdatAt = last.fileOffset + last.moofByteLength;
  const grownByteLength = last.byteLength - last.moofByteLength + 2 ** 30;
  patched.writeUInt32BE(grownByteLength, mdatAt);
  writeFileSync(path, patched);
  const fd = openSync(path, 'r+');
  ftruncateSync(fd, mdatAt + grownByteLength); // sparse: no disk space used
  closeSync(fd);
  const rssBefore = process.memoryUsage().rss;
  const started = Date.now();
  const scanned = await scanSegmentFile(path);
  assert.ok(Date.now() - started < 2000, 'no time spent reading the payload');
  assert.ok(process.memoryUsage().rss - rssBefore < 200 * 1024 * 1024, 'the payload was not loaded');
  assert.equal(scanned.torn, false);
  assert.equal(scanned.fragments.at(-1)?.byteLength, last.moofByteLength + grownByteLength);
});

test('gopParts: one part per GOP, each from a keyframe fragment to the next', async () => {
  const scanned = await scanSegmentFile(segment);
  const video = videoOf(scanned);
  const parts = gopParts(scanned);
  // 6 s, a keyframe every 2 s, fragments of 1 s: 3 parts of 2 fragments (the last may hold a trailing audio-only fragment).
  assert.equal(parts.length, 3);
  assert.deepEqual(
    parts.map((p) => [p.startTicks, p.durationTicks, p.startsWithKeyframe]),
    [
      [0, 20480, true],
      [20480, 20480, true],
      [40960, 20480, true],
    ],
  );
  let offset = scanned.initByteLength;
  for (const part of parts) {
    assert.equal(part.offset, offset);
    assert.equal(part.length, part.byteLength);
    const fragment = scanned.fragments.find((f) => f.fileOffset === part.offset);
    assert.equal(fragment?.startsWithKeyframe, true);
    offset += part.length;
  }
  assert.equal(offset, scanned.validByteLength);

  const first = scanned.fragments[0];
  assert.ok(first);
  // 100 ms fragments: one frame of 10 fps video (timescale 10240) each.
  assert.deepEqual(fragmentTimeRange(first, video), { startTicks: 0, endTicks: 1024 });
  assert.deepEqual(fragmentTimeRange(first, video.trackId), { startTicks: 0, endTicks: 1024 });
  assert.equal(fragmentTimeRange(first, 99), null);
});

test('gopParts: fragments before the first keyframe form a part that says it cannot start playback', () => {
  const scanned = scanSegmentBuffer(Buffer.concat([stream.init, ...stream.fragments.slice(1)]));
  const parts = gopParts(scanned);
  assert.equal(parts[0]?.startsWithKeyframe, false);
  assert.equal(parts[0]?.startTicks, 1024);
  assert.ok(parts.slice(1).every((p) => p.startsWithKeyframe));
});
