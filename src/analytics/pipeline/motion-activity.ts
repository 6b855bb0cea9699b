/** A stretch of time with motion on a camera, and how much of the picture moved at most. */
export interface MotionPeriod {
  startTimeMs: number;
  endTimeMs: number;
  /** Largest fraction of the (unmasked) picture that changed in one frame, 0..1. */
  maxScore: number;
}

/** Motion stays "on" this long after the last moving frame: people pause; lights flicker. */
export const MOTION_OFF_AFTER_MS = 5000;

/**
 * Debounces per-frame motion into on/off changes (for MQTT and the UI) and periods (for the
 * timeline and retention). Pure: time comes from the frames.
 */
export class MotionActivity {
  private period: MotionPeriod | null = null;
  private lastMotionMs = 0;

  constructor(
    private readonly handlers: {
      onChange: (active: boolean, timeMs: number) => void;
      onPeriod: (period: MotionPeriod) => void;
    },
  ) {}

  update(moving: boolean, timeMs: number, score = 0): void {
    if (moving) {
      this.lastMotionMs = timeMs;
      if (!this.period) {
        this.period = { startTimeMs: timeMs, endTimeMs: timeMs, maxScore: score };
        this.handlers.onChange(true, timeMs);
      }
      this.period.endTimeMs = timeMs;
      this.period.maxScore = Math.max(this.period.maxScore, score);
      return;
    }
    if (this.period && timeMs - this.lastMotionMs >= MOTION_OFF_AFTER_MS) this.end(timeMs);
  }

  /** The stream stopped: a period under way ends at its last moving frame. */
  stop(): void {
    this.end(this.lastMotionMs);
  }

  private end(timeMs: number): void {
    const period = this.period;
    if (!period) return;
    this.period = null;
    this.handlers.onPeriod(period);
    this.handlers.onChange(false, timeMs);
  }
}
