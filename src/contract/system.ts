/** GET /api/health and GET /api/system. */
import type { StreamState } from './cameras.js';

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
    /** The ingest ffmpeg's CPU since the previous look at the system page, % of one core; null for native ingest or the first look. */
    cpuPercent: number | null;
    /** ffmpeg encodes this stream's video (MJPEG, JPEG snapshots, HLS in another codec) instead of copying it. */
    transcoding: boolean;
    /** What pulls the stream now: Vigil's own RTSP client, or an ffmpeg process. */
    ingest: 'native' | 'ffmpeg';
    /** Why `ingest: auto` uses ffmpeg for this stream; null when it does not. */
    ingestFallbackReason: string | null;
  }>;
}

/** The ffmpeg on the system page, with what the administrator should know about it. */
export interface SystemFfmpegView extends FfmpegView {
  /** The old build shipped in the @ffmpeg-installer npm package is in use. */
  bundled: boolean;
  /** What to do about it (install the system ffmpeg), or null. */
  warning: string | null;
}

/**
 * One ffmpeg that burns privacy masks into a live stream for the viewers who must not see under
 * them: what it costs, so an administrator can weigh masks against the server's CPU.
 */
export interface MaskedTranscoderView {
  cameraId: string;
  stream: string;
  /** A short hash of the polygon set: viewers with the same one share this transcoder. */
  maskKey: string;
  viewerCount: number;
  /** CPU over the last couple of seconds, in % of one core; null while starting. */
  cpuPercent: number | null;
  /** CPU seconds used since it started. */
  cpuSeconds: number;
  running: boolean;
  /** Feeds the recorder ("mask at recording") rather than live viewers. */
  recording: boolean;
  /** Why it failed, until it works again. */
  lastError: string | null;
}

export interface SystemResponse {
  version: string;
  uptimeMs: number;
  ffmpeg: SystemFfmpegView;
  node: string;
  storage: HealthResponse['storage'] & { totalBytes: number | null };
  cameras: SystemCameraView[];
  connectivity: ConnectivityChangeView[];
  /** Live transcoders of masked video running now (empty when no masked viewer watches). */
  maskedTranscoders: MaskedTranscoderView[];
}

/** GET /api/system/privacy-notice: what a sign at the site must tell the people it records. */
export interface PrivacyNoticeResponse {
  site: { name: string; controller: string | null; purpose: string | null; contact: string | null };
  /** Settings a notice cannot do without that are not set yet, as config keys (`site.contact`…). */
  missing: string[];
  cameras: {
    id: string;
    name: string;
    continuousDays: number;
    /** Null when the camera keeps no more than the EDPB guidance. */
    justification: string | null;
    /** COCO object labels detected; empty when object detection is off. */
    detects: string[];
  }[];
  eventsDays: number;
  /** Why recordings are kept beyond the EDPB guidance, site-wide; null when they are not. */
  justification: string | null;
  generatedAtMs: number;
}
