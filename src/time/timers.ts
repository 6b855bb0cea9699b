import type { ManualClock } from './clock.js';

/** A scheduled callback that has not run yet. */
export interface Timer {
  /** Stops the callback from running; nothing happens if it already ran. */
  cancel(): void;
}

/**
 * One-shot timers, injected (like Clock) so code that waits — retry backoff, watchdogs, kill
 * deadlines — can be driven by a test without waiting.
 */
export interface Timers {
  /** Runs callback once, delayMs from now. */
  after(delayMs: number, callback: () => void): Timer;
}

/** Node's own timers. */
export const systemTimers: Timers = {
  after(delayMs, callback) {
    const handle = setTimeout(callback, delayMs);
    return { cancel: () => clearTimeout(handle) };
  },
};

interface Pending {
  dueMs: number;
  seq: number;
  callback: () => void;
}

/**
 * Timers on a ManualClock, for tests: nothing runs until advance() moves the clock past a
 * timer's due time; then due timers run in time order, each with the clock at its due time.
 */
export class ManualTimers implements Timers {
  private pending: Pending[] = [];
  private seq = 0;

  constructor(private readonly clock: ManualClock) {}

  after(delayMs: number, callback: () => void): Timer {
    const entry: Pending = { dueMs: this.clock.nowMs() + Math.max(0, delayMs), seq: this.seq++, callback };
    this.pending.push(entry);
    return {
      cancel: () => {
        this.pending = this.pending.filter((p) => p !== entry);
      },
    };
  }

  /** How many timers wait to run. */
  get size(): number {
    return this.pending.length;
  }

  /** When the next timer is due, or null when none waits. */
  nextDueMs(): number | null {
    return this.next()?.dueMs ?? null;
  }

  /** Moves the clock by deltaMs, running every timer that falls due on the way (and those they schedule). */
  advance(deltaMs: number): void {
    const endMs = this.clock.nowMs() + deltaMs;
    for (;;) {
      const next = this.next();
      if (!next || next.dueMs > endMs) break;
      this.pending = this.pending.filter((p) => p !== next);
      this.clock.set(Math.max(this.clock.nowMs(), next.dueMs));
      next.callback();
    }
    this.clock.set(endMs);
  }

  private next(): Pending | undefined {
    let best: Pending | undefined;
    for (const p of this.pending) {
      if (!best || p.dueMs < best.dueMs || (p.dueMs === best.dueMs && p.seq < best.seq)) best = p;
    }
    return best;
  }
}
