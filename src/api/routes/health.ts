import type { FastifyPluginAsync } from 'fastify';
import type { ApiContext } from '../context.js';

export function healthRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/health', { config: { access: { signedIn: true } } }, async () => {
      const cameras = ctx.cameras.list();
      const streams = cameras.flatMap((c) => ctx.cameras.viewStreams(c));
      const retention = ctx.retention.status();
      return {
        status: 'ok',
        version: ctx.version,
        uptimeMs: ctx.clock.nowMs() - ctx.startedAtMs,
        ffmpeg: { path: ctx.ffmpeg.path, origin: ctx.ffmpeg.origin, version: ctx.ffmpeg.version },
        storage: {
          path: ctx.storageRoot,
          usedBytes: retention.usedBytes ?? (await ctx.index.usedBytes()),
          freeBytes: retention.freeBytes,
          shortfallBytes: retention.shortfallBytes,
        },
        cameras: {
          total: cameras.length,
          streamsOnline: streams.filter((s) => s.status.state === 'online').length,
          streamsTotal: streams.length,
        },
      };
    });
  };
}
