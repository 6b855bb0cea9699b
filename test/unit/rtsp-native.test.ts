import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { authorization, parseChallenges } from '../../src/ingest/rtsp/auth.js';
import { H264_CODEC, VideoFragmenter, type FragmenterOutput } from '../../src/ingest/rtsp/fragmenter.js';
import { RtspFraming } from '../../src/ingest/rtsp/framing.js';
import {
  H264Depacketiser,
  parseH264Sps,
  parseSpropParameterSets,
  type AccessUnit,
} from '../../src/ingest/rtsp/h264.js';
import {
  Reorderer,
  TimestampUnwrapper,
  parseRtp,
  parseSenderReports,
  sequenceDelta,
  type RtpPacket,
} from '../../src/ingest/rtsp/rtp.js';
import { parseSdp, resolveControl } from '../../src/ingest/rtsp/sdp.js';
import { parseFragment, parseInitSegment } from '../../src/media/mp4/index.js';
import { FFMPEG, FFPROBE } from '../helpers/media-tools.js';
import { tempDir } from '../helpers/fixtures-mp4.js';
import {
  capturedPackets as capturedRtp,
  depacketiseWith,
  frameOf,
  RTP_FIXTURES,
} from '../helpers/rtp-fixtures.js';

const execFileAsync = promisify(execFile);
const SDP_TEXT = readFileSync(join(RTP_FIXTURES, 'vtest-sub-h264.sdp'), 'utf8');

/** The captured RTP packets of the emulator's sub stream (see test/fixtures/rtp/README.md). */
const capturedPackets = () => capturedRtp('vtest-sub-h264');
const depacketise = (packets: readonly RtpPacket[], reorder = false) =>
  depacketiseWith(new H264Depacketiser(), packets, reorder);

function unitBytes(unit: AccessUnit): Buffer {
  return Buffer.concat(unit.nalUnits.map((n) => n.bytes));
}

test('SDP: the emulator description gives codec, clock, parameter sets and controls', () => {
  const sdp = parseSdp(SDP_TEXT);
  assert.equal(sdp.control, '*');
  const video = sdp.media[0]!;
  assert.equal(video.kind, 'video');
  assert.equal(video.payloadType, 96);
  assert.equal(video.encoding, 'H264');
  assert.equal(video.clockRate, 90000);
  assert.equal(video.control, 'stream=0');
  assert.equal(video.fmtp.get('packetization-mode'), '1');
  assert.equal(parseSpropParameterSets(video.fmtp.get('sprop-parameter-sets')).length, 2);
});

test('SDP: static payload types without rtpmap, and audio with channels', () => {
  const sdp = parseSdp('v=0\nm=audio 0 RTP/AVP 0\nm=audio 0 RTP/AVP 97\na=rtpmap:97 mpeg4-generic/16000/2\n');
  assert.deepEqual(
    sdp.media.map((m) => [m.encoding, m.clockRate, m.channels]),
    [
      ['PCMU', 8000, undefined],
      ['MPEG4-GENERIC', 16000, 2],
    ],
  );
  assert.throws(() => parseSdp('v=0\r\ns=nothing\r\n'), /no media section/);
});

test('control URLs: absolute, relative against a base with or without slash, query kept, and *', () => {
  assert.equal(resolveControl('rtsp://h/s/', 'trackID=1'), 'rtsp://h/s/trackID=1');
  assert.equal(resolveControl('rtsp://h/s', 'trackID=1'), 'rtsp://h/s/trackID=1');
  assert.equal(resolveControl('rtsp://h/s?ch=1', 'trackID=1'), 'rtsp://h/s?ch=1/trackID=1');
  assert.equal(resolveControl('rtsp://h/s/', 'rtsp://other/t'), 'rtsp://other/t');
  assert.equal(resolveControl('rtsp://h/s/', '*'), 'rtsp://h/s/');
  assert.equal(resolveControl('rtsp://h/s/', ''), 'rtsp://h/s/');
});

