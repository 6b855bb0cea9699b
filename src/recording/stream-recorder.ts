import { join } from 'node:path';
import type { Logger } from 'pino';
import { newTimelineId, type IngestFragment } from '../ingest/fragment.js';
import type { SegmentIndex } from '../storage/segment-index.js';
import type { Clock } from '../time/clock.js';
import { StreamClock } from '../time/stream-clock.js';
import { segmentPath } from '../storage/layout.js';
import { nodeSegmentFiles, type SegmentFiles } from './segment-files.js';

/**
 * Fragments (about a second each) waiting for a slow disk before the recorder drops new ones: a
 * stalled disk must not grow memory without bound. The drop is counted and reported, and the
 * recording resumes with a new segment at the next keyframe.
 */
export const MAX_QUEUED_FRAGMENTS = 30;
/**
 * Fragments wait in memory at most this long before they are written, and are written together:
 * one write per half second instead of one per frame cut the recorder's thread-pool round trips
 * (and their wake-ups) fivefold at 10 fps. It is also what a crash can lose beyond the fragment in
 * flight.
 */
export const FLUSH_INTERVAL_MS = 500;
/** ...or until this much waits (a high bit rate, a burst after a stall). */
const FLUSH_BYTES = 1024 * 1024;

/**
 * The recorders' timed writes all go out on one tick: a burst of writes wakes the thread pool's
 * threads and the event loop a few times, where a timer per stream woke each once per stream (on
 * a small virtual machine each wake-up costs more than the write it carries).
 */
class FlushTick {
  private readonly due = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;

  /** Runs `flush` at the next tick, at most FLUSH_INTERVAL_MS from now. */
  schedule(flush: () => void): void {
    this.due.add(flush);
    this.timer ??= setTimeout(() => this.run(), FLUSH_INTERVAL_MS);
  }

  private run(): void {
    this.timer = null;
    const due = [...this.due];
    this.due.clear();
    for (const flush of due) flush();
  }
}

const flushTick = new FlushTick();

export interface StreamRecorderOptions {
  cameraId: string;
  stream: string;
  storageRoot: string;
  index: SegmentIndex;
  segmentDurationMs: number;
  /** Dates errors and garbage rows (media is placed by the fragments' arrival times, see StreamClock). */
  clock: Clock;
  log: Logger;
  /** End of the last stored segment of this stream, so new ones never overlap it. */
  lastEndMs: number | null;
  /** Called when a write fails for lack of space, so retention can run at once. */
  onDiskFull?: () => void;
  /** Default: node:fs on the thread pool. */
  files?: SegmentFiles;
}

interface OpenSegment {
  id: number;
  fd: number;
  path: string;
  timelineId: number;
  startTicks: number;
  /** Fixed for every segment but the first of a timeline (see StreamClock). */
  startMs: number;
  firstOfTimeline: boolean;
  /** End, size and counts of what is in the file; what waits in `unflushed` joins them once written. */
  endTicks: number;
  byteLength: number;
  frameCount: number;
  keyframeCount: number;
  unflushed: PendingWrite[];
  unflushedBytes: number;
}

/** Bytes for the end of a segment file, with what they add to it once written. */
interface PendingWrite {
  bytes: Buffer;
  /** The media end after these bytes; null for the init segment. */
  endTicks: number | null;
  frameCount: number;
  keyframeCount: number;
}

export interface RecorderStatus {
  recording: boolean;
  /** `code` names a catalogue error when there is one (EVIDENCE_ONLY_LEFT). */
  lastError: { message: string; atMs: number; code?: string } | null;
  /** Why recording is stopped on purpose (storage holds only this camera's evidence); null: not stopped. */
  stopped: { code: string; message: string; sinceMs: number } | null;
  segmentCount: number;
  droppedFragmentCount: number;
}

/** Open segment as the API shows it: times as of now. */
export interface LiveSegment {
  id: number;
  startTimeMs: number;
  endTimeMs: number;
  path: string;
  byteLength: number;
}

/**
 * Writes one stream's fragments into segment files and keeps the index in step with them.
 *
 * Crash safety, in write order: the index row is inserted 'open' before its file exists;
 * fragments are written at most FLUSH_INTERVAL_MS after they arrive (a process crash keeps
 * everything written, so at most that and the fragment in flight is lost); at a roll the file is
 * fdatasynced before its row becomes 'closed'. At start, recovery (recovery.ts) finishes open rows
 * from their files.
 */
