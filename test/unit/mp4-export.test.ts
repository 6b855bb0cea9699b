import assert from 'node:assert/strict';
import { closeSync, createWriteStream, ftruncateSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, test } from 'node:test';
import { VigilError } from '../../src/errors/catalogue.js';
import {
  boxPayload,
  buildProgressiveMp4,
  findChildren,
  findPath,
  readBoxHeader,
  scanSegmentFile,
  type BoxHeader,
  type ExportPiece,
  type Fragment,
  type Sample,
  type ScannedFile,
  type VirtualMp4,
} from '../../src/media/mp4/index.js';
import {
  countFrames,
  ffmpeg,
  ffprobeJson,
  footage,
  NO_REAL_FOOTAGE,
  makeRecording,
  readSplit,
  remuxRecording,
  tempDir,
  keyframeFragmentAtSecond,
  writeSegment,
} from '../helpers/fixtures-mp4.js';

let dir: ReturnType<typeof tempDir>;
/**
 * Timeline A (8 s) recorded as two 4 s segments; B (4 s) with another picture size and video
 * timescale; C (3 s) with 44.1 kHz audio; D (2 s) without audio; N (2 s) without B-frames;
 * and H.265 in two segments.
 */
const seg = { a1: '', a2: '', b: '', c: '', d: '', n: '', h265a: '', h265b: '' };

before(async () => {
  dir = tempDir();
  const [a, b, c, d, n, h265] = await Promise.all([
    makeRecording(join(dir.path, 'a.mp4'), { codec: 'h264', durationS: 8, audio: true }),
    makeRecording(join(dir.path, 'b.mp4'), {
      codec: 'h264',
      durationS: 4,
      audio: true,
      source: 'testsrc',
      size: '352x288',
      videoTimescale: 90000,
    }),
    makeRecording(join(dir.path, 'c.mp4'), {
      codec: 'h264',
      durationS: 3,
      audio: true,
      audioSampleRate: 44100,
    }),
    makeRecording(join(dir.path, 'd.mp4'), { codec: 'h264', durationS: 2 }),
    makeRecording(join(dir.path, 'n.mp4'), { codec: 'h264', durationS: 2, audio: true, bframes: 0 }),
    makeRecording(join(dir.path, 'h265.mp4'), { codec: 'h265', durationS: 4 }),
  ]);
  const streamA = readSplit(a);
  seg.a1 = writeSegment(join(dir.path, 'a1.mp4'), streamA, 0, keyframeFragmentAtSecond(streamA, 4));
  seg.a2 = writeSegment(join(dir.path, 'a2.mp4'), streamA, keyframeFragmentAtSecond(streamA, 4));
  seg.b = writeSegment(join(dir.path, 'b1.mp4'), readSplit(b), 0);
  seg.c = writeSegment(join(dir.path, 'c1.mp4'), readSplit(c), 0);
  seg.d = writeSegment(join(dir.path, 'd1.mp4'), readSplit(d), 0);
  seg.n = writeSegment(join(dir.path, 'n1.mp4'), readSplit(n), 0);
  const streamH265 = readSplit(h265);
  // x265's second keyframe is decoded at 1.9 s (shown at 2.2 s).
  seg.h265a = writeSegment(
    join(dir.path, 'h265a.mp4'),
    streamH265,
    0,
    keyframeFragmentAtSecond(streamH265, 1.5),
  );
  seg.h265b = writeSegment(
    join(dir.path, 'h265b.mp4'),
    streamH265,
    keyframeFragmentAtSecond(streamH265, 1.5),
  );
});

after(() => dir?.remove());

