import type { FastifyRequest } from 'fastify';
import { actorOf, auditTarget, type AuditAction } from '../audit/entry.js';
import { mediaBucketStartMs } from '../audit/media-views.js';
import { clientIp } from './auth-hooks.js';
import type { AuthServices } from '../auth/service.js';

type MediaAction = Extract<
  AuditAction,
  | 'playback.view'
  | 'export.create'
  | 'live.start'
  | 'live.stop'
  | 'snapshot.view'
  | 'talk.start'
  | 'talk.stop'
>;

/**
 * What the request showed or handed out. `merge` names what makes two requests the same view
 * (the hour of recorded time, the export's range, the event); without it every request is an
 * entry of its own (a live connection's start and stop).
 */
export interface MediaView {
  action: MediaAction;
  cameraId: string;
  details: Record<string, unknown>;
  merge?: string;
}

/** The audit log as media routes append to it: every view, or merged repeats. */
export type MediaAudit = Pick<AuthServices, 'record' | 'recordMerged'>;

/**
 * Who watched or took away which video or picture: every route that delivers media calls this,
 * whatever the spelling of its URL or its Range header, for sessions and API tokens alike.
 */
export function auditMedia(audit: MediaAudit, request: FastifyRequest, view: MediaView): void {
  const principal = request.principal;
  // Routes that deliver media require a principal; the hook has refused anonymous callers.
  if (principal === null) return;
  const actor = actorOf(principal);
  const input = {
    actor,
    action: view.action,
    target: auditTarget.camera(view.cameraId),
    details: view.details,
    ip: clientIp(request),
  };
  if (view.merge === undefined) {
    audit.record(input);
    return;
  }
  const who =
    actor.kind === 'token' ? `token:${actor.tokenId}` : `${actor.kind}:${'name' in actor ? actor.name : ''}`;
  audit.recordMerged(input, [who, view.action, view.cameraId, view.merge].join('|'));
}

/** The merge key and details of a view of recorded time around `timeMs` (a playlist, a part). */
export function playbackView(cameraId: string, stream: string, timeMs: number, via: string): MediaView {
  const hourStartMs = mediaBucketStartMs(timeMs);
  return {
    action: 'playback.view',
    cameraId,
    details: { stream, fromMs: hourStartMs, toMs: hourStartMs + 3_600_000, via },
    merge: `${stream}|${hourStartMs}`,
  };
}
