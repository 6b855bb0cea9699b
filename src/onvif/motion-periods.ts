import type { CameraDeviceEvent } from '../contract/onvif.js';

/** A motion period as the timeline stores it (storage's MotionPeriodRow). */
export interface CameraMotionPeriod {
  startTimeMs: number;
  endTimeMs: number;
  /** Cameras say motion or not, no amount: a camera's period counts as full motion. */
  maxScore: number;
}

/**
 * Turns a camera's motion events (start, end) into motion periods for the timeline: a period
 * is complete when motion ends. Repeated starts keep the first; an end without a start is dropped.
 */
export class CameraMotionPeriods {
  private readonly openSinceMs = new Map<string, number>();

  observe(event: CameraDeviceEvent): CameraMotionPeriod | null {
    if (event.kind !== 'motion') return null;
    const since = this.openSinceMs.get(event.cameraId);
    if (event.active) {
      if (since === undefined) this.openSinceMs.set(event.cameraId, event.timeMs);
      return null;
    }
    if (since === undefined) return null;
    this.openSinceMs.delete(event.cameraId);
    return { startTimeMs: since, endTimeMs: Math.max(since, event.timeMs), maxScore: 1 };
  }
}
