import type { Logger } from 'pino';
import type { StreamRuntime } from '../../camera/stream-runtime.js';
import type { MaskedTranscoderView } from '../../contract/system.js';
import type { IngestFragment } from '../../ingest/fragment.js';
import { newTimelineId } from '../../ingest/fragment.js';
import { LiveFeed } from '../../live/live-feed.js';
import type { Clock } from '../../time/clock.js';
import type { Timer, Timers } from '../../time/timers.js';
import { maskOverlayPng, type MaskPolygon } from '../mask-overlay.js';
import { parseFragment, type Fragment, type InitSegment, type TrackKind } from '../../media/mp4/index.js';
import { decodeTimeShifts, firstPresentationTicks, shiftDecodeTimes } from './decode-times.js';
import { Fmp4Reader } from './fmp4-reader.js';
import { maskedLiveArgs } from './mask-args.js';
import { cpuPercent, readProcessCpuSeconds } from '../../media/process-cpu.js';
import { keepStderrTail, spawnMasking, type MaskingProcess } from './spawn-masked.js';

/** Fragments queued for ffmpeg beyond this are dropped up to the next keyframe: viewers see a jump. */
const MAX_PENDING_BYTES = 4 * 1024 * 1024;
/** Fragments kept while the mask picture is drawn, before ffmpeg runs (a GOP at 10 fps and 100 ms fragments). */
const MAX_QUEUED_FRAGMENTS = 100;
/** How often the CPU of the running ffmpeg is read. */
const CPU_SAMPLE_MS = 2000;
/** Backoff after a failed transcoder, doubled per failure in a row, up to the maximum. */
const RETRY_FIRST_MS = 2000;
const RETRY_MAX_MS = 30_000;

export interface TranscoderDeps {
  ffmpeg: { path: string; major: number };
  log: Logger;
  clock: Clock;
  timers: Timers;
  /**
   * For recording: the output keeps the ingest connection's id and decode times (the recording's
   * timescale, tfdt moved back onto the camera's timeline), so recorded segments and the times
   * analytics reads for the copy stream stay on one timeline. Live view starts each run afresh.
   */
  keepTimeline?: boolean;
  /** Every masked fragment, besides the transcoder's own live feed (the recorder's feed). */
  onFragment?: (fragment: IngestFragment) => void;
}

/** What the system page and the metrics show of one running transcoder. */
export type TranscoderStatus = MaskedTranscoderView;

interface Run {
  masking: MaskingProcess | null;
  /** The ingest connection whose fragments this run encodes. */
  inputConnectionId: number;
  /** The connection id viewers see: new per run, so the player starts afresh with its init. */
  outputConnectionId: number;
  /** Fragments waiting for ffmpeg to start (the mask picture is drawn first). */
  queue: IngestFragment[];
  pendingBytes: number;
  waitingForKeyframe: boolean;
  cpuBefore: { ticks: number; atMs: number } | null;
  /** keepTimeline: the first presentation time of each kind of track fed in, and the shifts found. */
  inputStart: Map<TrackKind, number>;
  shifts: Map<number, number>;
  cpuTimer: Timer | null;
  /** CPU seconds of this run at the last reading. */
  cpuSeconds: number;
}

/**
 * One ffmpeg that burns one set of privacy masks into one stream, for every viewer who must not
 * see under them: fed the fragments the camera's copy stream is made of (no second camera
 * connection), its output cut back into fragments and fanned out by a LiveFeed of its own, so
 * masked viewers get the same WebSocket protocol as everyone else. A failure is told to the
 * viewers as an 'error' status and retried at a later keyframe; the unmasked stream is never
 * sent in its place.
 */
export class MaskedLiveTranscoder {
  readonly feed = new LiveFeed();
  private run: Run | null = null;
  private stopped = false;
  private failuresInRow = 0;
  private retryAtMs = 0;
  private lastError: string | null = null;
  private pastCpuSeconds = 0;
  private lastCpuPercent: number | null = null;
  private readonly unsubscribe: () => void;
  private readonly pictures = new Map<string, Promise<Buffer>>();

