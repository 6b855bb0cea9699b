import type { Logger } from 'pino';
import type { CameraConfig, StreamConfig } from '../config/index.js';
import { redactUrl } from '../config/index.js';
import type { StreamView } from '../contract/cameras.js';
import type { CameraNetworks } from '../config/url.js';
import { VigilError } from '../errors/catalogue.js';
import type { FfmpegBinary } from '../ingest/ffmpeg-binary.js';
import { planSource } from '../ingest/sources.js';
import { StreamSupervisor } from '../ingest/supervisor.js';
import type { LiveEndReason } from '../live/live-feed.js';
import { StreamRecorder, type LiveSegment } from '../recording/stream-recorder.js';
import type { SegmentFiles } from '../recording/segment-files.js';
import type { SegmentIndex } from '../storage/segment-index.js';
import type { Clock } from '../time/clock.js';
import type { Timers } from '../time/timers.js';
import { ConnectivityLog, type ConnectivityChange } from './connectivity.js';
import { StreamRuntime } from './stream-runtime.js';

export type CameraSource = 'config' | 'api';

/** A stream's recording stopped on purpose, or went on again. */
export interface RecordingStopChange {
  cameraId: string;
  stream: string;
  stopped: boolean;
  code: string | null;
  reason: string | null;
  atMs: number;
}

const EVIDENCE_ONLY_STOP = {
  code: 'EVIDENCE_ONLY_LEFT',
  message:
    "recording stopped: storage is full and all of this camera's recordings are locked evidence; " +
    'unlock evidence, add space or raise storage.maxBytes, and recording resumes by itself',
};

export interface CameraManagerDeps {
  index: SegmentIndex;
  storageRoot: string;
  ffmpeg: FfmpegBinary;
  clock: Clock;
  /** Ingest retry backoff and watchdogs; default Node's timers. */
  timers?: Timers;
  log: Logger;
  segmentDurationMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  stallTimeoutMs: number;
  /** security.cameraNetworks: checked before every connection to a camera; absent: anywhere. */
  cameraNetworks?: CameraNetworks;
  /** How recorders write segment files; default node:fs on the thread pool (tests: a slow disk). */
  segmentFiles?: SegmentFiles;
}

/** One camera at run time: its definition, where that came from, and its running streams. */
export interface CameraRuntime {
  config: CameraConfig;
  source: CameraSource;
  streams: Map<string, StreamRuntime>;
}

/**
 * A module that follows every running camera (analytics): told when a camera's streams have
 * started and before they stop, in the order the consumers registered.
 */
export interface CameraConsumer {
  cameraStarted(camera: CameraRuntime): Promise<void>;
  cameraStopping(cameraId: string): void;
  /** Only the camera's scene (zones, lines, object masks) changed: the camera runs on. */
  sceneChanged?(camera: CameraRuntime): void;
}

/**
 * The cameras Vigil records, changeable at run time without touching the others. Each stream is a
 * StreamRuntime (its supervisor, recorder, snapshot cache and live feed, see stream-runtime.ts);
 * the manager adds the stream's subscriber to the connectivity log and tells the consumers
 * (analytics) about each camera. Modules above register here; the manager knows none of them.
 */
export class CameraManager {
  private readonly cameras = new Map<string, CameraRuntime>();
  private readonly connectivity: ConnectivityLog;
  private readonly consumers: CameraConsumer[] = [];
  private readonly connectivityListeners: Array<(change: ConnectivityChange) => void> = [];
  private readonly diskFullListeners: Array<() => void> = [];
  private readonly changeListeners: Array<(cameraId: string) => void> = [];
  private readonly recordingStopListeners: Array<(change: RecordingStopChange) => void> = [];
  /** Cameras whose recording is stopped because storage holds only their evidence (retention says). */
  private evidenceOnly: ReadonlySet<string> = new Set();

  constructor(private readonly deps: CameraManagerDeps) {
    this.connectivity = new ConnectivityLog(deps.clock, (change) => {
      for (const listener of this.connectivityListeners) listener(change);
    });
  }

  /** Registers a module that follows every camera; cameras added from now on reach it. */
  use(consumer: CameraConsumer): void {
    this.consumers.push(consumer);
  }

  /** Every stream state change, as the connectivity log records it (for /api/ws and MQTT). */
  onConnectivity(listener: (change: ConnectivityChange) => void): void {
    this.connectivityListeners.push(listener);
  }

  /** A recorder found the disk full (retention frees space at once). */
  onDiskFull(listener: () => void): void {
    this.diskFullListeners.push(listener);
  }

  /** A camera was added, changed or removed (its definition is read back with config()). */
  onCameraChanged(listener: (cameraId: string) => void): void {
    this.changeListeners.push(listener);
  }

  /** A camera's recording stopped for lack of space it may take, or resumed (for /api/ws). */
  onRecordingStop(listener: (change: RecordingStopChange) => void): void {
    this.recordingStopListeners.push(listener);
  }

  /**
   * The cameras that must not record now: storage is full and all they could give back is
   * locked evidence (retention decides, see planRetention). The others record (again).
   */
  setEvidenceOnly(cameraIds: ReadonlySet<string>): void {
    const before = this.evidenceOnly;
    this.evidenceOnly = new Set(cameraIds);
    for (const camera of this.cameras.values()) {
      const id = camera.config.id;
      const stopped = cameraIds.has(id);
      if (stopped === before.has(id)) continue;
      for (const stream of camera.streams.values()) {
        stream.recorder.setStopped(stopped ? EVIDENCE_ONLY_STOP : null);
        const change: RecordingStopChange = {
          cameraId: id,
          stream: stream.name,
          stopped,
          code: stopped ? EVIDENCE_ONLY_STOP.code : null,
          reason: stopped ? EVIDENCE_ONLY_STOP.message : null,
          atMs: this.deps.clock.nowMs(),
        };
        for (const listener of this.recordingStopListeners) listener(change);
      }
    }
  }

