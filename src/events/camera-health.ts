import type { CameraStatusChange } from '../contract/push.js';
import type { CameraHealthState } from '../contract/scene.js';
import type { EventBus } from './bus.js';

/**
 * A stream counts as lost once it has been down this long. Shorter outages are left out on
 * purpose: the supervisor restarts a stalled ffmpeg and a camera renegotiates RTSP within a second
 * or two, and a rule sending "camera lost" for each of those would teach people to ignore it.
 */
export const STREAM_LOST_AFTER_MS = 5_000;

/** A tamper state change from analytics, as the camera health monitor takes it. */
export interface TamperReport {
  state: Extract<CameraHealthState, `tamper-${string}`>;
  detail: string;
  timeMs: number;
}

export interface CameraHealthOptions {
  bus: EventBus;
  lostAfterMs?: number;
  /** Runs `fn` after `ms`; returns the function that cancels it (tests pass their own). */
  schedule?: (fn: () => void, ms: number) => () => void;
}

interface StreamHealth {
  /** The stream went down at this time and has not come back; null: online. */
  downSinceMs: number | null;
  reason: string | null;
  /** A stream-lost fact was sent and no stream-restored yet. */
  reported: boolean;
  cancel: (() => void) | null;
}

const defaultSchedule = (fn: () => void, ms: number): (() => void) => {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return () => clearTimeout(timer);
};

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}

/**
 * Publishes `camera-health` facts on the bus's scene channel: stream-lost and stream-restored from
 * the stream states on the camera channel (debounced: see STREAM_LOST_AFTER_MS), and the tamper
 * states analytics reports. Only streams that were online once can be lost, so a camera that is
 * still connecting at start-up raises nothing (the system page shows why it does not connect).
 */
export class CameraHealthMonitor {
  private readonly streams = new Map<string, StreamHealth>();
  private readonly lostAfterMs: number;
  private readonly schedule: NonNullable<CameraHealthOptions['schedule']>;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly options: CameraHealthOptions) {
    this.lostAfterMs = options.lostAfterMs ?? STREAM_LOST_AFTER_MS;
    this.schedule = options.schedule ?? defaultSchedule;
  }

  start(): void {
    this.unsubscribe ??= this.options.bus.on('camera', (change) => this.streamChanged(change));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const health of this.streams.values()) health.cancel?.();
    this.streams.clear();
  }

  /**
   * The camera was added, changed or removed: its streams start afresh. Stopping them on purpose
   * (removed, disabled, restarted with new settings) is no loss, and a stream counts again once
   * it is online.
   */
  forget(cameraId: string): void {
    for (const [key, health] of this.streams) {
      if (!key.startsWith(`${cameraId}\u0000`)) continue;
      health.cancel?.();
      this.streams.delete(key);
    }
  }

  /** Analytics found the view tampered with, or as usual again. */
  tamper(cameraId: string, report: TamperReport): void {
    this.publish(cameraId, report.state, report.detail, report.timeMs);
  }

  private streamChanged(change: CameraStatusChange): void {
    const key = `${change.cameraId}\u0000${change.stream}`;
    const health = this.streams.get(key);
    if (change.state === 'online') {
      if (!health) {
        this.streams.set(key, { downSinceMs: null, reason: null, reported: false, cancel: null });
        return;
      }
      health.cancel?.();
      health.cancel = null;
      if (health.reported && health.downSinceMs !== null) {
        const downMs = change.timeMs - health.downSinceMs;
        this.publish(
          change.cameraId,
          'stream-restored',
          `stream ${change.stream} is back after ${seconds(downMs)}`,
          change.timeMs,
        );
      }
      health.downSinceMs = null;
      health.reported = false;
      return;
    }
    // Never online yet, or already down (connecting → error → connecting): nothing new.
    if (!health || health.downSinceMs !== null) {
      if (health) health.reason = change.reason ?? health.reason;
      return;
    }
    health.downSinceMs = change.timeMs;
    health.reason = change.reason;
    health.cancel = this.schedule(() => this.lost(change.cameraId, change.stream, health), this.lostAfterMs);
  }

  private lost(cameraId: string, stream: string, health: StreamHealth): void {
    health.cancel = null;
    if (health.downSinceMs === null) return;
    health.reported = true;
    const why = health.reason ? `: ${health.reason}` : '';
    this.publish(
      cameraId,
      'stream-lost',
      `stream ${stream} is down${why} (for ${seconds(this.lostAfterMs)} or more)`,
      health.downSinceMs,
    );
  }

  private publish(cameraId: string, state: CameraHealthState, detail: string, timeMs: number): void {
    this.options.bus.publish('scene', { type: 'camera-health', cameraId, state, detail, timeMs });
  }
}
