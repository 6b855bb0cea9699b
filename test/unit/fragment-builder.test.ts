import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildH264InitSegment } from '../../src/media/mp4/fmp4-muxer.js';
import { FrameWriter, finishFragment, type FrameData } from '../../src/media/mp4/fragment-builder.js';
import { parseFragment, parseInitSegment } from '../../src/media/mp4/index.js';

const SPS = Buffer.from('67640016acd940a02ff97011000003000100000300140f162d96', 'hex');
const PPS = Buffer.from('68ef8fcb', 'hex');
const init = parseInitSegment(
  buildH264InitSegment({ sps: [SPS], pps: [PPS], width: 640, height: 360, timescale: 90000 }),
);

/** NAL units of `size` bytes whose content says which frame and unit they are. */
function nal(frame: number, index: number, size: number): Buffer {
  const bytes = Buffer.alloc(size, (frame * 7 + index) & 0xff);
  bytes[0] = 0x41;
  return bytes;
}

function writeFrame(writer: FrameWriter, nals: readonly Buffer[]): FrameData {
  for (const unit of nals) {
    writer.beginNal();
    // In pieces, as FU-A packets bring a unit.
    for (let at = 0; at < unit.length; at += 50) writer.append(unit.subarray(at, at + 50));
    writer.endNal();
  }
  const frame = writer.sealFrame();
  assert.ok(frame);
  return frame;
}

/** The NAL units of a fragment's mdat, from their 4-byte length prefixes. */
function mdatNals(bytes: Buffer, moofByteLength: number): Buffer[] {
  const out: Buffer[] = [];
  for (let p = moofByteLength + 8; p < bytes.length;) {
    const length = bytes.readUInt32BE(p);
    out.push(bytes.subarray(p + 4, p + 4 + length));
    p += 4 + length;
  }
  return out;
}

test('fragment builder: what it says of a fragment is what parseFragment reads back', () => {
  const cases = [
    { durationTicks: 9000, compositionOffsetTicks: 0, isSync: true, baseDecodeTime: 0 },
    { durationTicks: 3000, compositionOffsetTicks: 6000, isSync: false, baseDecodeTime: 123_456 },
    { durationTicks: 3003, compositionOffsetTicks: -3003, isSync: false, baseDecodeTime: 2 ** 33 + 5 },
  ];
  const writer = new FrameWriter();
  cases.forEach(({ baseDecodeTime, ...sample }, i) => {
    const frame = writeFrame(writer, [nal(i, 0, 300), nal(i, 1, 20)]);
    const built = finishFragment(frame, { sequenceNumber: i + 1, baseDecodeTime, sample });
    assert.deepEqual(built.fragment, parseFragment(built.bytes, 0, init), `case ${i}`);
    assert.equal(built.bytes.length, built.fragment.byteLength);
    assert.deepEqual(mdatNals(built.bytes, built.fragment.moofByteLength), [nal(i, 0, 300), nal(i, 1, 20)]);
  });
});

test('fragment builder: a frame that outgrows its slab moves whole, and earlier fragments stay intact', () => {
  // Slabs of 1 KiB: frames of up to 3 KiB force moves, and a slab to twice the frame's size.
  const writer = new FrameWriter(1024);
  const sizes = [100, 700, 3000, 40, 900, 900, 2500, 10];
  const built = sizes.map((size, i) => {
    const nals = [nal(i, 0, size), nal(i, 1, 30)];
    const frame = writeFrame(writer, nals);
    return { nals, fragment: finishFragment(frame, fragmentOptions(i)) };
  });
  const slabs = new Set(built.map((b) => b.fragment.bytes.buffer));
  assert.ok(slabs.size >= 4, `${slabs.size} slabs`);
  assert.ok(slabs.size < sizes.length, 'small frames share a slab');
  for (const [i, { nals, fragment }] of built.entries()) {
    assert.deepEqual(mdatNals(fragment.bytes, fragment.fragment.moofByteLength), nals, `frame ${i}`);
    assert.deepEqual(fragment.fragment, parseFragment(fragment.bytes, 0, init));
  }
});

test('fragment builder: a dropped NAL unit and an empty frame leave nothing behind', () => {
  const writer = new FrameWriter();
  writer.beginNal();
  writer.append(nal(0, 0, 80));
  writer.dropNal();
  assert.equal(writer.sealFrame(), null, 'a frame whose only unit was dropped is no frame');
  writer.beginNal();
  writer.append(nal(1, 0, 80));
  writer.endNal();
  writer.beginNal();
  writer.appendByte(0x41);
  writer.append(nal(1, 1, 40));
  // Sealing with a unit open drops it (its end was lost).
  const frame = writer.sealFrame();
  assert.ok(frame);
  const built = finishFragment(frame, fragmentOptions(0));
  assert.deepEqual(mdatNals(built.bytes, built.fragment.moofByteLength), [nal(1, 0, 80)]);
});

function fragmentOptions(i: number) {
  return {
    sequenceNumber: i + 1,
    baseDecodeTime: i * 9000,
    sample: { durationTicks: 9000, compositionOffsetTicks: 0, isSync: i === 0 },
  };
}
