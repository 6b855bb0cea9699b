import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { scanSegmentBuffer } from '../../../src/media/mp4/index.js';
import { BoundedByteCache } from '../../../src/privacy/masked-video/bounded-cache.js';
import {
  decodeTimeShifts,
  firstPresentationTicks,
  shiftDecodeTimes,
} from '../../../src/privacy/masked-video/decode-times.js';
import { Fmp4Reader } from '../../../src/privacy/masked-video/fmp4-reader.js';
import {
  maskKey,
  maskedLiveArgs,
  maskedPartArgs,
  MASK_PICTURE_FD,
} from '../../../src/privacy/masked-video/mask-args.js';
import { partKey } from '../../../src/privacy/masked-video/masked-playback.js';
import { cpuPercent, cpuTicksFromProcStat, readProcessCpuSeconds } from '../../../src/media/process-cpu.js';
import type { MaskPolygon } from '../../../src/privacy/mask-overlay.js';
import { makeRecording, tempDir } from '../../helpers/fixtures-mp4.js';

const SQUARE: MaskPolygon = [
  [0.1, 0.1],
  [0.4, 0.1],
  [0.4, 0.4],
  [0.1, 0.4],
];
const STRIP: MaskPolygon = [
  [0, 0.9],
  [1, 0.9],
  [1, 1],
];

describe('maskKey', () => {
  test('equal sets in any order share a key; other polygons do not', () => {
    assert.equal(maskKey([SQUARE, STRIP]), maskKey([STRIP, SQUARE]));
    assert.notEqual(maskKey([SQUARE]), maskKey([SQUARE, STRIP]));
    assert.notEqual(maskKey([SQUARE]), maskKey([[...SQUARE.slice(0, 3), [0.1, 0.41]]]));
    assert.match(maskKey([SQUARE]), /^[0-9a-f]{16}$/);
  });

  test('polygons that cannot cover anything (under three points) do not change it', () => {
    assert.equal(maskKey([SQUARE, [[0, 0]]]), maskKey([SQUARE]));
  });
});

describe('partKey', () => {
  test('one cache entry per segment, byte range and mask set', () => {
    const key = partKey({ id: 7 }, 100, 200, [SQUARE, STRIP]);
    assert.equal(partKey({ id: 7 }, 100, 200, [STRIP, SQUARE]), key);
    assert.notEqual(partKey({ id: 8 }, 100, 200, [SQUARE, STRIP]), key);
    assert.notEqual(partKey({ id: 7 }, 100, 201, [SQUARE, STRIP]), key);
    assert.notEqual(partKey({ id: 7 }, 100, 200, [SQUARE]), key);
  });
});

describe('masking ffmpeg arguments', () => {
  test('live: the mask picture from fd 3 over the video, keyframes where the camera put them', () => {
    const args = maskedLiveArgs({ sourceKbps: 2000, ffmpegMajor: 6 });
    assert.ok(args.includes(`pipe:${MASK_PICTURE_FD}`));
    assert.ok(args.some((a) => a.includes('overlay=eof_action=repeat')));
    assert.deepEqual(args.slice(args.indexOf('-force_key_frames'), args.indexOf('-force_key_frames') + 2), [
      '-force_key_frames',
      'source',
    ]);
    assert.deepEqual(args.slice(args.indexOf('-maxrate'), args.indexOf('-maxrate') + 4), [
      '-maxrate',
      '2400k',
      '-bufsize',
      '4000k',
    ]);
    assert.ok(args.includes('zerolatency'));
    assert.equal(args.at(-1), 'pipe:1');
    // Only pipes: a mask input cannot be turned into a way to read files.
    assert.ok(!args.some((a) => /file/.test(a)));
  });

  test('live without a known bitrate has no cap; ffmpeg 4 gets -vsync', () => {
    const args = maskedLiveArgs({ sourceKbps: null, ffmpegMajor: 4 });
    assert.ok(!args.includes('-maxrate'));
    assert.ok(args.includes('-vsync') && !args.includes('-fps_mode'));
  });

  test("parts keep the recording's timescale", () => {
    const args = maskedPartArgs({ timescale: 90000, ffmpegMajor: 6 });
    assert.equal(args[args.indexOf('-video_track_timescale') + 1], '90000');
  });
});