export class StreamRecorder {
  private readonly streamClock: StreamClock;
  private open: OpenSegment | null = null;
  private queue: Promise<void> = Promise.resolve();
  private lastError: RecorderStatus['lastError'] = null;
  private segmentCount = 0;
  private droppedFragmentCount = 0;
  /** Arrival times of the fragments queued and not yet written, oldest first. */
  private readonly unwritten: number[] = [];
  /** Every byte written to segment files since this recorder started (init segments included). */
  private writtenBytes = 0;
  /** Fragments were dropped since the last one written: the open segment must end there. */
  private gapPending = false;
  private stopped: RecorderStatus['stopped'] = null;
  private readonly files: SegmentFiles;
  /** The decode timeline being recorded: an ingest connection, split where the camera's timestamps jump. */
  private timeline: { connectionId: number; timelineId: number; endTicks: number } | null = null;
  private flushScheduled = false;

  constructor(private readonly opts: StreamRecorderOptions) {
    this.streamClock = new StreamClock(opts.lastEndMs);
    this.files = opts.files ?? nodeSegmentFiles;
  }

  /**
   * Stops recording on purpose (with the reason the status shows) or, with null, lets it go on.
   * Stopping ends the open segment; recording resumes with a new segment at the next keyframe.
   */
  setStopped(reason: { code: string; message: string } | null): void {
    if (reason === null) {
      if (this.stopped !== null && this.lastError?.code === this.stopped.code) this.lastError = null;
      this.stopped = null;
      return;
    }
    if (this.stopped?.code === reason.code) return;
    const nowMs = this.opts.clock.nowMs();
    this.stopped = { ...reason, sinceMs: nowMs };
    this.lastError = { message: reason.message, atMs: nowMs, code: reason.code };
    void this.endConnection();
  }

  /** Queues a fragment; fragments are written strictly in arrival order. */
  handle(fragment: IngestFragment): void {
    if (this.stopped !== null) {
      this.gapPending = true;
      return;
    }
    if (this.unwritten.length >= MAX_QUEUED_FRAGMENTS) {
      this.droppedFragmentCount += 1;
      if (!this.gapPending) {
        this.lastError = {
          message: `the disk is too slow: ${MAX_QUEUED_FRAGMENTS} fragments wait to be written; dropping until it catches up`,
          atMs: this.opts.clock.nowMs(),
        };
        this.opts.log.error(
          { camera: this.opts.cameraId, stream: this.opts.stream },
          'disk too slow: dropping fragments',
        );
      }
      this.gapPending = true;
      return;
    }
    this.unwritten.push(fragment.arrivedAtMs);
    void this.enqueue(() => this.write(fragment)).finally(() => this.unwritten.shift());
  }

  /**
   * How far recording is behind the camera: how long the oldest fragment still queued has waited
   * (0 when every fragment received is written). Grows when the disk or the index is slow.
   */
  lagMs(): number {
    const oldest = this.unwritten[0];
    return oldest === undefined ? 0 : Math.max(0, this.opts.clock.nowMs() - oldest);
  }

  /** Totals for /metrics, kept apart from status() so the API's answers keep their shape. */
  counters(): { writtenBytes: number; droppedFragmentCount: number } {
    return { writtenBytes: this.writtenBytes, droppedFragmentCount: this.droppedFragmentCount };
  }

  /** The ingest connection ended (camera lost, ffmpeg restarted): close the open segment. */
  endConnection(): Promise<void> {
    return this.enqueue(() => this.finish());
  }

  status(): RecorderStatus {
    return {
      recording: this.open !== null,
      lastError: this.lastError,
      stopped: this.stopped,
      segmentCount: this.segmentCount,
      droppedFragmentCount: this.droppedFragmentCount,
    };
  }

  /**
   * Where a media time of the current ingest connection lies on the recording timeline, so
   * analytics can date a frame exactly as playback will show it; null for another (or no) connection.
   */
  wallTimeOf(connectionId: number, ticks: number): number | null {
    if (this.timeline?.connectionId !== connectionId) return null;
    return this.streamClock.wallMs(ticks);
  }

  live(): LiveSegment | null {
    const open = this.open;
    // Nothing playable on disk yet (its first frame is being written): not there for playback.
    if (!open || open.frameCount === 0) return null;
    return {
      id: open.id,
      startTimeMs: this.segmentStartMs(open),
      endTimeMs: this.streamClock.wallMs(open.endTicks),
      path: open.path,
      byteLength: open.byteLength,
    };
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    const next = this.queue.then(job).catch((err: unknown) => this.recordError(err));
    this.queue = next;
    return next;
  }

  private recordError(err: unknown): void {
    if (isDiskFull(err)) return this.onWriteError(err);
    const message = err instanceof Error ? err.message : String(err);
    this.lastError = { message, atMs: this.opts.clock.nowMs() };
    this.opts.log.error(
      { camera: this.opts.cameraId, stream: this.opts.stream, err: message },
      'recording failed',
    );
  }

