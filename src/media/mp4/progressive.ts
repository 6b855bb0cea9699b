import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { VigilError } from '../../errors/catalogue.js';
import { corrupt, readBoxHeader } from './boxes.js';
import type { Sample } from './fragment.js';
import type { TrackInfo } from './init.js';
import type { ScannedFile } from './scan.js';
import { box, FieldWriter, fullBox, mdatHeader, runLengths } from './writer.js';

/**
 * One stored segment file to export, in time order with the others.
 *
 * Trimming is in the piece's own decode time, in ticks of its video track's timescale (the
 * index stores both per segment: `msToTicks` in recording/playback.ts converts wall times).
 * The video starts at the last keyframe whose decode time is ≤ `startTicks` (the first keyframe
 * when there is none) and ends with the last sample whose decode time is < `endTicks`, less any
 * reference frames at the end whose B-frames that cut dropped (they would leave a frozen picture);
 * audio is cut to the same span. Leave both out to take the whole piece.
 */
export interface ExportPiece {
  path: string;
  scanned: ScannedFile;
  startTicks?: number;
  endTicks?: number;
}

export interface ProgressiveOptions {
  /** Creation time written in mvhd/tkhd/mdhd; the default (0) keeps the output, and its etag, deterministic. */
  creationTimeMs?: number;
}

/** A run of bytes of a stored file that forms part of the export's mdat payload. */
export interface ExportRange {
  path: string;
  offset: number;
  length: number;
}

export interface ExportTrackSummary {
  kind: 'video' | 'audio';
  codec: string;
  timescale: number;
  sampleCount: number;
  durationTicks: number;
}

/** A progressive MP4 that exists only as a header plus byte ranges of stored files. */
export interface VirtualMp4 {
  byteLength: number;
  /** A strong HTTP entity tag (quoted) that changes whenever any byte of the output would. */
  etag: string;
  durationMs: number;
  /** ftyp + moov + the mdat header. */
  header: Buffer;
  /** The mdat payload, in order. */
  ranges: ExportRange[];
  tracks: ExportTrackSummary[];
  /** The first frame shown: which piece it comes from and its decode time there (the piece's ticks). */
  videoStart: { pieceIndex: number; decodeTicks: number } | null;
  /** Bytes start..endInclusive of the file, read from the header and the stored files as the consumer pulls. */
  createReadStream(start: number, endInclusive: number): Readable;
}

const MOVIE_TIMESCALE = 1000;
const READ_CHUNK_BYTES = 64 * 1024;
/** Seconds between 1904-01-01 (the MP4 epoch) and 1970-01-01. */
const MP4_EPOCH_OFFSET_S = 2_082_844_800;
const UNITY_MATRIX = [0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000];

interface Chunk {
  /** Offset of the chunk from the start of the mdat payload. */
  relOffset: number;
  sampleCount: number;
  sampleDescriptionIndex: number;
}

interface Edit {
  durationMovieTicks: number;
  /** -1 for an empty edit (nothing plays: the track starts later). */
  mediaTimeTicks: number;
}

/** One output track, filled piece by piece. */
interface OutTrack {
  kind: 'video' | 'audio';
  /** Header facts (handler, language, matrix…) come from the first piece that has the track. */
  info: TrackInfo;
  timescale: number;
  /** Distinct stsd boxes seen, each with the number of output entries before its own. */
  descriptions: Array<{ stsd: Buffer; entryOffset: number; entryCount: number }>;
  durationsTicks: number[];
  sizes: number[];
  compositionOffsetsTicks: number[];
  /** 1-based numbers of sync samples (video). */
  syncSampleNumbers: number[];
  chunks: Chunk[];
  /** Decode time where the next sample goes. */
  endTicks: number;
  /** Latest end of a sample's presentation (decode time + composition offset + duration), before the edit. */
  presentationEndTicks: number;
  /** Media time the edit list starts presentation at (B-frame delay for video, priming/overlap for audio). */
  editMediaTicks: number;
  /** Empty edit before the media, for an audio track that starts after the video. */
  leadMovieTicks: number;
}

/** A sample picked for output, with where it sits in its piece. */
interface Pick {
  track: OutTrack;
  sample: Sample;
  fragmentIndex: number;
  sampleDescriptionIndex: number;
}

