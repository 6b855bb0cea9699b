import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import {
  BoxSplitter,
  parseFragment,
  parseInitSegment,
  type Fragment,
  type InitSegment,
} from '../media/mp4/index.js';
import type { StreamState } from '../contract/cameras.js';
import type { Clock } from '../time/clock.js';
import { systemTimers, type Timer, type Timers } from '../time/timers.js';
import { parameterSetChange } from './parameter-set-change.js';
import { newTimelineId, type IngestFragment } from './fragment.js';
import { diesWithVigil, isRunning, spawnProcess, terminate, type Spawner } from './process.js';
import { startNativeIngest, type NativeSource, type NativeStarter } from './rtsp/session.js';
import { classifyFfmpegFailure, scrubCredentials, type StreamError } from './stream-errors.js';
import { StreamStats } from './stream-stats.js';
import type { StdinFeeder } from './snapshot-feed.js';
import { cpuPercent, PROC_TICKS_PER_SECOND, readProcessCpuSeconds } from '../media/process-cpu.js';

export interface StreamStatus {
  state: StreamState;
  lastError: (StreamError & { atMs: number }) | null;
  onlineSinceMs: number | null;
  uptimeMs: number;
  reconnectCount: number;
  fps: number | null;
  bitrateKbps: number | null;
  width: number | null;
  height: number | null;
  codec: string | null;
  lastMediaAtMs: number | null;
  /** What pulls the stream now: Vigil's own RTSP client, or an ffmpeg process. */
  ingest: 'native' | 'ffmpeg';
  /** Why `ingest: auto` uses ffmpeg for this stream (its codec, its audio…); null when it does not. */
  ingestFallbackReason: string | null;
}

/** Totals since the supervisor was made, across reconnections (for /metrics; they only grow). */
export interface IngestCounters {
  /** Bytes of the media fragments received (moof + mdat). */
  receivedBytes: number;
  /** Video frames in those fragments. */
  receivedFrames: number;
}

/** What the supervisor runs; the args come from ffmpeg-args.ts and are rebuilt at every start. */
export interface CommandPlan {
  ffmpegPath: string;
  args(attempt: { audioNeedsTranscode: boolean }): string[];
  /** Run before every connection; an error instead of starting ffmpeg (e.g. a camera network check). */
  preflight?(): Promise<StreamError | null>;
  /** Pull the stream with Vigil's own RTSP client instead of ffmpeg (`ingest: native` or `auto`). */
  native?: NativeSource;
  /**
   * `ingest: auto`: when native ingest cannot take the stream (its codec, audio to record) or keeps
   * failing where ffmpeg may not, use ffmpeg for it from then on, saying why.
   */
  fallbackToFfmpeg?: boolean;
  /** What writes ffmpeg's input to its stdin, asked at every start (snapshot cameras); null for none. */
  feed?(): StdinFeeder | null;
  /** Whether ffmpeg encodes the video (MJPEG, snapshots…) rather than copying it; default false. */
  transcodes?(): boolean;
}

/** What ingest costs: the ffmpeg's CPU between two looks, and whether it encodes video. */
export interface IngestCpu {
  /** % of one core since the previous call (null on the first, for native ingest, or once it has gone). */
  cpuPercent: number | null;
  transcoding: boolean;
}

export interface SupervisorOptions {
  cameraId: string;
  stream: string;
  plan: CommandPlan;
  clock: Clock;
  log: Logger;
  retryInitialMs: number;
  retryMaxMs: number;
  stallTimeoutMs: number;
  /** Retry backoff, watchdog and kill deadline; default Node's timers. */
  timers?: Timers;
  /** Starts ffmpeg; default a child process (tests pass a fake). */
  spawn?: Spawner;
  /** Starts native ingest when the plan asks for it; default Vigil's RTSP client. */
  startNative?: NativeStarter;
}

/** The ingest of one connection, ffmpeg or native, as supervision needs it. */
interface RunningIngest {
  /** The ffmpeg's process id; undefined for native ingest. */
  pid?: number | undefined;
  alive(): boolean;
  /** Ends it at once after a failure found here; its close handler then schedules the retry. */
  abort(): void;
  /** Ends it for good (stop()); resolves once it has ended. */
  end(): Promise<void>;
}

/** What a supervisor emits, with each event's arguments. */
export interface SupervisorEvents {
  /** A (re)connection's init segment, with its connection id. */
  init: [init: InitSegment, connectionId: number];
  /** Every complete fragment, in arrival order. */
  fragment: [fragment: IngestFragment];
  /** Every state change. */
  status: [status: StreamStatus];
}

