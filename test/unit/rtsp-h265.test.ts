/**
 * H.265 native ingest (RFC 7798) against RTP captured from the camera emulator serving
 * vtest-main-h265.mp4 (see test/fixtures/rtp/README.md): depacketising, the SPS, and muxing to
 * fMP4 that ffmpeg decodes without an error.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { H265_CODEC, VideoFragmenter, type FragmenterOutput } from '../../src/ingest/rtsp/fragmenter.js';
import type { AccessUnit } from '../../src/ingest/rtsp/h264.js';
import { H265Depacketiser, parseH265Sps, parseHevcSpropParameterSets } from '../../src/ingest/rtsp/h265.js';
import { parseRtp, type RtpPacket } from '../../src/ingest/rtsp/rtp.js';
import { parseSdp } from '../../src/ingest/rtsp/sdp.js';
import { parseFragment, parseInitSegment } from '../../src/media/mp4/index.js';
import { tempDir } from '../helpers/fixtures-mp4.js';
import { capturedPackets as capturedRtp, depacketiseWith, RTP_FIXTURES } from '../helpers/rtp-fixtures.js';
import { FFMPEG, FFPROBE } from '../helpers/media-tools.js';

const execFileAsync = promisify(execFile);
const SDP = parseSdp(readFileSync(join(RTP_FIXTURES, 'vtest-main-h265.sdp'), 'utf8')).media[0]!;
const FRAMES = 8;

const capturedPackets = () => capturedRtp('vtest-main-h265');
const depacketise = (packets: readonly RtpPacket[], reorder = false) =>
  depacketiseWith(new H265Depacketiser(), packets, reorder);
const unitBytes = (unit: AccessUnit) => Buffer.concat(unit.nalUnits.map((n) => n.bytes));
const fuType = (p: RtpPacket) => ((p.payload[0]! >> 1) & 0x3f) === 49;

test('H.265: captured FU and single NAL packets make one access unit per frame, IRAP first', () => {
  const packets = capturedPackets();
  assert.ok(packets.some(fuType), 'the capture has fragmentation units');
  const { units, dropped } = depacketise(packets);
  assert.equal(dropped, 0);
  assert.equal(new Set(units.map((u) => u.timestamp)).size, FRAMES);
  assert.equal(units[0]!.isKeyframe, true);
  // Reassembled NAL units have forbidden_zero_bit 0, layer 0 and a VCL, parameter set or SEI type.
  for (const unit of units) {
    for (const nal of unit.nalUnits) {
      const bytes = nal.bytes;
      assert.equal(bytes[0]! & 0x80, 0);
      assert.ok(nal.type < 41, `type ${nal.type}`);
    }
  }
});

test('H.265: reordered packets give the same access units; a lost FU drops that NAL unit only', () => {
  const packets = capturedPackets();
  const intact = depacketise(packets).units;
  const shuffled = [...packets];
  for (let i = 5; i + 1 < shuffled.length; i += 7)
    [shuffled[i], shuffled[i + 1]] = [shuffled[i + 1]!, shuffled[i]!];
  assert.deepEqual(depacketise(shuffled, true).units.map(unitBytes), intact.map(unitBytes));

  const middle = packets.findIndex((p) => fuType(p) && (p.payload[2]! & 0xc0) === 0);
  assert.ok(middle > 0, 'a middle fragment to lose');
  const { units, dropped } = depacketise(
    packets.filter((_, i) => i !== middle),
    true,
  );
  assert.equal(dropped, 1);
  const lostNals = intact.flatMap((u) => u.nalUnits).length - units.flatMap((u) => u.nalUnits).length;
  assert.equal(lostNals, 1);
});

test('H.265: aggregation packets give the same NAL units as single packets', () => {
  const sets = parseHevcSpropParameterSets(SDP.fmtp);
  assert.deepEqual(
    sets.map((n) => (n[0]! >> 1) & 0x3f),
    [32, 33, 34],
  );
  // Payload header: type 48, layer 0, TID 1.
  const ap = Buffer.concat([
    Buffer.from([48 << 1, 1]),
    ...sets.flatMap((n) => [Buffer.from([n.length >> 8, n.length & 0xff]), n]),
  ]);
  const header = Buffer.alloc(12);
  header.writeUInt8(0x80, 0);
  header.writeUInt8(0x80 | 96, 1);
  header.writeUInt32BE(3000, 4);
  const out = new H265Depacketiser().push(parseRtp(Buffer.concat([header, ap])), 3000);
  assert.equal(out.length, 1);
  assert.deepEqual(
    out[0]!.nalUnits.map((n) => n.bytes),
    sets,
  );
  assert.deepEqual(
    out[0]!.nalUnits.map((n) => n.type),
    [32, 33, 34],
  );
});

test('H.265 SPS: the size, profile and reorder depth of the emulator footage', () => {
  const sps = parseHevcSpropParameterSets(SDP.fmtp)[1]!;
  const info = parseH265Sps(sps);
  assert.deepEqual(
    [info.width, info.height, info.chromaFormatIdc, info.bitDepthLuma, info.bitDepthChroma],
    [1280, 960, 1, 8, 8],
  );
  // general_profile_idc 1 (Main) in the low 5 bits of the first byte; level 120 (4.0) in the last.
  assert.equal(info.generalProfileTierLevel[0]! & 0x1f, 1);
  assert.equal(info.generalProfileTierLevel[11], 120);
  assert.ok(info.maxReorderFrames >= 1, 'the footage has B-frames');
});

test('H.265 fMP4: captured RTP muxed natively parses as ffmpeg output does and decodes without errors', async () => {
  const fragmenter = new VideoFragmenter(H265_CODEC, 90000, parseHevcSpropParameterSets(SDP.fmtp));
  const outputs: FragmenterOutput[] = [];
  for (const unit of depacketise(capturedPackets()).units) outputs.push(...fragmenter.push(unit));
  const [initOutput, ...fragments] = outputs;
  assert.equal(initOutput?.type, 'init');
  const init = parseInitSegment(initOutput.type === 'init' ? initOutput.bytes : Buffer.alloc(0));
  const track = init.tracks[0]!;
  assert.deepEqual(
    [track.codec, track.codecString, track.width, track.height, track.timescale],
    ['h265', 'hev1.1.6.L120.90', 1280, 960, 90000],
  );
  const samples = fragments.flatMap((f) => {
    if (f.type !== 'fragment') throw new Error(`not a fragment: ${f.type}`);
    return parseFragment(f.bytes.subarray(0, f.fragment.moofByteLength), 0, init).tracks[0]!.samples;
  });
  assert.equal(samples[0]!.isSync, true);
  samples
    .slice(1)
    .forEach((s, i) => assert.equal(s.decodeTime, samples[i]!.decodeTime + samples[i]!.durationTicks));

  const dir = tempDir();
  const file = join(dir.path, 'native-h265.mp4');
  writeFileSync(file, Buffer.concat(outputs.map((o) => o.bytes)));
  const { stderr } = await execFileAsync(FFMPEG, ['-v', 'error', '-i', file, '-f', 'null', '-']);
  assert.equal(stderr.trim(), '');
  const { stdout } = await execFileAsync(FFPROBE, [
    '-v',
    'error',
    '-count_frames',
    '-show_entries',
    'stream=codec_name,width,height,nb_read_frames',
    '-of',
    'csv=p=0',
    file,
  ]);
  assert.equal(stdout.trim(), `hevc,1280,960,${samples.length}`);
  assert.ok(samples.length >= FRAMES - 1, `${samples.length} frames`);
  dir.remove();
});
