import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { VigilError } from '../../src/errors/catalogue.js';
import {
  parseFragment,
  parseInitSegment,
  scanSegmentFile,
  type InitSegment,
  type Sample,
  type ScannedFile,
  type TrackInfo,
} from '../../src/media/mp4/index.js';
import { box, FieldWriter, fullBox } from '../../src/media/mp4/writer.js';
import {
  countFrames,
  ffprobeJson,
  footage,
  NO_REAL_FOOTAGE,
  makeRecording,
  probePackets,
  remuxRecording,
  tempDir,
} from '../helpers/fixtures-mp4.js';

let dir: ReturnType<typeof tempDir>;
const files: { h264: string; h265: string } = { h264: '', h265: '' };

before(async () => {
  dir = tempDir();
  [files.h264, files.h265] = await Promise.all([
    makeRecording(join(dir.path, 'h264.mp4'), { codec: 'h264', durationS: 6, audio: true }),
    makeRecording(join(dir.path, 'h265.mp4'), { codec: 'h265', durationS: 4 }),
  ]);
});

after(() => dir?.remove());

function isCorrupt(err: unknown): boolean {
  return err instanceof VigilError && err.code === 'MEDIA_CORRUPT';
}

function samplesOf(scanned: ScannedFile, track: TrackInfo): Sample[] {
  return scanned.fragments.flatMap((f) => f.tracks.find((t) => t.trackId === track.trackId)?.samples ?? []);
}

/** Every sample agrees with ffprobe's packet: where it is, how big, when, and whether it is a keyframe. */
async function assertSamplesMatchFfprobe(path: string, scanned: ScannedFile, kind: 'video' | 'audio') {
  const track = scanned.init.tracks.find((t) => t.kind === kind) as TrackInfo;
  const samples = samplesOf(scanned, track);
  const packets = await probePackets(path, kind === 'video' ? 'v:0' : 'a:0');
  assert.equal(samples.length, packets.length, `${kind} sample count`);
  samples.forEach((s, i) => {
    const p = packets[i];
    assert.ok(p);
    const where = `${kind} sample ${i}`;
    assert.equal(s.fileOffset, Number(p.pos), `${where}: offset`);
    assert.equal(s.size, Number(p.size), `${where}: size`);
    assert.equal(s.decodeTime, p.dts, `${where}: decode time`);
    assert.equal(s.decodeTime + s.compositionOffsetTicks, p.pts, `${where}: presentation time`);
    assert.equal(s.isSync, p.flags.startsWith('K'), `${where}: keyframe`);
  });
  return samples;
}

/** Each fragment's decode times continue exactly where the previous fragment's ended. */
function assertContinuous(scanned: ScannedFile, track: TrackInfo) {
  let expected: number | null = null;
  for (const fragment of scanned.fragments) {
    const run = fragment.tracks.find((t) => t.trackId === track.trackId);
    if (!run || run.samples.length === 0) continue;
    if (expected !== null) assert.equal(run.baseDecodeTime, expected, `fragment at ${fragment.fileOffset}`);
    let next = run.baseDecodeTime;
    for (const s of run.samples) {
      assert.equal(s.decodeTime, next);
      next += s.durationTicks;
    }
    expected = next;
  }
}

