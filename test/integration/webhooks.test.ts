import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { AlertView } from '../../src/contract/alerts.js';
import type {
  WebhookBody,
  WebhookDeliveryList,
  WebhookDeliveryView,
  WebhookList,
} from '../../src/contract/notify.js';
import { verifyWebhookSignature } from '../../src/notify/signature.js';
import { closeServer, listenLocal } from '../helpers/local-server.js';
import { apiFetch, getJson, startTestVigil, tempDir, waitFor, type TestVigil } from '../helpers/vigil.js';

const SECRET = 'webhook-secret-for-the-tests';

interface Received {
  path: string;
  body: string;
  headers: IncomingMessage['headers'];
  verified: boolean;
}

/**
 * The receivers: each path answers as the test says, by how many requests it has had. A `hang`
 * never answers; `moved` redirects to `ok`.
 */
type Behaviour = (count: number) => number | 'hang';
const behaviours: Record<string, Behaviour> = {
  ok: () => 200,
  flaky: (n) => (n === 1 ? 500 : 200),
  refusing: () => 400,
  slow: (n) => (n === 1 ? 'hang' : 204),
  busy: (n) => (n === 1 ? 429 : 200),
  moved: () => 302,
  restart: () => 'hang',
};

function alert(id: number): AlertView {
  return {
    id,
    ruleId: 'gate',
    ruleName: 'Gate at night',
    cameraId: 'cam',
    eventId: 7,
    kind: 'zone-entered',
    summary: 'Person entered Gate on cam',
    timeMs: Date.now(),
    snapshotUrl: '/api/events/7/snapshot.jpg',
    clipUrl: null,
    reviewed: false,
  };
}

