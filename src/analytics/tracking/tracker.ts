import { boxCentre, iou, type Box } from '../geometry.js';
import { assignMinCost } from './hungarian.js';
import { BoxKalmanFilter } from './kalman.js';

/** What the tracker consumes: one detection in frame pixels (after filters and NMS). */
export interface TrackerDetection {
  box: Box;
  label: string;
  score: number;
}

export interface TrackerOptions {
  /** Matched detections needed before a track is confirmed (reported and able to raise events). */
  minHits: number;
  /** Consecutive frames without a match that a confirmed track survives; the next miss ends it. */
  maxMisses: number;
  /** Consecutive misses a tentative track survives: a one-off false detection dies fast. */
  tentativeMaxMisses: number;
  /** Least IoU between a track's predicted box and a detection for them to match. */
  minIou: number;
  /** Nominal time between analysed frames (1000 / detect.fps): the Kalman filter's unit of time. */
  frameIntervalMs: number;
  /**
   * Labels that may match each other's tracks: the detector calls one van "car" in one frame and
   * "truck" in the next. Labels not listed form a group of their own. A person never matches a car.
   */
  labelGroups: Readonly<Record<string, string>>;
  /** A track is stationary when its centre stayed within `stationaryMaxMove` × its size for this long. */
  stationaryAfterMs: number;
  /** Fraction of the box's size (mean of width and height) the centre may wander and still be stationary. */
  stationaryMaxMove: number;
  /** Path points kept per track (the oldest are dropped first); 600 is 2 minutes at 5 fps. */
  maxPathPoints: number;
}

export const DEFAULT_TRACKER_OPTIONS: Readonly<TrackerOptions> = {
  minHits: 3,
  maxMisses: 5,
  tentativeMaxMisses: 1,
  minIou: 0.2,
  frameIntervalMs: 200,
  labelGroups: { car: 'vehicle', truck: 'vehicle', bus: 'vehicle', bicycle: 'cycle', motorcycle: 'cycle' },
  stationaryAfterMs: 5000,
  stationaryMaxMove: 0.25,
  maxPathPoints: 600,
};

export interface PathPoint {
  /** Box centre (filtered), frame pixels. */
  x: number;
  y: number;
  timestampMs: number;
}

export type TrackState = 'tentative' | 'confirmed' | 'ended';

/** A track as the tracker reports it. Read-only: the tracker keeps updating the same object. */
export interface Track {
  /** Stable within one tracker (one camera), increasing; ids of tentative tracks that died are not reused. */
  readonly id: number;
  readonly state: TrackState;
  /** Label by score-weighted vote over the track's detections. */
  readonly label: string;
  /** Current estimate in frame pixels: the filtered box after a match, the prediction after a miss. */
  readonly box: Box;
  /** Score of the last matched detection. */
  readonly score: number;
  readonly bestScore: number;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  /** Matched detections so far. */
  readonly hits: number;
  /** Consecutive updates without a match (0 when matched in the last update). */
  readonly misses: number;
  /** Centre over time, one point per matched detection. */
  readonly path: readonly PathPoint[];
  readonly stationary: boolean;
  /** The detection matched in the last update, or null when the track was missed. */
  readonly detection: TrackerDetection | null;
  /** Velocity of the box's centre from the Kalman state, frame pixels per millisecond. */
  readonly velocity: { x: number; y: number };
}

export interface TrackerUpdate {
  /** Confirmed tracks still alive (including ones missed in this update but not yet ended). */
  active: Track[];
  /** Tracks not yet confirmed. */
  tentative: Track[];
  /** Tracks confirmed in this update (also in `active`). */
  confirmedNow: Track[];
  /** Confirmed tracks that ended in this update (state 'ended'); tentative tracks die silently. */
  ended: Track[];
}