  /** A camera's definition, undefined for an unknown id. */
  config(id: string): CameraConfig | undefined {
    return this.cameras.get(id)?.config;
  }

  /** The networks cameras may be on (the API checks new camera URLs against them too). */
  get cameraNetworks(): CameraNetworks | undefined {
    return this.deps.cameraNetworks;
  }

  has(id: string): boolean {
    return this.cameras.has(id);
  }

  get(id: string): CameraRuntime {
    const camera = this.cameras.get(id);
    if (!camera) throw new VigilError('CAMERA_NOT_FOUND', `no camera '${id}'; GET /api/cameras lists them`);
    return camera;
  }

  list(): CameraRuntime[] {
    return [...this.cameras.values()].sort((a, b) => a.config.id.localeCompare(b.config.id));
  }

  stream(cameraId: string, stream: string): StreamRuntime {
    const runtime = this.get(cameraId).streams.get(stream);
    if (!runtime) {
      throw new VigilError('STREAM_NOT_FOUND', `camera '${cameraId}' has no '${stream}' stream`);
    }
    return runtime;
  }

  connectivityLog(): readonly ConnectivityChange[] {
    return this.connectivity.entries();
  }

  liveSegment(cameraId: string, stream: string): LiveSegment | null {
    return this.cameras.get(cameraId)?.streams.get(stream)?.recorder.live() ?? null;
  }

  viewStreams(camera: CameraRuntime): StreamView[] {
    return [...camera.streams.values()].map((s) => ({
      name: s.name,
      url: redactUrl(s.config.url),
      user: s.config.user ?? null,
      transport: s.config.transport,
      audio: s.config.audio,
      status: s.supervisor.status(),
      recording: s.recorder.status(),
    }));
  }

  async add(config: CameraConfig, source: CameraSource): Promise<CameraRuntime> {
    if (this.cameras.has(config.id)) {
      throw new VigilError('CAMERA_EXISTS', `a camera '${config.id}' exists already; use PUT to change it`);
    }
    const runtime: CameraRuntime = { config, source, streams: new Map() };
    this.cameras.set(config.id, runtime);
    this.changed(config.id);
    if (!config.enabled) return runtime;
    for (const [name, stream] of Object.entries(config.streams)) {
      if (!stream) continue;
      runtime.streams.set(name, await this.startStream(config.id, name, stream));
    }
    for (const consumer of this.consumers) await consumer.cameraStarted(runtime);
    return runtime;
  }

  async remove(id: string, reason: LiveEndReason = 'removed'): Promise<void> {
    const camera = this.get(id);
    this.cameras.delete(id);
    this.changed(id);
    for (const consumer of this.consumers) consumer.cameraStopping(id);
    await Promise.all([...camera.streams.values()].map((s) => s.stop(reason)));
  }

  async replace(config: CameraConfig, source: CameraSource): Promise<CameraRuntime> {
    const running = this.cameras.get(config.id);
    // Zones and lines are drawn and redrawn while watching: that must not cut recording or live view.
    if (running && running.source === source && sameButScene(running.config, config)) {
      running.config = config;
      this.changed(config.id);
      for (const consumer of this.consumers) consumer.sceneChanged?.(running);
      return running;
    }
    await this.remove(config.id, 'changed');
    return this.add(config, source);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.cameras.keys()].map((id) => this.remove(id)));
  }

  private changed(cameraId: string): void {
    for (const listener of this.changeListeners) listener(cameraId);
  }

  private async startStream(cameraId: string, name: string, config: StreamConfig): Promise<StreamRuntime> {
    const { deps } = this;
    // ffmpeg's own socket timeout is the backstop; the watchdog, which also sees a camera that
    // keeps its socket open but sends nothing usable, fires first.
    const plan = await planSource(config, deps.ffmpeg, deps.stallTimeoutMs + 5000, {
      cameraNetworks: deps.cameraNetworks,
    });
    const log = deps.log.child({ camera: cameraId, stream: name });
    const supervisor = new StreamSupervisor({
      cameraId,
      stream: name,
      plan,
      clock: deps.clock,
      timers: deps.timers,
      log,
      retryInitialMs: deps.retryInitialMs,
      retryMaxMs: deps.retryMaxMs,
      stallTimeoutMs: deps.stallTimeoutMs,
    });
    const recorder = new StreamRecorder({
      cameraId,
      stream: name,
      storageRoot: deps.storageRoot,
      index: deps.index,
      segmentDurationMs: deps.segmentDurationMs,
      clock: deps.clock,
      log,
      lastEndMs: await deps.index.lastEndTimeMs(cameraId, name),
      onDiskFull: () => {
        for (const listener of this.diskFullListeners) listener();
      },
      ...(deps.segmentFiles ? { files: deps.segmentFiles } : {}),
    });
    if (this.evidenceOnly.has(cameraId)) recorder.setStopped(EVIDENCE_ONLY_STOP);
    const runtime = new StreamRuntime(name, config, supervisor, recorder);
    runtime.subscribe(this.connectivity.subscriberFor(cameraId, name, log));
    runtime.start();
    return runtime;
  }
}

/** Whether two definitions of a camera differ in their scene at most. */
function sameButScene(a: CameraConfig, b: CameraConfig): boolean {
  return JSON.stringify({ ...a, scene: null }) === JSON.stringify({ ...b, scene: null });
}