interface Candidate {
  sample: Sample;
  fragmentIndex: number;
  sampleDescriptionIndex: number;
}

/**
 * Builds a standard (non-fragmented) MP4 of the pieces: ftyp, moov, then one mdat whose payload
 * is the pieces' sample bytes, referenced rather than copied. One video track and, when any piece
 * has audio, one audio track (the first of each kind in each piece).
 *
 * Pieces may come from different timelines with unrelated decode times: each piece's samples
 * follow the previous piece's on a continuous output timeline (rescaled to the first piece's
 * timescale when they differ). Audio is placed by its time relative to the piece's first video
 * frame, so it stays in sync across pieces: a gap before a piece's audio lengthens the previous
 * audio sample, and audio overlapping the previous piece's is dropped.
 */
export function buildProgressiveMp4(
  pieces: readonly ExportPiece[],
  opts: ProgressiveOptions = {},
): VirtualMp4 {
  const tracks: { video: OutTrack | null; audio: OutTrack | null } = { video: null, audio: null };
  const ranges: ExportRange[] = [];
  let payloadByteLength = 0;
  let videoStart: VirtualMp4['videoStart'] = null;

  for (const [pieceIndex, piece] of pieces.entries()) {
    const videoInfo = piece.scanned.init.tracks.find((t) => t.kind === 'video');
    if (!videoInfo) continue;
    let selected = selectVideo(candidates(piece, videoInfo), piece.startTicks, piece.endTicks);
    if (!selected) continue;
    const first = (selected[0] as Candidate).sample;
    if (!tracks.video) {
      videoStart = { pieceIndex, decodeTicks: first.decodeTime };
      // Open-GOP leading frames (shown before the keyframe) need the GOP before it: at the very
      // start they cannot be decoded, and nothing else refers to them.
      const keyframeShownAt = presentationTicks(selected[0] as Candidate);
      selected = selected.filter((c) => presentationTicks(c) >= keyframeShownAt);
    }
    const picks: Pick[] = [];

    const video = (tracks.video ??= newTrack('video', videoInfo));
    const rate = video.timescale / videoInfo.timescale;
    const firstOffsetTicks = Math.round(first.compositionOffsetTicks * rate);
    // Earliest presentation in the piece, relative to its first decode time: the B-frame delay,
    // or less with open GOPs, whose leading frames are shown before the keyframe.
    let earliestTicks = Infinity;
    for (const c of selected) {
      const relativeTicks = Math.round((c.sample.decodeTime - first.decodeTime) * rate);
      earliestTicks = Math.min(
        earliestTicks,
        relativeTicks + Math.round(c.sample.compositionOffsetTicks * rate),
      );
    }
    const base = video.endTicks;
    let shiftTicks: number;
    if (video.sizes.length === 0) {
      // Presentation starts at the keyframe: open-GOP leading frames shown before it cannot be
      // decoded without the GOP before, so the edit list leaves them out.
      video.editMediaTicks = Math.max(0, firstOffsetTicks);
      shiftTicks = video.editMediaTicks - firstOffsetTicks;
    } else {
      // Shown right after the previous piece: one edit list holds only one B-frame delay, so a
      // piece whose delay differs has its composition offsets shifted to fit.
      shiftTicks = video.presentationEndTicks - (base + earliestTicks);
    }
    appendSamples(video, videoInfo, selected, base, picks, shiftTicks);

    // Output presentation times (s) of the piece's first frame and of its end, and the source
    // presentation time of that frame: audio is placed by its offset from that frame.
    const pieceStartS = (base + firstOffsetTicks + shiftTicks - video.editMediaTicks) / video.timescale;
    const pieceEndS = (video.presentationEndTicks - video.editMediaTicks) / video.timescale;
    const sourceStartS = (first.decodeTime + first.compositionOffsetTicks) / videoInfo.timescale;
    // Fragments are cut at video decode times, so the audio heard under the previous piece's last
    // frames (during the B-frame delay) is in this piece's first fragment: it may fill in back to here.
    const audioFloorS = pieceStartS - firstOffsetTicks / video.timescale;

    const audioInfo = piece.scanned.init.tracks.find((t) => t.kind === 'audio');
    if (audioInfo) {
      const toOutputS = (s: Sample) => s.decodeTime / audioInfo.timescale - sourceStartS + pieceStartS;
      const audioSoFar = tracks.audio && tracks.audio.sizes.length > 0 ? tracks.audio : null;
      const chosen: Candidate[] = [];
      for (const c of candidates(piece, audioInfo)) {
        const startS = toOutputS(c.sample);
        const durationS = c.sample.durationTicks / audioInfo.timescale;
        if (startS >= pieceEndS) break;
        if (chosen.length === 0) {
          // The export's first audio may start inside a sample (the edit list skips into it); later
          // pieces take a sample only if most of it lies after both the audio so far and the floor.
          if (!audioSoFar && startS + durationS <= pieceStartS) continue;
          if (audioSoFar && startS + durationS / 2 < Math.max(audioFloorS, presentationEndS(audioSoFar)))
            continue;
        }
        chosen.push(c);
      }
      const firstAudio = chosen[0]?.sample;
      if (firstAudio) {
        const audio = (tracks.audio ??= newTrack('audio', audioInfo));
        const startS = toOutputS(firstAudio);
        if (audio.sizes.length === 0) {
          if (startS < 0) audio.editMediaTicks = Math.round(-startS * audio.timescale);
          else audio.leadMovieTicks = Math.round(startS * MOVIE_TIMESCALE);
        } else {
          const gapTicks = Math.round((startS - presentationEndS(audio)) * audio.timescale);
          if (gapTicks > 0) {
            // stts cannot hold a gap: the previous sample lasts longer instead, keeping what follows in sync.
            const lastIndex = audio.durationsTicks.length - 1;
            audio.durationsTicks[lastIndex] = (audio.durationsTicks[lastIndex] as number) + gapTicks;
            audio.endTicks += gapTicks;
            audio.presentationEndTicks = Math.max(audio.presentationEndTicks, audio.endTicks);
          }
        }
        appendSamples(audio, audioInfo, chosen, audio.endTicks, picks);
      }
    }
    payloadByteLength = layOutChunks(piece.path, picks, ranges, payloadByteLength);
  }

  const outTracks = [tracks.video, tracks.audio].filter(
    (t): t is OutTrack => t !== null && t.sizes.length > 0,
  );
  if (!tracks.video || outTracks.length === 0) {
    throw new VigilError(
      'NO_RECORDINGS',
      'the export has no video frames: the pieces are empty or trimmed away',
    );
  }
  return { ...assemble(outTracks, ranges, payloadByteLength, opts), videoStart };
}

