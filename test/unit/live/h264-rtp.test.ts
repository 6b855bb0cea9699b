import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { accessUnitPayloads, splitLengthPrefixed } from '../../../src/live/h264-rtp.js';

const nal = (type: number, bytes: number): Buffer => {
  const unit = Buffer.alloc(bytes, 0xab);
  unit[0] = 0x60 | type; // nal_ref_idc 3
  return unit;
};

const lengthPrefixed = (units: Buffer[], lengthBytes = 4): Buffer =>
  Buffer.concat(
    units.flatMap((u) => {
      const prefix = Buffer.alloc(lengthBytes);
      prefix.writeUIntBE(u.length, 0, lengthBytes);
      return [prefix, u];
    }),
  );

describe('H.264 RTP packetisation (RFC 6184)', () => {
  test('a sample splits into its NAL units, for every length size avcC allows', () => {
    const units = [nal(5, 40), nal(1, 3)];
    for (const size of [1, 2, 4])
      assert.deepEqual(splitLengthPrefixed(lengthPrefixed(units, size), size), units);
  });

  test('a truncated length prefix ends the split instead of reading past the sample', () => {
    const sample = lengthPrefixed([nal(1, 10)]);
    assert.deepEqual(splitLengthPrefixed(sample.subarray(0, 8), 4), []);
  });

  test('small NAL units go whole; the marker is on the last packet; delimiters are dropped', () => {
    const sps = nal(7, 12);
    const pps = nal(8, 4);
    const payloads = accessUnitPayloads([nal(9, 2), nal(5, 100)], [sps, pps]);
    assert.deepEqual(
      payloads.map((p) => [p.payload[0]! & 0x1f, p.marker]),
      [
        [7, false],
        [8, false],
        [5, true],
      ],
    );
  });

  test('a large NAL unit becomes FU-A fragments that rebuild it exactly', () => {
    const unit = nal(5, 5000);
    unit.forEach((_, i) => i > 0 && (unit[i] = i % 251));
    const payloads = accessUnitPayloads([unit], [], 1000);
    assert.ok(payloads.every((p) => p.payload.length <= 1000));
    const headers = payloads.map((p) => p.payload[1]!);
    assert.equal(headers[0]! & 0x80, 0x80, 'start bit on the first');
    assert.equal(headers.at(-1)! & 0x40, 0x40, 'end bit on the last');
    assert.ok(
      headers.slice(1, -1).every((h) => (h & 0xc0) === 0),
      'neither bit in between',
    );
    assert.ok(payloads.every((p) => (p.payload[0]! & 0x1f) === 28 && (p.payload[0]! & 0x60) === 0x60));
    const rebuilt = Buffer.concat([
      Buffer.from([(payloads[0]!.payload[0]! & 0xe0) | (payloads[0]!.payload[1]! & 0x1f)]),
      ...payloads.map((p) => p.payload.subarray(2)),
    ]);
    assert.deepEqual(rebuilt, unit);
    assert.deepEqual(
      payloads.map((p) => p.marker),
      payloads.map((_, i) => i === payloads.length - 1),
    );
  });
});
