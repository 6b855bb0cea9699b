/**
 * The push WebSocket (/api/ws): JSON text frames. The server sends 'hello' first, then what
 * happens on the cameras the client follows; the client may send 'subscribe'. Close codes:
 * close-codes.ts. The payloads are also what the server's in-process event bus carries.
 */
import type { AlertView } from './alerts.js';
import type { ApprovalView } from './approvals.js';
import type { EventChangeType, EventView } from './events.js';
import type { SceneFact } from './scene.js';
import type { CameraDeviceEvent } from './onvif.js';

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

/**
 * A stream's recording stopped on purpose (storage is full and all this camera could give back
 * is locked evidence: code EVIDENCE_ONLY_LEFT) or went on again. Live view goes on meanwhile.
 */
export interface RecordingStopChange {
  cameraId: string;
  stream: string;
  stopped: boolean;
  /** A catalogue error code while stopped; null when recording again. */
  code: string | null;
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

/** An event opened, changed or ended. `before` is null for 'new'. */
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

export interface WsRecordingMessage extends RecordingStopChange {
  type: 'recording';
}

/** The camera's own event (ONVIF PullPoint): its motion, tamper, line crossing or digital input. */
export interface WsCameraEventMessage extends CameraDeviceEvent {
  type: 'camera-event';
}

/**
 * A camera's health changed: its stream was lost (down for a few seconds) or came back, or its
 * view was covered, defocused or moved, or is as usual again. The `camera-health` scene fact as is.
 */
export type WsCameraHealthMessage = Extract<SceneFact, { type: 'camera-health' }>;

/**
 * An approval request was made, decided, cancelled or expired. Sent only to users who may
 * approve it (the permission of its action, on its camera) and to its requester.
 */
export interface WsApprovalMessage {
  type: 'approval';
  change: 'requested' | 'approved' | 'refused' | 'cancelled' | 'expired' | 'failed';
  request: ApprovalView;
}

/** A rule fired (GET /api/alerts lists them); `alert.reviewed` is false. */
export interface WsAlertMessage {
  type: 'alert';
  alert: AlertView;
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
  | WsRecordingMessage
  | WsCameraHealthMessage
  | WsCameraEventMessage
  | WsApprovalMessage
  | WsAlertMessage
  | WsSubscribedMessage
  | WsErrorMessage;

/** Client → server: follow only these cameras (null or missing = all). */
export interface WsSubscribeMessage {
  type: 'subscribe';
  cameras?: string[] | null;
}