  constructor(
    readonly cameraId: string,
    readonly runtime: StreamRuntime,
    readonly polygons: readonly MaskPolygon[],
    readonly maskKey: string,
    private readonly deps: TranscoderDeps,
  ) {
    this.unsubscribe = runtime.subscribe({
      fragment: (fragment) => this.push(fragment),
      status: (status) =>
        this.feed.status({
          type: 'status',
          state: status.state,
          reason: status.state === 'online' ? null : (status.lastError?.message ?? null),
        }),
    });
  }

  /** The pid of the ffmpeg running now, if any: tests and benchmarks watch it. */
  get pid(): number | null {
    return this.run?.masking?.child.pid ?? null;
  }

  status(): TranscoderStatus {
    return {
      cameraId: this.cameraId,
      stream: this.runtime.name,
      maskKey: this.maskKey,
      viewerCount: this.feed.viewerCount,
      cpuPercent: this.run?.masking ? this.lastCpuPercent : null,
      cpuSeconds: this.pastCpuSeconds + (this.run?.cpuSeconds ?? 0),
      running: (this.run?.masking ?? null) !== null,
      recording: this.deps.keepTimeline === true,
      lastError: this.lastError,
    };
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    this.endRun();
  }

  private push(fragment: IngestFragment): void {
    if (this.stopped) return;
    const keyframe = fragment.parsed.startsWithKeyframe;
    if (this.run?.inputConnectionId !== fragment.connectionId) {
      if (!keyframe || this.deps.clock.nowMs() < this.retryAtMs) return;
      this.startRun(fragment);
      return;
    }
    const run = this.run;
    if (run.masking === null) {
      if (run.queue.length < MAX_QUEUED_FRAGMENTS) run.queue.push(fragment);
      return;
    }
    if (run.waitingForKeyframe) {
      if (!keyframe) return;
      run.waitingForKeyframe = false;
    }
    if (run.pendingBytes > MAX_PENDING_BYTES) {
      run.waitingForKeyframe = true;
      return;
    }
    this.feedFragment(run, fragment);
  }

  private feedFragment(run: Run, fragment: IngestFragment): void {
    if (this.deps.keepTimeline) {
      for (const [kind, ticks] of firstPresentationTicks(fragment.init, [fragment.parsed])) {
        if (!run.inputStart.has(kind)) run.inputStart.set(kind, ticks);
      }
    }
    this.write(run, fragment.bytes);
  }

  /**
   * Moves an output fragment onto the camera's timeline: each track by the difference between the
   * first time fed in and the first time that came out (ffmpeg's muxer starts at 0).
   */
  private onTimeline(run: Run, event: { bytes: Buffer; parsed: Fragment; init: InitSegment }): Fragment {
    const outputStart = firstPresentationTicks(event.init, [event.parsed]);
    for (const [trackId, shift] of decodeTimeShifts(run.inputStart, event.init, outputStart)) {
      if (!run.shifts.has(trackId)) run.shifts.set(trackId, shift);
    }
    shiftDecodeTimes(event.bytes, [event.parsed], run.shifts);
    return parseFragment(event.bytes.subarray(0, event.parsed.moofByteLength), 0, event.init);
  }

  private startRun(first: IngestFragment): void {
    this.endRun();
    const run: Run = {
      masking: null,
      inputConnectionId: first.connectionId,
      outputConnectionId: newTimelineId(),
      queue: [first],
      pendingBytes: 0,
      waitingForKeyframe: false,
      cpuBefore: null,
      inputStart: new Map(),
      shifts: new Map(),
      cpuTimer: null,
      cpuSeconds: 0,
    };
    this.run = run;
    const video = first.init.tracks.find((t) => t.kind === 'video');
    if (!video?.width || !video.height) {
      this.fail(run, 'the stream has no video size to fit the masks to');
      return;
    }
    this.picture(video.width, video.height).then(
      (png) => {
        if (this.run !== run) return;
        this.spawn(run, png, first);
      },
      (err: Error) => this.fail(run, `cannot draw the mask picture: ${err.message}`),
    );
  }

