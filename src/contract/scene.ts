/**
 * The scene of a camera (its zones and tripwires) and the facts the scene analyser reports about
 * tracked objects in it. Rules (src/rules) turn facts into alerts; counting stores them.
 *
 * Coordinates are normalised: 0..1 of the frame's width and height, origin at the top-left.
 */

/** A point [x, y], normalised. */
export type ScenePoint = [number, number];

/** A zone: a simple polygon (not self-intersecting), at least three points. */
export interface ZoneView {
  id: string;
  name: string;
  points: ScenePoint[];
  /** Only these labels count in the zone; empty: every label the camera detects. */
  labels: string[];
}

/**
 * A tripwire: a directed line from `a` to `b`. A→B is a crossing from the line's right-hand side
 * (seen from `a` looking at `b`, y down as on screen) to its left-hand side; B→A the other way.
 */
export interface LineView {
  id: string;
  name: string;
  a: ScenePoint;
  b: ScenePoint;
  /** Which crossings count. */
  direction: LineDirectionFilter;
  labels: string[];
}

/** A camera's scene as the API shows it (CameraView.scene); the same shape as `cameras[].scene`. */
export interface CameraSceneView {
  zones: ZoneView[];
  lines: LineView[];
  /** Which point of an object's box decides where it is. */
  referencePoint: 'bottom-centre' | 'centre';
  /** Detections whose reference point lies inside are dropped before tracking. */
  objectMasks: ScenePoint[][];
}

export type LineDirection = 'a-to-b' | 'b-to-a';
export type LineDirectionFilter = LineDirection | 'both';

/** What a fact says about the object it concerns, so a rule can filter on label, size and score. */
export interface SceneObject {
  /** The event the object belongs to (one per object after re-identification). */
  eventId: number;
  trackId: number;
  label: string;
  /** Detection score of the latest detection, 0..1. */
  score: number;
  /** Box area as a fraction of the frame, 0..1. */
  areaFraction: number;
}

/** One fact about the scene; `timeMs` is on the recording timeline. */
export type SceneFact =
  | { type: 'zone-entered'; cameraId: string; zoneId: string; object: SceneObject; timeMs: number }
  | {
      type: 'zone-left';
      cameraId: string;
      zoneId: string;
      object: SceneObject;
      /** How long the object was inside. */
      insideMs: number;
      timeMs: number;
    }
  | {
      type: 'line-crossed';
      cameraId: string;
      lineId: string;
      direction: LineDirection;
      object: SceneObject;
      timeMs: number;
    }
  | {
      /** Sent when a zone's count of some label changes: objects inside now, by label. */
      type: 'zone-occupancy';
      cameraId: string;
      zoneId: string;
      counts: Record<string, number>;
      timeMs: number;
    }
  | {
      /** From the frames and the stream, not from objects. */
      type: 'camera-health';
      cameraId: string;
      state: CameraHealthState;
      /** In words, e.g. "the view is covered: 92 % of the picture changed and stayed so for 10 s". */
      detail: string;
      timeMs: number;
    };

export type CameraHealthState =
  | 'stream-lost'
  | 'stream-restored'
  | 'tamper-covered'
  | 'tamper-moved'
  | 'tamper-defocused'
  | 'tamper-cleared';

export type CountBucketSize = 'minute' | 'hour' | 'day';

/**
 * GET /api/cameras/:id/counts?from&to&bucket: crossings per line and entries and peak occupancy per
 * zone, per bucket (hours and days in the site's time zone). Buckets without anything are left out.
 */
export interface SceneCounts {
  cameraId: string;
  bucket: CountBucketSize;
  fromMs: number;
  toMs: number;
  lines: Array<{
    lineId: string;
    label: string;
    direction: LineDirection;
    buckets: Array<{ startTimeMs: number; count: number }>;
  }>;
  zones: Array<{
    zoneId: string;
    label: string;
    buckets: Array<{ startTimeMs: number; entries: number; maxOccupancy: number }>;
  }>;
}

/**
 * GET /api/cameras/:id/heatmap?from&to&label: where tracked objects went, as a grid over the
 * picture (row-major, `columns` × `rows` cells); a cell counts the events whose path passed it.
 */
export interface HeatMap {
  cameraId: string;
  fromMs: number;
  toMs: number;
  label: string | null;
  columns: number;
  rows: number;
  cells: number[];
  eventCount: number;
}