/**
 * Appends samples of one piece to an output track from decode time `base`, rescaling times to the
 * track's timescale; decode gaps inside the piece are kept as longer durations. Returns the span
 * (output ticks) the samples cover.
 */
function appendSamples(
  track: OutTrack,
  info: TrackInfo,
  chosen: readonly Candidate[],
  base: number,
  picks: Pick[],
  compositionShiftTicks = 0,
): number {
  const rate = track.timescale / info.timescale;
  const first = (chosen[0] as Candidate).sample;
  const last = (chosen.at(-1) as Candidate).sample;
  const spanTicks = Math.round((last.decodeTime + last.durationTicks - first.decodeTime) * rate);
  const entryOffset = descriptionOffset(track, info);
  // Times relative to the first sample, rounded one by one, so rescaling never accumulates drift.
  const relative = (s: Sample) => Math.round((s.decodeTime - first.decodeTime) * rate);
  chosen.forEach((c, i) => {
    const rel = relative(c.sample);
    const next = chosen[i + 1];
    const durationTicks = Math.max(0, (next ? relative(next.sample) : spanTicks) - rel);
    const offsetTicks = Math.round(c.sample.compositionOffsetTicks * rate) + compositionShiftTicks;
    track.durationsTicks.push(durationTicks);
    track.sizes.push(c.sample.size);
    track.compositionOffsetsTicks.push(offsetTicks);
    track.presentationEndTicks = Math.max(
      track.presentationEndTicks,
      base + rel + offsetTicks + durationTicks,
    );
    if (c.sample.isSync) track.syncSampleNumbers.push(track.sizes.length);
    picks.push({
      track,
      sample: c.sample,
      fragmentIndex: c.fragmentIndex,
      sampleDescriptionIndex: entryOffset + c.sampleDescriptionIndex,
    });
  });
  track.endTicks = base + spanTicks;
  return spanTicks;
}

