import type { FastifyPluginAsync } from 'fastify';
import type { AddressAllowList } from '../../auth/permissions.js';
import type { VigilMetrics } from '../../metrics/vigil-metrics.js';
import { media, type Tag } from '../openapi.js';

export interface MetricsRouteDeps {
  metrics: Pick<VigilMetrics, 'render'>;
  /** server.metricsAllowFrom: addresses that may scrape without a token. */
  allowFrom: AddressAllowList;
}

/**
 * Prometheus metrics in the text exposition format, at the path Prometheus scrapes by default.
 * A token with `metrics.view` (admins hold it; a token can be scoped to just it), or a
 * connection from an address in server.metricsAllowFrom.
 */
export function metricsRoutes(deps: MetricsRouteDeps): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/metrics',
      {
        schema: {
          operationId: 'getMetrics',
          summary: 'Prometheus metrics',
          description:
            'Streams, recording, storage, analytics, events and HTTP timings in the Prometheus text format ' +
            '(version 0.0.4); every metric is listed in docs/ref/api.md.',
          tags: ['metrics' satisfies Tag],
          response: {
            200: media('text/plain', 'The metrics, as `text/plain; version=0.0.4; charset=utf-8`.', {
              binary: false,
            }),
          },
        },
        config: { access: { permission: 'metrics.view', orFrom: deps.allowFrom } },
      },
      async (_request, reply) => {
        const { contentType, text } = await deps.metrics.render();
        return reply.type(contentType).header('cache-control', 'no-store').send(text);
      },
    );
  };
}
