import type { FastifyPluginAsync } from 'fastify';
import type { SystemStatus } from '../../system/system-status.js';
import type { SystemResponse } from '../../contract/system.js';

/** The system page: versions, storage, how far back each camera's recordings reach, stream health. */
export function systemRoutes(system: Pick<SystemStatus, 'system'>): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/api/system',
      { config: { access: { permission: 'system.view' } } },
      async (): Promise<SystemResponse> => system.system(),
    );
  };
}