class TrackRecord implements Track {
  state: TrackState = 'tentative';
  label: string;
  box: Box;
  score: number;
  bestScore: number;
  lastSeenMs: number;
  hits = 1;
  misses = 0;
  path: PathPoint[] = [];
  stationary = false;
  detection: TrackerDetection | null;
  velocity = { x: 0, y: 0 };
  readonly filter: BoxKalmanFilter;
  /** Time the filter's state refers to. */
  filterTimeMs: number;
  private readonly votes = new Map<string, number>();

  constructor(
    readonly id: number,
    first: TrackerDetection,
    readonly firstSeenMs: number,
  ) {
    this.filter = new BoxKalmanFilter(first.box);
    this.filterTimeMs = firstSeenMs;
    this.label = first.label;
    this.box = this.filter.box();
    this.score = first.score;
    this.bestScore = first.score;
    this.lastSeenMs = firstSeenMs;
    this.detection = first;
    this.vote(first);
    this.path.push({ ...boxCentre(this.box), timestampMs: firstSeenMs });
  }

  vote(detection: TrackerDetection): void {
    this.votes.set(detection.label, (this.votes.get(detection.label) ?? 0) + detection.score);
    let best = this.label;
    let bestVotes = this.votes.get(best) ?? 0;
    for (const [label, votes] of this.votes) {
      // Ties keep the current label: it does not flip back and forth.
      if (votes > bestVotes) {
        best = label;
        bestVotes = votes;
      }
    }
    this.label = best;
  }
}

/**
 * SORT-style multi-object tracker for one camera: Kalman-predicted boxes matched to detections
 * by IoU with an optimal (Hungarian) assignment, label-aware. Pure: time comes only from the
 * timestamps passed in, so replaying recorded detections gives the same tracks.
 */
export class Tracker {
  readonly options: Readonly<TrackerOptions>;
  private tracks: TrackRecord[] = [];
  private nextId = 1;
  private lastUpdateMs: number | null = null;

  constructor(options: Partial<TrackerOptions> = {}) {
    this.options = { ...DEFAULT_TRACKER_OPTIONS, ...options };
    if (this.options.minHits < 1) throw new RangeError('tracker minHits must be at least 1');
  }

  /** Live tracks (tentative and confirmed). */
  get liveTracks(): readonly Track[] {
    return this.tracks;
  }

  /**
   * Where each live track is expected at `timestampMs`, without changing anything: the boxes
   * region selection should look at before the detector runs on that frame.
   */
  predict(timestampMs: number): Array<{ track: Track; box: Box }> {
    return this.tracks.map((track) => ({
      track,
      box: track.filter.peek(this.frames(track.filterTimeMs, timestampMs)),
    }));
  }

  /**
   * Feed the detections of one analysed frame (all of them, possibly none) in time order. Every
   * update counts as one observation: call it for each frame the detector looked at, and only
   * those (a frame that was not analysed is not evidence that a track is gone).
   */
  update(detections: readonly TrackerDetection[], timestampMs: number): TrackerUpdate {
    if (this.lastUpdateMs !== null && timestampMs < this.lastUpdateMs) {
      throw new RangeError(
        `tracker update at ${timestampMs} ms is before the previous one at ${this.lastUpdateMs} ms`,
      );
    }
    this.lastUpdateMs = timestampMs;
    for (const track of this.tracks) {
      track.filter.predict(this.frames(track.filterTimeMs, timestampMs));
      track.filterTimeMs = timestampMs;
      track.box = track.filter.box();
    }
    const matches = this.match(detections);
    const confirmedNow: Track[] = [];
    const ended: Track[] = [];
    const matchedTracks = new Set<TrackRecord>();
    const matchedDetections = new Set<number>();
    for (const [trackIndex, detectionIndex] of matches) {
      const track = this.tracks[trackIndex]!;
      this.hit(track, detections[detectionIndex]!, timestampMs);
      matchedTracks.add(track);
      matchedDetections.add(detectionIndex);
      if (track.state === 'tentative' && track.hits >= this.options.minHits) {
        track.state = 'confirmed';
        confirmedNow.push(track);
      }
    }
    const survivors: TrackRecord[] = [];
    for (const track of this.tracks) {
      if (!matchedTracks.has(track)) {
        track.misses += 1;
        track.detection = null;
      }
      if (track.state === 'confirmed' && track.misses > this.options.maxMisses) {
        track.state = 'ended';
        ended.push(track);
      } else if (track.state === 'tentative' && track.misses > this.options.tentativeMaxMisses) {
        // Dropped without a report: it never was a track anyone saw.
      } else {
        survivors.push(track);
      }
    }
    detections.forEach((detection, index) => {
      if (matchedDetections.has(index)) return;
      const track = new TrackRecord(this.nextId++, detection, timestampMs);
      survivors.push(track);
      if (this.options.minHits <= 1) {
        track.state = 'confirmed';
        confirmedNow.push(track);
      }
    });
    this.tracks = survivors;
    return {
      active: survivors.filter((t) => t.state === 'confirmed'),
      tentative: survivors.filter((t) => t.state === 'tentative'),
      confirmedNow,
      ended,
    };
  }

