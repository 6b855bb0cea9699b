/**
 * The live WebSocket (GET /api/cameras/:id/live): text frames are these messages; binary frames
 * carry the init segment after 'init', then fragments. Close codes: close-codes.ts.
 */
import type { StreamState } from './cameras.js';

export interface LiveInitMessage {
  type: 'init';
  /**
   * The ingest connection the init segment belongs to: a new one (the camera reconnected)
   * restarts decode times, so the player starts afresh.
   */
  connectionId: number;
  mimeType: string;
  width: number | null;
  height: number | null;
}

export interface LiveStatusMessage {
  type: 'status';
  state: StreamState;
  reason: string | null;
}

/** What analytics sees now: the confirmed tracks of the latest analysed frame, boxes normalised 0..1. */
export interface LiveDetectionsMessage {
  type: 'detections';
  /** Capture time of the analysed frame. */
  timeMs: number;
  tracks: Array<{
    trackId: number;
    label: string;
    score: number;
    box: { x: number; y: number; width: number; height: number };
  }>;
}

/** Sent after the fragments of the current GOP that a joining viewer gets at once: what follows is live. */
export interface LiveJoinedMessage {
  type: 'joined';
}

export type LiveMessage = LiveInitMessage | LiveStatusMessage | LiveDetectionsMessage | LiveJoinedMessage;
