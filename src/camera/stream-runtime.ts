import type { StreamConfig } from '../config/index.js';
import type { IngestFragment } from '../ingest/fragment.js';
import type { StreamStatus, StreamSupervisor } from '../ingest/supervisor.js';
import { LatestGop } from '../live/latest-gop.js';
import { LiveFeed, type LiveEndReason } from '../live/live-feed.js';
import type { StreamRecorder } from '../recording/stream-recorder.js';

/** A part of the pipeline that hears one stream: its fragments, its state changes, or both. */
export interface StreamSubscriber {
  /** Every fragment, in arrival order. */
  fragment?(fragment: IngestFragment): void;
  /** Every state change of the stream's ingest ('connecting', 'online', 'offline', 'error'). */
  status?(status: StreamStatus): void;
}

/**
 * One stream at run time, and the single fan-out point of its media. The supervisor is listened
 * to here and nowhere else; its fragments and state changes go to the subscribers in the order
 * they registered:
 *
 *   1. the recorder (recording/): every fragment to disk; a stream that is not online ends its segment;
 *   2. the GOP cache (live/latest-gop): fragments since the last keyframe, for snapshots;
 *   3. the live feed (live/live-feed): fragments and state to every live viewer;
 *   4. the connectivity log (camera/connectivity): state changes, registered by the CameraManager;
 *   5. analytics (analytics/), when the camera has detection on and this is its analysed stream.
 *
 * The recorder comes first so recording never waits behind a viewer or a decoder.
 */
export class StreamRuntime {
  readonly gop = new LatestGop();
  readonly live = new LiveFeed();
  /** Replaced, never changed in place, so a dispatch in progress is not disturbed by (un)subscribing. */
  private subscribers: readonly StreamSubscriber[] = [];
  private stopListeners: ReadonlyArray<(reason: LiveEndReason) => void> = [];
  /** Ends the feed of another recording source than the copy stream (see recordFrom); null: the copy stream. */
  private recordingSource: (() => void) | null = null;

  constructor(
    readonly name: string,
    readonly config: StreamConfig,
    readonly supervisor: StreamSupervisor,
    readonly recorder: StreamRecorder,
  ) {
    supervisor.on('fragment', (fragment) => {
      for (const subscriber of this.subscribers) subscriber.fragment?.(fragment);
    });
    supervisor.on('status', (status) => {
      for (const subscriber of this.subscribers) subscriber.status?.(status);
    });
    this.subscribe({
      fragment: (fragment) => {
        if (this.recordingSource === null) recorder.handle(fragment);
      },
      status: (status) => {
        if (status.state !== 'online') void recorder.endConnection();
      },
    });
    this.subscribe({
      fragment: (fragment) => this.gop.add(fragment),
      status: (status) => {
        if (status.state !== 'online') this.gop.clear();
      },
    });
    this.subscribe({
      fragment: (fragment) => this.live.push(fragment),
      status: (status) =>
        this.live.status({
          type: 'status',
          state: status.state,
          reason: status.state === 'online' ? null : (status.lastError?.message ?? null),
        }),
    });
  }

  /** Adds a subscriber after those already there; returns the function that removes it. */
  subscribe(subscriber: StreamSubscriber): () => void {
    this.subscribers = [...this.subscribers, subscriber];
    return () => {
      this.subscribers = this.subscribers.filter((s) => s !== subscriber);
    };
  }

  /**
   * Records what `source` hands over instead of the copy stream (a re-encoding with privacy masks
   * burnt in), or the copy stream again with null. While the source gives nothing, nothing is
   * recorded: it never falls back to the copy stream. The open segment is closed at every change
   * of init segment, since a segment file holds one.
   */
  recordFrom(source: ((record: (fragment: IngestFragment) => void) => () => void) | null): void {
    this.recordingSource?.();
    this.recordingSource = null;
    void this.recorder.endConnection();
    if (!source) return;
    let lastInit: IngestFragment['init'] | null = null;
    let ended = false;
    const end = source((fragment) => {
      if (ended) return;
      if (lastInit !== null && fragment.init !== lastInit) void this.recorder.endConnection();
      lastInit = fragment.init;
      this.recorder.handle(fragment);
    });
    this.recordingSource = () => {
      ended = true;
      end();
    };
  }

  /** Called once when the stream stops (its camera was changed or removed); returns the function that unregisters. */
  onStop(listener: (reason: LiveEndReason) => void): () => void {
    this.stopListeners = [...this.stopListeners, listener];
    return () => {
      this.stopListeners = this.stopListeners.filter((l) => l !== listener);
    };
  }

  /** Where a media time of the current connection lies on the recording timeline (null: not recorded). */
  wallTimeOf(connectionId: number, ticks: number): number | null {
    return this.recorder.wallTimeOf(connectionId, ticks);
  }

  start(): void {
    this.supervisor.start();
  }

  async stop(reason: LiveEndReason): Promise<void> {
    this.live.closeAll(reason);
    for (const listener of this.stopListeners) listener(reason);
    this.stopListeners = [];
    this.recordingSource?.();
    this.recordingSource = null;
    await this.supervisor.stop();
    await this.recorder.endConnection();
  }
}
