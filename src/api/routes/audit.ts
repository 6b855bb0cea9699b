import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { toCsv } from '../../audit/csv.js';
import { actorOf, type AuditEntry } from '../../audit/entry.js';
import { MAX_AUDIT_LIMIT } from '../../audit/log.js';
import { parseTimeParam } from '../../time/parse.js';
import { clientIp, principalOf } from '../auth-hooks.js';
import type { AuthServices } from '../../auth/service.js';
import type { AuditEntryView } from '../../contract/auth.js';
import { errors, json, media, type Tag } from '../openapi.js';
import { auditPage, auditVerification } from '../response-schemas.js';

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

const tags: Tag[] = ['audit'];
const FILTERS =
  '`actor` is a user name, `system` or `anonymous`; `action` an action or its subject (`login` finds ' +
  '`login.success`, `login.failure` …); `target` e.g. `camera:yard`; `from` and `to` are ISO-8601 or epoch ms.';

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
      {
        schema: {
          operationId: 'listAuditEntries',
          summary: 'Read the audit log',
          description: `Newest first, 100 per page by default. ${FILTERS}`,
          tags,
          querystring: auditQuery,
          response: { 200: json(auditPage), ...errors('TIME_INVALID') },
        },
        config: { access: { permission: 'audit.view' } },
      },
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
      {
        schema: {
          operationId: 'exportAuditLog',
          summary: 'Export the audit log as CSV',
          description: `Every matching entry, with the same filters as the JSON pages. The export is itself audited. ${FILTERS}`,
          tags,
          querystring: auditQuery,
          response: {
            200: media('text/csv', 'The entries, a header line first.', {
              binary: false,
              headers: { 'content-disposition': 'attachment; filename="vigil-audit.csv"' },
            }),
            ...errors('TIME_INVALID'),
          },
        },
        config: { access: { permission: 'audit.view' } },
      },
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

    app.get(
      '/api/audit/verify',
      {
        schema: {
          operationId: 'verifyAuditLog',
          summary: 'Check the audit hash chain',
          description:
            'As `vigil audit verify` does; `ok: false` with the problem when the log was tampered with.',
          tags,
          response: { 200: json(auditVerification) },
        },
        config: { access: { permission: 'audit.view' } },
      },
      async () => auth.audit.verify(),
    );
  };
}