  private async write(fragment: IngestFragment): Promise<void> {
    const video = fragment.init.tracks.find((t) => t.kind === 'video');
    const run = fragment.parsed.tracks.find((t) => t.trackId === video?.trackId);
    const first = run?.samples[0];
    const last = run?.samples.at(-1);
    if (!video || !run || !first || !last) return;
    const startTicks = first.decodeTime;
    const endTicks = last.decodeTime + last.durationTicks;
    const timelineId = this.timelineFor(fragment.connectionId, startTicks, endTicks, video.timescale);
    if (this.open && (this.open.timelineId !== timelineId || this.gapPending)) await this.finish();
    this.gapPending = false;
    this.streamClock.place({
      timelineId,
      startTicks,
      endTicks,
      timescale: video.timescale,
      arrivedAtMs: fragment.arrivedAtMs,
    });
    if (this.movesEarlierStart()) await this.followEarlierStart();
    if (!this.open) {
      // A segment must start with a keyframe to be playable on its own.
      if (!first.isSync) {
        this.droppedFragmentCount += 1;
        return;
      }
      await this.openSegment(fragment, timelineId, this.streamClock.wallMs(startTicks), startTicks, true);
    } else if (
      first.isSync &&
      this.streamClock.wallMs(startTicks) - this.segmentStartMs(this.open) >= this.opts.segmentDurationMs
    ) {
      const closing = this.open;
      const closedStartMs = this.segmentStartMs(closing);
      const boundary = this.streamClock.rollAt(startTicks, closedStartMs);
      this.open = null;
      // A flush that fails has ended the segment itself.
      if (await this.flush(closing)) await this.closeSegment(closing, closedStartMs, boundary.closedEndMs);
      await this.openSegment(fragment, timelineId, boundary.nextStartMs, startTicks, false);
    }
    const open = this.open as OpenSegment | null;
    if (!open) return;
    const appended = this.append(open, {
      bytes: fragment.bytes,
      endTicks,
      frameCount: run.samples.length,
      keyframeCount: run.samples.filter((s) => s.isSync).length,
    });
    if (appended !== true) await appended;
  }

  /**
   * The timeline id to record a fragment under. Cameras (and the test emulator, when a second
   * client joins) sometimes restart their timestamps mid-connection; recording across such a jump
   * as one timeline would place video at the wrong wall time, so a jump starts a new timeline.
   */
  private timelineFor(connectionId: number, startTicks: number, endTicks: number, timescale: number): number {
    const timeline = this.timeline;
    if (!timeline || timeline.connectionId !== connectionId) {
      this.timeline = { connectionId, timelineId: connectionId, endTicks };
      return connectionId;
    }
    const jumpedBack = startTicks < timeline.endTicks - timescale / 2;
    const jumpedAhead = startTicks > timeline.endTicks + 10 * timescale;
    if (jumpedBack || jumpedAhead) {
      timeline.timelineId = newTimelineId();
      this.opts.log.warn(
        {
          camera: this.opts.cameraId,
          stream: this.opts.stream,
          fromTicks: timeline.endTicks,
          toTicks: startTicks,
        },
        'stream timestamps jumped: starting a new segment',
      );
    }
    timeline.endTicks = endTicks;
    return timeline.timelineId;
  }

  /**
   * While the first segment of a timeline is open its start still moves earlier (ffmpeg's probe
   * burst, see StreamClock). The row follows, or recovery after a crash would date the segment
   * that much too late and hide the gap the crash left.
   */
  /** The open segment starts a timeline whose clock now places its start earlier. */
  private movesEarlierStart(): boolean {
    const open = this.open;
    return open !== null && open.firstOfTimeline && this.streamClock.wallMs(open.startTicks) < open.startMs;
  }

  private async followEarlierStart(): Promise<void> {
    const open = this.open as OpenSegment;
    open.startMs = this.streamClock.wallMs(open.startTicks);
    await this.opts.index.moveOpenStart(open.id, open.startMs);
  }

  private segmentStartMs(segment: OpenSegment): number {
    return segment.firstOfTimeline ? this.streamClock.wallMs(segment.startTicks) : segment.startMs;
  }

