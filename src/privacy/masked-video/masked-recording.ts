import type { Logger } from 'pino';
import type { CameraConsumer, CameraRuntime } from '../../camera/camera-manager.js';
import type { MaskedTranscoderView } from '../../contract/system.js';
import type { IngestFragment } from '../../ingest/fragment.js';
import type { Clock } from '../../time/clock.js';
import { systemTimers, type Timers } from '../../time/timers.js';
import type { MaskPolicy } from '../mask-policy.js';
import { MaskedLiveTranscoder } from './live-transcoder.js';
import { maskKey } from './mask-args.js';

export interface MaskedRecordingDeps {
  policy: MaskPolicy;
  ffmpeg: { path: string; major: number };
  log: Logger;
  clock: Clock;
  timers?: Timers;
}

/**
 * `privacy.maskAtRecording` of a camera's config, read without the schema's type: the field
 * belongs to the privacy section of the config, which may be absent.
 */
export function masksAtRecording(config: object): boolean {
  const privacy = (config as { privacy?: unknown }).privacy;
  return (
    typeof privacy === 'object' &&
    privacy !== null &&
    (privacy as { maskAtRecording?: unknown }).maskAtRecording === true
  );
}

/**
 * "Mask at recording": for a camera that asks for it, every stream is recorded from a transcoder
 * that burns in the camera's permanent masks, instead of the copy stream; what is under them is
 * then never stored. The transcoder keeps the camera's timeline (connection id and decode times),
 * so playback and analytics see one timeline. When it fails, nothing is recorded until it runs
 * again. A change of masks restarts it.
 */
export class MaskedRecording implements CameraConsumer {
  private readonly cameras = new Map<string, CameraRuntime>();
  private readonly transcoders = new Map<string, MaskedLiveTranscoder[]>();
  private readonly stopPolicy: () => void;

  constructor(private readonly deps: MaskedRecordingDeps) {
    this.stopPolicy = deps.policy.onChange((cameraId) => {
      const camera = this.cameras.get(cameraId);
      if (!camera) return;
      this.stopCamera(cameraId);
      this.startCamera(camera);
    });
  }

  cameraStarted(camera: CameraRuntime): Promise<void> {
    this.cameras.set(camera.config.id, camera);
    this.startCamera(camera);
    return Promise.resolve();
  }

  cameraStopping(cameraId: string): void {
    this.stopCamera(cameraId);
    this.cameras.delete(cameraId);
  }

  status(): MaskedTranscoderView[] {
    return [...this.transcoders.values()].flat().map((t) => t.status());
  }

  stop(): void {
    this.stopPolicy();
    for (const cameraId of [...this.transcoders.keys()]) this.stopCamera(cameraId);
  }

  private startCamera(camera: CameraRuntime): void {
    const cameraId = camera.config.id;
    if (!masksAtRecording(camera.config)) return;
    const polygons = this.deps.policy.permanentMasks(cameraId);
    if (polygons.length === 0) return;
    const started: MaskedLiveTranscoder[] = [];
    for (const stream of camera.streams.values()) {
      let record: ((fragment: IngestFragment) => void) | null = null;
      const transcoder = new MaskedLiveTranscoder(cameraId, stream, polygons, maskKey(polygons), {
        ffmpeg: this.deps.ffmpeg,
        log: this.deps.log,
        clock: this.deps.clock,
        timers: this.deps.timers ?? systemTimers,
        keepTimeline: true,
        onFragment: (fragment) => record?.(fragment),
      });
      stream.recordFrom((recordFragment) => {
        record = recordFragment;
        return () => {
          record = null;
        };
      });
      started.push(transcoder);
    }
    this.transcoders.set(cameraId, started);
  }

  private stopCamera(cameraId: string): void {
    const running = this.transcoders.get(cameraId);
    if (!running) return;
    this.transcoders.delete(cameraId);
    for (const transcoder of running) {
      transcoder.stop();
      transcoder.runtime.recordFrom(null);
    }
  }
}