test('digest auth: the RFC 2617 §3.5 example (MD5, qop=auth)', () => {
  const [challenge] = parseChallenges([
    'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  ]);
  const header = authorization(
    challenge!,
    { user: 'Mufasa', password: 'Circle Of Life' },
    { method: 'GET', uri: '/dir/index.html', nonceCount: 1, cnonce: '0a4f113b' },
  );
  assert.match(header!, /response="6629fae49393a05397450978507c4ef1"/);
  assert.match(header!, /nc=00000001/);
  assert.match(header!, /opaque="5ccc069c403ebaf9f0171e9517f40e41"/);
});

test('digest auth: the RFC 7616 §3.9.1 examples (SHA-256 preferred over MD5)', () => {
  const common =
    'realm="http-auth@example.org", qop="auth, auth-int", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
  const challenges = parseChallenges([
    `Digest ${common}, algorithm=MD5`,
    `Digest ${common}, algorithm=SHA-256`,
  ]);
  assert.equal(challenges[0]!.algorithm, 'SHA-256');
  const request = {
    method: 'GET',
    uri: '/dir/index.html',
    nonceCount: 1,
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };
  const credentials = { user: 'Mufasa', password: 'Circle of Life' };
  assert.match(
    authorization(challenges[0]!, credentials, request)!,
    /response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"/,
  );
  assert.match(
    authorization(challenges[1]!, credentials, request)!,
    /response="8ca523f5e9506fed4657c9700eebdbec"/,
  );
});

test('basic auth, and digest without qop (RFC 2069, as many cameras send it)', () => {
  const [basic] = parseChallenges(['Basic realm="cam"']);
  assert.equal(
    authorization(basic!, { user: 'a', password: 'b' }, { method: 'DESCRIBE', uri: 'x', nonceCount: 1 }),
    'Basic YTpi',
  );
  const [digest] = parseChallenges(['Digest realm="IP Camera", nonce="abc"']);
  const header = authorization(
    digest!,
    { user: 'a', password: 'b' },
    { method: 'DESCRIBE', uri: 'rtsp://h/s', nonceCount: 1 },
  )!;
  assert.doesNotMatch(header, /qop|nc=|algorithm/);
});

function rtpPacket(seq: number, timestamp: number, payload: Buffer, marker = false): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = (marker ? 0x80 : 0) | 96;
  header.writeUInt16BE(seq & 0xffff, 2);
  header.writeUInt32BE(timestamp >>> 0, 4);
  header.writeUInt32BE(0x1234, 8);
  return Buffer.concat([header, payload]);
}

test('RTP: header fields, CSRCs, extension and padding are skipped', () => {
  const packet = Buffer.from([
    0xb1,
    0xe0,
    0x00,
    0x07,
    0,
    0,
    0,
    9,
    0,
    0,
    0,
    1, // V=2 P X CC=1, M, PT 96
    0,
    0,
    0,
    2, // CSRC
    0xbe,
    0xde,
    0,
    1,
    1,
    2,
    3,
    4, // extension of one word
    0x65,
    0x88, // payload
    0,
    2, // padding of 2
  ]);
  const rtp = parseRtp(packet);
  assert.deepEqual([rtp.payloadType, rtp.marker, rtp.sequenceNumber, rtp.timestamp], [96, true, 7, 9]);
  assert.deepEqual([...rtp.payload], [0x65, 0x88]);
  assert.throws(() => parseRtp(Buffer.alloc(8)), /shorter than its header/);
});

test('RTP: sequence numbers and timestamps wrap around', () => {
  assert.equal(sequenceDelta(2, 65534), 4);
  assert.equal(sequenceDelta(65534, 2), -4);
  const unwrapper = new TimestampUnwrapper();
  const values = [0xffff_d8f0, 0xffff_ffff, 0x0000_2327, 0x0000_4a37].map((t) => unwrapper.unwrap(t));
  assert.deepEqual(
    values.map((v) => v - values[0]!),
    [0, 9999, 18_999, 28_999],
  );
  const reorderer = new Reorderer(4);
  const seqs = [65534, 65535, 1, 0, 2].map((s) => rtpPacket(s, 0, Buffer.from([1]))).map(parseRtp);
  const order: number[] = [];
  for (const p of seqs) reorderer.push(p, (q) => order.push(q.sequenceNumber));
  assert.deepEqual(order, [65534, 65535, 0, 1, 2]);
});

test('RTP: a lost packet is given up on once the window fills, and counted', () => {
  const reorderer = new Reorderer(3);
  const out: Array<[number, number]> = [];
  for (const seq of [10, 12, 13, 14]) {
    reorderer.push(parseRtp(rtpPacket(seq, 0, Buffer.from([1]))), (p, lostBefore) =>
      out.push([p.sequenceNumber, lostBefore]),
    );
  }
  // 11 is given up on when the window of 3 is full, and counted against the packet after it.
  assert.deepEqual(out, [
    [10, 0],
    [12, 1],
    [13, 0],
    [14, 0],
  ]);
});

test('RTCP: a sender report maps an RTP timestamp to wall-clock time', () => {
  const sr = Buffer.alloc(28);
  sr[0] = 0x80;
  sr[1] = 200;
  sr.writeUInt16BE(6, 2);
  sr.writeUInt32BE(0x1234, 4);
  sr.writeUInt32BE(2_208_988_800 + 1_700_000_000, 8); // NTP seconds
  sr.writeUInt32BE(0x8000_0000, 12); // half a second
  sr.writeUInt32BE(90_000, 16);
  assert.deepEqual(parseSenderReports(sr), [
    { ssrc: 0x1234, wallClockMs: 1_700_000_000_500, rtpTimestamp: 90_000 },
  ]);
});

test('H.264: captured FU-A and single NAL packets make one access unit per frame, IDR first', () => {
  const { units, dropped } = depacketise(capturedPackets());
  // 12 frames, and the emulator sends its first IDR twice (once alone, once after an SEI), with one
  // timestamp and the marker bit on each: two access units, as ffmpeg sees them too.
  assert.equal(units.length, 13);
  assert.equal(dropped, 0);
  assert.deepEqual(
    units.slice(0, 3).map((u) => u.isKeyframe),
    [true, true, false],
  );
  assert.equal(units[0]!.timestamp, units[1]!.timestamp);
  assert.ok(units.slice(2).every((u) => !u.isKeyframe));
  // Every reassembled NAL unit has forbidden_zero_bit 0 and a slice or SEI type.
  for (const unit of units)
    for (const nal of unit.nalUnits) assert.ok([1, 5, 6].includes(nal.type), `type ${nal.type}`);
  // B-frames: presentation timestamps arrive out of order, every one of them distinct.
  assert.equal(new Set(units.slice(1).map((u) => u.timestamp)).size, 12);
});

test('H.264: reordered packets are put back in order and give the same access units', () => {
  const packets = capturedPackets();
  const shuffled = [...packets];
  for (let i = 5; i + 1 < shuffled.length; i += 7)
    [shuffled[i], shuffled[i + 1]] = [shuffled[i + 1]!, shuffled[i]!];
  const expected = depacketise(packets).units.map(unitBytes);
  assert.deepEqual(depacketise(shuffled, true).units.map(unitBytes), expected);
});

test('H.264: a packet lost mid-FU drops that NAL unit only', () => {
  const packets = capturedPackets();
  const middleOfIdr = packets.findIndex(
    (p, i) => i > 3 && (p.payload[0]! & 0x1f) === 28 && (p.payload[1]! & 0xc0) === 0,
  );
  assert.ok(middleOfIdr < 40, 'the packet dropped is in the first IDR');
  const withLoss = packets.filter((_, i) => i !== middleOfIdr);
  const { units, dropped } = depacketise(withLoss, true);
  assert.equal(dropped, 1);
  const intact = depacketise(packets).units;
  // The first IDR is gone (its unit had nothing else); every other unit is whole.
  assert.equal(units.length, intact.length - 1);
  assert.deepEqual(units.map(unitBytes), intact.slice(1).map(unitBytes));
});

test('H.264: STAP-A aggregates give the same NAL units as single packets', () => {
  const units = depacketise(capturedPackets()).units;
  const sps = parseSpropParameterSets(parseSdp(SDP_TEXT).media[0]!.fmtp.get('sprop-parameter-sets'));
  const smallNals = [...sps, ...units[1]!.nalUnits.map((n) => n.bytes)].filter((n) => n.length < 1400);
  const stap = Buffer.concat([
    Buffer.from([24]),
    ...smallNals.flatMap((n) => [Buffer.from([n.length >> 8, n.length & 0xff]), n]),
  ]);
  const depacketiser = new H264Depacketiser();
  const out = depacketiser.push(parseRtp(rtpPacket(1, 3000, stap, true)), 3000);
  assert.equal(out.length, 1);
  assert.deepEqual(
    out[0]!.nalUnits.map((n) => n.bytes),
    smallNals,
  );
  assert.deepEqual(
    out[0]!.nalUnits.slice(0, 2).map((n) => n.type),
    [7, 8],
  );
});

test('H.264: a stream read through one reused buffer, as the socket reads, gives the same access units', () => {
  const file = readFileSync(join(RTP_FIXTURES, 'vtest-sub-h264.rtp'));
  const interleaved: Buffer[] = [];
  for (let offset = 0; offset < file.length;) {
    const length = file.readUInt16BE(offset);
    interleaved.push(
      Buffer.from([0x24, 0, length >> 8, length & 0xff]),
      file.subarray(offset + 2, offset + 2 + length),
    );
    offset += 2 + length;
  }
  const stream = Buffer.concat(interleaved);
  const framing = new RtspFraming();
  const depacketiser = new H264Depacketiser();
  const unwrapper = new TimestampUnwrapper();
  const readBuffer = Buffer.alloc(4096);
  const units: AccessUnit[] = [];
  for (let offset = 0, size = 1; offset < stream.length; offset += size, size = (size * 7 + 333) % 4096) {
    const read = readBuffer.subarray(0, stream.copy(readBuffer, 0, offset, offset + size));
    for (const item of framing.push(read)) {
      if (item.kind !== 'frame') continue;
      const packet = parseRtp(item.data);
      units.push(...depacketiser.push(packet, unwrapper.unwrap(packet.timestamp)));
    }
    // What a socket's next read does to bytes nobody copied.
    readBuffer.fill(0xee);
  }
  units.push(...depacketiser.flush());
  assert.deepEqual(units.map(unitBytes), depacketise(capturedPackets()).units.map(unitBytes));
});

test('SPS: the picture size and profile of the emulator sub stream', () => {
  const [sps] = parseSpropParameterSets(parseSdp(SDP_TEXT).media[0]!.fmtp.get('sprop-parameter-sets'));
  const info = parseH264Sps(sps!);
  assert.deepEqual([info.width, info.height, info.profileIdc, info.levelIdc], [640, 480, 77, 22]);
});

test('framing: any split of a stream into chunks gives the same frames and messages as one chunk', () => {
  const parts: Buffer[] = [];
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 200; i += 1) {
    if (i % 37 === 5) {
      parts.push(Buffer.from(`RTSP/1.0 200 OK\r\nCSeq: ${i}\r\nContent-Length: 4\r\n\r\nbody`));
      continue;
    }
    const data = Buffer.alloc(1 + Math.floor(random() * 3000), i & 0xff);
    parts.push(Buffer.from([0x24, i % 2, data.length >> 8, data.length & 0xff]), data);
  }
  const stream = Buffer.concat(parts);
  const describe = (items: ReturnType<RtspFraming['push']>) =>
    items.map((i) => (i.kind === 'frame' ? `${i.channel}:${i.data.length}:${i.data[0]}` : `${i.status}`));
  const whole = describe(new RtspFraming().push(stream));
  assert.equal(whole.length, 200);
  for (const maxChunk of [1, 3, 5, 1400, 4096, 65536]) {
    const framing = new RtspFraming();
    const items: ReturnType<RtspFraming['push']> = [];
    for (let offset = 0; offset < stream.length;) {
      const size = 1 + Math.floor(random() * maxChunk);
      items.push(...framing.push(stream.subarray(offset, offset + size)));
      offset += size;
    }
    assert.deepEqual(describe(items), whole, `chunks of up to ${maxChunk} bytes`);
  }
});

