import { statfs } from 'node:fs/promises';
import type { FastifyPluginAsync } from 'fastify';
import { ffmpegWarning } from '../../ingest/ffmpeg-binary.js';
import type { SystemResponse } from '../../contract/system.js';
import type { ApiContext } from '../context.js';

async function totalBytesOf(path: string): Promise<number | null> {
  try {
    const fs = await statfs(path);
    return fs.blocks * fs.bsize;
  } catch {
    return null;
  }
}

/** The system page: versions, storage, how far back each camera's recordings reach, stream health. */
export function systemRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/api/system',
      { config: { access: { permission: 'system.view' } } },
      async (): Promise<SystemResponse> => {
        const retention = ctx.retention.status();
        const usage = await ctx.index.usageByCamera();
        return {
          version: ctx.version,
          uptimeMs: ctx.clock.nowMs() - ctx.startedAtMs,
          ffmpeg: {
            path: ctx.ffmpeg.path,
            origin: ctx.ffmpeg.origin,
            version: ctx.ffmpeg.version,
            bundled: ctx.ffmpeg.bundled,
            warning: ffmpegWarning(ctx.ffmpeg),
          },
          node: process.version,
          storage: {
            path: ctx.storageRoot,
            usedBytes: retention.usedBytes ?? (await ctx.index.usedBytes()),
            freeBytes: retention.freeBytes,
            shortfallBytes: retention.shortfallBytes,
            totalBytes: await totalBytesOf(ctx.storageRoot),
          },
          cameras: ctx.cameras.list().map((camera) => ({
            id: camera.config.id,
            name: camera.config.name,
            oldestRecordingMs: usage.get(camera.config.id)?.oldestStartTimeMs ?? null,
            usedBytes: usage.get(camera.config.id)?.usedBytes ?? 0,
            streams: [...camera.streams.values()].map((s) => {
              const status = s.supervisor.status();
              return {
                name: s.name,
                state: status.state,
                fps: status.fps,
                bitrateKbps: status.bitrateKbps,
                uptimeMs: status.uptimeMs,
                codec: status.codec,
                width: status.width,
                height: status.height,
                viewerCount: s.live.viewerCount,
              };
            }),
          })),
          connectivity: [...ctx.cameras.connectivityLog()].reverse().slice(0, 200),
        };
      },
    );
  };
}
