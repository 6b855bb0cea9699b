/**
 * Privacy masks and lifts as the HTTP API shows and takes them: the `privacy` part of a camera
 * (GET /api/cameras, PUT /api/cameras/:id) and /api/cameras/:id/privacy/lifts.
 */

/** A point [x, y], each 0..1 of the frame's width and height (0,0 top-left). */
export type MaskPointView = [number, number];

export type PrivacyMaskKind = 'permanent' | 'liftable';

export interface PrivacyMaskView {
  id: string;
  name?: string;
  /** permanent: hidden from everyone; liftable: hidden unless the viewer holds `unmask` and has an active lift. */
  kind: PrivacyMaskKind;
  polygon: MaskPointView[];
}

export interface CameraPrivacyView {
  masks: PrivacyMaskView[];
  maskAtRecording: boolean;
}

/** The body of POST /api/cameras/:id/privacy/lifts. */
export interface LiftRequest {
  /** Why: required, kept in the audit log. */
  reason: string;
  /** 1 s to 1 h. */
  durationMs: number;
}

export interface LiftView {
  id: number;
  cameraId: string;
  userName: string;
  reason: string;
  startedAtMs: number;
  expiresAtMs: number;
  /** Whether the caller of the listing owns this lift (they see through the masks while it lasts). */
  mine: boolean;
}

export interface LiftListResponse {
  lifts: LiftView[];
}

/** The longest lift the API grants. */
export const MAX_LIFT_MS = 3_600_000;
/** The shortest lift (tests use a few seconds). */
export const MIN_LIFT_MS = 1_000;
