import type { Fragment } from './fragment.js';
import type { ScannedFile } from './scan.js';

/** A byte range of a segment file that HLS serves as one media segment. */
export interface GopPart {
  offset: number;
  byteLength: number;
  /** Same as byteLength; the name the playback service uses. */
  length: number;
  /** Decode time of the part's first video sample, in the video track's timescale. */
  startTicks: number;
  durationTicks: number;
  /** False only for fragments before the file's first keyframe, which cannot be played alone. */
  startsWithKeyframe: boolean;
}

/**
 * Groups a segment file's fragments into HLS media segments of about one GOP: each part starts
 * at a fragment that starts with a keyframe and runs up to the next such fragment. ffmpeg cuts
 * fragments at every keyframe and also every -frag_duration, so a 2 s GOP is twenty 100 ms fragments.
 * Times come from the video track (the first track when there is none).
 */
export function gopParts(scanned: ScannedFile): GopPart[] {
  const track = scanned.init.tracks.find((t) => t.kind === 'video') ?? scanned.init.tracks[0];
  if (!track) return [];
  const parts: GopPart[] = [];
  let current: {
    first: Fragment;
    last: Fragment;
    startTicks: number | null;
    endTicks: number | null;
  } | null = null;
  const flush = () => {
    if (!current) return;
    const offset = current.first.fileOffset;
    const byteLength = current.last.fileOffset + current.last.byteLength - offset;
    const startTicks = current.startTicks ?? 0;
    parts.push({
      offset,
      byteLength,
      length: byteLength,
      startTicks,
      durationTicks: Math.max(0, (current.endTicks ?? startTicks) - startTicks),
      startsWithKeyframe: current.first.startsWithKeyframe,
    });
  };
  for (const fragment of scanned.fragments) {
    if (fragment.startsWithKeyframe || current === null) {
      flush();
      current = { first: fragment, last: fragment, startTicks: null, endTicks: null };
    }
    current.last = fragment;
    const samples = fragment.tracks.find((t) => t.trackId === track.trackId)?.samples ?? [];
    const first = samples[0];
    const last = samples.at(-1);
    if (first && last) {
      current.startTicks ??= first.decodeTime;
      current.endTicks = last.decodeTime + last.durationTicks;
    }
  }
  flush();
  return parts;
}
