import type { FastifyPluginAsync } from 'fastify';
import type { SystemStatus } from '../../system/system-status.js';
import type { SystemResponse } from '../../contract/system.js';
import { json, type Tag } from '../openapi.js';
import { systemResponse } from '../response-schemas.js';

/** The system page: versions, storage, how far back each camera's recordings reach, stream health. */
export function systemRoutes(system: Pick<SystemStatus, 'system'>): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/api/system',
      {
        schema: {
          operationId: 'getSystem',
          summary: 'The System page',
          description:
            "Versions, storage, how far back each camera's recordings reach, stream health and the last " +
            'connectivity changes.',
          tags: ['system' satisfies Tag],
          response: { 200: json(systemResponse) },
        },
        config: { access: { permission: 'system.view' } },
      },
      async (): Promise<SystemResponse> => system.system(),
    );
  };
}
