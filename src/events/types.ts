/**
 * Wire types of the events API, the /api/ws messages and the in-process event bus. Plain and
 * self-contained (no imports), so the web UI can import them as types.
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
  /** Names of zones the event touched (empty until zones exist). */
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

export type EventChangeType = 'new' | 'update' | 'end';

/** An event opened, changed or ended. `before` is null for 'new'. */
export interface EventChange {
  type: EventChangeType;
  before: EventView | null;
  after: EventView;
}

/** Motion on a camera started or stopped. */
export interface MotionChange {
  cameraId: string;
  active: boolean;
  timeMs: number;
}

/** A camera's stream changed state (online, connecting, offline, error). */
export interface CameraStatusChange {
  cameraId: string;
  stream: string;
  state: string;
  /** What went wrong, in words; null when online. */
  reason: string | null;
  timeMs: number;
}

/** Confirmed tracks per watched label on a camera now; sent when a count changes. */
export interface ObjectCounts {
  cameraId: string;
  /** Every label of the camera's detect.labels, 0 included. */
  counts: Record<string, number>;
  timeMs: number;
}

/** First message on /api/ws. */
export interface WsHelloMessage {
  type: 'hello';
  version: string;
}

export interface WsEventMessage {
  type: 'event';
  kind: EventChangeType;
  before: EventView | null;
  after: EventView;
}

export interface WsMotionMessage extends MotionChange {
  type: 'motion';
}

export interface WsCameraMessage extends CameraStatusChange {
  type: 'camera';
}

export interface WsObjectsMessage extends ObjectCounts {
  type: 'objects';
}

/** A client message the server could not use; the socket stays open. */
export interface WsErrorMessage {
  type: 'error';
  code: string;
  message: string;
}

/** The acknowledgement of a subscribe message: the cameras now followed (null = all). */
export interface WsSubscribedMessage {
  type: 'subscribed';
  cameras: string[] | null;
}

export type WsServerMessage =
  | WsHelloMessage
  | WsEventMessage
  | WsMotionMessage
  | WsCameraMessage
  | WsObjectsMessage
  | WsSubscribedMessage
  | WsErrorMessage;

/** Client → server: follow only these cameras (null or missing = all). */
export interface WsSubscribeMessage {
  type: 'subscribe';
  cameras?: string[] | null;
}