test('H.264 + AAC from the recorder: tracks, codec strings, sizes', async () => {
  const scanned = await scanSegmentFile(files.h264);
  const [video, audio] = scanned.init.tracks;
  assert.equal(scanned.init.tracks.length, 2);
  assert.equal(scanned.init.movieTimescale, 1000);
  assert.ok(video && audio);
  assert.equal(video.kind, 'video');
  assert.equal(video.codec, 'h264');
  assert.match(video.codecString, /^avc1\.6400[0-9A-F]{2}$/, 'High profile');
  assert.equal(video.width, 320);
  assert.equal(video.height, 240);
  assert.equal(video.timescale, 10240);
  assert.equal(video.stsd.toString('latin1', 4, 8), 'stsd');
  assert.equal(audio.kind, 'audio');
  assert.equal(audio.codec, 'aac');
  assert.equal(audio.codecString, 'mp4a.40.2');
  assert.equal(audio.sampleRate, 48000);
  assert.equal(audio.channels, 1, 'from the AAC config: ffmpeg writes channelcount 2 in every mp4a entry');
  assert.equal(audio.timescale, 48000);

  const probe = await ffprobeJson<{ streams: Array<{ profile: string; level: number }> }>(files.h264, [
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=profile,level',
  ]);
  const level = probe.streams[0]?.level ?? 0;
  assert.equal(video.codecString, `avc1.6400${level.toString(16).toUpperCase().padStart(2, '0')}`);
});

test('H.264 + AAC: every sample matches ffprobe (offset, size, times, keyframes, B-frame offsets)', async () => {
  const scanned = await scanSegmentFile(files.h264);
  const video = scanned.init.tracks[0] as TrackInfo;
  const audio = scanned.init.tracks[1] as TrackInfo;
  const videoSamples = await assertSamplesMatchFfprobe(files.h264, scanned, 'video');
  const audioSamples = await assertSamplesMatchFfprobe(files.h264, scanned, 'audio');
  const counts = await countFrames(files.h264);
  assert.equal(videoSamples.length, Number(counts.find((s) => s.codec_type === 'video')?.nb_read_frames));
  assert.equal(videoSamples.length, 60);
  assert.ok(audioSamples.length > 0);

  // A keyframe every 20 frames, and nowhere else.
  const keyframes = videoSamples.flatMap((s, i) => (s.isSync ? [i] : []));
  assert.deepEqual(keyframes, [0, 20, 40]);
  assert.ok(
    videoSamples.some((s) => s.compositionOffsetTicks > 1024),
    'B-frames: some frames are shown later than the next one is decoded',
  );
  // frag_keyframe cuts at every keyframe, -frag_duration 100 ms in between: at 10 fps one frame
  // per fragment, and exactly the fragments holding a keyframe start a GOP.
  const videoFragments = scanned.fragments.filter((f) => f.tracks.some((t) => t.trackId === video.trackId));
  assert.equal(videoFragments.length, 60);
  assert.deepEqual(
    videoFragments.flatMap((f, i) => (f.startsWithKeyframe ? [i] : [])),
    [0, 20, 40],
  );
  assertContinuous(scanned, video);
  assertContinuous(scanned, audio);
  for (const f of scanned.fragments) {
    assert.equal(f.byteLength > f.moofByteLength, true);
    assert.ok(f.sequenceNumber > 0);
  }
});

test('H.265 from the recorder: hvc1 codec string, samples and keyframes match ffprobe', async () => {
  const scanned = await scanSegmentFile(files.h265);
  const video = scanned.init.tracks[0] as TrackInfo;
  assert.equal(scanned.init.tracks.length, 1);
  assert.equal(video.codec, 'h265');
  const probe = await ffprobeJson<{ streams: Array<{ level: number }> }>(files.h265, [
    '-show_entries',
    'stream=level',
  ]);
  // Main profile, compatibility flags 0x60000000 bit-reversed, main tier, then the constraint bytes.
  assert.match(
    video.codecString,
    new RegExp(`^hvc1\\.1\\.6\\.L${probe.streams[0]?.level}(\\.[0-9A-F]{2})*$`),
  );
  assert.equal(video.width, 320);
  assert.equal(video.height, 240);
  const samples = await assertSamplesMatchFfprobe(files.h265, scanned, 'video');
  assert.equal(samples.length, 40);
  assert.equal(samples[0]?.isSync, true);
  assertContinuous(scanned, video);
});

