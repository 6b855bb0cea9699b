import type { LiveClientMessage, LiveIceCandidate } from '../contract/live.js';

/** Longest text frame a player may send: an SDP answer is a few kB. */
export const MAX_SIGNALLING_BYTES = 64 * 1024;

export type SignallingResult =
  | { ok: true; message: LiveClientMessage }
  | { ok: false; code: 'REQUEST_INVALID' | 'FORBIDDEN'; message: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function candidateOf(value: unknown): LiveIceCandidate | null | undefined {
  if (value === null) return null;
  if (!isRecord(value) || typeof value['candidate'] !== 'string') return undefined;
  const sdpMid = value['sdpMid'];
  const index = value['sdpMLineIndex'];
  return {
    candidate: value['candidate'],
    sdpMid: typeof sdpMid === 'string' ? sdpMid : null,
    sdpMLineIndex: typeof index === 'number' && Number.isInteger(index) ? index : null,
  };
}

const invalid = (message: string): SignallingResult => ({ ok: false, code: 'REQUEST_INVALID', message });

/**
 * Checks one text frame from a player against the socket it came on. The route's access check
 * ran on the camera of the socket's URL, so a message naming any other camera (however spelt:
 * the comparison is on the exact string the route checked) is refused, never acted on.
 */
export function parseSignalling(text: string, socketCameraId: string): SignallingResult {
  if (Buffer.byteLength(text) > MAX_SIGNALLING_BYTES) return invalid('the message is too long');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid('the message is not JSON');
  }
  if (!isRecord(value) || typeof value['type'] !== 'string') return invalid('the message has no type');
  if (value['cameraId'] !== socketCameraId) {
    return {
      ok: false,
      code: 'FORBIDDEN',
      message: 'the message names another camera than this socket; open a socket for that camera',
    };
  }
  const cameraId = socketCameraId;
  switch (value['type']) {
    case 'webrtc.answer':
      return typeof value['sdp'] === 'string'
        ? { ok: true, message: { type: 'webrtc.answer', cameraId, sdp: value['sdp'] } }
        : invalid('webrtc.answer needs sdp');
    case 'webrtc.candidate': {
      const candidate = candidateOf(value['candidate']);
      return candidate === undefined
        ? invalid('webrtc.candidate needs a candidate or null')
        : { ok: true, message: { type: 'webrtc.candidate', cameraId, candidate } };
    }
    case 'talk.start':
    case 'talk.stop':
      return { ok: true, message: { type: value['type'], cameraId } };
    default:
      return invalid(`unknown message type '${String(value['type'])}'`);
  }
}
