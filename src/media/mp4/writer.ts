import { writeUint64 } from './boxes.js';

/** Builders for the few box shapes the export writes. Every value is big-endian, as in ISO-BMFF. */

export function box(type: string, ...parts: Buffer[]): Buffer {
  const payloadByteLength = parts.reduce((n, p) => n + p.length, 0);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + payloadByteLength, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, ...parts], 8 + payloadByteLength);
}

export function fullBox(type: string, version: number, flags: number, ...parts: Buffer[]): Buffer {
  const versionAndFlags = Buffer.alloc(4);
  versionAndFlags.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, versionAndFlags, ...parts);
}

/** A header for an mdat of `payloadByteLength` bytes: 64-bit (16 bytes) only when 32 bits cannot hold it. */
export function mdatHeader(payloadByteLength: number): Buffer {
  if (payloadByteLength + 8 <= 0xffff_ffff) {
    const header = Buffer.alloc(8);
    header.writeUInt32BE(payloadByteLength + 8, 0);
    header.write('mdat', 4, 'latin1');
    return header;
  }
  const header = Buffer.alloc(16);
  header.writeUInt32BE(1, 0);
  header.write('mdat', 4, 'latin1');
  writeUint64(header, payloadByteLength + 16, 8);
  return header;
}

/** Sequential writer of fixed-size fields into one preallocated buffer. */
export class FieldWriter {
  readonly buf: Buffer;
  private pos = 0;

  constructor(byteLength: number) {
    this.buf = Buffer.alloc(byteLength);
  }

  u8(value: number): this {
    this.pos = this.buf.writeUInt8(value, this.pos);
    return this;
  }

  u16(value: number): this {
    this.pos = this.buf.writeUInt16BE(value, this.pos);
    return this;
  }

  i16(value: number): this {
    this.pos = this.buf.writeInt16BE(value, this.pos);
    return this;
  }

  u32(value: number): this {
    this.pos = this.buf.writeUInt32BE(value >>> 0, this.pos);
    return this;
  }

  i32(value: number): this {
    this.pos = this.buf.writeInt32BE(value, this.pos);
    return this;
  }

  u64(value: number): this {
    writeUint64(this.buf, value, this.pos);
    this.pos += 8;
    return this;
  }

  /** A 32- or 64-bit field, as the box version chose. */
  uint(value: number, wide: boolean): this {
    return wide ? this.u64(value) : this.u32(value);
  }

  zeros(byteLength: number): this {
    this.pos += byteLength;
    return this;
  }

  text(value: string): this {
    this.pos += this.buf.write(value, this.pos, 'latin1');
    return this;
  }

  done(): Buffer {
    if (this.pos !== this.buf.length)
      throw new Error(`field writer filled ${this.pos} of ${this.buf.length} bytes`);
    return this.buf;
  }
}

/** Run-length pairs (count, value) of a sequence, as stts and ctts store them. */
export function runLengths(values: readonly number[]): Array<[count: number, value: number]> {
  const runs: Array<[number, number]> = [];
  for (const value of values) {
    const last = runs.at(-1);
    if (last && last[1] === value) last[0] += 1;
    else runs.push([1, value]);
  }
  return runs;
}