  /** End every live track (camera stopped, stream lost): returns the confirmed ones, as `ended`. */
  flush(): Track[] {
    const ended = this.tracks.filter((t) => t.state === 'confirmed');
    for (const track of ended) track.state = 'ended';
    this.tracks = [];
    return ended;
  }

  private frames(fromMs: number, toMs: number): number {
    return Math.max(0, toMs - fromMs) / this.options.frameIntervalMs;
  }

  private group(label: string): string {
    return this.options.labelGroups[label] ?? label;
  }

  /** Optimal one-to-one matching of tracks (rows) to detections (columns) by IoU, per label group. */
  private match(detections: readonly TrackerDetection[]): Array<[number, number]> {
    if (this.tracks.length === 0 || detections.length === 0) return [];
    const forbidden = 1e6;
    const cost = this.tracks.map((track) => {
      const trackGroup = this.group(track.label);
      return detections.map((detection) => {
        if (this.group(detection.label) !== trackGroup) return forbidden;
        const overlap = iou(track.box, detection.box);
        return overlap >= this.options.minIou ? 1 - overlap : forbidden;
      });
    });
    const assignment = assignMinCost(cost);
    const matches: Array<[number, number]> = [];
    assignment.forEach((column, row) => {
      if (column >= 0 && cost[row]![column]! < forbidden) matches.push([row, column]);
    });
    return matches;
  }

  private hit(track: TrackRecord, detection: TrackerDetection, timestampMs: number): void {
    track.filter.update(detection.box);
    track.box = track.filter.box();
    // The filter's unit of time is one frame interval.
    track.velocity = {
      x: track.filter.x[4]! / this.options.frameIntervalMs,
      y: track.filter.x[5]! / this.options.frameIntervalMs,
    };
    track.hits += 1;
    track.misses = 0;
    track.detection = detection;
    track.score = detection.score;
    track.bestScore = Math.max(track.bestScore, detection.score);
    track.lastSeenMs = timestampMs;
    track.vote(detection);
    track.path.push({ ...boxCentre(track.box), timestampMs });
    if (track.path.length > this.options.maxPathPoints)
      track.path.splice(0, track.path.length - this.options.maxPathPoints);
    track.stationary = this.isStationary(track, timestampMs);
  }

  /**
   * Stationary when the track is at least `stationaryAfterMs` old and every centre within that
   * window lies within `stationaryMaxMove` × the box's size of the current centre.
   */
  private isStationary(track: TrackRecord, nowMs: number): boolean {
    const { stationaryAfterMs, stationaryMaxMove } = this.options;
    if (nowMs - track.firstSeenMs < stationaryAfterMs) return false;
    const since = nowMs - stationaryAfterMs;
    const current = track.path[track.path.length - 1]!;
    const limit = stationaryMaxMove * ((track.box.width + track.box.height) / 2);
    for (let i = track.path.length - 1; i >= 0; i--) {
      const point = track.path[i]!;
      if (Math.hypot(point.x - current.x, point.y - current.y) > limit) return false;
      if (point.timestampMs < since) break;
    }
    return true;
  }
}
