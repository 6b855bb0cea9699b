import type { FastifyPluginAsync } from 'fastify';
import type { SystemStatus } from '../../system/system-status.js';
import type { HealthResponse } from '../../contract/system.js';
import { json, type Tag } from '../openapi.js';
import { healthResponse } from '../response-schemas.js';

/** A short summary for monitoring: up, version, storage, how many streams are online. */
export function healthRoutes(system: Pick<SystemStatus, 'health'>): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/api/health',
      {
        schema: {
          operationId: 'getHealth',
          summary: 'Health summary',
          description: 'Up, version, storage, how many streams are online: for monitoring.',
          tags: ['system' satisfies Tag],
          response: { 200: json(healthResponse) },
        },
        config: { access: { signedIn: true } },
      },
      async (): Promise<HealthResponse> => system.health(),
    );
  };
}
