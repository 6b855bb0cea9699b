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

/** An ICE candidate as the browser's RTCIceCandidate.toJSON() gives it; null ends the candidates. */
export interface LiveIceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** WebRTC live (`?via=webrtc`): the server's offer, a sendonly H.264 video and a recvonly audio for talk. */
export interface LiveWebRtcOfferMessage {
  type: 'webrtc.offer';
  sdp: string;
}

/** A server ICE candidate (host addresses, and server-reflexive ones when a STUN server is set). */
export interface LiveWebRtcCandidateMessage {
  type: 'webrtc.candidate';
  candidate: LiveIceCandidate | null;
}

/** A signalling message was refused; the socket stays open (code from the error catalogue). */
export interface LiveErrorMessage {
  type: 'error';
  code: string;
  message: string;
}

/**
 * Talking through the camera (permission `talk`): 'started' once the camera's backchannel is open
 * (the codec it asked for), 'stopped' when the player stopped or the camera dropped it (reason).
 */
export interface LiveTalkMessage {
  type: 'talk';
  state: 'started' | 'stopped';
  codec: string | null;
  reason: string | null;
}

export type LiveMessage =
  | LiveInitMessage
  | LiveStatusMessage
  | LiveDetectionsMessage
  | LiveJoinedMessage
  | LiveWebRtcOfferMessage
  | LiveWebRtcCandidateMessage
  | LiveErrorMessage
  | LiveTalkMessage;

/**
 * Text frames a WebRTC player sends on the live WebSocket. `cameraId` must be the camera of the
 * socket's URL: the access check ran on that one, so a message naming another is refused.
 */
export type LiveClientMessage =
  | { type: 'webrtc.answer'; cameraId: string; sdp: string }
  | { type: 'webrtc.candidate'; cameraId: string; candidate: LiveIceCandidate | null }
  | { type: 'talk.start'; cameraId: string }
  | { type: 'talk.stop'; cameraId: string };