test('framing: interleaved frames and a response split across chunks', () => {
  const framing = new RtspFraming();
  const response = Buffer.from('RTSP/1.0 200 OK\r\nCSeq: 3\r\nContent-Length: 4\r\n\r\nbody');
  const frame = Buffer.from([0x24, 0, 0, 3, 9, 8, 7]);
  const stream = Buffer.concat([frame, response, frame]);
  const items = [
    ...framing.push(stream.subarray(0, 10)),
    ...framing.push(stream.subarray(10, 30)),
    ...framing.push(stream.subarray(30)),
  ];
  assert.deepEqual(
    items.map((i) => (i.kind === 'frame' ? [...i.data] : `${i.status} ${i.body.toString()}`)),
    [[9, 8, 7], '200 body', [9, 8, 7]],
  );
});

test('fMP4: captured RTP muxed natively parses as ffmpeg output does and decodes without errors', async () => {
  const sdp = parseSdp(SDP_TEXT).media[0]!;
  const fragmenter = new VideoFragmenter(
    H264_CODEC,
    90000,
    parseSpropParameterSets(sdp.fmtp.get('sprop-parameter-sets')),
  );
  const outputs: FragmenterOutput[] = [];
  const units = depacketise(capturedPackets()).units;
  for (const unit of units) {
    const out = fragmenter.push(unit);
    // Nothing is held back: every frame leaves as a fragment of its own, the moment it arrives.
    assert.ok(out.filter((o) => o.type === 'fragment').length <= 1);
    outputs.push(...out);
  }
  const [initOutput, ...fragments] = outputs;
  assert.equal(initOutput?.type, 'init');
  const init = parseInitSegment(initOutput.type === 'init' ? initOutput.bytes : Buffer.alloc(0));
  const track = init.tracks[0]!;
  assert.deepEqual(
    [track.codec, track.codecString, track.width, track.height, track.timescale],
    ['h264', 'avc1.4D4016', 640, 480, 90000],
  );
  const parsed = fragments.map((f) => {
    assert.equal(f.type, 'fragment');
    if (f.type !== 'fragment') throw new Error('not a fragment');
    return parseFragment(f.bytes.subarray(0, f.fragment.moofByteLength), 0, init);
  });
  assert.equal(parsed[0]!.startsWithKeyframe, true);
  assert.equal(parsed[0]!.tracks[0]!.baseDecodeTime, 0);
  const samples = parsed.flatMap((p) => p.tracks[0]!.samples);
  // 13 access units, of which the repeated IDR (same timestamp as the first) is dropped.
  assert.equal(samples.length, 12);
  assert.equal(fragmenter.repeatedKeyframes, 1);
  // B-frames: decode times are derived as ffmpeg does, so no frame presents before it decodes.
  assert.ok(samples.some((s) => s.compositionOffsetTicks > 0));
  assert.ok(samples.every((s) => s.compositionOffsetTicks >= 0));
  // Decode times increase without gaps from one fragment to the next, frames at 10 fps.
  samples
    .slice(1)
    .forEach((s, i) => assert.equal(s.decodeTime, samples[i]!.decodeTime + samples[i]!.durationTicks));
  assert.deepEqual(
    samples.slice(0, 4).map((s) => s.decodeTime),
    [0, 9000, 18000, 27000],
  );
  assert.equal(parsed.length, 12, 'one fragment per frame');

  const dir = tempDir();
  const file = join(dir.path, 'native.mp4');
  writeFileSync(file, Buffer.concat(outputs.map((o) => o.bytes)));
  const { stderr } = await execFileAsync(FFMPEG, ['-v', 'error', '-i', file, '-f', 'null', '-']);
  assert.equal(stderr.trim(), '');
  const { stdout } = await execFileAsync(FFPROBE, [
    '-v',
    'error',
    '-count_frames',
    '-show_entries',
    'stream=nb_read_frames',
    '-of',
    'csv=p=0',
    file,
  ]);
  assert.equal(Number(stdout.trim()), 12);
  dir.remove();
});

