import type { Logger } from 'pino';
import type { AuditInput } from '../audit/entry.js';
import type { SecretBox } from '../auth/secrets.js';
import type { CameraManager } from '../camera/camera-manager.js';
import type { CameraConfig } from '../config/index.js';
import type { FfmpegBinary } from '../ingest/ffmpeg-binary.js';
import type { Db } from '../storage/db.js';
import type { SegmentIndex } from '../storage/segment-index.js';
import type { Clock } from '../time/clock.js';
import { CameraService } from './camera-service.js';
import { CameraStore } from './camera-store.js';

/**
 * Starts the cameras Vigil is told about: those of the config file first, then those added
 * through the API (stored in the database, passwords sealed). An API-stored camera with the id
 * of a file camera is reported and skipped: the file wins. Returns the service the API changes
 * cameras through.
 */
export async function startCameraAdmin(deps: {
  fileCameras: readonly CameraConfig[];
  cameras: CameraManager;
  db: Db;
  secrets: SecretBox;
  index: SegmentIndex;
  record(input: AuditInput): void;
  ffmpeg: FfmpegBinary;
  clock: Clock;
  log: Logger;
}): Promise<CameraService> {
  const { cameras, log } = deps;
  const store = new CameraStore(deps.db, deps.secrets);
  for (const camera of deps.fileCameras) await cameras.add(camera, 'config');
  for (const camera of await store.list()) {
    if (cameras.has(camera.id)) {
      log.error(
        { camera: camera.id },
        `camera '${camera.id}' is in the config file and was also added through the API; the file's definition is used`,
      );
      continue;
    }
    await cameras.add(camera, 'api');
  }
  return new CameraService({
    cameras,
    store,
    oldestRecordingMs: (cameraId) => deps.index.oldestStartTimeMs(cameraId),
    record: deps.record,
    ffmpeg: deps.ffmpeg,
    clock: deps.clock,
    log,
  });
}
