/**
 * Places a stream's media on the wall-clock timeline. Pure: the recorder feeds it fragments with
 * their arrival time (from the monotonic-backed Clock) and asks where segments start and end.
 *
 * Within a timeline (an ingest connection, split where the camera's timestamps jump) wall time =
 * offset + media time, so frames keep the
 * camera's exact spacing. The offset starts at the smallest (arrival - media end) seen: ffmpeg delivers
 * a fragment as soon as it is complete, so the earliest arrival is the best estimate of capture
 * time; a burst of buffered fragments at connect only lowers it. While the first segment of a
 * timeline is open, the offset may still move earlier, because nothing of it is committed. At
 * every later segment boundary the drift measured over the segment (camera clock vs monotonic
 * clock) is corrected when it exceeds `driftToleranceMs`: a late camera clock opens a small gap,
 * an early one shortens the segment being closed. Segments of a stream never overlap: a timeline
 * never starts before the stream's last stored end (which absorbs wall-clock steps between runs).
 */

const RECENT_LAG_COUNT = 10;

export interface PlacedFragment {
  startMs: number;
  endMs: number;
}

export interface SegmentBoundary {
  /** End to store for the segment being closed. */
  closedEndMs: number;
  /** Start of the segment being opened. */
  nextStartMs: number;
}

export class StreamClock {
  private timelineId: number | null = null;
  private timescale = 90_000;
  private timelineStartTicks = 0;
  private offsetMs = 0;
  /** Lags of the latest fragments: their minimum filters network jitter out of the drift. */
  private recentLagsMs: number[] = [];
  private firstSegmentOpen = true;

  constructor(
    private lastEndMs: number | null,
    private readonly driftToleranceMs = 250,
  ) {}

  private mediaMs(ticks: number): number {
    return ((ticks - this.timelineStartTicks) * 1000) / this.timescale;
  }

  /** Where a fragment of the open segment lies; starts a timeline when the timeline id changes. */
  place(f: {
    timelineId: number;
    startTicks: number;
    endTicks: number;
    timescale: number;
    arrivedAtMs: number;
  }): PlacedFragment {
    if (f.timelineId !== this.timelineId) {
      this.timelineId = f.timelineId;
      this.timescale = f.timescale;
      this.timelineStartTicks = f.startTicks;
      this.offsetMs = f.arrivedAtMs - this.mediaMs(f.endTicks);
      this.recentLagsMs = [];
      this.firstSegmentOpen = true;
    }
    const lagMs = f.arrivedAtMs - (this.offsetMs + this.mediaMs(f.endTicks));
    if (this.firstSegmentOpen && lagMs < 0) this.offsetMs += lagMs;
    this.recentLagsMs.push(f.arrivedAtMs - (this.offsetMs + this.mediaMs(f.endTicks)));
    if (this.recentLagsMs.length > RECENT_LAG_COUNT) this.recentLagsMs.shift();
    this.clampToLastEnd();
    return { startMs: this.wallMs(f.startTicks), endMs: this.wallMs(f.endTicks) };
  }

  /** Wall time of a decode time of the current timeline, rounded to ms. */
  wallMs(ticks: number): number {
    return Math.round(this.offsetMs + this.mediaMs(ticks));
  }

  /**
   * Closes the open segment at `boundaryTicks` (its media end = next segment's first sample),
   * applying the drift correction measured while it was open.
   */
  rollAt(boundaryTicks: number, closedStartMs: number): SegmentBoundary {
    const mediaEndMs = this.wallMs(boundaryTicks);
    this.firstSegmentOpen = false;
    const lagMs = this.recentLagsMs.length > 0 ? Math.min(...this.recentLagsMs) : 0;
    let correctionMs = Math.abs(lagMs) > this.driftToleranceMs ? lagMs : 0;
    // Never shorten a segment by more than half its length: that would be a clock fault, not drift.
    correctionMs = Math.max(correctionMs, -(mediaEndMs - closedStartMs) / 2);
    this.offsetMs += correctionMs;
    this.recentLagsMs = this.recentLagsMs.map((l) => l - correctionMs);
    const nextStartMs = this.wallMs(boundaryTicks);
    const closedEndMs = Math.min(mediaEndMs, nextStartMs);
    this.lastEndMs = closedEndMs;
    return { closedEndMs, nextStartMs };
  }

  /** Records the end of a segment closed without a successor (stream ended). */
  endAt(endTicks: number): number {
    const endMs = this.wallMs(endTicks);
    this.lastEndMs = endMs;
    this.timelineId = null;
    return endMs;
  }

  private clampToLastEnd(): void {
    if (this.lastEndMs === null || !this.firstSegmentOpen) return;
    const timelineStartMs = this.offsetMs;
    if (timelineStartMs < this.lastEndMs) this.offsetMs += this.lastEndMs - timelineStartMs;
  }
}
