import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { toCsv } from '../../audit/csv.js';
import { actorOf, type AuditEntry } from '../../audit/entry.js';
import { MAX_AUDIT_LIMIT } from '../../audit/log.js';
import { parseTimeParam } from '../../time/parse.js';
import { clientIp, principalOf } from '../auth-hooks.js';
import type { AuthServices } from '../../auth/service.js';
import type { AuditEntryView } from '../../contract/auth.js';

const auditQuery = Type.Object({
  from: Type.Optional(Type.String({ maxLength: 40 })),
  to: Type.Optional(Type.String({ maxLength: 40 })),
  actor: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  action: Type.Optional(Type.String({ minLength: 1, maxLength: 60 })),
  target: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_AUDIT_LIMIT })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
});
type AuditQueryParams = Static<typeof auditQuery>;

function actorText(entry: AuditEntry): string {
  const actor = entry.actor;
  return actor.kind === 'user' || actor.kind === 'token' ? actor.name : actor.kind;
}

function entryView(entry: AuditEntry): AuditEntryView {
  return {
    seq: entry.seq,
    timeMs: entry.timeMs,
    actor: actorText(entry),
    action: entry.action,
    target: entry.target,
    details: entry.details,
    ip: entry.ip,
  };
}

function filters(query: AuditQueryParams) {
  return {
    ...(query.from !== undefined ? { fromMs: parseTimeParam('from', query.from) } : {}),
    ...(query.to !== undefined ? { toMs: parseTimeParam('to', query.to) } : {}),
    ...(query.actor !== undefined ? { actor: query.actor } : {}),
    ...(query.action !== undefined ? { action: query.action } : {}),
    ...(query.target !== undefined ? { target: query.target } : {}),
  };
}

/** The audit log for auditors and administrators: pages, CSV, and a verification of the chain. */
export function auditRoutes(auth: Pick<AuthServices, 'audit' | 'record'>): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: AuditQueryParams }>(
      '/api/audit',
      { schema: { querystring: auditQuery }, config: { access: { permission: 'audit.view' } } },
      async (request) => {
        const page = await auth.audit.query({
          ...filters(request.query),
          ...(request.query.limit !== undefined ? { limit: request.query.limit } : {}),
          ...(request.query.cursor !== undefined ? { cursor: request.query.cursor } : {}),
        });
        return { entries: page.entries.map(entryView), nextCursor: page.nextCursor };
      },
    );

    app.get<{ Querystring: AuditQueryParams }>(
      '/api/audit.csv',
      { schema: { querystring: auditQuery }, config: { access: { permission: 'audit.view' } } },
      async (request, reply) => {
        const entries: AuditEntry[] = [];
        let cursor: string | undefined;
        do {
          const page = await auth.audit.query({
            ...filters(request.query),
            limit: MAX_AUDIT_LIMIT,
            ...(cursor ? { cursor } : {}),
          });
          entries.push(...page.entries);
          cursor = page.nextCursor ?? undefined;
        } while (cursor && entries.length < 100_000);
        auth.record({
          actor: actorOf(principalOf(request)),
          action: 'audit.export',
          details: { ...request.query, count: entries.length },
          ip: clientIp(request),
        });
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="vigil-audit.csv"')
          .send(toCsv(entries, { header: true }));
      },
    );

    app.get('/api/audit/verify', { config: { access: { permission: 'audit.view' } } }, async () =>
      auth.audit.verify(),
    );
  };
}
