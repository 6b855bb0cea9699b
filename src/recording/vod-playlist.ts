/**
 * HLS (fMP4) playlists over stored segments. Pure: the playback service supplies the parts
 * (one GOP each, byte ranges of segment files) with their wall times.
 */

export interface PlaylistPart {
  uri: string;
  startTimeMs: number;
  durationMs: number;
}

export interface PlaylistSegment {
  /** Parts of one timeline share its decode times; a new timeline is a discontinuity. */
  timelineKey: string;
  initUri: string;
  parts: PlaylistPart[];
}

/** A gap longer than this between parts is shown to players as a discontinuity. */
const DISCONTINUITY_GAP_MS = 1000;

/**
 * A playlist of stored parts. `live` makes it an EVENT playlist without an end, which players
 * reload to follow the recording as it grows: the live view's fallback where MSE is missing.
 */
export function buildVodPlaylist(
  segments: readonly PlaylistSegment[],
  opts: { live?: boolean } = {},
): string {
  const parts = segments.flatMap((s) => s.parts);
  const targetDurationS = Math.max(1, Math.ceil(Math.max(0, ...parts.map((p) => p.durationMs)) / 1000));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${targetDurationS}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    `#EXT-X-PLAYLIST-TYPE:${opts.live ? 'EVENT' : 'VOD'}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  let previous: { timelineKey: string; initUri: string; endTimeMs: number } | null = null;
  for (const segment of segments) {
    for (const part of segment.parts) {
      const newTimeline = previous !== null && previous.timelineKey !== segment.timelineKey;
      const gap = previous !== null && part.startTimeMs - previous.endTimeMs > DISCONTINUITY_GAP_MS;
      if (newTimeline || gap) lines.push('#EXT-X-DISCONTINUITY');
      if (previous === null || previous.initUri !== segment.initUri || newTimeline || gap) {
        lines.push(`#EXT-X-MAP:URI="${segment.initUri}"`);
      }
      // Lets players (and our UI) map playback position to wall time.
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(part.startTimeMs).toISOString()}`);
      lines.push(`#EXTINF:${(part.durationMs / 1000).toFixed(3)},`);
      lines.push(part.uri);
      previous = {
        timelineKey: segment.timelineKey,
        initUri: segment.initUri,
        endTimeMs: part.startTimeMs + part.durationMs,
      };
    }
  }
  if (!opts.live) lines.push('#EXT-X-ENDLIST');
  lines.push('');
  return lines.join('\n');
}