/**
 * Turns a piece's picked samples into chunks (per fragment, each track's samples that lie back to
 * back) and mdat ranges, in file order so reads go forward. Returns the new payload length.
 */
function layOutChunks(
  path: string,
  picks: readonly Pick[],
  ranges: ExportRange[],
  payloadByteLength: number,
): number {
  const byFragment = new Map<number, Pick[]>();
  for (const pick of picks) {
    const list = byFragment.get(pick.fragmentIndex);
    if (list) list.push(pick);
    else byFragment.set(pick.fragmentIndex, [pick]);
  }
  let payloadEnd = payloadByteLength;
  for (const fragmentIndex of [...byFragment.keys()].sort((a, b) => a - b)) {
    const groups: Pick[][] = [];
    for (const pick of byFragment.get(fragmentIndex) as Pick[]) {
      const group = groups.at(-1);
      const previous = group?.at(-1);
      const contiguous =
        previous &&
        previous.track === pick.track &&
        previous.sampleDescriptionIndex === pick.sampleDescriptionIndex &&
        previous.sample.fileOffset + previous.sample.size === pick.sample.fileOffset;
      if (group && contiguous) group.push(pick);
      else groups.push([pick]);
    }
    // A track's samples lie in decode order within a fragment, so this keeps each track's chunks in order.
    groups.sort((a, b) => (a[0] as Pick).sample.fileOffset - (b[0] as Pick).sample.fileOffset);
    for (const group of groups) {
      const head = group[0] as Pick;
      const tail = group.at(-1) as Pick;
      const length = tail.sample.fileOffset + tail.sample.size - head.sample.fileOffset;
      head.track.chunks.push({
        relOffset: payloadEnd,
        sampleCount: group.length,
        sampleDescriptionIndex: head.sampleDescriptionIndex,
      });
      addRange(ranges, { path, offset: head.sample.fileOffset, length });
      payloadEnd += length;
    }
  }
  return payloadEnd;
}

function newTrack(kind: 'video' | 'audio', info: TrackInfo): OutTrack {
  return {
    kind,
    info,
    timescale: info.timescale,
    descriptions: [],
    durationsTicks: [],
    sizes: [],
    compositionOffsetsTicks: [],
    syncSampleNumbers: [],
    chunks: [],
    endTicks: 0,
    presentationEndTicks: 0,
    editMediaTicks: 0,
    leadMovieTicks: 0,
  };
}

/** Where the audio so far ends on the output presentation timeline, in seconds. */
function presentationEndS(track: OutTrack): number {
  return track.leadMovieTicks / MOVIE_TIMESCALE + (track.endTicks - track.editMediaTicks) / track.timescale;
}

/** A track's samples across the piece's fragments, in decode order. */
function candidates(piece: ExportPiece, info: TrackInfo): Candidate[] {
  const out: Candidate[] = [];
  piece.scanned.fragments.forEach((fragment, fragmentIndex) => {
    const run = fragment.tracks.find((t) => t.trackId === info.trackId);
    if (!run) return;
    for (const sample of run.samples) {
      out.push({ sample, fragmentIndex, sampleDescriptionIndex: run.sampleDescriptionIndex });
    }
  });
  return out;
}

function selectVideo(all: readonly Candidate[], startTicks?: number, endTicks?: number): Candidate[] | null {
  const last = all.at(-1);
  // A window starting after the piece ends holds nothing (rather than the piece's last GOP).
  if (!last || (startTicks !== undefined && startTicks >= last.sample.decodeTime + last.sample.durationTicks))
    return null;
  let from = -1;
  for (let i = 0; i < all.length; i += 1) {
    const c = all[i] as Candidate;
    if (!c.sample.isSync) continue;
    if (from === -1 || startTicks === undefined || c.sample.decodeTime <= startTicks) from = i;
    if (startTicks === undefined || c.sample.decodeTime > startTicks) break;
  }
  if (from === -1) return null;
  let to = all.length - 1;
  if (endTicks !== undefined) {
    while (to >= from && (all[to] as Candidate).sample.decodeTime >= endTicks) to -= 1;
    to = withoutTrailingHoles(all, from, to);
  }
  return to >= from ? all.slice(from, to + 1) : null;
}

