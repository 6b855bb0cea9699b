import { open } from 'node:fs/promises';
import { corrupt, readBoxHeader, type BoxHeader } from './boxes.js';
import { parseFragment, type Fragment } from './fragment.js';
import { parseInitSegment, type InitSegment } from './init.js';

export interface ScannedFile {
  init: InitSegment;
  /** Bytes from the start of the file to the end of the moov: where the first fragment may begin. */
  initByteLength: number;
  /** Complete fragments (moof + mdat), in file order. */
  fragments: Fragment[];
  /**
   * End of the longest readable prefix: the last complete fragment, or a complete box after it
   * (ffmpeg ends files it writes itself with an mfra). Cutting the file here loses nothing playable.
   */
  validByteLength: number;
  fileByteLength: number;
  /** Bytes follow validByteLength: a fragment cut short by a crash (or damage past that point). */
  torn: boolean;
}

/** An init bigger than this is not one ffmpeg wrote for a camera (x265 SEI makes them a few KiB). */
const MAX_INIT_BYTES = 16 * 1024 * 1024;
/** A 1 s fragment's moof is a few KiB even at 60 fps with audio; beyond this it is damage. */
const MAX_MOOF_BYTES = 16 * 1024 * 1024;
/** One read usually covers a moof header, the moof and the next mdat's header. */
const READ_AHEAD_BYTES = 8192;

interface ReadRequest {
  offset: number;
  length: number;
}

/** The scan as a sequence of reads, so one implementation serves files (async) and buffers (sync). */
type ScanSteps = Generator<ReadRequest, ScannedFile, Buffer>;

/**
 * Reads a segment file's init and the index of its fragments. Only box headers and moof boxes are
 * read; mdat payloads are skipped. A file without a complete init is MEDIA_CORRUPT; a damaged or
 * incomplete tail is reported as `torn`, not thrown.
 */
export async function scanSegmentFile(path: string): Promise<ScannedFile> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const steps = scanSteps(size);
    let step = steps.next(Buffer.alloc(0));
    while (!step.done) {
      const { offset, length } = step.value;
      const wanted = Math.max(0, Math.min(length, size - offset));
      const buf = Buffer.allocUnsafe(wanted);
      let filled = 0;
      while (filled < wanted) {
        const { bytesRead } = await handle.read(buf, filled, wanted - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      step = steps.next(buf.subarray(0, filled));
    }
    return step.value;
  } finally {
    await handle.close();
  }
}

/** scanSegmentFile for bytes already in memory. */
export function scanSegmentBuffer(buf: Buffer): ScannedFile {
  const steps = scanSteps(buf.length);
  let step = steps.next(Buffer.alloc(0));
  while (!step.done) {
    const { offset, length } = step.value;
    step = steps.next(buf.subarray(offset, offset + length));
  }
  return step.value;
}

/** The header of the box at the start of `buf` if it is sane and lies within the file, else null. */
function headerWithin(buf: Buffer, fileOffset: number, fileByteLength: number): BoxHeader | null {
  // Size 0 ("to the end") never comes from the recorder, while a tail of zeros left by a crash looks just like it.
  if (buf.length < 8 || buf.readUInt32BE(0) === 0) return null;
  let header: BoxHeader | null;
  try {
    header = readBoxHeader(buf, 0);
  } catch {
    return null;
  }
  if (!header || fileOffset + header.size > fileByteLength) return null;
  return header;
}

function* scanSteps(fileByteLength: number): ScanSteps {
  let pos = 0;
  let moovEnd: number | null = null;
  while (moovEnd === null) {
    const head = yield { offset: pos, length: 16 };
    const box = headerWithin(head, pos, fileByteLength);
    if (!box) {
      throw corrupt(
        pos === 0 && fileByteLength === 0
          ? 'the file is empty'
          : `the file has no complete init segment (ftyp + moov): stopped at byte ${pos} of ${fileByteLength}`,
      );
    }
    if (box.type === 'moof') throw corrupt(`the file has a fragment at byte ${pos} before any moov`);
    if (box.type === 'moov') moovEnd = pos + box.size;
    pos += box.size;
  }
  if (moovEnd > MAX_INIT_BYTES)
    throw corrupt(`the init segment is ${moovEnd} bytes; that is not a camera recording`);
  const initBytes = yield { offset: 0, length: moovEnd };
  const init = parseInitSegment(Buffer.from(initBytes));
  const initByteLength = moovEnd;

  const fragments: Fragment[] = [];
  const nextDecodeTimes = new Map<number, number>();
  let validByteLength = initByteLength;
  pos = initByteLength;
  while (pos < fileByteLength) {
    let buf = yield { offset: pos, length: READ_AHEAD_BYTES };
    const box = headerWithin(buf, pos, fileByteLength);
    if (!box) break;
    if (box.type !== 'moof') {
      // A complete box of another kind (mfra, free, sidx…) does no harm; garbage ends the valid part.
      if (!/^[\x20-\x7e]{4}$/.test(box.type) || box.type === 'mdat') break;
      pos += box.size;
      validByteLength = pos;
      continue;
    }
    if (box.size > MAX_MOOF_BYTES) break;
    if (buf.length < box.size + 16) buf = yield { offset: pos, length: box.size + 16 };
    const mdatStart = pos + box.size;
    const mdat = headerWithin(buf.subarray(box.size), mdatStart, fileByteLength);
    if (!mdat || mdat.type !== 'mdat') break;
    const fragmentEnd = mdatStart + mdat.size;
    let fragment: Fragment;
    try {
      fragment = parseFragment(buf.subarray(0, box.size), pos, init, {
        mdatByteLength: mdat.size,
        nextDecodeTimes,
      });
    } catch {
      break;
    }
    const dataStart = mdatStart + mdat.headerSize;
    const inside = fragment.tracks.every((t) =>
      t.samples.every((s) => s.fileOffset >= dataStart && s.fileOffset + s.size <= fragmentEnd),
    );
    if (!inside) break;
    for (const run of fragment.tracks) {
      const last = run.samples.at(-1);
      if (last) nextDecodeTimes.set(run.trackId, last.decodeTime + last.durationTicks);
    }
    fragments.push(fragment);
    pos = fragmentEnd;
    validByteLength = pos;
  }
  return {
    init,
    initByteLength,
    fragments,
    validByteLength,
    fileByteLength,
    torn: validByteLength < fileByteLength,
  };
}
