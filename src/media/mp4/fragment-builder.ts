/**
 * Video fragments (moof + mdat, one sample each, shaped like ffmpeg's) built in place while a
 * frame's NAL units arrive: each NAL unit is copied once, from the packet it came in straight to
 * its place in the mdat, and the moof is written last, into room kept before the mdat. Frames are
 * laid end to end in slabs, so the garbage collector sees one allocation per slab instead of one
 * per frame (a recorder's memory is almost all video bytes, and the bytes allocated between
 * collections are what schedules the next full one). Pure.
 *
 * A slab lives as long as any fragment cut from it: fragments held for long (a live view's last
 * keyframe) keep the slab, at most one slab's worth more than the fragments themselves.
 */
import type { Fragment } from './fragment.js';
import { NAL_LENGTH_BYTES, NON_SYNC_SAMPLE_FLAGS, SYNC_SAMPLE_FLAGS, VIDEO_TRACK_ID } from './fmp4-muxer.js';

const MOOF_FIXED_BYTES = 88;
const TRUN_ENTRY_BYTES = 12;
const TRUN_ENTRY_WITH_OFFSET_BYTES = 16;
const MDAT_HEADER_BYTES = 8;
/** Room before a frame's data for its moof (the largest, with a composition offset) and mdat header. */
const HEADER_ROOM_BYTES = MOOF_FIXED_BYTES + TRUN_ENTRY_WITH_OFFSET_BYTES + MDAT_HEADER_BYTES;
/** Box types as the big-endian words they are written as. */
const fourCc = (type: string) => Buffer.from(type, 'latin1').readUInt32BE(0);
const MOOF = fourCc('moof');
const MFHD = fourCc('mfhd');
const TRAF = fourCc('traf');
const TFHD = fourCc('tfhd');
const TFDT = fourCc('tfdt');
const TRUN = fourCc('trun');
const MDAT = fourCc('mdat');
/**
 * A frame that does not fit in what is left of a slab moves to a new one (to one twice its size if
 * need be): the larger the slab, the fewer bytes moved (on average frame² / (2 × slab) per frame)
 * and the more memory a fragment kept alive holds.
 */
export const DEFAULT_SLAB_BYTES = 512 * 1024;

/** The bytes of one complete frame in a slab, with room for its headers before them. */
export interface FrameData {
  readonly slab: Buffer;
  /** Where the frame's NAL units (each with its length field) start and end in the slab. */
  readonly dataStart: number;
  readonly dataEnd: number;
}

export interface FragmentSample {
  durationTicks: number;
  /** Presentation minus decode time (B-frames); negative values make the trun version 1. */
  compositionOffsetTicks: number;
  isSync: boolean;
}

export interface BuiltFragment {
  /** moof + mdat: a view of the frame's slab. */
  bytes: Buffer;
  /** What parseFragment would read from `bytes` with the fragment at file offset 0. */
  fragment: Fragment;
}

/** Writes frames into slabs: begin a frame, add its NAL units, seal it. */
export class FrameWriter {
  private slab: Buffer;
  private position = 0;
  /** Start of the open frame's header room, or -1 when no frame is open. */
  private frameStart = -1;
  /** Where the open NAL unit's length field is, or -1. */
  private nalStart = -1;

  constructor(private readonly slabBytes = DEFAULT_SLAB_BYTES) {
    this.slab = Buffer.allocUnsafeSlow(slabBytes);
  }

  /** Opens a NAL unit (and the frame, if none is open). */
  beginNal(): void {
    if (this.frameStart < 0) {
      this.reserve(HEADER_ROOM_BYTES);
      this.frameStart = this.position;
      this.position += HEADER_ROOM_BYTES;
    }
    this.dropNal();
    this.reserve(NAL_LENGTH_BYTES);
    this.nalStart = this.position;
    this.position += NAL_LENGTH_BYTES;
  }

  /** Appends to the open NAL unit. */
  append(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.slab.set(bytes, this.position);
    this.position += bytes.length;
  }

  appendByte(byte: number): void {
    this.reserve(1);
    this.slab[this.position] = byte;
    this.position += 1;
  }

  /** Closes the open NAL unit; returns a view of it (header included, length field not). */
  endNal(): Buffer {
    const start = this.nalStart;
    this.slab.writeUInt32BE(this.position - start - NAL_LENGTH_BYTES, start);
    this.nalStart = -1;
    return this.slab.subarray(start + NAL_LENGTH_BYTES, this.position);
  }

  /** Forgets the open NAL unit (a fragment of it was lost). */
  dropNal(): void {
    if (this.nalStart < 0) return;
    this.position = this.nalStart;
    this.nalStart = -1;
  }