for (const [name, codec] of [
  ['vtest-main.mp4', 'h264'],
  ['vtest-main-h265.mp4', 'h265'],
] as const) {
  const input = footage(name);
  test(
    `real footage ${name}, remuxed as the recorder does`,
    { skip: input ? false : NO_REAL_FOOTAGE },
    async () => {
      const path = await remuxRecording(input as string, join(dir.path, `real-${codec}.mp4`), 8);
      const scanned = await scanSegmentFile(path);
      const video = scanned.init.tracks.find((t) => t.kind === 'video') as TrackInfo;
      assert.equal(video.codec, codec);
      assert.match(
        video.codecString,
        codec === 'h264' ? /^avc1\.6400[0-9A-F]{2}$/ : /^hvc1\.1\.6\.L\d+(\.[0-9A-F]{2})*$/,
      );
      assert.equal(video.width, 1280);
      assert.equal(video.height, 960);
      const samples = await assertSamplesMatchFfprobe(path, scanned, 'video');
      assert.ok(samples.length >= 79);
      assertContinuous(scanned, video);
      assert.equal(scanned.fragments[0]?.startsWithKeyframe, true);
    },
  );
}

test('a damaged init is MEDIA_CORRUPT with a message saying what is missing', () => {
  assert.throws(() => parseInitSegment(Buffer.alloc(0)), /no moov/);
  assert.throws(() => parseInitSegment(box('ftyp', Buffer.from('isom'))), isCorrupt);
  assert.throws(() => parseInitSegment(box('moov', box('trak'))), /no 'mvhd'/);
  const mvhd = fullBox('mvhd', 0, 0, new FieldWriter(96).zeros(8).u32(1000).zeros(84).done());
  assert.throws(() => parseInitSegment(box('moov', mvhd)), /no tracks/);
  assert.throws(
    () => parseInitSegment(box('moov', mvhd, box('trak', fullBox('tkhd', 0, 3, Buffer.alloc(4))))),
    isCorrupt,
  );
  assert.throws(() => parseInitSegment(Buffer.from('this is not an mp4 file at all')), isCorrupt);
});

test('a real init cut short is MEDIA_CORRUPT', () => {
  const bytes = readFileSync(files.h264);
  for (const cut of [100, 400, 800]) {
    const moov = bytes.subarray(0, cut);
    assert.throws(() => parseInitSegment(moov), isCorrupt, `cut at ${cut}`);
  }
});

/** A minimal init for synthetic fragments: only what parseFragment reads. */
function syntheticInit(): InitSegment {
  const track = (trackId: number, kind: 'video' | 'audio', sampleDurationTicks: number): TrackInfo => ({
    trackId,
    kind,
    handlerType: kind === 'video' ? 'vide' : 'soun',
    handlerName: '',
    timescale: 1000,
    language: 'und',
    codec: 'test',
    codecString: 'test',
    sampleEntryType: 'test',
    stsd: Buffer.alloc(0),
    sampleDescriptionCount: 1,
    header: {
      flags: 3,
      layer: 0,
      alternateGroup: 0,
      volume: 0,
      matrix: [],
      displayWidth: 0,
      displayHeight: 0,
    },
    defaults: { sampleDescriptionIndex: 1, sampleDurationTicks, sampleSize: 0, sampleFlags: 0x01010000 },
  });
  return {
    bytes: Buffer.alloc(0),
    movieTimescale: 1000,
    tracks: [track(1, 'video', 40), track(2, 'audio', 21)],
  };
}

function u32s(...values: number[]): Buffer {
  const w = new FieldWriter(values.length * 4);
  for (const v of values) w.u32(v);
  return w.done();
}