test('fMP4: new parameter sets at a keyframe give a new init on the same connection, nothing lost', () => {
  const sdp = parseSdp(SDP_TEXT).media[0]!;
  const fragmenter = new VideoFragmenter(
    H264_CODEC,
    90000,
    parseSpropParameterSets(sdp.fmtp.get('sprop-parameter-sets')),
  );
  const units = depacketise(capturedPackets()).units;
  // The emulator's 1280×960 main stream parameter sets, sent in-band before a later keyframe.
  const mainSets = parseSpropParameterSets('Z2QAKKzZgFAHmhAAAAMAEAAAAwFA8YMZoA==,aOl7LIs=');
  const spanTicks = units.at(-1)!.timestamp - units[0]!.timestamp + 9000;
  const second = units.map((u, i) => ({
    ...u,
    timestamp: u.timestamp + spanTicks,
    ...frameOf(i === 0 ? [...mainSets, ...u.nalUnits.map((n) => n.bytes)] : u.nalUnits.map((n) => n.bytes)),
  }));
  const outputs: FragmenterOutput[] = [];
  for (const unit of [...units, ...second]) outputs.push(...fragmenter.push(unit));
  const inits = outputs.flatMap((o, i) =>
    o.type === 'init' ? [{ i, width: o.width, height: o.height }] : [],
  );
  assert.deepEqual(
    inits.map((x) => [x.width, x.height]),
    [
      [640, 480],
      [1280, 960],
    ],
  );
  const before = outputs.slice(0, inits[1]!.i).filter((o) => o.type === 'fragment');
  const after = outputs.slice(inits[1]!.i + 1).filter((o) => o.type === 'fragment');
  const frames = (list: FragmenterOutput[], init: Buffer) =>
    list.flatMap((f) =>
      f.type === 'fragment'
        ? parseFragment(f.bytes.subarray(0, f.fragment.moofByteLength), 0, parseInitSegment(init)).tracks[0]!
            .samples
        : [],
    );
  const firstInit = outputs[inits[0]!.i]!.bytes;
  const secondInit = outputs[inits[1]!.i]!.bytes;
  // Every frame but the emulator's repeated first IDR (see the test above).
  assert.equal(frames(before, firstInit).length, units.length - 1, 'every frame of the old format');
  const newFrames = frames(after, secondInit);
  assert.equal(newFrames.length, units.length - 1, 'every frame of the new format');
  assert.equal(newFrames[0]!.isSync, true, 'the new format starts at its keyframe');
});

