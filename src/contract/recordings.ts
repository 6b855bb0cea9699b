/** What is recorded: recordings and gaps, motion periods and the analytics status of a camera. */

import type { CameraEventKind } from './onvif.js';

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

export interface MotionPeriodView {
  startTimeMs: number;
  endTimeMs: number;
  /** Largest fraction of the picture that moved in one frame, 0..1. */
  maxScore: number;
}

/** A camera's own event (ONVIF) other than motion, as the timeline marks it. */
export interface CameraEventView {
  kind: CameraEventKind;
  /** The ONVIF topic without namespace prefixes, e.g. RuleEngine/TamperDetector/Tamper. */
  topic: string;
  /** Whether the condition started (true) or ended; momentary events (a crossing) are true. */
  active: boolean;
  /** The event's source items (e.g. InputToken). */
  source: Record<string, string>;
  timeMs: number;
}

/** GET /api/cameras/:id/camera-events */
export interface CameraEventsResponse {
  cameraId: string;
  fromMs: number;
  toMs: number;
  /** Oldest first. */
  events: CameraEventView[];
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

/** POST /api/cameras/:id/redacted-export: the body (docs/ref/api.md). The answer is the MP4. */
export interface RedactedExportRequest {
  /** ISO-8601 or epoch ms, as strings. */
  from: string;
  to: string;
  stream?: 'main' | 'sub';
  redaction: {
    mode: 'faces' | 'all-except-track' | 'manual';
    keepEventId?: number;
    manualBoxes?: Array<{
      keys: Array<{ atMs: number; box: { x: number; y: number; width: number; height: number } }>;
      followEventId?: number;
    }>;
    holdFrames?: number;
  };
}
