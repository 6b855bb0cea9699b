import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { AlertsPage, AlertsReviewed, AlertView } from '../../contract/alerts.js';
import type { RulesList, RuleView } from '../../contract/rules.js';
import { assertCan, cameraFilter, type Principal } from '../../auth/permissions.js';
import { normaliseRule } from '../../config/index.js';
import { RULE_ID_PATTERN, RuleSchema } from '../../config/schema.js';
import { VigilError } from '../../errors/catalogue.js';
import { maskStill } from '../../privacy/mask-overlay.js';
import type { MaskPolicy } from '../../privacy/mask-policy.js';
import { alertView } from '../../rules/alert-store.js';
import type { RuleService } from '../../rules/rule-service.js';
import { parseTimeParam } from '../../time/parse.js';
import { principalOf, requesterOf } from '../auth-hooks.js';
import { errors, json, media, noBody, type Tag } from '../openapi.js';
import {
  alertsPage,
  alertsReviewed,
  alertView as alertViewSchema,
  ruleView as ruleViewSchema,
  rulesList,
} from '../response-schemas.js';
import { cameraIdParams } from '../schemas.js';

const ruleTags: Tag[] = ['rules'];
const alertTags: Tag[] = ['alerts'];

const ruleParams = Type.Object({
  id: Type.String({ pattern: RULE_ID_PATTERN, description: 'The rule id.' }),
});
type RuleParams = Static<typeof ruleParams>;
type RuleBody = Static<typeof RuleSchema>;

const alertParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The alert id.' }),
});
type AlertParams = Static<typeof alertParams>;

const booleanText = Type.Union([Type.Literal('true'), Type.Literal('false')]);

const alertsQuery = Type.Object({
  camera: Type.Optional(cameraIdParams.properties.id),
  rule: Type.Optional(Type.String({ pattern: RULE_ID_PATTERN, description: 'Only alerts of this rule.' })),
  reviewed: Type.Optional({
    ...booleanText,
    description: '`false`: only alerts the caller has not reviewed.',
  }),
  from: Type.Optional(
    Type.String({ maxLength: 40, description: 'Alerts at or after; ISO-8601 or epoch ms.' }),
  ),
  to: Type.Optional(Type.String({ maxLength: 40, description: 'Alerts before; ISO-8601 or epoch ms.' })),
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 500, description: 'Alerts per page (default 50).' }),
  ),
  cursor: Type.Optional(
    Type.String({ minLength: 1, maxLength: 100, description: 'The `nextCursor` of the previous page.' }),
  ),
});
type AlertsQuery = Static<typeof alertsQuery>;

const reviewBody = Type.Object(
  {
    ids: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), {
        maxItems: 500,
        description: 'The alerts to mark; absent: every alert the caller may see (of `camera`, when given).',
      }),
    ),
    camera: Type.Optional(cameraIdParams.properties.id),
  },
  { additionalProperties: false },
);
type ReviewBody = Static<typeof reviewBody>;

/** What the rule and alert routes use. */
export interface RuleRouteDeps {
  rules: RuleService;
  masks: Pick<MaskPolicy, 'masksFor'>;
  clock: { nowMs(): number };
}

/** The caller's cameras for events.view as a list for a query; undefined: all. */
function grantedCameras(principal: Principal): string[] | undefined {
  const granted = cameraFilter(principal, 'events.view');
  return granted === null ? undefined : [...granted];
}

/** Rules touching no camera the caller may see are left out (rules for all cameras never are). */
function visibleRule(rule: RuleView, granted: readonly string[] | undefined): boolean {
  return granted === undefined || rule.cameras === 'all' || rule.cameras.some((id) => granted.includes(id));
}