const CONNECT_ALLOWANCE_MS = 10_000;
/**
 * Native attempts in a row that end in a protocol error before going online, after which
 * `ingest: auto` tries ffmpeg: one camera quirk the native client does not know should not keep a
 * camera dark. Network and password failures do not count: ffmpeg would meet them too.
 */
export const NATIVE_FAILURES_BEFORE_FALLBACK = 3;

/** Errors that retrying quickly will not fix: slow down so the camera's log is not flooded. */
const PERSISTENT_ERRORS = new Set([
  'unauthorized',
  'forbidden',
  'not_found',
  'no_video',
  'dns',
  'network_refused',
]);

/**
 * Pulls one stream with a supervised ffmpeg: restarts it with capped exponential backoff,
 * restarts it when media stops for stallTimeoutMs, and reports status in words a user understands.
 * Emits the SupervisorEvents: 'init', 'fragment' and 'status'.
 */
export class StreamSupervisor extends EventEmitter<SupervisorEvents> {
  private running: RunningIngest | null = null;
  private stopped = true;
  private state: StreamState = 'offline';
  private lastError: StreamStatus['lastError'] = null;
  private onlineSinceMs: number | null = null;
  private reconnectCount = 0;
  private attempt = 0;
  private connectionId = 0;
  private audioNeedsTranscode = false;
  private retryTimer: Timer | null = null;
  private watchdog: Timer | null = null;
  private lastMediaAtMs: number | null = null;
  /** Why Vigil itself ended the running ffmpeg, if it did: that reason beats ffmpeg's last words. */
  private abortReason: StreamError | null = null;
  private init: InitSegment | null = null;
  private readonly stats = new StreamStats();
  private readonly totals: IngestCounters = { receivedBytes: 0, receivedFrames: 0 };
  /** Bumped by stop(): a preflight still running from before then must not start ffmpeg. */
  private runEpoch = 0;
  /** The previous CPU reading, per process, for cpu(). */
  private cpuSample: { pid: number; ticks: number; atMs: number } | null = null;
  /** Native ingest is used while the plan has it and `ingest: auto` has not fallen back. */
  private useNative: boolean;
  private fallbackReason: string | null = null;
  private nativeProtocolFailures = 0;

  private readonly timers: Timers;
  private readonly spawn: Spawner;
  private readonly startNative: NativeStarter;

  constructor(private readonly opts: SupervisorOptions) {
    super();
    this.timers = opts.timers ?? systemTimers;
    this.spawn = opts.spawn ?? spawnProcess;
    this.startNative = opts.startNative ?? startNativeIngest;
    this.useNative = opts.plan.native !== undefined;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.launch();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.runEpoch += 1;
    this.retryTimer?.cancel();
    this.retryTimer = null;
    this.clearWatchdog();
    if (this.running) await this.running.end();
    this.setState('offline');
  }

  status(): StreamStatus {
    const now = this.opts.clock.nowMs();
    const video = this.init?.tracks.find((t) => t.kind === 'video');
    const online = this.state === 'online';
    return {
      state: this.state,
      lastError: this.lastError,
      onlineSinceMs: this.onlineSinceMs,
      uptimeMs: online && this.onlineSinceMs !== null ? now - this.onlineSinceMs : 0,
      reconnectCount: this.reconnectCount,
      fps: online ? this.stats.fps() : null,
      bitrateKbps: online ? this.stats.bitrateKbps() : null,
      width: video?.width ?? null,
      height: video?.height ?? null,
      codec: video?.codec ?? null,
      lastMediaAtMs: this.lastMediaAtMs,
      ingest: this.useNative ? 'native' : 'ffmpeg',
      ingestFallbackReason: this.fallbackReason,
    };
  }

  counters(): IngestCounters {
    return { ...this.totals };
  }

  /** The ingest ffmpeg's CPU since the previous call, read from /proc (Linux). */
  async cpu(): Promise<IngestCpu> {
    const transcoding = this.opts.plan.transcodes?.() ?? false;
    const pid = this.running?.pid;
    const seconds = pid === undefined ? null : await readProcessCpuSeconds(pid);
    if (pid === undefined || seconds === null) {
      this.cpuSample = null;
      return { cpuPercent: null, transcoding };
    }
    const sample = { pid, ticks: seconds * PROC_TICKS_PER_SECOND, atMs: this.opts.clock.nowMs() };
    const before = this.cpuSample?.pid === pid ? this.cpuSample : null;
    this.cpuSample = sample;
    return { cpuPercent: before ? cpuPercent(before, sample) : null, transcoding };
  }