  private async openSegment(
    fragment: IngestFragment,
    timelineId: number,
    startMs: number,
    startTicks: number,
    firstOfTimeline: boolean,
  ) {
    const video = fragment.init.tracks.find((t) => t.kind === 'video');
    if (!video) return;
    const path = segmentPath(this.opts.cameraId, this.opts.stream, startMs);
    const id = await this.opts.index.insertOpen({
      cameraId: this.opts.cameraId,
      stream: this.opts.stream,
      timelineId,
      startTimeMs: startMs,
      codec: video.codec,
      width: video.width ?? null,
      height: video.height ?? null,
      timescale: video.timescale,
      startTicks,
      path,
    });
    let fd: number;
    try {
      fd = await this.files.create(join(this.opts.storageRoot, path));
    } catch (err) {
      await this.opts.index.deleteRow(id);
      this.onWriteError(err);
      return;
    }
    const segment: OpenSegment = {
      id,
      fd,
      path,
      timelineId,
      startTicks,
      startMs,
      firstOfTimeline,
      endTicks: startTicks,
      byteLength: 0,
      frameCount: 0,
      keyframeCount: 0,
      unflushed: [],
      unflushedBytes: 0,
    };
    this.open = segment;
    if (
      !(await this.append(segment, {
        bytes: fragment.init.bytes,
        endTicks: null,
        frameCount: 0,
        keyframeCount: 0,
      }))
    )
      return;
    this.segmentCount += 1;
  }

  /**
   * Adds bytes at the end of the open segment: written with what waits before them once
   * FLUSH_BYTES wait or FLUSH_INTERVAL_MS have passed. False once the segment has failed.
   */
  private append(segment: OpenSegment, write: PendingWrite): Promise<boolean> | true {
    segment.unflushed.push(write);
    segment.unflushedBytes += write.bytes.length;
    // The first frame goes out with the init at once: until then the file, listed for playback
    // as the open segment, holds nothing playable.
    const first = segment.frameCount === 0 && write.frameCount > 0;
    if (first || segment.unflushedBytes >= FLUSH_BYTES) return this.flush(segment);
    // Not a promise when nothing is written now: most frames, and an await each costs.
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      flushTick.schedule(this.timedFlush);
    }
    return true;
  }

  private readonly timedFlush = (): void => {
    this.flushScheduled = false;
    void this.enqueue(async () => {
      if (this.open) await this.flush(this.open);
    });
  };

  /** Writes what waits for the segment; on failure cuts the file back and ends it. */
  private async flush(segment: OpenSegment): Promise<boolean> {
    const writes = segment.unflushed;
    if (writes.length === 0) return true;
    segment.unflushed = [];
    segment.unflushedBytes = 0;
    try {
      await this.files.write(
        segment.fd,
        writes.map((w) => w.bytes),
        segment.byteLength,
      );
    } catch (err) {
      try {
        await this.files.truncate(segment.fd, segment.byteLength);
      } catch {
        // The scan at the next start cuts a torn tail too; nothing more to do here.
      }
      this.onWriteError(err);
      if (this.open === segment) this.open = null;
      this.closeSegment(
        segment,
        this.segmentStartMs(segment),
        this.streamClock.wallMs(segment.endTicks),
      ).catch((closeErr: unknown) => this.recordError(closeErr));
      return false;
    }
    for (const write of writes) {
      segment.byteLength += write.bytes.length;
      this.writtenBytes += write.bytes.length;
      if (write.endTicks !== null) segment.endTicks = write.endTicks;
      segment.frameCount += write.frameCount;
      segment.keyframeCount += write.keyframeCount;
    }
    return true;
  }

  private onWriteError(err: unknown): void {
    if (isDiskFull(err)) {
      this.lastError = {
        message: 'disk full: recording paused until retention frees space',
        atMs: this.opts.clock.nowMs(),
      };
      this.opts.log.error({ camera: this.opts.cameraId, stream: this.opts.stream }, 'disk full');
      this.opts.onDiskFull?.();
    } else {
      this.recordError(err);
    }
  }

  private async closeSegment(segment: OpenSegment, startTimeMs: number, endTimeMs: number): Promise<void> {
    try {
      await this.files.sync(segment.fd);
    } finally {
      await this.files.close(segment.fd);
    }
    if (segment.byteLength === 0 || segment.frameCount === 0) {
      // Nothing playable was written (the disk filled at once): the file goes with its row.
      await this.opts.index.moveToGarbage([segment.id], 'empty', this.opts.clock.nowMs());
      return;
    }
    await this.opts.index.close(segment.id, {
      startTimeMs,
      endTimeMs: Math.max(endTimeMs, startTimeMs + 1),
      byteLength: segment.byteLength,
      frameCount: segment.frameCount,
      keyframeCount: segment.keyframeCount,
    });
  }

  private async finish(): Promise<void> {
    const open = this.open;
    if (!open) return;
    this.open = null;
    if (!(await this.flush(open))) return;
    const startMs = this.segmentStartMs(open);
    const endMs = this.streamClock.endAt(open.endTicks);
    await this.closeSegment(open, startMs, endMs);
  }
}

/**
 * The file system is full: a segment write failed (ENOSPC), or the index database, on the same
 * file system, could not grow (SQLite's SQLITE_FULL).
 */
function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'SQLITE_FULL';
}
