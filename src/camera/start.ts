import type { Logger } from 'pino';
import type { VigilConfig } from '../config/index.js';
import { CameraNetworks } from '../config/url.js';
import type { FfmpegBinary } from '../ingest/ffmpeg-binary.js';
import type { SegmentIndex } from '../storage/segment-index.js';
import type { SegmentFiles } from '../recording/segment-files.js';
import type { Clock } from '../time/clock.js';
import { CameraManager } from './camera-manager.js';

export interface CamerasModule {
  manager: CameraManager;
  /** Stops every camera: their streams end, recorders close their segments. */
  stop(): Promise<void>;
}

/**
 * Starts the camera runtime with no camera yet: the modules that follow cameras (retention,
 * events, analytics) register on it first, then camera-admin adds the configured cameras.
 */
export function startCameras(
  config: Pick<VigilConfig, 'ingest' | 'recording' | 'security'>,
  deps: {
    index: SegmentIndex;
    storageRoot: string;
    ffmpeg: FfmpegBinary;
    clock: Clock;
    log: Logger;
    segmentFiles?: SegmentFiles;
  },
): CamerasModule {
  const manager = new CameraManager({
    ...deps,
    segmentDurationMs: config.recording.segmentDurationMs,
    retryInitialMs: config.ingest.retryInitialMs,
    retryMaxMs: config.ingest.retryMaxMs,
    stallTimeoutMs: config.ingest.stallTimeoutMs,
    ...(config.security?.cameraNetworks
      ? { cameraNetworks: new CameraNetworks(config.security.cameraNetworks) }
      : {}),
  });
  return { manager, stop: () => manager.stopAll() };
}
