import { childBoxes, readBoxHeader, writeUint64 } from '../../media/mp4/boxes.js';
import { corrupt } from '../../media/mp4/boxes.js';
import type { Fragment, InitSegment, TrackKind } from '../../media/mp4/index.js';

/** Presentation time of each kind of track's first sample in these fragments, in the track's ticks. */
export function firstPresentationTicks(
  init: InitSegment,
  fragments: readonly Fragment[],
): Map<TrackKind, number> {
  const out = new Map<TrackKind, number>();
  for (const fragment of fragments) {
    for (const run of fragment.tracks) {
      const kind = init.tracks.find((t) => t.trackId === run.trackId)?.kind;
      const first = run.samples[0];
      if (kind === undefined || !first || out.has(kind)) continue;
      out.set(kind, first.decodeTime + first.compositionOffsetTicks);
    }
  }
  return out;
}

/**
 * How far each track of a re-encoded piece must move so that it starts where the original did:
 * by track id of the re-encoded piece, matched to the original by kind (video to video, audio to
 * audio). Both must use the same timescales (the encoder is told the recording's).
 */
export function decodeTimeShifts(
  original: Map<TrackKind, number>,
  reencodedInit: InitSegment,
  reencoded: Map<TrackKind, number>,
): Map<number, number> {
  const shifts = new Map<number, number>();
  for (const track of reencodedInit.tracks) {
    const from = reencoded.get(track.kind);
    const to = original.get(track.kind);
    if (from !== undefined && to !== undefined) shifts.set(track.trackId, to - from);
  }
  return shifts;
}

/**
 * Moves the decode times (tfdt) of fragments in `buf` by the shift of their track, in place:
 * ffmpeg's mp4 muxer starts every output at 0, and an HLS part must keep the recording's times.
 */
export function shiftDecodeTimes(
  buf: Buffer,
  fragments: readonly Fragment[],
  shiftsByTrackId: ReadonlyMap<number, number>,
): void {
  for (const fragment of fragments) {
    const moof = readBoxHeader(buf, fragment.fileOffset);
    if (moof?.type !== 'moof') throw corrupt(`no moof at byte ${fragment.fileOffset}`);
    for (const traf of childBoxes(buf, moof)) {
      if (traf.type !== 'traf') continue;
      const children = childBoxes(buf, traf);
      const tfhd = children.find((b) => b.type === 'tfhd');
      const tfdt = children.find((b) => b.type === 'tfdt');
      if (!tfhd || !tfdt) continue;
      const trackId = buf.readUInt32BE(tfhd.start + tfhd.headerSize + 4);
      const shift = shiftsByTrackId.get(trackId) ?? 0;
      const at = tfdt.start + tfdt.headerSize;
      const version = buf[at];
      if (version === 1) {
        const time = Number(buf.readBigUInt64BE(at + 4)) + shift;
        writeUint64(buf, Math.max(0, time), at + 4);
      } else {
        const time = buf.readUInt32BE(at + 4) + shift;
        if (time < 0 || time > 0xffffffff) throw corrupt(`a 32-bit tfdt cannot hold ${time}`);
        buf.writeUInt32BE(time, at + 4);
      }
    }
  }
}
