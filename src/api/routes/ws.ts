import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import type { WsErrorMessage, WsServerMessage } from '../../contract/push.js';
import type { Logger } from 'pino';
import type { EventServices } from '../../events/index.js';
import { cameraFilter, type Principal } from '../../auth/permissions.js';
import type { ApprovalService } from '../../approvals/approval-service.js';
import { principalOf } from '../auth-hooks.js';
import { noBody, type Tag } from '../openapi.js';

/**
 * Unsent bytes a client may have queued before messages to it are dropped: a tab in the
 * background or a phone on a bad link must not make the server hold an ever-growing backlog.
 */
export const WS_MAX_BUFFERED_BYTES = 1024 * 1024;
const MAX_SUBSCRIBED_CAMERAS = 1000;

interface Client {
  socket: WebSocket;
  /** The cameras the client subscribed to; null: every camera. */
  cameras: Set<string> | null;
  /** The cameras its user may see events of; null: every camera. */
  granted: ReadonlySet<string> | null;
  /** Who is listening, for approval requests (sent only to those who may decide them, and the requester). */
  principal: Principal;
  droppedCount: number;
}

function errorMessage(message: string): WsErrorMessage {
  return { type: 'error', code: 'REQUEST_INVALID', message };
}

/** The cameras of a subscribe message, or an error text. */
function parseSubscribe(text: string): { cameras: Set<string> | null } | string {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return 'messages must be JSON, e.g. {"type":"subscribe","cameras":["yard"]}';
  }
  if (
    typeof message !== 'object' ||
    message === null ||
    (message as { type?: unknown }).type !== 'subscribe'
  ) {
    return 'the only message a client sends is {"type":"subscribe","cameras":[…]}';
  }
  const cameras = (message as { cameras?: unknown }).cameras;
  if (cameras === undefined || cameras === null) return { cameras: null };
  if (
    !Array.isArray(cameras) ||
    cameras.length > MAX_SUBSCRIBED_CAMERAS ||
    !cameras.every((c): c is string => typeof c === 'string' && c.length <= 63)
  ) {
    return "'cameras' must be a list of camera ids, or null for all";
  }
  return { cameras: new Set(cameras) };
}

function cameraOf(message: WsServerMessage): string | null {
  switch (message.type) {
    case 'event':
      return message.after.cameraId;
    case 'alert':
      return message.alert.cameraId;
    case 'motion':
    case 'camera':
    case 'objects':
    case 'recording':
    case 'camera-health':
    case 'camera-event':
      return message.cameraId;
    default:
      return null;
  }
}

/**
 * /api/ws: events, motion, object counts and camera status as JSON text messages, as they
 * happen. No history: a client that connects late asks GET /api/events.
 */
/** What the push socket uses. */
export interface WsRouteDeps {
  bus: EventServices['bus'];
  approvals: Pick<ApprovalService, 'onChange' | 'visibleTo'>;
  version: string;
  log: Logger;
}

export function wsRoutes(ctx: WsRouteDeps): FastifyPluginAsync {
  const { bus } = ctx;
  const clients = new Set<Client>();
  const log = ctx.log.child({ component: 'ws' });

  const send = (client: Client, message: WsServerMessage): void => {
    const camera = cameraOf(message);
    if (camera !== null && client.cameras !== null && !client.cameras.has(camera)) return;
    if (camera !== null && client.granted !== null && !client.granted.has(camera)) return;
    sendDirect(client, message);
  };
  const sendDirect = (client: Client, message: WsServerMessage): void => {
    if (client.socket.readyState !== client.socket.OPEN) return;
    if (client.socket.bufferedAmount > WS_MAX_BUFFERED_BYTES) {
      client.droppedCount += 1;
      if (client.droppedCount === 1) log.warn('a /api/ws client is not keeping up; dropping messages to it');
      return;
    }
    client.socket.send(JSON.stringify(message));
  };
  const broadcast = (message: WsServerMessage): void => {
    for (const client of clients) send(client, message);
  };

  return async (app) => {
    const unsubscribe = [
      bus.on('event', (change) =>
        broadcast({ type: 'event', kind: change.type, before: change.before, after: change.after }),
      ),
      bus.on('motion', (motion) => broadcast({ type: 'motion', ...motion })),
      bus.on('camera', (status) => broadcast({ type: 'camera', ...status })),
      bus.on('objects', (counts) => broadcast({ type: 'objects', ...counts })),
      bus.on('recording', (change) => broadcast({ type: 'recording', ...change })),
      // Of the scene facts, only the camera's health is pushed: the others are many and are read as counts.
      bus.on('scene', (fact) => {
        if (fact.type === 'camera-health') broadcast(fact);
      }),
      bus.on('alert', (alert) => broadcast({ type: 'alert', alert })),
      bus.on('camera-event', (event) => broadcast({ type: 'camera-event', ...event })),
      // Not by camera subscription: a request waits for whoever may decide it, wherever they look.
      ctx.approvals.onChange((message) => {
        for (const client of clients) {
          if (ctx.approvals.visibleTo(client.principal, message.request)) sendDirect(client, message);
        }
      }),
    ];
    app.addHook('onClose', async () => {
      for (const off of unsubscribe) off();
      for (const client of clients) client.socket.close(1001, 'server shutting down');
      clients.clear();
    });

    app.get(
      '/api/ws',
      {
        websocket: true,
        schema: {
          operationId: 'subscribe',
          summary: 'Push notifications (WebSocket)',
          description:
            'A WebSocket: send this GET with `Upgrade: websocket`. JSON text messages as things happen ' +
            '(src/contract/push.ts): `hello` first, then `event` (new, update, end), `motion`, `objects` ' +
            '(counts per label), `camera` (stream state), `recording` (recording stopped because storage holds only ' +
            "the camera's locked evidence, or resumed), `camera-health` (stream lost or restored, view covered, " +
            "defocused, moved or cleared), `camera-event` (the camera's own ONVIF events: motion, tamper, " +
            'line crossing, digital inputs) and `approval` (requests the user may decide, or made). ' +
            'Send `{"type":"subscribe","cameras":[…]}` to ' +
            'follow only some cameras (`subscribed` answers). No history: read `GET /api/events` for that. ' +
            'Close code 4401: the access ended. Without an Upgrade header the answer is 404 with an empty body.',
          tags: ['notifications' satisfies Tag],
          response: { 101: noBody('Switching Protocols: the WebSocket is open.') },
        },
        config: { access: { permission: 'events.view', camera: 'filtered' } },
      },
      (socket, request) => {
        const granted = cameraFilter(principalOf(request), 'events.view');
        const client: Client = {
          socket,
          cameras: null,
          granted,
          principal: principalOf(request),
          droppedCount: 0,
        };
        clients.add(client);
        // Grants changed while open (src/api/connections.ts closes the socket if none are left).
        request.openResponse?.onPrincipalChange((principal) => {
          client.granted = cameraFilter(principal, 'events.view');
          client.principal = principal;
        });
        send(client, { type: 'hello', version: ctx.version });
        socket.on('message', (data, isBinary) => {
          const parsed = isBinary ? 'send text messages, not binary' : parseSubscribe(data.toString());
          if (typeof parsed === 'string') {
            send(client, errorMessage(parsed));
            return;
          }
          client.cameras = parsed.cameras;
          send(client, { type: 'subscribed', cameras: parsed.cameras ? [...parsed.cameras] : null });
        });
        socket.on('close', () => clients.delete(client));
        socket.on('error', () => clients.delete(client));
      },
    );
  };
}
