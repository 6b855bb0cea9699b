import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type {
  PushKeyResponse,
  PushSubscriptionBody,
  PushSubscriptionList,
  PushSubscriptionView,
  WebhookAlert,
  WebhookDeliveryList,
  WebhookDeliveryState,
  WebhookDeliveryView,
  WebhookList,
} from '../../contract/notify.js';
import type { NotifyServices } from '../../notify/index.js';
import type { Clock } from '../../time/clock.js';
import { principalOf } from '../auth-hooks.js';
import { errors, json, noBody, type Tag } from '../openapi.js';
import {
  pushKeyResponse,
  pushSubscriptionList,
  pushSubscriptionView,
  webhookDeliveryList,
  webhookDeliveryView,
  webhookList,
} from '../response-schemas.js';

const tags: Tag[] = ['alerts'];

const deliveriesQuery = Type.Object({
  webhook: Type.Optional(Type.String({ maxLength: 63, description: 'Only this webhook’s deliveries.' })),
  state: Type.Optional(
    Type.Unsafe<WebhookDeliveryState>(
      Type.String({
        enum: ['pending', 'delivered', 'failed'],
        description: 'Only deliveries in this state.',
      }),
    ),
  ),
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 500, default: 100, description: 'At most this many.' }),
  ),
});
type DeliveriesQuery = Static<typeof deliveriesQuery>;

const webhookParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 63, description: 'notify.webhooks[].id' }),
});
type WebhookParams = Static<typeof webhookParams>;

const subscriptionParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The subscription id.' }),
});
type SubscriptionParams = Static<typeof subscriptionParams>;

const subscriptionBody = Type.Object(
  {
    endpoint: Type.String({ minLength: 1, maxLength: 2000, description: "The push service's URL (https)." }),
    keys: Type.Object(
      {
        p256dh: Type.String({
          minLength: 1,
          maxLength: 200,
          description: "The browser's P-256 key, base64url.",
        }),
        auth: Type.String({
          minLength: 1,
          maxLength: 100,
          description: "The browser's auth secret, base64url.",
        }),
      },
      { additionalProperties: false },
    ),
    label: Type.Optional(Type.String({ maxLength: 100, description: 'What you call this browser.' })),
    expirationTime: Type.Optional(
      Type.Union([Type.Null(), Type.Number()], {
        description: 'As PushSubscription.toJSON() gives it; ignored.',
      }),
    ),
  },
  { additionalProperties: false },
);
type SubscriptionBody = Static<typeof subscriptionBody>;

export interface NotifyRouteDeps {
  notify: NotifyServices;
  clock: Clock;
}

/** The alert a test button sends: marked `test`, on no camera. */
function testAlert(webhookId: string, nowMs: number): WebhookAlert {
  return {
    id: 0,
    ruleId: 'test',
    ruleName: 'Test',
    cameraId: '',
    eventId: null,
    kind: 'test',
    summary: `A test of webhook '${webhookId}' from Vigil`,
    timeMs: nowMs,
    snapshotUrl: null,
    clipUrl: null,
  };
}

/**
 * Alert delivery: the webhook log and test button (administrators: webhooks are configuration),
 * and each signed-in user's own Web Push subscriptions.
 */
export function notifyRoutes(ctx: NotifyRouteDeps): FastifyPluginAsync {
  const { notify, clock } = ctx;
  return async (app) => {
    app.get(
      '/api/notify/webhooks',
      {
        schema: {
          operationId: 'listWebhooks',
          summary: 'The configured webhooks',
          description: 'Ids and origins of notify.webhooks; secrets, paths and queries are never shown.',
          tags,
          response: { 200: json(webhookList) },
        },
        config: { access: { permission: 'settings.manage' } },
      },
      async (): Promise<WebhookList> => ({ webhooks: notify.webhooks.list() }),
    );

    app.get<{ Querystring: DeliveriesQuery }>(
      '/api/notify/deliveries',
      {
        schema: {
          operationId: 'listWebhookDeliveries',
          summary: 'The webhook delivery log',
          description: 'Deliveries of alerts to webhooks with their attempts, newest first.',
          tags,
          querystring: deliveriesQuery,
          response: { 200: json(webhookDeliveryList) },
        },
        config: { access: { permission: 'settings.manage' } },
      },
      async (request): Promise<WebhookDeliveryList> => ({
        deliveries: await notify.deliveries.list({
          ...(request.query.webhook !== undefined ? { webhookId: request.query.webhook } : {}),
          ...(request.query.state !== undefined ? { state: request.query.state } : {}),
          limit: request.query.limit ?? 100,
        }),
      }),
    );

    app.post<{ Params: WebhookParams }>(
      '/api/notify/webhooks/:id/test',
      {
        schema: {
          operationId: 'testWebhook',
          summary: 'Send a test alert to a webhook',
          description:
            'Sends an alert of kind `test` like any other (signed, logged, retried) and answers after the first ' +
            'attempt with the delivery: `delivered`, or `pending`/`failed` with the reason.',
          tags,
          params: webhookParams,
          response: { 200: json(webhookDeliveryView), ...errors('WEBHOOK_NOT_FOUND') },
        },
        config: { access: { permission: 'settings.manage' } },
      },
      async (request): Promise<WebhookDeliveryView> =>
        notify.webhooks.sendAndWait(request.params.id, testAlert(request.params.id, clock.nowMs())),
    );

    app.get(
      '/api/push/key',
      {
        schema: {
          operationId: 'getPushKey',
          summary: 'The Web Push public key',
          tags,
          response: { 200: json(pushKeyResponse) },
        },
        config: { access: { signedIn: true } },
      },
      async (): Promise<PushKeyResponse> => ({ publicKey: notify.pushSender.publicKey }),
    );

    app.get(
      '/api/push/subscriptions',
      {
        schema: {
          operationId: 'listPushSubscriptions',
          summary: 'Your push subscriptions',
          tags,
          response: { 200: json(pushSubscriptionList) },
        },
        config: { access: { signedIn: true } },
      },
      async (request): Promise<PushSubscriptionList> => ({
        subscriptions: await notify.subscriptions.listFor(principalOf(request).userId),
      }),
    );

    app.post<{ Body: SubscriptionBody }>(
      '/api/push/subscriptions',
      {
        schema: {
          operationId: 'addPushSubscription',
          summary: 'Enable notifications in this browser',
          description:
            "The browser's PushSubscription.toJSON(). Alerts of rules with a `push` action then reach it for the " +
            'cameras whose events you may see. The same endpoint again replaces the earlier subscription.',
          tags,
          body: subscriptionBody,
          response: { 201: json(pushSubscriptionView) },
        },
        config: { access: { signedIn: true } },
      },
      async (request, reply): Promise<PushSubscriptionView> => {
        const { endpoint, keys, label } = request.body;
        const body: PushSubscriptionBody = { endpoint, keys, ...(label !== undefined ? { label } : {}) };
        const view = await notify.subscriptions.subscribe(principalOf(request).userId, body, clock.nowMs());
        return reply.code(201).send(view);
      },
    );

    app.delete<{ Params: SubscriptionParams }>(
      '/api/push/subscriptions/:id',
      {
        schema: {
          operationId: 'deletePushSubscription',
          summary: 'Disable notifications in a browser',
          tags,
          params: subscriptionParams,
          response: { 204: noBody('Deleted.'), ...errors('PUSH_SUBSCRIPTION_NOT_FOUND') },
        },
        config: { access: { signedIn: true } },
      },
      async (request, reply) => {
        await notify.subscriptions.unsubscribe(principalOf(request).userId, request.params.id);
        return reply.code(204).send();
      },
    );
  };
}
