import type { Detection, Detector, DetectorInput } from '../detector/index.js';

interface Job {
  inputs: readonly DetectorInput[];
  resolve: (detections: Detection[][] | null) => void;
}

/** One detector call, as /metrics observes it. */
export interface InferenceSample {
  cameraId: string;
  /** Crops in the call (the detector runs once per crop). */
  inputCount: number;
  /** Time in the detector, monotonic (performance.now), not the injected clock: a duration, not a date. */
  durationMs: number;
}

/**
 * Shares one detector (one worker thread, ~220 ms per 512×512 inference on one core) between all
 * cameras: at most one inference runs at a time, each camera has at most one job waiting, and a
 * newer job from a camera replaces its waiting one (resolved with null: superseded). Cameras take
 * turns, so a busy scene cannot starve a quiet one, and the delay from frame to detection stays
 * bounded by the number of cameras with activity instead of growing with a queue.
 */
export class DetectorScheduler {
  private readonly waiting = new Map<string, Job>();
  private runningCameraId: string | null = null;
  private closed = false;
  inferenceCount = 0;

  constructor(
    readonly detector: Detector,
    private readonly onInference: (sample: InferenceSample) => void = () => undefined,
  ) {}

  /** Jobs waiting for the detector (at most one a camera), the one running excluded. */
  get queueDepth(): number {
    return this.waiting.size;
  }

  /** Detections per input, or null when a newer request from the same camera took its place. */
  detect(cameraId: string, inputs: readonly DetectorInput[]): Promise<Detection[][] | null> {
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiting.get(cameraId)?.resolve(null);
      // Re-inserting moves the camera to the back of the turn order.
      this.waiting.delete(cameraId);
      this.waiting.set(cameraId, { inputs, resolve });
      void this.runNext();
    });
  }

  /** Whether a job of this camera is waiting or running: the pipeline skips frames meanwhile. */
  busy(cameraId: string): boolean {
    return this.waiting.has(cameraId) || this.runningCameraId === cameraId;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.values()) job.resolve(null);
    this.waiting.clear();
    await this.detector.close();
  }

  private async runNext(): Promise<void> {
    if (this.runningCameraId !== null || this.closed) return;
    const next = this.waiting.entries().next();
    if (next.done) return;
    const [cameraId, job] = next.value;
    this.waiting.delete(cameraId);
    this.runningCameraId = cameraId;
    try {
      const startedMs = performance.now();
      const detections = await this.detector.detect(job.inputs);
      const durationMs = performance.now() - startedMs;
      this.inferenceCount += job.inputs.length;
      job.resolve(detections);
      // After resolving: a listener that throws must not cost the camera its detections.
      this.onInference({ cameraId, inputCount: job.inputs.length, durationMs });
    } catch {
      job.resolve(null);
    } finally {
      this.runningCameraId = null;
      void this.runNext();
    }
  }
}
