import { VigilError } from '../../errors/catalogue.js';
import { boxPayload, childBoxes, corrupt, printable, readBoxHeader, readUint64 } from './boxes.js';
import type { InitSegment, TrackInfo } from './init.js';

export interface Sample {
  /** Absolute decode time in the track's timescale. */
  decodeTime: number;
  durationTicks: number;
  /** Byte length of the sample's data. */
  size: number;
  isSync: boolean;
  /** Presentation time minus decode time, in track ticks (negative only with trun version 1). */
  compositionOffsetTicks: number;
  /** Absolute byte offset of the sample's data in the file. */
  fileOffset: number;
}

/** One track's samples in a fragment (all of its trafs and truns, merged in order). */
export interface TrackRun {
  trackId: number;
  baseDecodeTime: number;
  /** 1-based index into the init's stsd entries that these samples use. */
  sampleDescriptionIndex: number;
  samples: Sample[];
}

export interface Fragment {
  /** Offset of the moof box in the file. */
  fileOffset: number;
  /** moof + mdat. */
  byteLength: number;
  moofByteLength: number;
  sequenceNumber: number;
  tracks: TrackRun[];
  /** The first video sample is a sync sample (without a video track: the fragment has samples). */
  startsWithKeyframe: boolean;
}

export interface ParseFragmentOptions {
  /**
   * Size of the mdat that follows the moof, header included. Without it the mdat header is read
   * from `moof` when the buffer continues past the moof box, else the end of the last sample is used.
   */
  mdatByteLength?: number;
  /**
   * Decode times to continue from, by track id, for trafs without a tfdt box (ffmpeg always writes
   * tfdt; other muxers may not). Without it such a traf starts at 0.
   */
  nextDecodeTimes?: ReadonlyMap<number, number>;
}

// tfhd flags (ISO 14496-12 §8.8.7)
const TFHD_BASE_DATA_OFFSET = 0x000001;
const TFHD_SAMPLE_DESCRIPTION_INDEX = 0x000002;
const TFHD_DEFAULT_DURATION = 0x000008;
const TFHD_DEFAULT_SIZE = 0x000010;
const TFHD_DEFAULT_FLAGS = 0x000020;
const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;
// trun flags (§8.8.8)
const TRUN_DATA_OFFSET = 0x000001;
const TRUN_FIRST_SAMPLE_FLAGS = 0x000004;
const TRUN_DURATION = 0x000100;
const TRUN_SIZE = 0x000200;
const TRUN_FLAGS = 0x000400;
const TRUN_COMPOSITION_OFFSET = 0x000800;
/** sample_is_non_sync_sample in the sample flags word. */
const SAMPLE_IS_NON_SYNC = 0x00010000;

/**
 * Parses a moof box. `moof` starts with the moof box (it may continue with the mdat); sample
 * offsets are reported relative to the file, where the moof starts at `moofFileOffset`.
 */
export function parseFragment(
  moof: Buffer,
  moofFileOffset: number,
  init: InitSegment,
  opts: ParseFragmentOptions = {},
): Fragment {
  try {
    return parseMoof(moof, moofFileOffset, init, opts);
  } catch (err) {
    if (err instanceof VigilError) throw err;
    throw corrupt(`the fragment at byte ${moofFileOffset} is unreadable: ${(err as Error).message}`);
  }
}