test('fMP4: a frame leaves at once with the last step as its duration; the next decode time is exact', () => {
  const sdp = parseSdp(SDP_TEXT).media[0]!;
  const fragmenter = new VideoFragmenter(
    H264_CODEC,
    90000,
    parseSpropParameterSets(sdp.fmtp.get('sprop-parameter-sets')),
  );
  const keyframe = depacketise(capturedPackets()).units[0]!;
  // 10 fps, then 15 fps from the fifth frame on: the frame before the change cannot know it.
  const timestamps = [0, 9000, 18000, 27000, 36000, 42000, 48000, 54000, 60000];
  let initBytes: Buffer = Buffer.alloc(0);
  const samples = timestamps.map((timestamp, i) => {
    const out = fragmenter.push({ ...keyframe, timestamp: 1_000_000 + timestamp, isKeyframe: i === 0 });
    for (const o of out) if (o.type === 'init') initBytes = o.bytes;
    const fragments = out.filter((o) => o.type === 'fragment');
    assert.equal(fragments.length, 1, `frame ${i} left as it arrived`);
    const track = parseFragment(fragments[0]!.bytes, 0, parseInitSegment(initBytes)).tracks[0]!;
    assert.equal(track.samples.length, 1);
    return track.samples[0]!;
  });
  const decodeTimes = samples.map((s) => s.decodeTime);
  decodeTimes.slice(1).forEach((t, i) => assert.ok(t > decodeTimes[i]!, 'decode times increase'));
  const mismatches = samples
    .slice(0, -1)
    .filter((s, i) => s.decodeTime + s.durationTicks !== samples[i + 1]!.decodeTime);
  assert.equal(mismatches.length, 1, 'only the frame before the rate change ends off its successor');
  assert.equal(samples.at(-1)!.durationTicks, 6000, 'the new step is taken up');
});
