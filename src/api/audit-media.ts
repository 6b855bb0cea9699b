import type { FastifyRequest } from 'fastify';
import { actorOf, auditTarget, type AuditAction } from '../audit/entry.js';
import { clientIp } from './auth-hooks.js';
import type { ApiContext } from './context.js';

/** Who watched or took away which video: every view and export of recordings is in the audit log. */
export function auditMedia(
  ctx: ApiContext,
  request: FastifyRequest,
  action: Extract<AuditAction, 'playback.view' | 'export.create' | 'live.start' | 'live.stop'>,
  cameraId: string,
  details: Record<string, unknown>,
): void {
  if (request.principal === null) return;
  ctx.auth.record({
    actor: actorOf(request.principal),
    action,
    target: auditTarget.camera(cameraId),
    details,
    ip: clientIp(request),
  });
}
