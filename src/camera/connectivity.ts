import type { Logger } from 'pino';
import type { StreamStatus } from '../ingest/supervisor.js';
import type { Clock } from '../time/clock.js';
import type { StreamSubscriber } from './stream-runtime.js';

export interface ConnectivityChange {
  atMs: number;
  cameraId: string;
  stream: string;
  state: StreamStatus['state'];
  reason: string | null;
}

/** How many changes the log keeps (GET /api/system shows the newest 200). */
const CAPACITY = 500;

/**
 * Every stream state change of every camera, newest last: a stream subscriber that keeps the
 * latest changes for the system page, logs each one and hands it on (the event bus: /api/ws, MQTT).
 */
export class ConnectivityLog {
  private readonly changes: ConnectivityChange[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly onChange?: (change: ConnectivityChange) => void,
  ) {}

  entries(): readonly ConnectivityChange[] {
    return this.changes;
  }

  /** The subscriber that records one stream's changes. */
  subscriberFor(cameraId: string, stream: string, log: Logger): StreamSubscriber {
    return {
      status: (status) => {
        const change: ConnectivityChange = {
          atMs: this.clock.nowMs(),
          cameraId,
          stream,
          state: status.state,
          reason: status.state === 'online' ? null : (status.lastError?.message ?? null),
        };
        this.changes.push(change);
        if (this.changes.length > CAPACITY) this.changes.shift();
        this.onChange?.(change);
        log.info({ state: status.state, reason: status.lastError?.message }, 'stream state');
      },
    };
  }
}