describe('webhooks', { timeout: 120_000 }, () => {
  const received: Received[] = [];
  const counts = new Map<string, number>();
  const hanging: ServerResponse[] = [];
  const sockets = new Set<Socket>();
  let port = 0;
  let vigil: TestVigil;
  let dir: string;

  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const path = (req.url ?? '/').slice(1);
      const count = (counts.get(path) ?? 0) + 1;
      counts.set(path, count);
      const verified = verifyWebhookSignature(
        SECRET,
        {
          timestamp: req.headers['x-vigil-timestamp'] as string | undefined,
          signature: req.headers['x-vigil-signature'] as string | undefined,
        },
        body,
        Math.floor(Date.now() / 1000),
      );
      received.push({ path, body, headers: req.headers, verified });
      const answer = (behaviours[path] ?? (() => 404))(count);
      if (answer === 'hang') {
        hanging.push(res);
        return;
      }
      if (answer === 429) res.setHeader('retry-after', '1');
      if (answer === 302) res.setHeader('location', `http://127.0.0.1:${port}/ok`);
      res.writeHead(answer).end('{"thanks":true}');
    });
  });
  receiver.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  function config(): string {
    const hooks = Object.keys(behaviours)
      .map(
        (path) =>
          `    - { id: ${path}, url: "http://127.0.0.1:${port}/${path}", secret: "${SECRET}", ` +
          `headers: { Authorization: "Bearer receiver-token" }, timeoutMs: ${path === 'restart' ? 30000 : 1000} }`,
      )
      .join('\n');
    return `
site: { name: "Test site" }
storage: { path: ./data, minFreeBytes: 1MB }
notify:
  webhooks:
${hooks}
`;
  }

  async function start(): Promise<void> {
    vigil = await startTestVigil(config(), dir, { vigil: { webhookRetryBaseMs: 300 } });
  }

  async function deliveries(webhook: string): Promise<WebhookDeliveryView[]> {
    const res = await getJson<WebhookDeliveryList>(`${vigil.url}/api/notify/deliveries?webhook=${webhook}`);
    assert.equal(res.status, 200);
    return res.body.deliveries;
  }

  async function settled(webhook: string, state: 'delivered' | 'failed'): Promise<WebhookDeliveryView> {
    return waitFor(
      `${webhook} ${state}`,
      async () => (await deliveries(webhook)).find((d) => d.state === state),
      15_000,
      100,
    );
  }

  before(async () => {
    port = await listenLocal(receiver);
    dir = tempDir();
    await start();
  });

  after(async () => {
    for (const res of hanging) res.destroy();
    await vigil?.close();
    await closeServer(receiver, sockets);
  });

  test('a delivery is signed with the secret, carries the alert and who sent it', async () => {
    vigil.notify.webhook('ok', alert(1));
    const delivery = await settled('ok', 'delivered');
    assert.equal(delivery.attemptCount, 1);
    assert.equal(delivery.lastStatus, 200);
    assert.equal(delivery.alertId, 1);
    const request = received.find((r) => r.path === 'ok');
    assert.ok(request);
    assert.equal(request.verified, true, 'the signature verifies with the secret');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['authorization'], 'Bearer receiver-token');
    assert.equal(request.headers['x-vigil-delivery'], String(delivery.id));
    const body = JSON.parse(request.body) as WebhookBody;
    assert.equal(body.id, 1);
    assert.equal('reviewed' in body, false, "one user's review mark is not part of the alert sent");
    assert.equal(body.summary, 'Person entered Gate on cam');
    assert.equal(body.vigil.site, 'Test site');
    assert.match(body.vigil.version, /^\d+\.\d+\.\d+/);
    // Someone without the secret cannot forge it.
    assert.equal(
      verifyWebhookSignature(
        'another-secret-entirely',
        {
          timestamp: request.headers['x-vigil-timestamp'] as string,
          signature: request.headers['x-vigil-signature'] as string,
        },
        request.body,
        Math.floor(Date.now() / 1000),
      ),
      false,
    );
  });

  test('500 then 200: retried and delivered, the log shows both attempts', async () => {
    vigil.notify.webhook('flaky', alert(2));
    const delivery = await settled('flaky', 'delivered');
    assert.equal(delivery.attemptCount, 2);
    assert.equal(delivery.lastStatus, 200);
    assert.equal(delivery.lastError, null);
    const attempts = received.filter((r) => r.path === 'flaky');
    assert.equal(attempts.length, 2);
    assert.equal(attempts[0]?.body, attempts[1]?.body, 'the same body at every attempt');
    assert.ok(attempts.every((a) => a.verified));
  });

  test('400: failed at once, never retried', async () => {
    vigil.notify.webhook('refusing', alert(3));
    const delivery = await settled('refusing', 'failed');
    assert.equal(delivery.attemptCount, 1);
    assert.equal(delivery.lastStatus, 400);
    assert.match(delivery.lastError ?? '', /refused/);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(counts.get('refusing'), 1);
  });

  test('a receiver that never answers times out and is retried; others are not held up', async () => {
    const started = Date.now();
    vigil.notify.webhook('slow', alert(4));
    vigil.notify.webhook('ok', alert(5));
    await waitFor(
      'ok delivered while slow hangs',
      async () => (await deliveries('ok')).find((d) => d.alertId === 5 && d.state === 'delivered'),
      5000,
      50,
    );
    assert.ok(Date.now() - started < 1000, 'the other webhook did not wait for the slow one');
    const delivery = await settled('slow', 'delivered');
    assert.equal(delivery.attemptCount, 2);
    assert.equal(delivery.lastStatus, 204);
    assert.ok(Date.now() - started >= 1000, 'the first attempt waited for its timeout');
  });

  test('429 waits for Retry-After; a redirect fails and is not followed', async () => {
    const okBefore = counts.get('ok') ?? 0;
    vigil.notify.webhook('busy', alert(6));
    vigil.notify.webhook('moved', alert(7));
    const busy = await settled('busy', 'delivered');
    assert.equal(busy.attemptCount, 2);
    const moved = await settled('moved', 'failed');
    assert.equal(moved.lastStatus, 302);
    assert.match(moved.lastError ?? '', /redirects are not followed/);
    assert.equal(counts.get('ok') ?? 0, okBefore, 'the redirect target was never called');
  });

  test('the test button sends a test alert and answers with the delivery', async () => {
    const res = await apiFetch(`${vigil.url}/api/notify/webhooks/ok/test`, { method: 'POST' });
    assert.equal(res.status, 200);
    const delivery = (await res.json()) as WebhookDeliveryView;
    assert.equal(delivery.state, 'delivered');
    const last = received.filter((r) => r.path === 'ok').at(-1);
    assert.equal((JSON.parse(last?.body ?? '{}') as AlertView).kind, 'test');
    const unknown = await apiFetch(`${vigil.url}/api/notify/webhooks/nope/test`, { method: 'POST' });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'WEBHOOK_NOT_FOUND');
    const failed = await apiFetch(`${vigil.url}/api/notify/webhooks/refusing/test`, { method: 'POST' });
    assert.equal(((await failed.json()) as WebhookDeliveryView).state, 'failed');
  });

  test('neither the log nor the list of webhooks shows the secret or a path', async () => {
    const res = await apiFetch(`${vigil.url}/api/notify/deliveries`);
    const text = await res.text();
    assert.ok(text.includes('"deliveries"'));
    assert.ok(!text.includes(SECRET));
    const list = await apiFetch(`${vigil.url}/api/notify/webhooks`);
    const listed = await list.text();
    assert.ok(!listed.includes(SECRET) && !listed.includes('/ok') && !listed.includes('receiver-token'));
    const hooks = (JSON.parse(listed) as WebhookList).webhooks;
    assert.deepEqual(hooks[0], { id: 'ok', origin: `http://127.0.0.1:${port}`, timeoutMs: 1000 });
    assert.equal(hooks.length, Object.keys(behaviours).length);
    const failedOnly = await getJson<WebhookDeliveryList>(`${vigil.url}/api/notify/deliveries?state=failed`);
    assert.ok(failedOnly.body.deliveries.length >= 2);
    assert.ok(failedOnly.body.deliveries.every((d) => d.state === 'failed'));
  });

  test('a delivery pending when Vigil stops is delivered after the restart', async () => {
    vigil.notify.webhook('restart', alert(8));
    await waitFor('the receiver to hold the request', () => counts.get('restart') === 1, 5000, 50);
    await vigil.close();
    // The interrupted attempt is not counted: the row stays pending.
    behaviours['restart'] = () => 200;
    await start();
    const delivery = await settled('restart', 'delivered');
    assert.equal(delivery.alertId, 8);
    assert.equal(delivery.attemptCount, 1);
    const attempts = received.filter((r) => r.path === 'restart');
    assert.equal(attempts.length, 2);
    assert.equal(attempts[0]?.body, attempts[1]?.body);
    assert.ok(attempts[1]?.verified);
  });
});
