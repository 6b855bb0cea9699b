import { statfs } from 'node:fs/promises';
import type {
  HealthResponse,
  MaskedTranscoderView,
  PrivacyNoticeResponse,
  SystemResponse,
} from '../contract/system.js';
import type { RetentionConfig, SiteConfig } from '../config/index.js';
import { privacyNotice } from './privacy-notice.js';
import type { CameraManager } from '../camera/camera-manager.js';
import { ffmpegWarning, type FfmpegBinary } from '../ingest/ffmpeg-binary.js';
import type { RetentionRunner } from '../storage/retention.js';
import type { SegmentIndex } from '../storage/segment-index.js';
import type { Clock } from '../time/clock.js';

/** Connectivity changes the system page shows, newest first. */
const CONNECTIVITY_SHOWN = 200;

export interface SystemStatusDeps {
  version: string;
  startedAtMs: number;
  clock: Clock;
  ffmpeg: FfmpegBinary;
  storageRoot: string;
  cameras: Pick<CameraManager, 'list' | 'viewStreams' | 'connectivityLog'>;
  retention: Pick<RetentionRunner, 'status'>;
  index: Pick<SegmentIndex, 'usedBytes' | 'usageByCamera'>;
  site: SiteConfig;
  retentionConfig: RetentionConfig;
  /** Live transcoders of masked video running now, with their CPU (privacy/masked-video). */
  maskedTranscoders?: () => MaskedTranscoderView[];
}

async function totalBytesOf(path: string): Promise<number | null> {
  try {
    const fs = await statfs(path);
    return fs.blocks * fs.bsize;
  } catch {
    return null;
  }
}

/**
 * How Vigil is doing, read from the running parts: the short health summary (monitoring) and the
 * system page (versions, storage, how far back each camera's recordings reach, stream health).
 */
export class SystemStatus {
  constructor(private readonly deps: SystemStatusDeps) {}

  async health(): Promise<HealthResponse> {
    const { deps } = this;
    const cameras = deps.cameras.list();
    const streams = cameras.flatMap((c) => deps.cameras.viewStreams(c));
    return {
      status: 'ok',
      version: deps.version,
      uptimeMs: this.uptimeMs(),
      ffmpeg: { path: deps.ffmpeg.path, origin: deps.ffmpeg.origin, version: deps.ffmpeg.version },
      storage: await this.storage(),
      cameras: {
        total: cameras.length,
        streamsOnline: streams.filter((s) => s.status.state === 'online').length,
        streamsTotal: streams.length,
      },
    };
  }

  privacyNotice(): PrivacyNoticeResponse {
    const { deps } = this;
    return privacyNotice(
      deps.site,
      deps.retentionConfig,
      deps.cameras.list().map((camera) => camera.config),
      deps.clock.nowMs(),
    );
  }

  async system(): Promise<SystemResponse> {
    const { deps } = this;
    const usage = await deps.index.usageByCamera();
    const masked = deps.maskedTranscoders?.() ?? [];
    const maskedViewers = (cameraId: string, stream: string) =>
      masked
        .filter((t) => t.cameraId === cameraId && t.stream === stream)
        .reduce((sum, t) => sum + t.viewerCount, 0);
    return {
      version: deps.version,
      uptimeMs: this.uptimeMs(),
      ffmpeg: {
        path: deps.ffmpeg.path,
        origin: deps.ffmpeg.origin,
        version: deps.ffmpeg.version,
        bundled: deps.ffmpeg.bundled,
        warning: ffmpegWarning(deps.ffmpeg),
      },
      node: process.version,
      storage: { ...(await this.storage()), totalBytes: await totalBytesOf(deps.storageRoot) },
      cameras: await Promise.all(
        deps.cameras.list().map(async (camera) => ({
          id: camera.config.id,
          name: camera.config.name,
          oldestRecordingMs: usage.get(camera.config.id)?.oldestStartTimeMs ?? null,
          usedBytes: usage.get(camera.config.id)?.usedBytes ?? 0,
          streams: await Promise.all(
            [...camera.streams.values()].map(async (s) => {
              const status = s.supervisor.status();
              const cpu = await s.supervisor.cpu();
              return {
                name: s.name,
                state: status.state,
                fps: status.fps,
                bitrateKbps: status.bitrateKbps,
                uptimeMs: status.uptimeMs,
                codec: status.codec,
                width: status.width,
                height: status.height,
                // Masked viewers watch the stream too, through a transcoder.
                viewerCount: s.live.viewerCount + maskedViewers(camera.config.id, s.name),
                cpuPercent: cpu.cpuPercent,
                transcoding: cpu.transcoding,
                ingest: status.ingest,
                ingestFallbackReason: status.ingestFallbackReason,
              };
            }),
          ),
        })),
      ),
      connectivity: [...deps.cameras.connectivityLog()].reverse().slice(0, CONNECTIVITY_SHOWN),
      maskedTranscoders: masked,
    };
  }

  private uptimeMs(): number {
    return this.deps.clock.nowMs() - this.deps.startedAtMs;
  }

  private async storage(): Promise<HealthResponse['storage']> {
    const retention = this.deps.retention.status();
    return {
      path: this.deps.storageRoot,
      usedBytes: retention.usedBytes ?? (await this.deps.index.usedBytes()),
      freeBytes: retention.freeBytes,
      shortfallBytes: retention.shortfallBytes,
    };
  }
}