export function ruleRoutes(ctx: RuleRouteDeps): FastifyPluginAsync {
  const { rules } = ctx;

  async function visibleAlert(request: FastifyRequest<{ Params: AlertParams }>) {
    const alert = await rules.alerts.require(request.params.id);
    assertCan(principalOf(request), 'events.view', alert.cameraId);
    return alert;
  }

  return async (app) => {
    app.get(
      '/api/rules',
      {
        schema: {
          operationId: 'listRules',
          summary: 'List rules',
          description:
            "The config file's rules (read-only) and those made through the API, with their counters. A caller " +
            'with camera grants sees rules for all cameras and those naming a camera granted to them.',
          tags: ruleTags,
          response: { 200: json(rulesList) },
        },
        config: { access: { permission: 'events.view', camera: 'filtered' } },
      },
      async (request): Promise<RulesList> => {
        const granted = grantedCameras(principalOf(request));
        return { rules: rules.list().filter((rule) => visibleRule(rule, granted)) };
      },
    );

    app.post<{ Body: RuleBody }>(
      '/api/rules',
      {
        schema: {
          operationId: 'createRule',
          summary: 'Add a rule',
          description: 'Stored in the database and in force at once (docs/ref/rules.md).',
          tags: ruleTags,
          body: RuleSchema,
          response: { 201: json(ruleViewSchema, 'The new rule.'), ...errors('RULE_EXISTS', 'RULE_INVALID') },
        },
        config: { access: { permission: 'rules.manage' } },
      },
      async (request, reply) => {
        const created = await rules.create(normaliseRule(request.body), {
          ...requesterOf(request),
          name: principalOf(request).name,
        });
        return reply.code(201).send(created);
      },
    );

    app.put<{ Params: RuleParams; Body: RuleBody }>(
      '/api/rules/:id',
      {
        schema: {
          operationId: 'updateRule',
          summary: 'Change a rule',
          description:
            'Replaces a rule made through the API (the body may leave out `id`); its counters start again. ' +
            "The config file's rules are read-only.",
          tags: ruleTags,
          params: ruleParams,
          body: RuleSchema,
          response: {
            200: json(ruleViewSchema, 'The rule.'),
            ...errors('RULE_NOT_FOUND', 'RULE_FROM_CONFIG', 'RULE_INVALID'),
          },
        },
        config: { access: { permission: 'rules.manage' } },
        // The id is in the path; a different one in the body is refused below.
        preValidation: async (request: FastifyRequest<{ Params: RuleParams }>) => {
          const body: unknown = request.body;
          if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
            request.body = { id: request.params.id, ...body };
          }
        },
      },
      async (request): Promise<RuleView> => {
        if (request.body.id !== request.params.id) {
          throw new VigilError('REQUEST_INVALID', `the body's id '${request.body.id}' is not the path's`, {
            parameter: 'id',
          });
        }
        return rules.update(normaliseRule(request.body), requesterOf(request));
      },
    );

    app.delete<{ Params: RuleParams }>(
      '/api/rules/:id',
      {
        schema: {
          operationId: 'deleteRule',
          summary: 'Remove a rule',
          description: 'Its alerts stay.',
          tags: ruleTags,
          params: ruleParams,
          response: { 204: noBody('Removed.'), ...errors('RULE_NOT_FOUND', 'RULE_FROM_CONFIG') },
        },
        config: { access: { permission: 'rules.manage' } },
      },
      async (request, reply) => {
        await rules.delete(request.params.id, requesterOf(request));
        return reply.code(204).send();
      },
    );

    app.get<{ Querystring: AlertsQuery }>(
      '/api/alerts',
      {
        schema: {
          operationId: 'listAlerts',
          summary: 'List alerts',
          description:
            'Newest first (by time, then id), on the cameras the caller may see events of, with whether the ' +
            'caller reviewed each. Pages are stable while new alerts arrive.',
          tags: alertTags,
          querystring: alertsQuery,
          response: { 200: json(alertsPage), ...errors('TIME_INVALID', 'RANGE_INVALID') },
        },
        config: { access: { permission: 'events.view', camera: { query: 'camera' } } },
      },
      async (request): Promise<AlertsPage> => {
        const principal = principalOf(request);
        const { camera, rule, reviewed, limit, cursor, from, to } = request.query;
        const fromMs = from === undefined ? undefined : parseTimeParam('from', from);
        const toMs = to === undefined ? undefined : parseTimeParam('to', to);
        if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) {
          throw new VigilError('RANGE_INVALID', `'to' (${toMs}) must be after 'from' (${fromMs})`);
        }
        const granted = grantedCameras(principal);
        const page = await rules.alerts.query({
          userId: principal.userId,
          ...(granted !== undefined ? { cameraIds: granted } : {}),
          ...(camera !== undefined ? { cameraId: camera } : {}),
          ...(rule !== undefined ? { ruleId: rule } : {}),
          ...(reviewed !== undefined ? { reviewed: reviewed === 'true' } : {}),
          ...(fromMs !== undefined ? { fromMs } : {}),
          ...(toMs !== undefined ? { toMs } : {}),
          ...(limit !== undefined ? { limit } : {}),
          ...(cursor !== undefined ? { cursor } : {}),
        });
        return {
          alerts: page.alerts.map((alert) => alertView(alert, alert.reviewed)),
          nextCursor: page.nextCursor,
          unreviewedCount: await rules.alerts.unreviewedCount(principal.userId, granted),
        };
      },
    );

    app.get<{ Params: AlertParams }>(
      '/api/alerts/:id/snapshot.jpg',
      {
        schema: {
          operationId: 'getAlertSnapshot',
          summary: "An alert's own snapshot",
          description:
            'The camera picture taken when an alert without an event fired (crowding, camera health), with ' +
            "the privacy masks the caller must not see through blacked out. Alerts about an event use the event's.",
          tags: alertTags,
          params: alertParams,
          response: {
            200: media('image/jpeg', 'The snapshot.'),
            ...errors('ALERT_NOT_FOUND', 'SNAPSHOT_NOT_FOUND'),
          },
        },
        config: { access: { permission: 'events.view', camera: 'in-handler' } },
      },
      async (request, reply) => {
        const alert = await visibleAlert(request);
        const jpeg = await rules.readSnapshot(alert);
        if (jpeg === null)
          throw new VigilError('SNAPSHOT_NOT_FOUND', `alert ${alert.id} has no snapshot of its own`);
        const masks = ctx.masks.masksFor(principalOf(request), alert.cameraId);
        return reply
          .type('image/jpeg')
          .header('cache-control', 'no-cache')
          .send(await maskStill(jpeg, masks));
      },
    );

    app.post<{ Params: AlertParams }>(
      '/api/alerts/:id/review',
      {
        schema: {
          operationId: 'reviewAlert',
          summary: 'Mark an alert reviewed',
          description: 'For the caller only: every user has their own reviewed state.',
          tags: alertTags,
          params: alertParams,
          response: { 200: json(alertViewSchema, 'The alert.'), ...errors('ALERT_NOT_FOUND') },
        },
        config: { access: { permission: 'events.view', camera: 'in-handler' } },
      },
      async (request): Promise<AlertView> => {
        const alert = await visibleAlert(request);
        await rules.alerts.review(principalOf(request).userId, ctx.clock.nowMs(), { ids: [alert.id] });
        return alertView(alert, true);
      },
    );

    app.post<{ Body: ReviewBody }>(
      '/api/alerts/review',
      {
        schema: {
          operationId: 'reviewAlerts',
          summary: 'Mark many alerts reviewed',
          description:
            'The listed alerts, or without `ids` all of them ("mark all reviewed"), on the cameras the caller ' +
            'may see events of; for the caller only. Alerts of other cameras are left as they are.',
          tags: alertTags,
          body: reviewBody,
          response: { 200: json(alertsReviewed) },
        },
        config: { access: { permission: 'events.view', camera: 'filtered' } },
      },
      async (request): Promise<AlertsReviewed> => {
        const principal = principalOf(request);
        const { ids, camera } = request.body;
        if (camera !== undefined) assertCan(principal, 'events.view', camera);
        const granted = grantedCameras(principal);
        const reviewedCount = await rules.alerts.review(principal.userId, ctx.clock.nowMs(), {
          ...(ids !== undefined ? { ids } : {}),
          ...(granted !== undefined ? { cameraIds: granted } : {}),
          ...(camera !== undefined ? { cameraId: camera } : {}),
        });
        return { reviewedCount };
      },
    );
  };
}
