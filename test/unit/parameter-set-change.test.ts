import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parameterSetChange } from '../../src/ingest/parameter-set-change.js';
import {
  avcDecoderConfig,
  inBandParameterSets,
  sameParameterSets,
  withAvcParameterSets,
} from '../../src/media/mp4/avc-config.js';
import { buildH264InitSegment } from '../../src/media/mp4/fmp4-muxer.js';
import { finishFragment } from '../../src/media/mp4/fragment-builder.js';
import { parseFragment, parseInitSegment } from '../../src/media/mp4/index.js';
import { frameOf } from '../helpers/rtp-fixtures.js';

// x264's parameter sets for testsrc2 at 640x360 and at 320x240 (High profile).
const SPS_640 = Buffer.from('67640016acd940a02ff97011000003000100000300140f162d96', 'hex');
const SPS_320 = Buffer.from('6764000cacd94141fb011000000300100000030140f1429960', 'hex');
const PPS = Buffer.from('68ef8fcb', 'hex');
const IDR_SLICE = Buffer.from('6588840021ffe0', 'hex');
const P_SLICE = Buffer.from('419a2438', 'hex');

function init640() {
  return parseInitSegment(
    buildH264InitSegment({ sps: [SPS_640], pps: [PPS], width: 640, height: 360, timescale: 90000 }),
  );
}

function fragmentOf(init: ReturnType<typeof init640>, isSync: boolean, units: Buffer[]) {
  const muxed = finishFragment(frameOf(units).frame, {
    sequenceNumber: 1,
    baseDecodeTime: 0,
    sample: { durationTicks: 9000, compositionOffsetTicks: 0, isSync },
  });
  return {
    bytes: muxed.bytes,
    parsed: parseFragment(muxed.bytes.subarray(0, muxed.fragment.moofByteLength), 0, init),
  };
}

test('avcC: the init segment parameter sets and the length of NAL unit prefixes are read back', () => {
  const video = init640().tracks[0]!;
  const config = avcDecoderConfig(video.stsd);
  assert.deepEqual(config, { sps: [SPS_640], pps: [PPS], nalLengthBytes: 4 });
});

test('in-band parameter sets: found among the NAL units of a sample, in order', () => {
  const sample = Buffer.concat(
    [SPS_320, PPS, IDR_SLICE].flatMap((unit) => [Buffer.from([0, 0, 0, unit.length]), unit]),
  );
  assert.deepEqual(inBandParameterSets(sample, 4), { sps: [SPS_320], pps: [PPS] });
  assert.deepEqual(
    inBandParameterSets(Buffer.from([0, 0, 0, 9, 1]), 4),
    { sps: [], pps: [] },
    'a cut sample',
  );
});

test('parameter sets that differ only by trailing zero bytes are the same', () => {
  assert.ok(sameParameterSets([SPS_640], [Buffer.concat([SPS_640, Buffer.from([0, 0])])]));
  assert.ok(!sameParameterSets([SPS_640], [SPS_320]));
  assert.ok(!sameParameterSets([SPS_640], [SPS_640, SPS_320]));
});

test('a keyframe with a new SPS gives a new init: new avcC and size, the rest byte for byte', () => {
  const init = init640();
  const { bytes, parsed } = fragmentOf(init, true, [SPS_320, PPS, IDR_SLICE]);
  const change = parameterSetChange(init, bytes, parsed);
  assert.ok(change);
  assert.deepEqual([change.width, change.height], [320, 240]);
  const next = parseInitSegment(change.initBytes);
  const video = next.tracks[0]!;
  assert.deepEqual([video.width, video.height], [320, 240]);
  assert.deepEqual([video.header.displayWidth, video.header.displayHeight], [320, 240]);
  assert.deepEqual(avcDecoderConfig(video.stsd)?.sps, [SPS_320]);
  assert.equal(video.codecString, 'avc1.64000C');
  assert.equal(change.initBytes.length, init.bytes.length - SPS_640.length + SPS_320.length);
  // Writing the old parameter sets back gives the original init exactly.
  const back = withAvcParameterSets(
    change.initBytes,
    video.trackId,
    { sps: [SPS_640], pps: [PPS], nalLengthBytes: 4 },
    {
      width: 640,
      height: 360,
    },
  );
  assert.ok(back.equals(init.bytes));
});

test('no new init for the same parameter sets, a keyframe without them, or a frame that is not a keyframe', () => {
  const init = init640();
  const same = fragmentOf(init, true, [SPS_640, PPS, IDR_SLICE]);
  assert.equal(parameterSetChange(init, same.bytes, same.parsed), null);
  const bare = fragmentOf(init, true, [IDR_SLICE]);
  assert.equal(parameterSetChange(init, bare.bytes, bare.parsed), null);
  const delta = fragmentOf(init, false, [SPS_320, PPS, P_SLICE]);
  assert.equal(parameterSetChange(init, delta.bytes, delta.parsed), null);
});

test('an SPS that cannot be read leaves the init as it is', () => {
  const init = init640();
  const broken = fragmentOf(init, true, [Buffer.from('6764', 'hex'), PPS, IDR_SLICE]);
  assert.equal(parameterSetChange(init, broken.bytes, broken.parsed), null);
});
