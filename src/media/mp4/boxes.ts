import { VigilError } from '../../errors/catalogue.js';

/** Where one ISO-BMFF box lies in a buffer: `start` is its first byte, `size` includes the header. */
export interface BoxHeader {
  type: string;
  start: number;
  headerSize: number;
  size: number;
}

/** A complete top-level box cut from a byte stream. */
export interface SplitBox {
  type: string;
  bytes: Buffer;
}

/**
 * Boxes larger than this are refused when streaming: a 1 s fragment of even a 4K camera is a few
 * MiB, so a bigger size means the stream is out of step, and buffering it would exhaust memory.
 */
export const MAX_STREAMED_BOX_BYTES = 256 * 1024 * 1024;

/** 2^32: the high word of 64-bit fields is scaled by this (numbers stay exact up to 2^53). */
const TWO_POW_32 = 0x1_0000_0000;

export function corrupt(message: string, details?: Record<string, unknown>): VigilError {
  return new VigilError('MEDIA_CORRUPT', message, details);
}

/** A 64-bit unsigned field as a number; beyond 2^53 it would lose precision, so that is corrupt. */
export function readUint64(buf: Buffer, offset: number): number {
  const high = buf.readUInt32BE(offset);
  const low = buf.readUInt32BE(offset + 4);
  if (high >= 0x20_0000) throw corrupt(`a 64-bit field at byte ${offset} is too large (${high} × 2^32)`);
  return high * TWO_POW_32 + low;
}

export function writeUint64(buf: Buffer, value: number, offset: number): void {
  buf.writeUInt32BE(Math.floor(value / TWO_POW_32), offset);
  buf.writeUInt32BE(value % TWO_POW_32, offset + 4);
}

/**
 * The header of the box at `offset`, or null when the buffer ends before the header does.
 * Size 0 ("to the end of the file") is resolved against the end of `buf`.
 * Throws MEDIA_CORRUPT when the size is smaller than the header itself.
 */
export function readBoxHeader(buf: Buffer, offset: number): BoxHeader | null {
  if (offset + 8 > buf.length) return null;
  let size = buf.readUInt32BE(offset);
  const type = buf.toString('latin1', offset + 4, offset + 8);
  let headerSize = 8;
  if (size === 1) {
    if (offset + 16 > buf.length) return null;
    size = readUint64(buf, offset + 8);
    headerSize = 16;
  } else if (size === 0) {
    size = buf.length - offset;
  }
  if (type === 'uuid') {
    if (offset + headerSize + 16 > buf.length) return null;
    headerSize += 16;
  }
  if (size < headerSize) {
    throw corrupt(`box '${printable(type)}' at byte ${offset} has an impossible size ${size}`);
  }
  return { type, start: offset, headerSize, size };
}

/** A box type as text that is safe to show in a message. */
export function printable(type: string): string {
  return /^[\x20-\x7e]{4}$/.test(type) ? type : Buffer.from(type, 'latin1').toString('hex');
}

/** The end offset of a box (first byte after it). */
export function boxEnd(box: BoxHeader): number {
  return box.start + box.size;
}

/** The payload of a box: what follows its header. */
export function boxPayload(buf: Buffer, box: BoxHeader): Buffer {
  return buf.subarray(box.start + box.headerSize, box.start + box.size);
}

/**
 * The boxes laid end to end in `buf` between `start` and `end` (by default the whole buffer).
 * Throws MEDIA_CORRUPT when one runs past `end`: inside a complete parent that is damage, not a torn tail.
 */
export function listBoxes(buf: Buffer, start = 0, end = buf.length): BoxHeader[] {
  const out: BoxHeader[] = [];
  const view = end === buf.length ? buf : buf.subarray(0, end);
  let offset = start;
  while (offset < end) {
    const box = readBoxHeader(view, offset);
    if (!box || boxEnd(box) > end) {
      throw corrupt(`a box at byte ${offset} runs past the end of its parent (byte ${end})`);
    }
    out.push(box);
    offset = boxEnd(box);
  }
  return out;
}

/** The children of a container box. */
export function childBoxes(buf: Buffer, parent: BoxHeader): BoxHeader[] {
  return listBoxes(buf, parent.start + parent.headerSize, boxEnd(parent));
}

/** The first child of `parent` (or the first top-level box, when parent is null) of this type. */
export function findChild(buf: Buffer, parent: BoxHeader | null, type: string): BoxHeader | undefined {
  const boxes = parent ? childBoxes(buf, parent) : listBoxes(buf);
  return boxes.find((b) => b.type === type);
}

