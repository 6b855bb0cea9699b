/**
 * What a redacted export hides, as plain JSON: it is stored with the export (a signed manifest
 * quotes it), so everything here is serialisable and `describeRedaction` says it in words.
 */

/** A box in normalised coordinates: 0..1 of the frame's width and height. */
export interface NormalisedBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One point of a stored track (an event's `path`): wall time, normalised centre of the box. */
export interface TrackPathPoint {
  timeMs: number;
  x: number;
  y: number;
}

/** A track followed by a box: the event it came from (for the record) and its stored path. */
export interface FollowedTrack {
  eventId: number;
  path: TrackPathPoint[];
}

/** A hand-drawn box at one time, in milliseconds from the clip's first frame. */
export interface ManualBoxKey {
  atMs: number;
  box: NormalisedBox;
}

/**
 * A hand-drawn box: it moves linearly between its keys and exists from the first key to the last.
 * With `follow`, it also moves with the track: by how far the track's centre has moved since the
 * nearest key.
 */
export interface ManualRedaction {
  keys: ManualBoxKey[];
  follow?: FollowedTrack;
}

/**
 * - `faces`: every face found is blurred.
 * - `all-except-track`: every person and every face is blurred except the person of one event's
 *   track (and faces inside that person's box): a subject-access export (GDPR Art. 15).
 * - `manual`: only the hand-drawn boxes.
 * Hand-drawn boxes are blurred in every mode.
 */
export type RedactionMode = 'faces' | 'all-except-track' | 'manual';

export interface RedactionOptions {
  mode: RedactionMode;
  /** `all-except-track`: the track left visible. */
  keep?: FollowedTrack;
  manualBoxes?: ManualRedaction[];
  /** Wall time (UTC ms) of the clip's first frame: places the tracks' paths on the clip. */
  clipStartTimeMs?: number;
  /** Faces scoring below this are not faces (default 0.3). */
  minFaceScore?: number;
  /** Frames a box is still blurred before and after the frames where it was detected (default 12). */
  holdFrames?: number;
}

export const DEFAULT_MIN_FACE_SCORE = 0.3;
export const DEFAULT_HOLD_FRAMES = 12;

/** One sentence for the export's manifest and the audit log: what was hidden, never whom. */
export function describeRedaction(options: RedactionOptions): string {
  const parts: string[] = [];
  if (options.mode === 'faces') {
    parts.push(
      `every face detected (BlazeFace, score ≥ ${options.minFaceScore ?? DEFAULT_MIN_FACE_SCORE}) pixelated`,
    );
  } else if (options.mode === 'all-except-track') {
    parts.push(
      `every person and face pixelated except the person of event #${options.keep?.eventId ?? '?'}'s track`,
    );
  } else {
    parts.push('only hand-drawn boxes pixelated');
  }
  const manual = options.manualBoxes ?? [];
  if (manual.length > 0) {
    const followed = manual.filter((m) => m.follow).map((m) => `#${m.follow!.eventId}`);
    parts.push(
      `${manual.length} hand-drawn box${manual.length === 1 ? '' : 'es'}` +
        (followed.length > 0 ? ` (following the track of event ${followed.join(', ')})` : ''),
    );
  }
  if (options.mode !== 'manual') {
    parts.push(
      `boxes held ${options.holdFrames ?? DEFAULT_HOLD_FRAMES} frames before and after each detection`,
    );
  }
  return `Redacted: ${parts.join('; ')}; re-encoded with H.264, no audio.`;
}