  private launch(): void {
    const { preflight } = this.opts.plan;
    if (!preflight) {
      this.connect();
      return;
    }
    const epoch = this.runEpoch;
    this.setState('connecting');
    void preflight().then(
      (error) => {
        if (this.stopped || epoch !== this.runEpoch) return;
        if (error === null) this.connect();
        else {
          this.fail(error);
          this.scheduleRetry(error.kind);
        }
      },
      (err: unknown) => {
        if (this.stopped || epoch !== this.runEpoch) return;
        this.fail({
          kind: 'exited',
          message: `cannot check the camera's address: ${(err as Error).message}`,
        });
        this.scheduleRetry('exited');
      },
    );
  }

  private connect(): void {
    const { native } = this.opts.plan;
    if (native && this.useNative) this.startNativeSession(native);
    else this.spawnFfmpeg();
  }

  private beginConnection(): void {
    this.setState('connecting');
    this.connectionId = newTimelineId();
    this.init = null;
    this.abortReason = null;
    this.stats.reset();
  }

  /** Native ingest hands over init and fragments directly: no pipe, no box splitting, no concat. */
  private startNativeSession(source: NativeSource): void {
    this.beginConnection();
    const session = this.startNative(source);
    let closed = false;
    const ended = new Promise<void>((resolve) => session.once('close', () => resolve()));
    const running: RunningIngest = {
      alive: () => !closed,
      abort: () => session.stop(),
      end: async () => {
        session.stop();
        await ended;
      },
    };
    this.running = running;
    session.on('audio', (encodings) =>
      this.opts.log.warn(
        { camera: this.opts.cameraId, stream: this.opts.stream, audio: encodings },
        'the camera sends audio, which native ingest does not record: set the stream to `ingest: ffmpeg` to record it',
      ),
    );
    let unsupported: string | null = null;
    session.on('unsupported', (reason) => (unsupported = reason));
    session.on('init', (bytes) => this.onInit(bytes));
    // Native ingest builds the moof, so it knows the samples, and its init follows new parameter sets.
    session.on('fragment', (bytes, fragment) => this.emitFragment(bytes, fragment));
    session.on('close', (error) => {
      closed = true;
      if (this.running !== running) return;
      this.running = null;
      this.clearWatchdog();
      if (this.stopped) return;
      const reason = this.abortReason ?? error;
      const fallback = this.fallbackFor(unsupported, reason);
      if (fallback !== null) {
        this.fallBackToFfmpeg(fallback);
        return;
      }
      if (this.abortReason === null && reason) this.fail(reason);
      this.scheduleRetry(reason?.kind ?? 'ended');
    });
    this.armWatchdog();
  }

  /** Why `ingest: auto` should leave native ingest after this close, or null to retry it. */
  private fallbackFor(unsupported: string | null, error: StreamError | null): string | null {
    if (!this.opts.plan.fallbackToFfmpeg) return null;
    if (unsupported !== null) return unsupported;
    if (error?.kind !== 'invalid_data' || this.state === 'online') {
      this.nativeProtocolFailures = 0;
      return null;
    }
    this.nativeProtocolFailures += 1;
    if (this.nativeProtocolFailures < NATIVE_FAILURES_BEFORE_FALLBACK) return null;
    return `native ingest failed ${this.nativeProtocolFailures} times in a row (${error.message})`;
  }

  private fallBackToFfmpeg(reason: string): void {
    this.useNative = false;
    this.fallbackReason = reason;
    this.opts.log.warn(
      { camera: this.opts.cameraId, stream: this.opts.stream, reason },
      'ingest: auto uses ffmpeg for this stream',
    );
    this.emit('status', this.status());
    this.launch();
  }

