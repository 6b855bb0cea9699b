import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { VigilError } from '../../src/errors/catalogue.js';
import { BoxSplitter, findPath, listBoxes, readBoxHeader } from '../../src/media/mp4/index.js';
import { box, fullBox } from '../../src/media/mp4/writer.js';
import { makeRecording, tempDir } from '../helpers/fixtures-mp4.js';

/** A small deterministic PRNG, so a failing chunking can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 0x1_0000_0000;
  };
}

function splitAll(bytes: Buffer, sizes: () => number): Array<{ type: string; bytes: Buffer }> {
  const splitter = new BoxSplitter();
  const out = [];
  for (let pos = 0; pos < bytes.length;) {
    const n = Math.min(bytes.length - pos, sizes());
    out.push(...splitter.push(bytes.subarray(pos, pos + n)));
    pos += n;
  }
  assert.equal(splitter.pendingByteLength, 0, 'no bytes left over');
  return out;
}

function isCorrupt(err: unknown): boolean {
  return err instanceof VigilError && err.code === 'MEDIA_CORRUPT';
}

test('readBoxHeader reads 32-bit, 64-bit, to-the-end and uuid headers', () => {
  const plain = box('free', Buffer.alloc(4));
  assert.deepEqual(readBoxHeader(plain, 0), { type: 'free', start: 0, headerSize: 8, size: 12 });

  const large = Buffer.alloc(24);
  large.writeUInt32BE(1, 0);
  large.write('mdat', 4, 'latin1');
  large.writeUInt32BE(1, 8); // 2^32 + 24: beyond 32 bits, as a 4 GiB+ mdat is
  large.writeUInt32BE(24, 12);
  assert.deepEqual(readBoxHeader(large, 0), {
    type: 'mdat',
    start: 0,
    headerSize: 16,
    size: 0x1_0000_0000 + 24,
  });

  const toEnd = Buffer.concat([
    box('ftyp', Buffer.alloc(8)),
    Buffer.from([0, 0, 0, 0]),
    Buffer.from('mdat'),
    Buffer.alloc(100),
  ]);
  assert.deepEqual(readBoxHeader(toEnd, 16), { type: 'mdat', start: 16, headerSize: 8, size: 108 });

  const uuid = box('uuid', Buffer.alloc(20));
  assert.equal(readBoxHeader(uuid, 0)?.headerSize, 24);

  assert.equal(readBoxHeader(plain, 6), null, 'fewer than 8 bytes left');
  assert.equal(readBoxHeader(large.subarray(0, 12), 0), null, 'largesize cut off');
  const tiny = Buffer.from([0, 0, 0, 4, 0x66, 0x72, 0x65, 0x65]);
  assert.throws(() => readBoxHeader(tiny, 0), isCorrupt);
});

test('listBoxes and findPath walk nested boxes; a child overrunning its parent is corrupt', () => {
  const tree = Buffer.concat([
    box('ftyp', Buffer.from('isom')),
    box('moov', fullBox('mvhd', 0, 0, Buffer.alloc(96)), box('trak', box('mdia', box('minf', box('stbl'))))),
  ]);
  assert.deepEqual(
    listBoxes(tree).map((b) => b.type),
    ['ftyp', 'moov'],
  );
  const stbl = findPath(tree, null, ['moov', 'trak', 'mdia', 'minf', 'stbl']);
  assert.equal(stbl?.type, 'stbl');
  assert.equal(stbl?.size, 8);
  assert.equal(findPath(tree, null, ['moov', 'mvex']), undefined);

  const broken = Buffer.from(tree);
  broken.writeUInt32BE(200, 12 + 8); // mvhd claims more than moov holds
  assert.throws(() => findPath(broken, null, ['moov', 'trak']), isCorrupt);
});

test('BoxSplitter: many boxes in one chunk, one box over many chunks, headers cut anywhere', () => {
  const boxes = [
    box('ftyp', Buffer.from('isom0000')),
    box('moov', Buffer.alloc(300, 1)),
    box('moof', Buffer.alloc(50, 2)),
    box('mdat', Buffer.alloc(70_000, 3)),
  ];
  const large = Buffer.alloc(16 + 20, 4);
  large.writeUInt32BE(1, 0);
  large.write('mdat', 4, 'latin1');
  large.writeUInt32BE(0, 8);
  large.writeUInt32BE(36, 12);
  boxes.push(large);
  const all = Buffer.concat(boxes);

  const whole = new BoxSplitter().push(all);
  assert.deepEqual(
    whole.map((b) => b.type),
    ['ftyp', 'moov', 'moof', 'mdat', 'mdat'],
  );
  whole.forEach((b, i) => assert.ok(b.bytes.equals(boxes[i] as Buffer)));

  for (const size of [1, 3, 7, 8, 9, 15, 16, 17, 1000]) {
    const got = splitAll(all, () => size);
    assert.equal(got.length, boxes.length, `chunks of ${size}`);
    got.forEach((b, i) => assert.ok(b.bytes.equals(boxes[i] as Buffer), `chunks of ${size}, box ${i}`));
  }
});

test('BoxSplitter refuses absurd sizes, and stays failed', () => {
  const huge = Buffer.alloc(8);
  huge.writeUInt32BE(0x2000_0000, 0); // 512 MiB
  huge.write('mdat', 4, 'latin1');
  const splitter = new BoxSplitter();
  assert.throws(() => splitter.push(huge), /more than the/);
  assert.throws(() => splitter.push(box('free')), /more than the/);

  const huge64 = Buffer.alloc(16);
  huge64.writeUInt32BE(1, 0);
  huge64.write('mdat', 4, 'latin1');
  huge64.writeUInt32BE(0xffff_ffff, 8);
  assert.throws(() => new BoxSplitter().push(huge64), /more than the/);

  const zero = Buffer.concat([Buffer.alloc(4), Buffer.from('mdat')]);
  assert.throws(() => new BoxSplitter().push(zero), /size 0/);
  const tooSmall = Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.from('free')]);
  assert.throws(() => new BoxSplitter().push(tooSmall), /impossible size/);
});

let dir: ReturnType<typeof tempDir>;
let recording: string;

before(async () => {
  dir = tempDir();
  recording = await makeRecording(join(dir.path, 'rec.mp4'), { codec: 'h264', durationS: 4, audio: true });
});

after(() => dir?.remove());

test('BoxSplitter yields exactly the boxes of an ffmpeg recording, whatever the chunking', {}, () => {
  const bytes = readFileSync(recording);
  const expected = listBoxes(bytes).map((b) => bytes.subarray(b.start, b.start + b.size));
  assert.ok(expected.length > 6, 'ftyp, moov, fragments, mfra');
  const random = prng(20261126);
  const chunkings: Array<[string, () => number]> = [
    ['1 byte', () => 1],
    ['64 KiB', () => 65536],
    ['random 1 B … 64 KiB', () => 1 + Math.floor(random() * 65536)],
    ['random 1 … 32 B', () => 1 + Math.floor(random() * 32)],
    [
      'random, mostly tiny',
      () => (random() < 0.8 ? 1 + Math.floor(random() * 8) : 1 + Math.floor(random() * 65536)),
    ],
  ];
  for (const [name, sizes] of chunkings) {
    const got = splitAll(bytes, sizes);
    assert.equal(got.length, expected.length, name);
    got.forEach((b, i) => {
      assert.equal(b.type, (expected[i] as Buffer).toString('latin1', 4, 8), `${name}: type of box ${i}`);
      assert.ok(b.bytes.equals(expected[i] as Buffer), `${name}: bytes of box ${i}`);
    });
  }
});