/** Frames are reordered over a few positions at most; this bounds the look around a cut. */
const REORDER_WINDOW = 32;

function presentationTicks(c: Candidate): number {
  return c.sample.decodeTime + c.sample.compositionOffsetTicks;
}

/**
 * A cut in decode order can keep a reference frame but drop the B-frames shown before it, which
 * would freeze the picture for their time. Drops kept frames from the end until every kept frame
 * is shown before every cut one.
 */
function withoutTrailingHoles(all: readonly Candidate[], from: number, to: number): number {
  let earliestCut = Infinity;
  for (let i = to + 1; i < Math.min(all.length, to + 1 + REORDER_WINDOW); i += 1) {
    earliestCut = Math.min(earliestCut, presentationTicks(all[i] as Candidate));
  }
  while (to > from) {
    let latestKept = -Infinity;
    for (let i = Math.max(from, to - REORDER_WINDOW); i <= to; i += 1) {
      latestKept = Math.max(latestKept, presentationTicks(all[i] as Candidate));
    }
    if (latestKept < earliestCut) break;
    earliestCut = Math.min(earliestCut, presentationTicks(all[to] as Candidate));
    to -= 1;
  }
  return to;
}

/** Registers the piece's stsd for the track; returns the number of output entries before its first. */
function descriptionOffset(track: OutTrack, info: TrackInfo): number {
  const known = track.descriptions.find((d) => d.stsd.equals(info.stsd));
  if (known) return known.entryOffset;
  const last = track.descriptions.at(-1);
  const entryOffset = last ? last.entryOffset + last.entryCount : 0;
  track.descriptions.push({ stsd: info.stsd, entryOffset, entryCount: info.sampleDescriptionCount });
  return entryOffset;
}

function addRange(ranges: ExportRange[], range: ExportRange): void {
  const last = ranges.at(-1);
  if (last && last.path === range.path && last.offset + last.length === range.offset)
    last.length += range.length;
  else ranges.push(range);
}

function toMovieTicks(ticks: number, timescale: number): number {
  return Math.round((ticks * MOVIE_TIMESCALE) / timescale);
}

function edits(track: OutTrack): Edit[] {
  const mediaMovieTicks = toMovieTicks(track.presentationEndTicks - track.editMediaTicks, track.timescale);
  if (track.editMediaTicks === 0 && track.leadMovieTicks === 0) return [];
  const out: Edit[] = [];
  if (track.leadMovieTicks > 0) out.push({ durationMovieTicks: track.leadMovieTicks, mediaTimeTicks: -1 });
  out.push({ durationMovieTicks: mediaMovieTicks, mediaTimeTicks: track.editMediaTicks });
  return out;
}

function trackDurationMovieTicks(track: OutTrack): number {
  const list = edits(track);
  if (list.length === 0) return toMovieTicks(track.presentationEndTicks, track.timescale);
  return list.reduce((n, e) => n + e.durationMovieTicks, 0);
}

