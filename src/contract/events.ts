/**
 * Events as the API returns them (GET /api/events, /api/events/:id, and in /api/ws messages).
 *
 * Coordinates are normalised: 0..1 of the frame's width and height, origin at the top-left.
 * Times are UTC milliseconds on the recording timeline.
 */

/** An axis-aligned box, normalised. */
export interface EventBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The centre of the tracked box at one moment, normalised. */
export interface EventPathPoint {
  timeMs: number;
  x: number;
  y: number;
}

export interface EventSnapshotView {
  /** Capture time of the frame shown. */
  timeMs: number;
  /** The full frame with the box drawn: GET, image/jpeg. */
  url: string;
  /** The region around the box: GET, image/jpeg. */
  cropUrl: string;
}

/** One event as the API returns it. */
export interface EventView {
  id: number;
  cameraId: string;
  /** COCO object label: person, car, dog… */
  label: string;
  /** The tracker's id of the track that opened the event (tracks merged in later keep this one). */
  trackId: number;
  startTimeMs: number;
  /** Null while the event goes on. */
  endTimeMs: number | null;
  /** Best detection score, 0..1. */
  maxScore: number;
  /** Box of the detection shown in the snapshot. */
  box: EventBox;
  /** Where the object went: box centres over time, thinned to at most a few hundred points. */
  path: EventPathPoint[];
  /** Names of the zones the event's object was in (cameras[].scene.zones). */
  zones: string[];
  /** Null until the first snapshot is written. */
  snapshot: EventSnapshotView | null;
  /** The recording that belongs to the event: start − preCaptureMs to end + postCaptureMs. */
  clip: { startTimeMs: number; endTimeMs: number; url: string };
  createdAtMs: number;
  updatedAtMs: number;
}

/** GET /api/events */
export interface EventsPage {
  /** Newest first (by start time, then id). */
  events: EventView[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** How an event changed: opened, changed while going on, or ended. */
export type EventChangeType = 'new' | 'update' | 'end';
