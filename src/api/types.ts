/**
 * The shapes the HTTP API and the live WebSocket send, shared by the server (whose handlers are
 * typed with them) and the web UI (which imports them as types). Self-contained on purpose: the
 * browser build must not pull server modules in. Types only, but for the live close codes.
 */

export type StreamName = 'main' | 'sub';
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
}

export interface RecorderStatusView {
  recording: boolean;
  lastError: { message: string; atMs: number } | null;
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
}

export interface CameraListResponse {
  cameras: CameraView[];
}

export interface TimeSpanView {
  startTimeMs: number;
  endTimeMs: number;
  durationMs: number;
  startTime: string;
  endTime: string;
}

export interface RecordingsResponse {
  cameraId: string;
  stream: string;
  fromMs: number;
  toMs: number;
  recordings: TimeSpanView[];
  gaps: TimeSpanView[];
  segmentCount: number;
}

export interface FfmpegView {
  path: string;
  origin: string;
  version: string;
}

export interface HealthResponse {
  status: 'ok';
  version: string;
  uptimeMs: number;
  ffmpeg: FfmpegView;
  storage: {
    path: string;
    usedBytes: number;
    freeBytes: number | null;
    shortfallBytes: number;
  };
  cameras: { total: number; streamsOnline: number; streamsTotal: number };
}

export interface ConnectivityChangeView {
  atMs: number;
  cameraId: string;
  stream: string;
  state: StreamState;
  reason: string | null;
}

export interface SystemCameraView {
  id: string;
  name: string;
  /** Start of the oldest recording kept: how far back retention reaches for this camera. */
  oldestRecordingMs: number | null;
  usedBytes: number;
  streams: Array<{
    name: string;
    state: StreamState;
    fps: number | null;
    bitrateKbps: number | null;
    uptimeMs: number;
    codec: string | null;
    width: number | null;
    height: number | null;
    viewerCount: number;
  }>;
}

/** The ffmpeg on the system page, with what the administrator should know about it. */
export interface SystemFfmpegView extends FfmpegView {
  /** The old build shipped in the @ffmpeg-installer npm package is in use. */
  bundled: boolean;
  /** What to do about it (install the system ffmpeg), or null. */
  warning: string | null;
}

export interface SystemResponse {
  version: string;
  uptimeMs: number;
  ffmpeg: SystemFfmpegView;
  node: string;
  storage: HealthResponse['storage'] & { totalBytes: number | null };
  cameras: SystemCameraView[];
  connectivity: ConnectivityChangeView[];
}

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

export interface MotionPeriodView {
  startTimeMs: number;
  endTimeMs: number;
  /** Largest fraction of the picture that moved in one frame, 0..1. */
  maxScore: number;
}

export interface MotionPeriodsResponse {
  cameraId: string;
  fromMs: number;
  toMs: number;
  periods: MotionPeriodView[];
}

export interface AnalyticsStatusResponse {
  cameraId: string;
  enabled: boolean;
  status: {
    framesDecoded: number;
    framesAnalysed: number;
    detectionRuns: number;
    lastFrameTimeMs: number | null;
    motionActive: boolean;
    detector: string | null;
    error: string | null;
  } | null;
}

export interface ApiErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** Live WebSocket, text frames; binary frames carry the init segment after 'init', then fragments. */
export interface LiveInitMessage {
  type: 'init';
  sessionId: number;
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

/** WebSocket close codes of the live endpoint: the camera was edited (reconnect) or deleted (stop). */
export const LIVE_CLOSE_CHANGED = 4000;
export const LIVE_CLOSE_REMOVED = 4404;
/**
 * Close code of the live and push (/api/ws) WebSockets when the access they were opened with
 * ends: signed out (everywhere), user disabled or deleted, token revoked, password changed, or
 * the camera no longer granted. Clients stop and do not reconnect; whether the browser is still
 * signed in is for the next API request to tell.
 */
export const WS_CLOSE_ACCESS_REVOKED = 4401;

/** Who is signed in (GET /api/session, and the answer to sign-in and first-run setup). */
export interface SessionResponse {
  /** True until the first administrator exists: the UI shows the first-run setup. */
  setupRequired: boolean;
  user: {
    name: string;
    role: 'admin' | 'operator' | 'viewer' | 'auditor';
    /** Cameras granted; null = all. */
    cameras: string[] | null;
    totpEnabled: boolean;
    permissions: string[];
  } | null;
  /** Send back as X-CSRF-Token on every request that changes something. */
  csrfToken: string | null;
}

export interface UserView {
  id: number;
  name: string;
  role: 'admin' | 'operator' | 'viewer' | 'auditor';
  cameras: string[] | null;
  disabled: boolean;
  totpEnabled: boolean;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface TokenView {
  id: number;
  userName: string;
  label: string;
  scopes: string[];
  createdAtMs: number;
  lastUsedAtMs: number | null;
  expiresAtMs: number | null;
  revokedAtMs: number | null;
}

export interface AuditEntryView {
  seq: number;
  timeMs: number;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
  ip: string | null;
}

export interface AuditPageResponse {
  entries: AuditEntryView[];
  nextCursor: string | null;
}