function assemble(
  tracks: readonly OutTrack[],
  ranges: ExportRange[],
  payloadByteLength: number,
  opts: ProgressiveOptions,
): Omit<VirtualMp4, 'videoStart'> {
  const creationTime = opts.creationTimeMs ? Math.floor(opts.creationTimeMs / 1000) + MP4_EPOCH_OFFSET_S : 0;
  const video = tracks.find((t) => t.kind === 'video');
  const ftyp = buildFtyp(video?.info.codec === 'h264');
  const mdat = mdatHeader(payloadByteLength);
  // Table sizes do not depend on the offsets in them, so a first build gives the moov's size.
  const probe = buildMoov(tracks, 0, false, creationTime);
  const wide = ftyp.length + probe.length + mdat.length + payloadByteLength > 0xffff_ffff;
  const sized = wide ? buildMoov(tracks, 0, true, creationTime) : probe;
  const payloadStart = ftyp.length + sized.length + mdat.length;
  const moov = buildMoov(tracks, payloadStart, wide, creationTime);
  const header = Buffer.concat([ftyp, moov, mdat]);
  const byteLength = header.length + payloadByteLength;
  const durationMs = Math.max(...tracks.map(trackDurationMovieTicks));
  const hash = createHash('sha256').update(header);
  for (const r of ranges) hash.update(`${r.path}\0${r.offset}\0${r.length}\n`);
  const etag = `"${hash.digest('base64url').slice(0, 32)}"`;
  const rangeStarts: number[] = [];
  let position = header.length;
  for (const r of ranges) {
    rangeStarts.push(position);
    position += r.length;
  }
  return {
    byteLength,
    etag,
    durationMs,
    header,
    ranges,
    tracks: tracks.map((t) => ({
      kind: t.kind,
      codec: t.info.codec,
      timescale: t.timescale,
      sampleCount: t.sizes.length,
      durationTicks: t.endTicks,
    })),
    createReadStream(start: number, endInclusive: number): Readable {
      if (
        !Number.isInteger(start) ||
        !Number.isInteger(endInclusive) ||
        start < 0 ||
        endInclusive < start ||
        endInclusive >= byteLength
      ) {
        throw new VigilError(
          'RANGE_NOT_SATISFIABLE',
          `bytes ${start}-${endInclusive} lie outside the ${byteLength} bytes of the export`,
          {
            size: byteLength,
          },
        );
      }
      return Readable.from(readBytes(header, ranges, rangeStarts, start, endInclusive + 1), {
        objectMode: false,
      });
    },
  };
}

/** Yields bytes [start, end) of the virtual file: fresh buffers, a file handle open per file in turn. */
async function* readBytes(
  header: Buffer,
  ranges: readonly ExportRange[],
  rangeStarts: readonly number[],
  start: number,
  end: number,
): AsyncGenerator<Buffer> {
  let pos = start;
  if (pos < header.length) {
    const upTo = Math.min(end, header.length);
    yield Buffer.from(header.subarray(pos, upTo));
    pos = upTo;
  }
  if (pos >= end) return;
  let index = lastAtOrBefore(rangeStarts, pos);
  let handle: FileHandle | null = null;
  let handlePath: string | null = null;
  try {
    for (; index < ranges.length && pos < end; index += 1) {
      const range = ranges[index] as ExportRange;
      const rangeStart = rangeStarts[index] as number;
      const rangeEnd = Math.min(end, rangeStart + range.length);
      if (handlePath !== range.path) {
        await handle?.close();
        handle = null;
        handle = await open(range.path, 'r');
        handlePath = range.path;
      }
      while (pos < rangeEnd) {
        const wanted = Math.min(READ_CHUNK_BYTES, rangeEnd - pos);
        const buf = Buffer.allocUnsafe(wanted);
        const { bytesRead } = await (handle as FileHandle).read(
          buf,
          0,
          wanted,
          range.offset + (pos - rangeStart),
        );
        if (bytesRead === 0) {
          throw corrupt(
            `${range.path} ends before byte ${range.offset + (pos - rangeStart)}: it changed after it was scanned`,
          );
        }
        pos += bytesRead;
        yield bytesRead === wanted ? buf : buf.subarray(0, bytesRead);
      }
    }
  } finally {
    await handle?.close();
  }
}