function parseMoof(
  buf: Buffer,
  moofFileOffset: number,
  init: InitSegment,
  opts: ParseFragmentOptions,
): Fragment {
  const moof = readBoxHeader(buf, 0);
  if (!moof || moof.type !== 'moof') {
    throw corrupt(
      `expected a moof box at byte ${moofFileOffset}, found '${moof ? printable(moof.type) : 'nothing'}'`,
    );
  }
  if (moof.size > buf.length) throw corrupt(`the moof at byte ${moofFileOffset} is incomplete`);
  let sequenceNumber = 0;
  const runs = new Map<number, TrackRun>();
  /** Where the previous traf's data ended: the implicit base of the next one without default-base-is-moof. */
  let previousDataEnd = moofFileOffset;
  let firstTraf = true;
  let dataEnd = moofFileOffset + moof.size;
  for (const child of childBoxes(buf, moof)) {
    if (child.type === 'mfhd') {
      sequenceNumber = boxPayload(buf, child).readUInt32BE(4);
      continue;
    }
    if (child.type !== 'traf') continue;
    let tfhd: Buffer | null = null;
    let tfdt: Buffer | null = null;
    const truns: Buffer[] = [];
    for (const box of childBoxes(buf, child)) {
      if (box.type === 'tfhd') tfhd = boxPayload(buf, box);
      else if (box.type === 'tfdt') tfdt = boxPayload(buf, box);
      else if (box.type === 'trun') truns.push(boxPayload(buf, box));
    }
    if (!tfhd) throw corrupt(`a traf in the fragment at byte ${moofFileOffset} has no tfhd`);
    const tfhdFlags = tfhd.readUIntBE(1, 3);
    const trackId = tfhd.readUInt32BE(4);
    const track = init.tracks.find((t) => t.trackId === trackId);
    if (!track)
      throw corrupt(`the fragment at byte ${moofFileOffset} has track ${trackId}, which the init lacks`);
    let pos = 8;
    let base: number;
    if (tfhdFlags & TFHD_BASE_DATA_OFFSET) {
      // An absolute offset is only right in the file the muxer wrote; ffmpeg never writes one here.
      base = readUint64(tfhd, pos);
      pos += 8;
    } else if (tfhdFlags & TFHD_DEFAULT_BASE_IS_MOOF || firstTraf) {
      base = moofFileOffset;
    } else {
      base = previousDataEnd;
    }
    firstTraf = false;
    let sampleDescriptionIndex = track.defaults.sampleDescriptionIndex;
    if (tfhdFlags & TFHD_SAMPLE_DESCRIPTION_INDEX) {
      sampleDescriptionIndex = tfhd.readUInt32BE(pos);
      pos += 4;
    }
    let defaultDuration = track.defaults.sampleDurationTicks;
    if (tfhdFlags & TFHD_DEFAULT_DURATION) {
      defaultDuration = tfhd.readUInt32BE(pos);
      pos += 4;
    }
    let defaultSize = track.defaults.sampleSize;
    if (tfhdFlags & TFHD_DEFAULT_SIZE) {
      defaultSize = tfhd.readUInt32BE(pos);
      pos += 4;
    }
    let defaultFlags = track.defaults.sampleFlags;
    if (tfhdFlags & TFHD_DEFAULT_FLAGS) defaultFlags = tfhd.readUInt32BE(pos);

    const existing = runs.get(trackId);
    let decodeTime: number;
    if (tfdt) decodeTime = tfdt[0] === 1 ? readUint64(tfdt, 4) : tfdt.readUInt32BE(4);
    else if (existing) decodeTime = endOfRun(existing);
    else decodeTime = opts.nextDecodeTimes?.get(trackId) ?? 0;
    const run: TrackRun = existing ?? {
      trackId,
      baseDecodeTime: decodeTime,
      sampleDescriptionIndex,
      samples: [],
    };
    runs.set(trackId, run);

    let dataPos = base;
    for (const trun of truns) {
      const flags = trun.readUIntBE(1, 3);
      const signedOffsets = trun[0] !== 0;
      const count = trun.readUInt32BE(4);
      let p = 8;
      if (flags & TRUN_DATA_OFFSET) {
        dataPos = base + trun.readInt32BE(p);
        p += 4;
      }
      let firstFlags: number | null = null;
      if (flags & TRUN_FIRST_SAMPLE_FLAGS) {
        firstFlags = trun.readUInt32BE(p);
        p += 4;
      }
      const fieldCount = [TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_COMPOSITION_OFFSET].filter(
        (f) => flags & f,
      ).length;
      // Checked before the loop so a damaged count cannot make us allocate millions of samples.
      if (p + count * fieldCount * 4 > trun.length) {
        throw corrupt(
          `a trun in the fragment at byte ${moofFileOffset} claims ${count} samples but is too short`,
        );
      }
      for (let i = 0; i < count; i += 1) {
        let durationTicks = defaultDuration;
        let size = defaultSize;
        let sampleFlags = i === 0 && firstFlags !== null ? firstFlags : defaultFlags;
        let compositionOffsetTicks = 0;
        if (flags & TRUN_DURATION) {
          durationTicks = trun.readUInt32BE(p);
          p += 4;
        }
        if (flags & TRUN_SIZE) {
          size = trun.readUInt32BE(p);
          p += 4;
        }
        if (flags & TRUN_FLAGS) {
          // Per-sample flags win over first-sample-flags; the spec forbids both, muxers don't always listen.
          sampleFlags = trun.readUInt32BE(p);
          p += 4;
        }
        if (flags & TRUN_COMPOSITION_OFFSET) {
          compositionOffsetTicks = signedOffsets ? trun.readInt32BE(p) : trun.readUInt32BE(p);
          p += 4;
        }
        run.samples.push({
          decodeTime,
          durationTicks,
          size,
          isSync: (sampleFlags & SAMPLE_IS_NON_SYNC) === 0,
          compositionOffsetTicks,
          fileOffset: dataPos,
        });
        decodeTime += durationTicks;
        dataPos += size;
      }
      dataEnd = Math.max(dataEnd, dataPos);
    }
    previousDataEnd = dataPos;
  }
  const tracks = [...runs.values()];
  return {
    fileOffset: moofFileOffset,
    byteLength: moof.size + mdatByteLength(buf, moof.size, opts, dataEnd - moofFileOffset - moof.size),
    moofByteLength: moof.size,
    sequenceNumber,
    tracks,
    startsWithKeyframe: startsWithKeyframe(init, tracks),
  };
}

function mdatByteLength(
  buf: Buffer,
  moofByteLength: number,
  opts: ParseFragmentOptions,
  dataAfterMoof: number,
): number {
  if (opts.mdatByteLength !== undefined) return opts.mdatByteLength;
  if (buf.length >= moofByteLength + 16) {
    const next = readBoxHeader(buf, moofByteLength);
    if (next?.type === 'mdat') return next.size;
  }
  // ffmpeg's mdat holds exactly the samples, right after the moof: header + data.
  return Math.max(8, dataAfterMoof);
}

function endOfRun(run: TrackRun): number {
  const last = run.samples.at(-1);
  return last ? last.decodeTime + last.durationTicks : run.baseDecodeTime;
}

function startsWithKeyframe(init: InitSegment, tracks: readonly TrackRun[]): boolean {
  const video = init.tracks.find((t) => t.kind === 'video');
  if (!video) return tracks.some((t) => t.samples.length > 0);
  return tracks.find((t) => t.trackId === video.trackId)?.samples[0]?.isSync ?? false;
}

/** Start and end decode times (track ticks) of a track in a fragment, or null when it has no samples there. */
export function fragmentTimeRange(
  fragment: Fragment,
  track: number | Pick<TrackInfo, 'trackId'>,
): { startTicks: number; endTicks: number } | null {
  const trackId = typeof track === 'number' ? track : track.trackId;
  const run = fragment.tracks.find((t) => t.trackId === trackId);
  const first = run?.samples[0];
  const last = run?.samples.at(-1);
  if (!first || !last) return null;
  return { startTicks: first.decodeTime, endTicks: last.decodeTime + last.durationTicks };
}
