import type { FastifyPluginAsync } from 'fastify';
import type { SystemStatus } from '../../system/system-status.js';
import type { HealthResponse } from '../../contract/system.js';

/** A short summary for monitoring: up, version, storage, how many streams are online. */
export function healthRoutes(system: Pick<SystemStatus, 'health'>): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/health', { config: { access: { signedIn: true } } }, async (): Promise<HealthResponse> =>
      system.health(),
    );
  };
}
