import type { Logger } from 'pino';
import type { Clock } from '../time/clock.js';
import type { EventStore } from './store.js';

/**
 * Deletes events (rows, snapshot files, holds) that ended more than retention.eventsDays ago, on
 * the same cadence as recording retention. Their holds lapse at the same moment, so the
 * recordings of their clips become ordinary continuous recording again.
 */
export class EventRetention {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private deletedCount = 0;

  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runNow(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  get deletedEventCount(): number {
    return this.deletedCount;
  }

  /** One pass; concurrent calls share it. Resolves with how many events went (0 on failure). */
  runNow(): Promise<number> {
    this.running ??= this.store
      .deleteExpired(this.clock.nowMs())
      .then((deleted) => {
        if (deleted > 0) this.log.info({ eventCount: deleted }, 'event retention deleted events');
        this.deletedCount += deleted;
        return deleted;
      })
      .catch((err: unknown) => {
        this.log.error({ err }, 'event retention pass failed');
        return 0;
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }
}