  private spawnFfmpeg(): void {
    const { plan, log } = this.opts;
    const args = plan.args({ audioNeedsTranscode: this.audioNeedsTranscode });
    const [command, commandArgs] = diesWithVigil(plan.ffmpegPath, args);
    const feeder = plan.feed?.() ?? null;
    this.beginConnection();
    const child = this.spawn(command, commandArgs, feeder ? { stdin: true } : {});
    const feed = feeder && child.stdin ? feeder(child.stdin, (error) => this.fail(error)) : null;
    const running: RunningIngest = {
      pid: child.pid,
      alive: () => isRunning(child),
      abort: () => {
        feed?.stop();
        child.kill('SIGKILL');
      },
      end: () => {
        feed?.stop();
        return terminate(child, this.timers);
      },
    };
    this.running = running;
    const stderrLines: string[] = [];
    const splitter = new BoxSplitter();
    let pendingFtyp: Buffer | null = null;
    let pendingMoof: Buffer | null = null;

    child.stdout.on('data', (chunk: Buffer) => {
      let boxes;
      try {
        boxes = splitter.push(chunk);
      } catch (err) {
        this.fail({
          kind: 'invalid_data',
          message: `unreadable media from ffmpeg: ${(err as Error).message}`,
        });
        return;
      }
      for (const box of boxes) {
        if (box.type === 'ftyp') pendingFtyp = box.bytes;
        else if (box.type === 'moov') this.onInit(Buffer.concat([pendingFtyp ?? Buffer.alloc(0), box.bytes]));
        else if (box.type === 'moof') pendingMoof = box.bytes;
        else if (box.type === 'mdat' && pendingMoof) {
          this.onFragment(Buffer.concat([pendingMoof, box.bytes]), pendingMoof.length);
          pendingMoof = null;
        }
      }
    });
    child.stderr.setEncoding('utf8');
    let partialLine = '';
    child.stderr.on('data', (text: string) => {
      const lines = (partialLine + text).split('\n');
      partialLine = lines.pop() ?? '';
      for (const raw of lines) {
        const line = scrubCredentials(raw.trim());
        if (!line) continue;
        stderrLines.push(line);
        if (stderrLines.length > 50) stderrLines.shift();
        log.debug({ camera: this.opts.cameraId, stream: this.opts.stream, ffmpeg: line }, 'ffmpeg');
      }
    });
    child.on('error', (err) => {
      stderrLines.push(err.message);
    });
    child.on('close', (code) => {
      feed?.stop();
      if (this.running !== running) return;
      this.running = null;
      this.clearWatchdog();
      if (this.stopped) return;
      if (this.abortReason) {
        this.scheduleRetry(this.abortReason.kind);
        return;
      }
      const error = classifyFfmpegFailure(stderrLines, code);
      if (error.kind === 'unsupported_audio') this.audioNeedsTranscode = true;
      this.fail(error);
      this.scheduleRetry(error.kind);
    });
    this.armWatchdog();
  }

  private onInit(bytes: Buffer): void {
    // A second init on one connection (native ingest after new parameter sets): a new timeline
    // downstream, as followParameterSets gives the ffmpeg path.
    if (this.init !== null) {
      this.connectionId = newTimelineId();
      this.opts.log.info(
        { camera: this.opts.cameraId, stream: this.opts.stream },
        'the camera changed its parameter sets: new init segment',
      );
    }
    try {
      this.init = parseInitSegment(bytes);
    } catch (err) {
      this.fail({ kind: 'invalid_data', message: (err as Error).message });
      return;
    }
    if (!this.init.tracks.some((t) => t.kind === 'video')) {
      this.fail({ kind: 'no_video', message: 'no video track: the stream has no video; check the URL' });
      return;
    }
    this.emit('init', this.init, this.connectionId);
  }

  private onFragment(bytes: Buffer, moofByteLength: number): void {
    if (!this.init) return;
    let parsed: Fragment;
    try {
      parsed = parseFragment(bytes.subarray(0, moofByteLength), 0, this.init);
    } catch (err) {
      this.opts.log.warn(
        { camera: this.opts.cameraId, err: (err as Error).message },
        'skipping unreadable fragment',
      );
      return;
    }
    this.followParameterSets(bytes, parsed);
    this.emitFragment(bytes, parsed);
  }

  private emitFragment(bytes: Buffer, parsed: Fragment): void {
    if (!this.init) return;
    const now = this.opts.clock.nowMs();
    this.lastMediaAtMs = now;
    if (this.state !== 'online') {
      this.onlineSinceMs = now;
      this.attempt = 0;
      this.setState('online');
      // From connecting's allowance to the stall timeout. Once online the watchdog looks at
      // lastMediaAtMs when it fires instead of being re-armed for every frame (a timer cancelled
      // and set again per frame cost more than the frame).
      this.armWatchdog();
    }
    const video = this.init.tracks.find((t) => t.kind === 'video');
    const videoRun = parsed.tracks.find((t) => t.trackId === video?.trackId);
    const mediaTicks = videoRun?.samples.reduce((sum, s) => sum + s.durationTicks, 0) ?? 0;
    const frameCount = videoRun?.samples.length ?? 0;
    this.stats.add(now, bytes.length, frameCount, video ? (mediaTicks * 1000) / video.timescale : 0);
    this.totals.receivedBytes += bytes.length;
    this.totals.receivedFrames += frameCount;
    const fragment: IngestFragment = {
      bytes,
      parsed,
      init: this.init,
      connectionId: this.connectionId,
      arrivedAtMs: now,
    };
    this.emit('fragment', fragment);
  }

