import type { Logger } from 'pino';
import type { Principal } from '../../auth/permissions.js';
import type { StreamRuntime } from '../../camera/stream-runtime.js';
import type { LiveFeed, LiveViewer } from '../../live/live-feed.js';
import type { Clock } from '../../time/clock.js';
import { systemTimers, type Timer, type Timers } from '../../time/timers.js';
import type { MaskPolicy } from '../mask-policy.js';
import { maskKey } from './mask-args.js';
import { MaskedLiveTranscoder, type TranscoderStatus } from './live-transcoder.js';

/** How long a transcoder outlives its last viewer: a page reload or a camera switch back costs no restart. */
export const IDLE_STOP_MS = 5000;

export interface MaskedLiveDeps {
  policy: MaskPolicy;
  ffmpeg: { path: string; major: number };
  log: Logger;
  clock: Clock;
  timers?: Timers;
  idleStopMs?: number;
}

/** One live viewer, and the feed that serves them now: the copy stream's or a transcoder's. */
interface Watch {
  principal: Principal;
  cameraId: string;
  runtime: StreamRuntime;
  viewer: LiveViewer;
  feed: LiveFeed;
  transcoder: MaskedLiveTranscoder | null;
}

interface Entry {
  transcoder: MaskedLiveTranscoder;
  idleTimer: Timer | null;
  stopListening: () => void;
}

/**
 * Live view with privacy masks: every live viewer goes through here. A viewer with nothing to
 * hide from them watches the copy stream (runtime.live); the others watch the transcoder of their
 * (stream, polygon set), started for the first of them, shared by all, stopped IDLE_STOP_MS after
 * the last leaves. When a camera's masks or lifts change, every viewer of it is weighed again and
 * moved to the feed that now fits; the player sees a new init, as after a camera reconnection.
 */
export class MaskedLive {
  private readonly watches = new Set<Watch>();
  private readonly transcoders = new Map<string, Entry>();
  private readonly stopPolicy: () => void;
  private readonly timers: Timers;

  constructor(private readonly deps: MaskedLiveDeps) {
    this.timers = deps.timers ?? systemTimers;
    this.stopPolicy = deps.policy.onChange((cameraId) => this.reconsider(cameraId));
  }

  /** Starts sending the stream to the viewer, masked as the principal must see it; returns the function that stops. */
  watch(principal: Principal, cameraId: string, runtime: StreamRuntime, viewer: LiveViewer): () => void {
    const watch: Watch = { principal, cameraId, runtime, viewer, feed: runtime.live, transcoder: null };
    this.watches.add(watch);
    this.attach(watch);
    return () => {
      if (!this.watches.delete(watch)) return;
      this.detach(watch);
    };
  }

  /** The transcoders running now, for the system page and the metrics. */
  status(): TranscoderStatus[] {
    return [...this.transcoders.values()].map((e) => e.transcoder.status());
  }

  /** The transcoder that serves this stream with these masks, if one runs (tests and benchmarks). */
  transcoderFor(cameraId: string, stream: string, key: string): MaskedLiveTranscoder | null {
    return this.transcoders.get(entryKey(cameraId, stream, key))?.transcoder ?? null;
  }

  stop(): void {
    this.stopPolicy();
    for (const key of [...this.transcoders.keys()]) this.stopTranscoder(key);
    this.watches.clear();
  }

  private attach(watch: Watch): void {
    const polygons = this.deps.policy.masksFor(watch.principal, watch.cameraId);
    if (polygons.length === 0) {
      watch.feed = watch.runtime.live;
      watch.transcoder = null;
    } else {
      const transcoder = this.transcoderOf(watch, polygons);
      watch.feed = transcoder.feed;
      watch.transcoder = transcoder;
    }
    watch.feed.add(watch.viewer);
  }

  private detach(watch: Watch): void {
    watch.feed.remove(watch.viewer);
    const transcoder = watch.transcoder;
    if (transcoder && transcoder.feed.viewerCount === 0) this.scheduleIdleStop(transcoder);
  }

  private transcoderOf(watch: Watch, polygons: ReturnType<MaskPolicy['masksFor']>): MaskedLiveTranscoder {
    const mask = maskKey(polygons);
    const key = entryKey(watch.cameraId, watch.runtime.name, mask);
    const existing = this.transcoders.get(key);
    if (existing && existing.transcoder.runtime === watch.runtime) {
      existing.idleTimer?.cancel();
      existing.idleTimer = null;
      return existing.transcoder;
    }
    if (existing) this.stopTranscoder(key);
    const transcoder = new MaskedLiveTranscoder(watch.cameraId, watch.runtime, polygons, mask, {
      ffmpeg: this.deps.ffmpeg,
      log: this.deps.log,
      clock: this.deps.clock,
      timers: this.timers,
    });
    // The stream is replaced or removed: its masked viewers are told as the copy stream's are.
    const stopListening = watch.runtime.onStop((reason) => {
      if (this.transcoders.get(key)?.transcoder !== transcoder) return;
      transcoder.feed.closeAll(reason);
      for (const w of this.watches) if (w.transcoder === transcoder) this.watches.delete(w);
      this.stopTranscoder(key);
    });
    this.transcoders.set(key, { transcoder, idleTimer: null, stopListening });
    return transcoder;
  }

  private scheduleIdleStop(transcoder: MaskedLiveTranscoder): void {
    const key = entryKey(transcoder.cameraId, transcoder.runtime.name, transcoder.maskKey);
    const entry = this.transcoders.get(key);
    if (entry?.transcoder !== transcoder) return;
    entry.idleTimer?.cancel();
    entry.idleTimer = this.timers.after(this.deps.idleStopMs ?? IDLE_STOP_MS, () => {
      if (transcoder.feed.viewerCount === 0) this.stopTranscoder(key);
    });
  }

  private stopTranscoder(key: string): void {
    const entry = this.transcoders.get(key);
    if (!entry) return;
    this.transcoders.delete(key);
    entry.idleTimer?.cancel();
    entry.stopListening();
    entry.transcoder.stop();
  }

  /** The camera's masks or lifts changed: each of its viewers goes to the feed that fits now. */
  private reconsider(cameraId: string): void {
    for (const watch of this.watches) {
      if (watch.cameraId !== cameraId) continue;
      const polygons = this.deps.policy.masksFor(watch.principal, cameraId);
      const wanted = polygons.length === 0 ? null : maskKey(polygons);
      const current = watch.transcoder?.maskKey ?? null;
      if (wanted === current) continue;
      this.detach(watch);
      this.attach(watch);
    }
  }
}

function entryKey(cameraId: string, stream: string, mask: string): string {
  return `${cameraId}\u0000${stream}\u0000${mask}`;
}
