/**
 * Which views of media get an audit entry. Every request that delivers video or pictures is
 * audited, but a player fetches a playlist and then one request per part, and a download resumes
 * with Range requests: one entry per request would drown the log. So requests are merged: the
 * first request for a key (who, what, which camera, which stretch of recorded time) writes an
 * entry at once (a crash loses nothing), and repeats of the same key within the window write
 * none. A view that goes on past the window writes another entry, so the log still shows how
 * long someone watched, to within one window.
 *
 * Pure: the caller passes the time; the state is a bounded map.
 */

/** Repeats of one key within this long after its entry are merged into it. */
export const MEDIA_VIEW_WINDOW_MS = 5 * 60_000;

/** Recorded time is bucketed by the hour: watching another hour of a camera is another entry. */
export const MEDIA_VIEW_BUCKET_MS = 3_600_000;

/** Keys remembered at most; beyond it the oldest are forgotten (and would be recorded again). */
const MAX_KEYS = 10_000;

export class MediaViewWindow {
  /** Key → time of the entry that repeats merge into; insertion order is time order. */
  private readonly recordedAtMs = new Map<string, number>();

  constructor(private readonly windowMs = MEDIA_VIEW_WINDOW_MS) {}

  /** Whether a request with this key must write an entry now (and remembers that it did). */
  shouldRecord(key: string, nowMs: number): boolean {
    this.forgetBefore(nowMs - this.windowMs);
    const last = this.recordedAtMs.get(key);
    if (last !== undefined && nowMs - last < this.windowMs && nowMs >= last) return false;
    this.recordedAtMs.delete(key);
    this.recordedAtMs.set(key, nowMs);
    while (this.recordedAtMs.size > MAX_KEYS) {
      this.recordedAtMs.delete(this.recordedAtMs.keys().next().value as string);
    }
    return true;
  }

  private forgetBefore(cutoffMs: number): void {
    for (const [key, atMs] of this.recordedAtMs) {
      if (atMs >= cutoffMs) break;
      this.recordedAtMs.delete(key);
    }
  }
}

/** The start of the hour of recorded time that a media time falls in. */
export function mediaBucketStartMs(timeMs: number): number {
  return Math.floor(timeMs / MEDIA_VIEW_BUCKET_MS) * MEDIA_VIEW_BUCKET_MS;
}