describe('CPU of a process', () => {
  test('utime + stime from /proc/<pid>/stat, even with spaces and parentheses in the name', () => {
    const line = '4242 (ffm (peg) x) S 1 4242 4242 0 -1 4194304 500 0 0 0 1234 56 0 0 20 0 3 0 100 0 0';
    assert.equal(cpuTicksFromProcStat(line), 1290);
    assert.equal(cpuTicksFromProcStat('garbage'), null);
  });

  test('percent of one core between two readings', () => {
    assert.equal(cpuPercent({ ticks: 100, atMs: 0 }, { ticks: 150, atMs: 1000 }), 50);
    assert.equal(cpuPercent({ ticks: 100, atMs: 1000 }, { ticks: 150, atMs: 1000 }), null);
  });

  test('read from the running system for this process; null for one that is gone', async () => {
    let x = 0;
    for (let i = 0; i < 5e6; i++) x += i;
    assert.ok(x > 0);
    const seconds = await readProcessCpuSeconds(process.pid);
    assert.ok(seconds !== null && seconds > 0);
    assert.equal(await readProcessCpuSeconds(2 ** 22 + 1), null);
  });
});

describe('BoundedByteCache', () => {
  test('keeps the most recently used entries within its byte budget', () => {
    const cache = new BoundedByteCache(10);
    cache.set('a', Buffer.alloc(4));
    cache.set('b', Buffer.alloc(4));
    assert.ok(cache.get('a'));
    cache.set('c', Buffer.alloc(4));
    assert.equal(cache.get('b'), undefined, 'the least recently used goes');
    assert.ok(cache.get('a') && cache.get('c'));
    assert.equal(cache.byteLength, 8);
    cache.set('huge', Buffer.alloc(11));
    assert.equal(cache.get('huge'), undefined, 'bigger than the budget: not kept');
  });

  test('callers asking at once share one computation; a failure is not kept', async () => {
    const cache = new BoundedByteCache(100);
    let runs = 0;
    const compute = async () => {
      runs += 1;
      return Buffer.from('x');
    };
    await Promise.all([cache.getOrCompute('k', compute), cache.getOrCompute('k', compute)]);
    assert.equal(runs, 1);
    await assert.rejects(cache.getOrCompute('bad', () => Promise.reject(new Error('no'))));
    assert.equal((await cache.getOrCompute('bad', compute)).toString(), 'x');
  });
});

describe('re-encoded pieces on the recording timeline', () => {
  const dir = tempDir();
  let bytes: Buffer;
  before(async () => {
    bytes = await readFile(
      await makeRecording(join(dir.path, 'rec.mp4'), { codec: 'h264', durationS: 4, audio: true }),
    );
  });
  after(() => dir.remove());

  test('Fmp4Reader cuts chunked output into the init and the same fragments a scan finds', () => {
    const reader = new Fmp4Reader();
    const events = [];
    for (let at = 0; at < bytes.length; at += 1000)
      events.push(...reader.push(bytes.subarray(at, at + 1000)));
    const scanned = scanSegmentBuffer(bytes);
    assert.equal(events[0]?.kind, 'init');
    const fragments = events.filter((e) => e.kind === 'fragment');
    assert.equal(fragments.length, scanned.fragments.length);
    assert.deepEqual(
      fragments.map((f) => (f.kind === 'fragment' ? f.parsed.tracks.map((t) => t.baseDecodeTime) : [])),
      scanned.fragments.map((f) => f.tracks.map((t) => t.baseDecodeTime)),
    );
  });

  test('every track moves by its own shift; the samples stay as they were', () => {
    const copy = Buffer.from(bytes);
    const scanned = scanSegmentBuffer(copy);
    const before = firstPresentationTicks(scanned.init, scanned.fragments);
    const target = new Map(
      [...before].map(([kind, ticks]) => [kind, ticks + (kind === 'video' ? 90_000 : 48_000)]),
    );
    const shifts = decodeTimeShifts(target, scanned.init, before);
    shiftDecodeTimes(copy, scanned.fragments, shifts);
    const after = scanSegmentBuffer(copy);
    assert.deepEqual(firstPresentationTicks(after.init, after.fragments), target);
    const sizes = (s: typeof scanned) =>
      s.fragments.flatMap((f) => f.tracks.flatMap((t) => t.samples.map((x) => x.size)));
    assert.deepEqual(sizes(after), sizes(scanned));
  });
});