  /** Closes the open frame; null when it holds no NAL unit (or none is open). */
  sealFrame(): FrameData | null {
    this.dropNal();
    const frameStart = this.frameStart;
    if (frameStart < 0) return null;
    this.frameStart = -1;
    const dataStart = frameStart + HEADER_ROOM_BYTES;
    if (this.position === dataStart) {
      this.position = frameStart;
      return null;
    }
    return { slab: this.slab, dataStart, dataEnd: this.position };
  }

  /** Makes room for `bytes` more, moving the open frame to a new slab when this one is full. */
  private reserve(bytes: number): void {
    if (this.position + bytes <= this.slab.length) return;
    const keepFrom = this.frameStart >= 0 ? this.frameStart : this.position;
    const kept = this.position - keepFrom;
    const next = Buffer.allocUnsafeSlow(Math.max(this.slabBytes, 2 * (kept + bytes)));
    this.slab.copy(next, 0, keepFrom, this.position);
    if (this.frameStart >= 0) this.frameStart -= keepFrom;
    if (this.nalStart >= 0) this.nalStart -= keepFrom;
    this.position = kept;
    this.slab = next;
  }
}

/**
 * Writes the moof and mdat header of a sealed frame in front of its data: moof (mfhd, traf with
 * tfhd default-base-is-moof, tfdt v1, trun with duration, size, flags and, with B-frames,
 * composition offset) and mdat holding the length-prefixed NAL units.
 */
export function finishFragment(
  frame: FrameData,
  opts: { sequenceNumber: number; baseDecodeTime: number; sample: FragmentSample },
): BuiltFragment {
  const { sample } = opts;
  const withOffset = sample.compositionOffsetTicks !== 0;
  const entryBytes = withOffset ? TRUN_ENTRY_WITH_OFFSET_BYTES : TRUN_ENTRY_BYTES;
  const moofByteLength = MOOF_FIXED_BYTES + entryBytes;
  const sampleBytes = frame.dataEnd - frame.dataStart;
  const start = frame.dataStart - MDAT_HEADER_BYTES - moofByteLength;
  const byteLength = frame.dataEnd - start;
  if (byteLength > 0xffff_ffff) {
    throw new Error(`a fragment of ${byteLength} bytes is too large for 32-bit box sizes`);
  }
  const buf = frame.slab;
  let p = start;
  const u32 = (value: number) => {
    p = buf.writeUInt32BE(value >>> 0, p);
  };
  u32(moofByteLength);
  u32(MOOF);
  u32(16);
  u32(MFHD);
  u32(0);
  u32(opts.sequenceNumber);
  u32(moofByteLength - 24);
  u32(TRAF);
  u32(16);
  u32(TFHD);
  u32(0x0002_0000); // default-base-is-moof
  u32(VIDEO_TRACK_ID);
  u32(20);
  u32(TFDT);
  u32(0x0100_0000); // version 1: a 64-bit decode time
  u32(Math.floor(opts.baseDecodeTime / 0x1_0000_0000));
  u32(opts.baseDecodeTime % 0x1_0000_0000);
  u32(20 + entryBytes);
  u32(TRUN);
  // Data offset, duration, size, flags (and the composition offset when there are B-frames).
  const signed = sample.compositionOffsetTicks < 0;
  u32((signed ? 0x0100_0000 : 0) | 0x0000_0701 | (withOffset ? 0x0000_0800 : 0));
  u32(1);
  u32(moofByteLength + MDAT_HEADER_BYTES);
  u32(sample.durationTicks);
  u32(sampleBytes);
  u32(sample.isSync ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS);
  if (withOffset) u32(sample.compositionOffsetTicks);
  u32(MDAT_HEADER_BYTES + sampleBytes);
  u32(MDAT);
  return {
    bytes: buf.subarray(start, frame.dataEnd),
    fragment: {
      fileOffset: 0,
      byteLength,
      moofByteLength,
      sequenceNumber: opts.sequenceNumber,
      tracks: [
        {
          trackId: VIDEO_TRACK_ID,
          baseDecodeTime: opts.baseDecodeTime,
          sampleDescriptionIndex: 1,
          samples: [
            {
              decodeTime: opts.baseDecodeTime,
              durationTicks: sample.durationTicks,
              size: sampleBytes,
              isSync: sample.isSync,
              compositionOffsetTicks: sample.compositionOffsetTicks,
              fileOffset: moofByteLength + MDAT_HEADER_BYTES,
            },
          ],
        },
      ],
      startsWithKeyframe: sample.isSync,
    },
  };
}