  /**
   * New in-band parameter sets (a new resolution): a new init segment, and a new connection id so
   * that recording starts a new segment, live viewers re-initialise and analytics restarts its
   * decoder, exactly as after a reconnection.
   */
  private followParameterSets(bytes: Buffer, parsed: Fragment): void {
    if (!this.init) return;
    let change;
    try {
      change = parameterSetChange(this.init, bytes, parsed);
    } catch (err) {
      this.opts.log.warn(
        { camera: this.opts.cameraId, stream: this.opts.stream, err: (err as Error).message },
        'could not follow new parameter sets',
      );
      return;
    }
    if (!change) return;
    this.init = parseInitSegment(change.initBytes);
    this.connectionId = newTimelineId();
    this.opts.log.info(
      { camera: this.opts.cameraId, stream: this.opts.stream, width: change.width, height: change.height },
      'the camera changed its parameter sets: new init segment',
    );
    this.emit('init', this.init, this.connectionId);
  }

  private fail(error: StreamError): void {
    this.lastError = { ...error, atMs: this.opts.clock.nowMs() };
    this.onlineSinceMs = null;
    const persistent = PERSISTENT_ERRORS.has(error.kind);
    this.opts.log.warn(
      { camera: this.opts.cameraId, stream: this.opts.stream, reason: error.message },
      'stream failed',
    );
    this.setState(persistent ? 'error' : 'offline');
    // A failure found while ingest still runs (bad media, no video) ends this attempt.
    if (this.running?.alive()) {
      this.abortReason = error;
      this.running.abort();
    }
  }

  private scheduleRetry(kind: string): void {
    const base = Math.min(this.opts.retryMaxMs, this.opts.retryInitialMs * 2 ** this.attempt);
    const delayMs = PERSISTENT_ERRORS.has(kind) ? Math.max(base, this.opts.retryMaxMs) : base;
    this.attempt += 1;
    this.reconnectCount += 1;
    this.retryTimer = this.timers.after(delayMs, () => {
      this.retryTimer = null;
      if (!this.stopped) this.launch();
    });
  }

  /**
   * Before the first fragment the camera also has to answer RTSP, and ffmpeg waits for a keyframe
   * and probes about 2 s of media: that connection phase gets CONNECT_ALLOWANCE_MS more.
   */
  private armWatchdog(): void {
    this.clearWatchdog();
    const connecting = this.state !== 'online';
    const timeoutMs = this.opts.stallTimeoutMs + (connecting ? CONNECT_ALLOWANCE_MS : 0);
    const armedAtMs = this.opts.clock.nowMs();
    this.watchdog = this.timers.after(timeoutMs, () => this.checkWatchdog(connecting, timeoutMs, armedAtMs));
  }

  /** Fails the stream when no media came for `timeoutMs`; else waits for the rest of that time. */
  private checkWatchdog(connecting: boolean, timeoutMs: number, armedAtMs: number): void {
    if (!this.running) return;
    const quietMs = this.opts.clock.nowMs() - Math.max(armedAtMs, this.lastMediaAtMs ?? armedAtMs);
    if (quietMs < timeoutMs) {
      this.watchdog = this.timers.after(timeoutMs - quietMs, () =>
        this.checkWatchdog(connecting, timeoutMs, armedAtMs),
      );
      return;
    }
    this.fail(
      connecting
        ? {
            kind: 'timeout',
            message: `no media within ${Math.round(timeoutMs / 1000)} s of connecting: retrying`,
          }
        : {
            kind: 'stalled',
            message: `no media for ${Math.round(this.opts.stallTimeoutMs / 1000)} s: restarting the stream`,
          },
    );
  }

  private clearWatchdog(): void {
    this.watchdog?.cancel();
    this.watchdog = null;
  }

  private setState(state: StreamState): void {
    if (state === this.state) return;
    this.state = state;
    this.emit('status', this.status());
  }
}