/** Index of the last value ≤ target in an ascending array (0 when none is). */
function lastAtOrBefore(values: readonly number[], target: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((values[mid] as number) <= target) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function buildFtyp(h264: boolean): Buffer {
  const brands = ['isom', 'iso2', ...(h264 ? ['avc1'] : []), 'mp41'];
  const w = new FieldWriter(8 + brands.length * 4).text('isom').u32(0x200);
  for (const brand of brands) w.text(brand);
  return box('ftyp', w.done());
}

function buildMoov(
  tracks: readonly OutTrack[],
  payloadStart: number,
  wideOffsets: boolean,
  creationTime: number,
): Buffer {
  const durationMovieTicks = Math.max(...tracks.map(trackDurationMovieTicks));
  const wide = durationMovieTicks > 0xffff_ffff;
  const mvhd = new FieldWriter((wide ? 28 : 16) + 80)
    .uint(creationTime, wide)
    .uint(creationTime, wide)
    .u32(MOVIE_TIMESCALE)
    .uint(durationMovieTicks, wide)
    .u32(0x00010000)
    .u16(0x0100)
    .zeros(10);
  for (const word of UNITY_MATRIX) mvhd.u32(word);
  mvhd.zeros(24).u32(tracks.length + 1);
  return box(
    'moov',
    fullBox('mvhd', wide ? 1 : 0, 0, mvhd.done()),
    ...tracks.map((t, i) => buildTrak(t, i + 1, payloadStart, wideOffsets, creationTime)),
  );
}

function buildTrak(
  track: OutTrack,
  trackId: number,
  payloadStart: number,
  wideOffsets: boolean,
  creationTime: number,
): Buffer {
  const info = track.info;
  const durationMovieTicks = trackDurationMovieTicks(track);
  const tkhdWide = durationMovieTicks > 0xffff_ffff;
  const tkhd = new FieldWriter((tkhdWide ? 32 : 20) + 60)
    .uint(creationTime, tkhdWide)
    .uint(creationTime, tkhdWide)
    .u32(trackId)
    .zeros(4)
    .uint(durationMovieTicks, tkhdWide)
    .zeros(8)
    .i16(info.header.layer)
    .i16(info.header.alternateGroup)
    .i16(track.kind === 'audio' ? Math.round(info.header.volume * 0x100) || 0x100 : 0)
    .zeros(2);
  for (const word of info.header.matrix.length === 9 ? info.header.matrix : UNITY_MATRIX) tkhd.u32(word);
  const displayWidth = track.kind === 'video' ? info.header.displayWidth || (info.width ?? 0) : 0;
  const displayHeight = track.kind === 'video' ? info.header.displayHeight || (info.height ?? 0) : 0;
  tkhd.u32(Math.round(displayWidth * 0x10000)).u32(Math.round(displayHeight * 0x10000));

  const editList = edits(track);
  const edts = editList.length > 0 ? [box('edts', buildElst(editList))] : [];

  const mdhdWide = track.endTicks > 0xffff_ffff;
  const mdhd = new FieldWriter((mdhdWide ? 28 : 16) + 4)
    .uint(creationTime, mdhdWide)
    .uint(creationTime, mdhdWide)
    .u32(track.timescale)
    .uint(track.endTicks, mdhdWide)
    .u16(packLanguage(info.language))
    .u16(0);
  const handlerType = track.kind === 'video' ? 'vide' : 'soun';
  const handlerName = info.handlerName || (track.kind === 'video' ? 'VideoHandler' : 'SoundHandler');
  const hdlrName = Buffer.from(`${handlerName}\0`, 'utf8');
  const hdlr = new FieldWriter(20).u32(0).text(handlerType).zeros(12).done();
  const mediaHeader =
    track.kind === 'video' ? fullBox('vmhd', 0, 1, Buffer.alloc(8)) : fullBox('smhd', 0, 0, Buffer.alloc(4));
  const dinf = box('dinf', fullBox('dref', 0, 0, new FieldWriter(4).u32(1).done(), fullBox('url ', 0, 1)));
  const stbl = box('stbl', ...buildSampleTables(track, payloadStart, wideOffsets));
  return box(
    'trak',
    fullBox('tkhd', tkhdWide ? 1 : 0, info.header.flags || 3, tkhd.done()),
    ...edts,
    box(
      'mdia',
      fullBox('mdhd', mdhdWide ? 1 : 0, 0, mdhd.done()),
      fullBox('hdlr', 0, 0, hdlr, hdlrName),
      box('minf', mediaHeader, dinf, stbl),
    ),
  );
}

function buildElst(list: readonly Edit[]): Buffer {
  const wide = list.some((e) => e.durationMovieTicks > 0xffff_ffff || e.mediaTimeTicks > 0x7fff_ffff);
  const w = new FieldWriter(4 + list.length * (wide ? 20 : 12)).u32(list.length);
  for (const e of list) {
    w.uint(e.durationMovieTicks, wide);
    if (wide) {
      // A 64-bit signed media time: -1 is all ones.
      if (e.mediaTimeTicks < 0) w.u32(0xffff_ffff).u32(0xffff_ffff);
      else w.u64(e.mediaTimeTicks);
    } else {
      w.i32(e.mediaTimeTicks);
    }
    w.i16(1).i16(0);
  }
  return fullBox('elst', wide ? 1 : 0, 0, w.done());
}

function packLanguage(language: string): number {
  if (!/^[a-z]{3}$/.test(language)) return 0x55c4; // 'und'
  return [...language].reduce((n, c) => (n << 5) | (c.charCodeAt(0) - 0x60), 0);
}

function buildSampleTables(track: OutTrack, payloadStart: number, wideOffsets: boolean): Buffer[] {
  const tables: Buffer[] = [buildStsd(track)];

  const stts = runLengths(track.durationsTicks);
  const sttsW = new FieldWriter(4 + stts.length * 8).u32(stts.length);
  for (const [count, delta] of stts) sttsW.u32(count).u32(delta);
  tables.push(fullBox('stts', 0, 0, sttsW.done()));

  if (track.compositionOffsetsTicks.some((o) => o !== 0)) {
    const signed = track.compositionOffsetsTicks.some((o) => o < 0);
    const ctts = runLengths(track.compositionOffsetsTicks);
    const w = new FieldWriter(4 + ctts.length * 8).u32(ctts.length);
    for (const [count, offset] of ctts) {
      w.u32(count);
      if (signed) w.i32(offset);
      else w.u32(offset);
    }
    tables.push(fullBox('ctts', signed ? 1 : 0, 0, w.done()));
  }

  // No stss means every sample is a sync sample.
  if (track.syncSampleNumbers.length < track.sizes.length) {
    const w = new FieldWriter(4 + track.syncSampleNumbers.length * 4).u32(track.syncSampleNumbers.length);
    for (const n of track.syncSampleNumbers) w.u32(n);
    tables.push(fullBox('stss', 0, 0, w.done()));
  }

  const firstSize = track.sizes[0] ?? 0;
  const uniform = track.sizes.every((s) => s === firstSize);
  const stsz = new FieldWriter(8 + (uniform ? 0 : track.sizes.length * 4))
    .u32(uniform ? firstSize : 0)
    .u32(track.sizes.length);
  if (!uniform) for (const size of track.sizes) stsz.u32(size);
  tables.push(fullBox('stsz', 0, 0, stsz.done()));

  const stscRuns: Array<[firstChunk: number, samplesPerChunk: number, descriptionIndex: number]> = [];
  track.chunks.forEach((chunk, i) => {
    const last = stscRuns.at(-1);
    if (last && last[1] === chunk.sampleCount && last[2] === chunk.sampleDescriptionIndex) return;
    stscRuns.push([i + 1, chunk.sampleCount, chunk.sampleDescriptionIndex]);
  });
  const stsc = new FieldWriter(4 + stscRuns.length * 12).u32(stscRuns.length);
  for (const [firstChunk, samplesPerChunk, descriptionIndex] of stscRuns)
    stsc.u32(firstChunk).u32(samplesPerChunk).u32(descriptionIndex);
  tables.push(fullBox('stsc', 0, 0, stsc.done()));

  const offsets = new FieldWriter(4 + track.chunks.length * (wideOffsets ? 8 : 4)).u32(track.chunks.length);
  for (const chunk of track.chunks) offsets.uint(payloadStart + chunk.relOffset, wideOffsets);
  tables.push(fullBox(wideOffsets ? 'co64' : 'stco', 0, 0, offsets.done()));
  return tables;
}

/** The track's sample descriptions: every entry of every distinct stsd the pieces brought, in order. */
function buildStsd(track: OutTrack): Buffer {
  const first = track.descriptions[0];
  if (track.descriptions.length === 1 && first) return first.stsd;
  const entries = track.descriptions.map((d) => {
    const header = readBoxHeader(d.stsd, 0);
    if (!header) throw corrupt('a stored stsd box is truncated');
    return d.stsd.subarray(header.headerSize + 8, header.size);
  });
  const count = track.descriptions.reduce((n, d) => n + d.entryCount, 0);
  return fullBox('stsd', 0, 0, new FieldWriter(4).u32(count).done(), ...entries);
}