async function piece(path: string, trim: { startS?: number; endS?: number } = {}): Promise<ExportPiece> {
  const scanned = await scanSegmentFile(path);
  const video = scanned.init.tracks.find((t) => t.kind === 'video');
  assert.ok(video);
  // Trims are decode times of the piece's own timeline: these segments' first frame is at `base`.
  const base = scanned.fragments[0]?.tracks.find((t) => t.trackId === video.trackId)?.baseDecodeTime ?? 0;
  return {
    path,
    scanned,
    ...(trim.startS !== undefined ? { startTicks: base + Math.round(trim.startS * video.timescale) } : {}),
    ...(trim.endS !== undefined ? { endTicks: base + Math.round(trim.endS * video.timescale) } : {}),
  };
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function writeExport(mp4: VirtualMp4, name: string): Promise<string> {
  const path = join(dir.path, name);
  await pipeline(mp4.createReadStream(0, mp4.byteLength - 1), createWriteStream(path));
  return path;
}

async function assertDecodesCleanly(path: string): Promise<void> {
  const { stderr } = await ffmpeg(['-v', 'error', '-i', path, '-f', 'null', '-']);
  assert.equal(stderr.trim(), '', `ffmpeg decodes ${path} without errors`);
}

interface Probed {
  format: { duration: string; format_name: string };
  streams: Array<{ codec_type: string; duration: string; width?: number; height?: number }>;
}

async function probe(path: string): Promise<Probed> {
  return ffprobeJson<Probed>(path, [
    '-show_entries',
    'format=duration,format_name:stream=codec_type,duration,width,height',
  ]);
}

/**
 * Maps every output packet back to the stored sample it came from (through the export's byte
 * ranges) and checks timing: within a piece, each track's output presentation time is the source
 * presentation time plus one constant, and audio's constant equals video's (to within half an
 * AAC frame, the most the alignment may shift audio). Returns the per-piece shifts.
 */
async function assertInSync(
  outPath: string,
  mp4: VirtualMp4,
  pieces: readonly ExportPiece[],
): Promise<number[]> {
  const sources = new Map<string, { sample: Sample; timescale: number; pieceIndex: number }>();
  pieces.forEach((p, pieceIndex) => {
    for (const fragment of p.scanned.fragments) {
      for (const run of fragment.tracks) {
        const track = p.scanned.init.tracks.find((t) => t.trackId === run.trackId);
        if (!track) continue;
        for (const sample of run.samples) {
          sources.set(`${p.path}:${sample.fileOffset}`, { sample, timescale: track.timescale, pieceIndex });
        }
      }
    }
  });
  const rangeStarts: number[] = [];
  let position = mp4.header.length;
  for (const r of mp4.ranges) {
    rangeStarts.push(position);
    position += r.length;
  }
  const sourceOf = (pos: number) => {
    let i = rangeStarts.length - 1;
    while (i > 0 && (rangeStarts[i] as number) > pos) i -= 1;
    const range = mp4.ranges[i];
    assert.ok(range);
    const found = sources.get(`${range.path}:${range.offset + pos - (rangeStarts[i] as number)}`);
    assert.ok(found, `output byte ${pos} starts a stored sample`);
    return found;
  };
  const shifts: Record<'video' | 'audio', Array<{ min: number; max: number }>> = { video: [], audio: [] };
  for (const kind of ['video', 'audio'] as const) {
    const out = await ffprobeJson<{ packets: Array<{ pts_time: string; pos: string }> }>(outPath, [
      '-select_streams',
      kind === 'video' ? 'v:0' : 'a:0',
      '-show_entries',
      'packet=pts_time,pos',
    ]);
    for (const packet of out.packets) {
      const { sample, timescale, pieceIndex } = sourceOf(Number(packet.pos));
      const shift = Number(packet.pts_time) - (sample.decodeTime + sample.compositionOffsetTicks) / timescale;
      const s = (shifts[kind][pieceIndex] ??= { min: shift, max: shift });
      s.min = Math.min(s.min, shift);
      s.max = Math.max(s.max, shift);
    }
  }
  const videoShifts: number[] = [];
  shifts.video.forEach((v, i) => {
    assert.ok(v.max - v.min < 0.002, `piece ${i}: video shift is constant (${v.min}…${v.max})`);
    const a = shifts.audio[i];
    if (a) {
      assert.ok(a.max - a.min < 0.002, `piece ${i}: audio shift is constant (${a.min}…${a.max})`);
      assert.ok(
        Math.abs(a.min - v.min) <= 1024 / 48000 / 2 + 0.002,
        `piece ${i}: audio ${a.min} vs video ${v.min}`,
      );
    }
    videoShifts.push(v.min);
  });
  return videoShifts;
}

function videoSampleCount(p: ExportPiece): number {
  const video = p.scanned.init.tracks.find((t) => t.kind === 'video');
  return p.scanned.fragments.reduce(
    (n, f) => n + (f.tracks.find((t) => t.trackId === video?.trackId)?.samples.length ?? 0),
    0,
  );
}

test('two segments of one timeline, trimmed at both ends, with audio', async () => {
  // Keyframes every 2 s: a start at 2.5 s begins at the keyframe at 2.0 s; the 54 frames decoded
  // before 7.35 s end it, less a reference frame whose B-frames fall after the cut.
  const pieces = [await piece(seg.a1, { startS: 2.5 }), await piece(seg.a2, { endS: 3.35 })];
  const mp4 = buildProgressiveMp4(pieces);
  const path = await writeExport(mp4, 'trimmed.mp4');
  assert.equal(readFileSync(path).length, mp4.byteLength);
  assert.ok(readFileSync(path).subarray(0, mp4.header.length).equals(mp4.header));

  const frameCount = mp4.tracks[0]?.sampleCount ?? 0;
  assert.equal(mp4.tracks[0]?.kind, 'video');
  assert.ok(frameCount >= 52 && frameCount <= 54, `${frameCount} frames`);
  const frames = await ffprobeJson<{ frames: Array<{ pts: number }> }>(path, [
    '-select_streams',
    'v:0',
    '-show_entries',
    'frame=pts',
  ]);
  assert.deepEqual(
    frames.frames.map((f) => f.pts),
    Array.from({ length: frameCount }, (_, i) => i * 1024),
    'every frame decodes, shown from 0 in steps of one frame, with no hole at the end',
  );
  const info = await probe(path);
  assert.match(info.format.format_name, /mp4/);
  const durationS = Number(info.format.duration);
  const requestedS = 7.35 - 2.5;
  assert.ok(
    Math.abs(durationS - requestedS) <= 2,
    `duration ${durationS} s within one GOP of ${requestedS} s`,
  );
  assert.ok(Math.abs(durationS - frameCount / 10) < 0.025, `${frameCount} frames of 0.1 s: ${durationS} s`);
  assert.ok(Math.abs(mp4.durationMs / 1000 - durationS) < 0.01);
  const audio = info.streams.find((s) => s.codec_type === 'audio');
  assert.ok(audio, 'audio is kept');
  // Within one AAC frame (21 ms) of the video.
  assert.ok(Math.abs(Number(audio.duration) - frameCount / 10) < 0.025, `audio ${audio.duration} s`);
  await assertDecodesCleanly(path);
  const shifts = await assertInSync(path, mp4, pieces);
  // One timeline: the second piece continues the first without a jump.
  assert.ok(Math.abs((shifts[0] as number) - (shifts[1] as number)) < 0.001);
  assert.ok(
    Math.abs((shifts[0] as number) + 2.2) < 0.001,
    'the keyframe shown at 2.2 s in the source is shown at 0',
  );
});

test('pieces from three timelines: unrelated decode times, timescales, picture sizes, audio rates', async () => {
  // a2 starts at decode time 4 s (second segment of its timeline); b at 0 with 90 kHz video and
  // 352x288; c at 0 with 44.1 kHz audio.
  const pieces = [await piece(seg.a2), await piece(seg.b), await piece(seg.c)];
  assert.equal(pieces[0]?.scanned.fragments[0]?.tracks[0]?.baseDecodeTime, 4 * 10240);
  assert.equal(pieces[1]?.scanned.init.tracks[0]?.timescale, 90000);
  assert.equal(pieces[2]?.scanned.init.tracks[1]?.timescale, 44100);
  const mp4 = buildProgressiveMp4(pieces);
  const path = await writeExport(mp4, 'timelines.mp4');
  const frames = pieces.reduce((n, p) => n + videoSampleCount(p), 0);
  const counts = await countFrames(path);
  assert.equal(Number(counts.find((s) => s.codec_type === 'video')?.nb_read_frames), frames);
  const info = await probe(path);
  assert.ok(Math.abs(Number(info.format.duration) - 11) < 0.05, `4 s + 4 s + 3 s: ${info.format.duration}`);
  await assertDecodesCleanly(path);
  const shifts = await assertInSync(path, mp4, pieces);
  // b's first frame (shown at 0.2 s in its timeline) follows a2's last, 4 s into the export.
  assert.ok(Math.abs((shifts[1] as number) - (4 - 0.2)) < 0.001, `shift of the second piece: ${shifts[1]}`);
  assert.ok(Math.abs((shifts[2] as number) - (8 - 0.2)) < 0.001, `shift of the third piece: ${shifts[2]}`);

  const bytes = readFileSync(path);
  const moov = readBoxHeader(bytes, readBoxHeader(bytes, 0)?.size ?? 0);
  assert.equal(moov?.type, 'moov');
  const [videoTrak, audioTrak] = findChildren(bytes, moov as BoxHeader, 'trak');
  assert.ok(videoTrak && audioTrak);
  const entries = (trak: BoxHeader) => {
    const stsd = findPath(bytes, trak, ['mdia', 'minf', 'stbl', 'stsd']) as BoxHeader;
    return boxPayload(bytes, stsd).readUInt32BE(4);
  };
  const timescale = (trak: BoxHeader) =>
    boxPayload(bytes, findPath(bytes, trak, ['mdia', 'mdhd']) as BoxHeader).readUInt32BE(12);
  assert.equal(entries(videoTrak), 2, 'two picture sizes (a and c share one): two video sample descriptions');
  assert.equal(entries(audioTrak), 2, 'two audio rates: two audio sample descriptions');
  assert.equal(timescale(videoTrak), 10240, 'rescaled to the first piece’s timescale');
  assert.equal(timescale(audioTrak), 48000, 'rescaled to the first piece’s timescale');
  assert.ok(findPath(bytes, videoTrak, ['edts', 'elst']), 'B-frame delay removed by an edit list');
  assert.ok(findPath(bytes, videoTrak, ['mdia', 'minf', 'stbl', 'ctts']));
  assert.ok(findPath(bytes, videoTrak, ['mdia', 'minf', 'stbl', 'stss']));
  assert.ok(findPath(bytes, videoTrak, ['mdia', 'minf', 'stbl', 'stco']), 'small: 32-bit chunk offsets');
});

test('audio that appears only in a later piece starts there, after an empty edit', async () => {
  const pieces = [await piece(seg.d), await piece(seg.a1)];
  assert.equal(pieces[0]?.scanned.init.tracks.length, 1);
  const mp4 = buildProgressiveMp4(pieces);
  const path = await writeExport(mp4, 'late-audio.mp4');
  const info = await ffprobeJson<{ streams: Array<{ codec_type: string; start_time: string }> }>(path, [
    '-show_entries',
    'stream=codec_type,start_time',
  ]);
  const audioStartS = Number(info.streams.find((s) => s.codec_type === 'audio')?.start_time);
  assert.ok(Math.abs(audioStartS - 2) < 0.01, `audio starts with the second piece: ${audioStartS}`);
  await assertDecodesCleanly(path);
  await assertInSync(path, mp4, pieces);
});

test('pieces with different B-frame delays still show frames in order, without a jump', async () => {
  for (const order of [
    [seg.a2, seg.n],
    [seg.n, seg.a1],
  ]) {
    const pieces = [await piece(order[0] as string), await piece(order[1] as string)];
    const mp4 = buildProgressiveMp4(pieces);
    const path = await writeExport(mp4, 'delays.mp4');
    const frames = await ffprobeJson<{ frames: Array<{ pts: number }> }>(path, [
      '-select_streams',
      'v:0',
      '-show_entries',
      'frame=pts',
    ]);
    assert.equal(frames.frames.length, mp4.tracks[0]?.sampleCount, 'every frame decodes');
    const pts = frames.frames.map((f) => f.pts);
    // ffmpeg's first frames last a little longer (it stretches them to line up with audio), so only order and steps are checked.
    pts.slice(1).forEach((p, i) => {
      const step = p - (pts[i] as number);
      assert.ok(step >= 1024 && step <= 1300, `frame ${i + 1}: step ${step} after ${pts[i]}`);
    });
    await assertInSync(path, mp4, pieces);
    // ffmpeg's h264 *parser* ignores the second sample description's parameter sets and complains
    // (the decoder uses them and decodes every frame); anything else would be a real error.
    const { stderr } = await ffmpeg(['-v', 'error', '-i', path, '-f', 'null', '-']);
    const lines = stderr.split('\n').filter((l) => l.trim() && !/^\s*\[NULL @|Last message repeated/.test(l));
    assert.deepEqual(lines, []);
  }
});

test('H.265 export across two segments, and from an open-GOP keyframe', async () => {
  const pieces = [await piece(seg.h265a, { startS: 1 }), await piece(seg.h265b)];
  const mp4 = buildProgressiveMp4(pieces);
  const path = await writeExport(mp4, 'h265.mp4');
  const counts = await countFrames(path);
  assert.equal(Number(counts[0]?.nb_read_frames), mp4.tracks[0]?.sampleCount);
  assert.equal(mp4.tracks[0]?.codec, 'h265');
  assert.equal(mp4.tracks.length, 1, 'no audio track when no piece has audio');
  await assertDecodesCleanly(path);

  // x265 makes open GOPs: the second segment's keyframe is followed by frames shown before it,
  // which need the previous GOP. Exported on their own they are left out.
  const second = pieces[1] as ExportPiece;
  const samples = second.scanned.fragments.flatMap((f) => f.tracks[0]?.samples ?? []);
  const shownAt = (s: Sample) => s.decodeTime + s.compositionOffsetTicks;
  const leading = samples.filter((s) => shownAt(s) < shownAt(samples[0] as Sample)).length;
  assert.ok(leading > 0, 'the fixture has an open GOP');
  const alone = buildProgressiveMp4([second]);
  assert.equal(alone.tracks[0]?.sampleCount, samples.length - leading);
  const alonePath = await writeExport(alone, 'h265-alone.mp4');
  const { stderr } = await ffmpeg(['-v', 'warning', '-i', alonePath, '-f', 'null', '-']);
  assert.equal(stderr.trim(), '', 'no warnings: the edit list starts at a keyframe');
  assert.equal(Number((await countFrames(alonePath))[0]?.nb_read_frames), alone.tracks[0]?.sampleCount);
});

test('any byte range of the read stream equals the same slice of the whole file', async () => {
  const mp4 = buildProgressiveMp4([await piece(seg.a1, { startS: 1 }), await piece(seg.b)]);
  const whole = await collect(mp4.createReadStream(0, mp4.byteLength - 1));
  assert.equal(whole.length, mp4.byteLength);
  let seed = 7;
  const random = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const ranges: Array<[number, number]> = [
    [0, 0],
    [0, mp4.header.length - 1],
    [mp4.header.length - 3, mp4.header.length + 3],
    [mp4.byteLength - 1, mp4.byteLength - 1],
    [mp4.header.length, mp4.byteLength - 1],
  ];
  for (let i = 0; i < 40; i += 1) {
    const start = random(mp4.byteLength);
    ranges.push([start, Math.min(mp4.byteLength - 1, start + random(i % 2 ? 300 : 200_000))]);
  }
  for (const [start, end] of ranges) {
    const got = await collect(mp4.createReadStream(start, end));
    assert.ok(got.equals(whole.subarray(start, end + 1)), `bytes ${start}-${end}`);
  }
  const outside = (err: unknown) => err instanceof VigilError && err.code === 'RANGE_NOT_SATISFIABLE';
  assert.throws(() => mp4.createReadStream(0, mp4.byteLength), outside);
  assert.throws(() => mp4.createReadStream(10, 9), outside);
  assert.throws(() => mp4.createReadStream(-1, 9), outside);
});

test('the etag follows the content; nothing to export is NO_RECORDINGS', async () => {
  const a = buildProgressiveMp4([await piece(seg.a1)]);
  const again = buildProgressiveMp4([await piece(seg.a1)]);
  const trimmed = buildProgressiveMp4([await piece(seg.a1, { startS: 2 })]);
  assert.match(a.etag, /^"[\w-]+"$/);
  assert.equal(a.etag, again.etag);
  assert.notEqual(a.etag, trimmed.etag);
  const noRecordings = (err: unknown) => err instanceof VigilError && err.code === 'NO_RECORDINGS';
  assert.throws(() => buildProgressiveMp4([]), noRecordings);
  const empty = await piece(seg.a1, { startS: 1, endS: -1 });
  assert.throws(() => buildProgressiveMp4([empty]), noRecordings);
  // A piece whose window holds nothing is left out; the others still export.
  const some = buildProgressiveMp4([await piece(seg.a1, { startS: 100 }), await piece(seg.a2)]);
  assert.equal(some.tracks[0]?.sampleCount, 40);
});

test('exports beyond 4 GiB use co64 and a 64-bit mdat header, and stream from sparse files', async () => {
  // Two huge "frames" in a sparse file: the builder never reads sample data, the stream only what is asked.
  const source = await scanSegmentFile(seg.a1);
  const path = join(dir.path, 'huge.mp4');
  const GiB = 2 ** 30;
  const fd = openSync(path, 'w');
  ftruncateSync(fd, 6 * GiB);
  closeSync(fd);
  const frame = (fileOffset: number, size: number, decodeTime: number, index: number): Fragment => {
    const sample: Sample = {
      decodeTime,
      durationTicks: 1024,
      size,
      isSync: true,
      compositionOffsetTicks: 0,
      fileOffset,
    };
    return {
      fileOffset: fileOffset - 108,
      byteLength: size + 108,
      moofByteLength: 100,
      sequenceNumber: index,
      startsWithKeyframe: true,
      tracks: [{ trackId: 1, baseDecodeTime: decodeTime, sampleDescriptionIndex: 1, samples: [sample] }],
    };
  };
  const scanned: ScannedFile = {
    ...source,
    fragments: [frame(1000, 3 * GiB, 0, 1), frame(1000 + 3 * GiB + 108, 2 * GiB, 1024, 2)],
    validByteLength: 6 * GiB,
    fileByteLength: 6 * GiB,
  };
  const mp4 = buildProgressiveMp4([{ path, scanned }]);
  assert.equal(mp4.byteLength, mp4.header.length + 5 * GiB);
  const mdat = readBoxHeader(mp4.header, mp4.header.length - 16);
  assert.deepEqual(mdat, {
    type: 'mdat',
    start: mp4.header.length - 16,
    headerSize: 16,
    size: 5 * GiB + 16,
  });
  const moov = readBoxHeader(mp4.header, readBoxHeader(mp4.header, 0)?.size ?? 0);
  const co64 = findPath(mp4.header, moov ?? null, ['trak', 'mdia', 'minf', 'stbl', 'co64']);
  assert.ok(co64, 'co64, not stco');
  const offsets = boxPayload(mp4.header, co64);
  assert.equal(offsets.readUInt32BE(4), 2);
  assert.equal(Number(offsets.readBigUInt64BE(16)), mp4.header.length + 3 * GiB);
  const tail = await collect(mp4.createReadStream(mp4.byteLength - 10, mp4.byteLength - 1));
  assert.deepEqual([...tail], new Array(10).fill(0));
  const across = await collect(
    mp4.createReadStream(mp4.header.length + 3 * GiB - 5, mp4.header.length + 3 * GiB + 4),
  );
  assert.equal(across.length, 10);
});

for (const name of ['vtest-main.mp4', 'vtest-main-h265.mp4']) {
  const input = footage(name);
  test(
    `real footage ${name}: export across a segment boundary`,
    { skip: input ? false : NO_REAL_FOOTAGE },
    async () => {
      const recorded = await remuxRecording(input as string, join(dir.path, `real-${name}`), 6);
      const stream = readSplit(recorded);
      const first = writeSegment(join(dir.path, `real-1-${name}`), stream, 0, 2);
      const second = writeSegment(join(dir.path, `real-2-${name}`), stream, 2);
      const pieces = [await piece(first, { startS: 1 }), await piece(second, { endS: 2 })];
      const mp4 = buildProgressiveMp4(pieces);
      const path = await writeExport(mp4, `real-out-${name}`);
      const counts = await countFrames(path);
      assert.equal(Number(counts[0]?.nb_read_frames), mp4.tracks[0]?.sampleCount);
      const info = await probe(path);
      assert.equal(info.streams[0]?.width, 1280);
      await assertDecodesCleanly(path);
      await assertInSync(path, mp4, pieces);
    },
  );
}