  private picture(width: number, height: number): Promise<Buffer> {
    const size = `${width}x${height}`;
    let png = this.pictures.get(size);
    if (!png) {
      png = maskOverlayPng(this.polygons, width, height);
      this.pictures.set(size, png);
    }
    return png;
  }

  private spawn(run: Run, png: Buffer, first: IngestFragment): void {
    const sourceKbps = this.runtime.supervisor.status().bitrateKbps ?? null;
    const video = first.init.tracks.find((t) => t.kind === 'video');
    const args = maskedLiveArgs({
      sourceKbps,
      ffmpegMajor: this.deps.ffmpeg.major,
      ...(this.deps.keepTimeline && video ? { timescale: video.timescale } : {}),
    });
    const masking = spawnMasking(this.deps.ffmpeg.path, args, png);
    run.masking = masking;
    const why = keepStderrTail(masking.stderr);
    const reader = new Fmp4Reader();
    masking.stdout.on('data', (chunk: Buffer) => {
      if (this.run !== run) return;
      let events;
      try {
        events = reader.push(chunk);
      } catch (err) {
        this.fail(run, `unreadable output: ${(err as Error).message}`);
        return;
      }
      for (const event of events) {
        if (event.kind !== 'fragment') continue;
        this.recovered();
        const parsed = this.deps.keepTimeline ? this.onTimeline(run, event) : event.parsed;
        const fragment: IngestFragment = {
          bytes: event.bytes,
          parsed,
          init: event.init,
          connectionId: this.deps.keepTimeline ? run.inputConnectionId : run.outputConnectionId,
          arrivedAtMs: this.deps.clock.nowMs(),
        };
        this.feed.push(fragment);
        this.deps.onFragment?.(fragment);
      }
    });
    masking.stdin.on('drain', () => {
      run.pendingBytes = 0;
    });
    masking.child.on('error', (err) => this.fail(run, err.message));
    masking.child.on('close', (code) => {
      if (this.run === run && !this.stopped) this.fail(run, why() || `ffmpeg exited with code ${code}`);
    });
    this.write(run, first.init.bytes);
    for (const fragment of run.queue) this.feedFragment(run, fragment);
    run.queue = [];
    this.sampleCpu(run);
  }

  private write(run: Run, bytes: Buffer): void {
    if (run.masking && !run.masking.stdin.write(bytes)) run.pendingBytes += bytes.length;
  }

  private sampleCpu(run: Run): void {
    const pid = run.masking?.child.pid;
    if (pid === undefined || this.run !== run) return;
    void readProcessCpuSeconds(pid).then((seconds) => {
      if (seconds === null || this.run !== run) return;
      const now = { ticks: seconds * 100, atMs: this.deps.clock.nowMs() };
      if (run.cpuBefore) this.lastCpuPercent = cpuPercent(run.cpuBefore, now);
      run.cpuBefore = now;
      run.cpuSeconds = seconds;
    });
    run.cpuTimer = this.deps.timers.after(CPU_SAMPLE_MS, () => this.sampleCpu(run));
  }

  private recovered(): void {
    if (this.lastError === null) return;
    this.lastError = null;
    this.failuresInRow = 0;
    this.feed.status({ type: 'status', state: 'online', reason: null });
  }

  private fail(run: Run, reason: string): void {
    if (this.run !== run) return;
    const message = `the video with privacy masks could not be made: ${reason}`;
    this.deps.log.warn(
      { camera: this.cameraId, stream: this.runtime.name, reason },
      'masked live view failed',
    );
    this.lastError = message;
    this.failuresInRow += 1;
    this.retryAtMs =
      this.deps.clock.nowMs() + Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (this.failuresInRow - 1));
    this.endRun();
    this.feed.status({ type: 'status', state: 'error', reason: message });
  }

  private endRun(): void {
    const run = this.run;
    this.run = null;
    if (!run) return;
    run.cpuTimer?.cancel();
    this.pastCpuSeconds += run.cpuSeconds;
    this.lastCpuPercent = null;
    if (run.masking) {
      run.masking.stdin.end();
      run.masking.child.kill('SIGKILL');
    }
  }
}
