import type { FastifyPluginAsync } from 'fastify';
import type { SystemStatus } from '../../system/system-status.js';
import type { PrivacyNoticeResponse, SystemResponse } from '../../contract/system.js';
import { json, type Tag } from '../openapi.js';
import { privacyNoticeResponse, systemResponse } from '../response-schemas.js';

/** The system page: versions, storage, how far back each camera's recordings reach, stream health. */
export function systemRoutes(system: Pick<SystemStatus, 'system' | 'privacyNotice'>): FastifyPluginAsync {
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
    app.get(
      '/api/system/privacy-notice',
      {
        schema: {
          operationId: 'getPrivacyNotice',
          summary: 'The privacy notice for the site',
          description:
            'Who records, why, how long each camera keeps its recording (with the justification where it is ' +
            'longer than the EDPB guidance) and whom to ask: what the printable notice in the UI shows.',
          tags: ['system' satisfies Tag],
          response: { 200: json(privacyNoticeResponse) },
        },
        config: { access: { permission: 'system.view' } },
      },
      (): PrivacyNoticeResponse => system.privacyNotice(),
    );
  };
}