test('parseFragment honours what ffmpeg does not use: implicit bases, trun v1, per-sample flags, no tfdt', () => {
  const init = syntheticInit();
  const tfdtV1 = fullBox('tfdt', 1, 0, u32s(0x100, 0)); // 2^40: large decode times stay exact
  // trun v1: data offset, first-sample-flags, then per sample a size and a signed composition offset.
  const videoTraf = (dataOffset: number) =>
    box(
      'traf',
      fullBox('tfhd', 0, 0x000008, u32s(1, 40)),
      tfdtV1,
      fullBox(
        'trun',
        1,
        0x000001 | 0x000004 | 0x000200 | 0x000800,
        u32s(3, dataOffset, 0x02000000, 100, 50, 80, -20, 60, 0),
      ),
    );
  // Audio: no tfdt, no data offsets, trex defaults for duration; two truns continue one another.
  const audioTraf = box(
    'traf',
    fullBox('tfhd', 0, 0, u32s(2)),
    fullBox('trun', 0, 0x000200 | 0x000400, u32s(2, 7, 0, 9, 0)),
    fullBox('trun', 0, 0x000100 | 0x000200, u32s(1, 30, 11)),
  );
  const build = (dataOffset: number) =>
    box('moof', fullBox('mfhd', 0, 0, u32s(7)), videoTraf(dataOffset), audioTraf);
  const moofByteLength = build(0).length;
  const moof = build(moofByteLength + 8);
  const moofFileOffset = 1000;
  const fragment = parseFragment(moof, moofFileOffset, init, { nextDecodeTimes: new Map([[2, 5000]]) });

  const dataStart = moofFileOffset + moofByteLength + 8;
  assert.equal(fragment.sequenceNumber, 7);
  assert.equal(fragment.moofByteLength, moofByteLength);
  assert.equal(fragment.byteLength, moofByteLength + 8 + 100 + 80 + 60 + 7 + 9 + 11);
  assert.equal(fragment.startsWithKeyframe, true);
  const [video, audio] = fragment.tracks;
  assert.ok(video && audio);
  assert.equal(video.baseDecodeTime, 2 ** 40);
  assert.deepEqual(
    video.samples.map((s) => [
      s.decodeTime - 2 ** 40,
      s.durationTicks,
      s.size,
      s.isSync,
      s.compositionOffsetTicks,
      s.fileOffset,
    ]),
    [
      [0, 40, 100, true, 50, dataStart],
      [40, 40, 80, false, -20, dataStart + 100],
      [80, 40, 60, false, 0, dataStart + 180],
    ],
  );
  // Without default-base-is-moof, a traf's data follows the previous traf's.
  assert.deepEqual(
    audio.samples.map((s) => [s.decodeTime, s.durationTicks, s.size, s.isSync, s.fileOffset]),
    [
      [5000, 21, 7, true, dataStart + 240],
      [5021, 21, 9, true, dataStart + 247],
      [5042, 30, 11, false, dataStart + 256],
    ],
  );
});

test('parseFragment: an explicit base data offset, and damage', () => {
  const init = syntheticInit();
  const traf = box(
    'traf',
    fullBox('tfhd', 0, 0x000001 | 0x000010 | 0x020000, u32s(2, 0, 4000, 25)),
    fullBox('tfdt', 0, 0, u32s(90)),
    fullBox('trun', 0, 0x000001, u32s(2, 16)),
  );
  const fragment = parseFragment(box('moof', traf), 0, init, { mdatByteLength: 58 });
  assert.deepEqual(
    fragment.tracks[0]?.samples.map((s) => [s.decodeTime, s.size, s.fileOffset]),
    [
      [90, 25, 4016],
      [111, 25, 4041],
    ],
  );
  assert.equal(fragment.startsWithKeyframe, false, 'no video sample');
  assert.equal(fragment.byteLength, 8 + traf.length + 58);

  assert.throws(() => parseFragment(box('mdat'), 0, init), /expected a moof/);
  const unknownTrack = box('moof', box('traf', fullBox('tfhd', 0, 0, u32s(9))));
  assert.throws(() => parseFragment(unknownTrack, 0, init), /track 9/);
  const lying = box(
    'moof',
    box('traf', fullBox('tfhd', 0, 0, u32s(1)), fullBox('trun', 0, 0x000200, u32s(1_000_000, 1))),
  );
  assert.throws(() => parseFragment(lying, 0, init), /too short/);
});
