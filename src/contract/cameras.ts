import type { CameraPrivacyView } from './privacy.js';
import type { CameraSceneView } from './scene.js';

/**
 * Cameras and their streams as the HTTP API shows and takes them: GET /api/cameras, the camera
 * form's POST and PUT bodies, and the stream probe.
 */

export type StreamName = 'main' | 'sub';
/** What the ingest supervisor of a stream is doing now. */
export type StreamState = 'online' | 'connecting' | 'offline' | 'error';

export interface StreamErrorView {
  kind: string;
  message: string;
  atMs: number;
}

export interface StreamStatusView {
  state: StreamState;
  lastError: StreamErrorView | null;
  onlineSinceMs: number | null;
  uptimeMs: number;
  reconnectCount: number;
  fps: number | null;
  bitrateKbps: number | null;
  width: number | null;
  height: number | null;
  codec: string | null;
  lastMediaAtMs: number | null;
  /** What pulls the stream now: Vigil's own RTSP client, or an ffmpeg process. */
  ingest: 'native' | 'ffmpeg';
  /** Why `ingest: auto` uses ffmpeg for this stream (its codec, its audio…); null when it does not. */
  ingestFallbackReason: string | null;
}

export interface RecorderStatusView {
  recording: boolean;
  /** `code`: a catalogue error code when the error has one (e.g. EVIDENCE_ONLY_LEFT). */
  lastError: { message: string; atMs: number; code?: string } | null;
  /** Recording stopped on purpose: storage is full and holds only this camera's locked evidence. */
  stopped: { code: string; message: string; sinceMs: number } | null;
  segmentCount: number;
  droppedFragmentCount: number;
}

export interface StreamView {
  name: string;
  /** The URL without credentials. */
  url: string;
  user: string | null;
  transport: string;
  audio: string;
  status: StreamStatusView;
  recording: RecorderStatusView;
}

export interface CameraView {
  id: string;
  name: string;
  enabled: boolean;
  /** 'config': defined in the configuration file, read-only through the API. */
  source: 'config' | 'api';
  retention: { continuousDays?: number } | null;
  streams: Record<string, StreamView>;
  privacy: CameraPrivacyView;
  /** Zones, tripwires and object masks. */
  scene: CameraSceneView;
  /** Where the camera speaks ONVIF (PTZ, its own events); null when it does not. Never its password. */
  onvif: { url: string; user: string | null; events: boolean } | null;
}

export interface CameraListResponse {
  cameras: CameraView[];
}

/** One stream of the body of POST/PUT /api/cameras. */
export interface StreamInput {
  url: string;
  user?: string;
  password?: string;
  transport?: 'tcp' | 'udp';
}

/** The body of POST/PUT /api/cameras: what the camera form edits. */
export interface CameraInput {
  id: string;
  name?: string;
  enabled?: boolean;
  streams: Partial<Record<StreamName, StreamInput>> & { main: StreamInput };
  /** Left out: the camera has no privacy masks (a PUT without it removes them). */
  privacy?: CameraPrivacyView;
  /** Left out: no zones, tripwires or object masks (a PUT without it removes them). */
  scene?: CameraSceneView;
  /** Where the camera speaks ONVIF (from POST /api/onvif/probe); a PUT without `password` keeps the stored one. */
  onvif?: { url: string; user?: string; password?: string; events?: boolean };
}

/** The body of POST /api/cameras/probe: a stream, and the camera whose stored password to use. */
export type ProbeRequest = StreamInput & { camera?: string; stream?: StreamName };

export type ProbeResponse =
  | {
      ok: true;
      codec: string;
      width: number | null;
      height: number | null;
      fps: number | null;
      bitrateKbps: number | null;
      hasAudio: boolean;
      /** The first frame as a data: URL (JPEG), for the form's preview. */
      snapshotDataUrl: string | null;
      elapsedMs: number;
    }
  | { ok: false; kind: string; message: string; elapsedMs: number };