/** All children of `parent` of this type. */
export function findChildren(buf: Buffer, parent: BoxHeader, type: string): BoxHeader[] {
  return childBoxes(buf, parent).filter((b) => b.type === type);
}

/** The box at a path of types below `parent` (e.g. ['mdia', 'minf', 'stbl']), following first matches. */
export function findPath(
  buf: Buffer,
  parent: BoxHeader | null,
  path: readonly string[],
): BoxHeader | undefined {
  let current = parent;
  for (const type of path) {
    const next = findChild(buf, current, type);
    if (!next) return undefined;
    current = next;
  }
  return current ?? undefined;
}

/** Like findChild, but a missing box is MEDIA_CORRUPT naming what was being read. */
export function requireChild(buf: Buffer, parent: BoxHeader | null, type: string, what: string): BoxHeader {
  const box = findChild(buf, parent, type);
  if (!box) throw corrupt(`${what} has no '${type}' box`);
  return box;
}

/**
 * Cuts a byte stream into complete top-level boxes, whatever the chunk boundaries. Boxes within
 * one chunk are returned as views of it (no copy); a box spread over chunks is copied once, when
 * it completes, so a large mdat costs one concatenation rather than one per chunk.
 */
export class BoxSplitter {
  private chunks: Buffer[] = [];
  /** Index of the first unconsumed chunk: shifting the array per chunk would be quadratic for tiny chunks. */
  private head = 0;
  private queuedByteLength = 0;
  /** Size of the box at the head of the queue, once its header has arrived. */
  private headSize: number | null = null;
  private failure: Error | null = null;

  /** Bytes received that do not yet form a complete box. */
  get pendingByteLength(): number {
    return this.queuedByteLength;
  }

  push(chunk: Buffer): SplitBox[] {
    if (this.failure) throw this.failure;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.queuedByteLength += chunk.length;
    }
    const out: SplitBox[] = [];
    try {
      for (;;) {
        if (this.headSize === null) {
          this.headSize = this.peekSize();
          if (this.headSize === null) break;
        }
        if (this.queuedByteLength < this.headSize) break;
        const bytes = this.take(this.headSize);
        this.headSize = null;
        out.push({ type: bytes.toString('latin1', 4, 8), bytes });
      }
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
      throw this.failure;
    }
    return out;
  }

  private peekSize(): number | null {
    if (this.queuedByteLength < 8) return null;
    const head = this.peek(Math.min(16, this.queuedByteLength));
    const size32 = head.readUInt32BE(0);
    const type = printable(head.toString('latin1', 4, 8));
    let size: number;
    if (size32 === 1) {
      if (head.length < 16) return null;
      const high = head.readUInt32BE(8);
      size = high >= 0x20_0000 ? Number.MAX_SAFE_INTEGER : high * TWO_POW_32 + head.readUInt32BE(12);
    } else if (size32 === 0) {
      throw new Error(`box '${type}' has size 0 ("to end of file"), which a stream cannot have`);
    } else {
      size = size32;
    }
    if (size < 8) throw new Error(`box '${type}' has an impossible size ${size}`);
    if (size > MAX_STREAMED_BOX_BYTES) {
      throw new Error(`box '${type}' claims ${size} bytes, more than the ${MAX_STREAMED_BOX_BYTES} allowed`);
    }
    return size;
  }

  /** The first n queued bytes, without consuming them. */
  private peek(n: number): Buffer {
    const first = this.chunks[this.head];
    if (first && first.length >= n) return first.subarray(0, n);
    const parts: Buffer[] = [];
    let gathered = 0;
    for (let i = this.head; i < this.chunks.length && gathered < n; i += 1) {
      const chunk = this.chunks[i] as Buffer;
      parts.push(chunk);
      gathered += chunk.length;
    }
    return Buffer.concat(parts, gathered).subarray(0, n);
  }

  /** Consumes and returns the first n queued bytes (n ≤ queuedByteLength). */
  private take(n: number): Buffer {
    const first = this.chunks[this.head] as Buffer;
    let bytes: Buffer;
    if (first.length >= n) {
      bytes = first.subarray(0, n);
      this.consume(first, n);
    } else {
      bytes = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const chunk = this.chunks[this.head] as Buffer;
        const used = Math.min(chunk.length, n - filled);
        chunk.copy(bytes, filled, 0, used);
        filled += used;
        this.consume(chunk, used);
      }
    }
    this.queuedByteLength -= n;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    return bytes;
  }

  private consume(chunk: Buffer, used: number): void {
    if (used === chunk.length) this.head += 1;
    else this.chunks[this.head] = chunk.subarray(used);
  }
}
