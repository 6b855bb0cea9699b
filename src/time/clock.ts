import { performance } from 'node:perf_hooks';

/** Milliseconds since the Unix epoch; injected so time-dependent code is testable. */
export interface Clock {
  nowMs(): number;
}

/**
 * Wall time read once at start and advanced by the monotonic clock afterwards, so a wall-clock
 * step (NTP correction, a user changing the date) cannot reorder or overlap recordings while
 * Vigil runs. CLOCK_MONOTONIC is slewed by NTP, so it tracks true time closely; the step is
 * absorbed at the next start, where the recorder clamps new segments after the last stored one.
 */
export class MonotonicWallClock implements Clock {
  private readonly wallAtStartMs: number;
  private readonly monoAtStartMs: number;

  constructor(wallNowMs: number = Date.now(), monoNowMs: number = performance.now()) {
    this.wallAtStartMs = wallNowMs;
    this.monoAtStartMs = monoNowMs;
  }

  nowMs(): number {
    return Math.round(this.wallAtStartMs + (performance.now() - this.monoAtStartMs));
  }

  /** How far the system's wall clock has moved away from this clock (positive: wall is ahead). */
  wallOffsetMs(): number {
    return Date.now() - this.nowMs();
  }
}

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private currentMs: number) {}

  nowMs(): number {
    return this.currentMs;
  }

  advance(deltaMs: number): void {
    this.currentMs += deltaMs;
  }

  set(ms: number): void {
    this.currentMs = ms;
  }
}
