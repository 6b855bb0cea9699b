import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AlertView } from '../../src/contract/alerts.js';
import type {
  PushKeyResponse,
  PushPayload,
  PushSubscriptionList,
  PushSubscriptionView,
} from '../../src/contract/notify.js';
import {
  browserKeys,
  decryptPush,
  startPushService,
  verifyVapid,
  type BrowserKeys,
  type LocalPushService,
} from '../helpers/push-service.js';
import { startTestVigil, tempDir, waitFor, type TestVigil } from '../helpers/vigil.js';

const PASSWORD = 'a long enough passphrase 7';
const CONTACT = 'mailto:alerts@example.org';

interface Person {
  name: string;
  token: string;
  keys: BrowserKeys;
  subscription?: PushSubscriptionView;
}

const alert: AlertView = {
  id: 1,
  ruleId: 'gate',
  ruleName: 'Gate at night',
  cameraId: 'cam',
  eventId: 12,
  kind: 'zone-entered',
  summary: 'Person entered Gate on cam',
  timeMs: 1_760_000_000_000,
  snapshotUrl: '/api/events/12/snapshot.jpg',
  clipUrl: '/api/events/12/clip.mp4',
  reviewed: false,
};

describe('Web Push', { timeout: 120_000 }, () => {
  let vigil: TestVigil;
  let service: LocalPushService;
  const people = new Map<string, Person>();

  function call(person: Person | null, method: string, url: string, body?: unknown) {
    return vigil.server.inject({
      method: method as 'GET',
      url,
      headers: {
        ...(person ? { authorization: `Bearer ${person.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
  }

  const person = (name: string) => people.get(name) as Person;
  const messagesTo = (name: string) => service.messages.filter((m) => m.path === `/push/${name}`);

  before(async () => {
    service = await startPushService();
    service.answer = (path) => (path === '/push/gone' ? 410 : 201);
    vigil = await startTestVigil(
      `
storage: { path: ./data, minFreeBytes: 1MB }
notify: { pushContact: "${CONTACT}" }
`,
      tempDir(),
      { vigil: { pushAgent: service.agent } },
    );
    const admin = await vigil.auth.store.findUser('admin');
    people.set('admin', { name: 'admin', token: vigil.token as string, keys: browserKeys() });
    assert.ok(admin);
    const users = [
      { name: 'guard', role: 'viewer', cameras: ['cam'] },
      { name: 'elsewhere', role: 'viewer', cameras: ['other'] },
      { name: 'auditor', role: 'auditor', cameras: null },
      { name: 'gone', role: 'operator', cameras: null },
    ] as const;
    for (const u of users) {
      const user = await vigil.auth.store.createUser({
        name: u.name,
        role: u.role,
        password: PASSWORD,
        ...(u.cameras ? { cameras: [...u.cameras] } : {}),
      });
      const token = (await vigil.auth.store.createToken(user.id, { label: 't' })).token;
      people.set(u.name, { name: u.name, token, keys: browserKeys() });
    }
  });

  after(async () => {
    await vigil?.close();
    await service?.close();
  });

  test('the VAPID key is made at first start, kept 0600, and given to signed-in users only', async () => {
    const mode = statSync(join(vigil.dir, 'data', 'vapid.json')).mode & 0o777;
    assert.equal(mode, 0o600);
    assert.equal((await call(null, 'GET', '/api/push/key')).statusCode, 401);
    const res = await call(person('guard'), 'GET', '/api/push/key');
    assert.equal(res.statusCode, 200);
    const { publicKey } = res.json() as PushKeyResponse;
    assert.equal(Buffer.from(publicKey, 'base64url').length, 65);
    assert.equal(publicKey, vigil.notify.pushSender.publicKey);
  });

  test('each user subscribes a browser; lists show only their own', async () => {
    for (const p of people.values()) {
      const res = await call(p, 'POST', '/api/push/subscriptions', {
        endpoint: `${service.origin}/push/${p.name}`,
        keys: p.keys.json,
        expirationTime: null,
        label: `${p.name}'s phone`,
      });
      assert.equal(res.statusCode, 201, res.body);
      p.subscription = res.json() as PushSubscriptionView;
    }
    const mine = (
      await call(person('guard'), 'GET', '/api/push/subscriptions')
    ).json() as PushSubscriptionList;
    assert.deepEqual(
      mine.subscriptions.map((s) => s.label),
      ["guard's phone"],
    );
    const insecure = await call(person('guard'), 'POST', '/api/push/subscriptions', {
      endpoint: 'http://127.0.0.1:9/push',
      keys: person('guard').keys.json,
    });
    assert.equal(insecure.statusCode, 400);
  });

  test('an alert reaches, encrypted, exactly the users who may see its camera', async () => {
    vigil.notify.push(alert);
    await waitFor('three messages', () => service.messages.length >= 3, 15_000, 50);
    // Let anything else that was going to arrive arrive.
    await new Promise((r) => setTimeout(r, 500));
    // admin (all cameras), guard (granted cam) and gone (operator, all cameras: answered 410).
    assert.equal(messagesTo('admin').length, 1);
    assert.equal(messagesTo('guard').length, 1);
    assert.equal(messagesTo('gone').length, 1);
    assert.equal(messagesTo('elsewhere').length, 0, 'a viewer without the camera gets nothing');
    assert.equal(messagesTo('auditor').length, 0, 'an auditor sees no events, so gets no push');
    for (const name of ['admin', 'guard']) {
      const message = messagesTo(name)[0]!;
      assert.equal(message.headers['content-encoding'], 'aes128gcm');
      assert.equal(message.headers['ttl'], '3600');
      assert.equal(message.headers['urgency'], 'high');
      const payload = JSON.parse(decryptPush(message.body, person(name).keys)) as PushPayload;
      assert.deepEqual(payload, {
        title: 'Gate at night',
        body: 'Person entered Gate on cam',
        cameraId: 'cam',
        alertId: 1,
        eventId: 12,
        timeMs: alert.timeMs,
        url: '/#/events/12',
        snapshotUrl: '/api/events/12/snapshot.jpg',
      });
      // Another browser's keys cannot read it.
      assert.throws(() => decryptPush(message.body, person('elsewhere').keys));
      const vapid = verifyVapid(message.headers['authorization']);
      assert.equal(vapid.publicKey, vigil.notify.pushSender.publicKey);
      assert.equal(vapid.claims['aud'], service.origin);
      assert.equal(vapid.claims['sub'], CONTACT);
      const expS = vapid.claims['exp'] as number;
      const nowS = Date.now() / 1000;
      assert.ok(expS > nowS && expS <= nowS + 24 * 3600, `exp ${expS}`);
    }
  });

  test('a subscription the push service calls gone (410) is deleted', async () => {
    await waitFor(
      'the 410 subscription to go',
      async () => {
        const list = (
          await call(person('gone'), 'GET', '/api/push/subscriptions')
        ).json() as PushSubscriptionList;
        return list.subscriptions.length === 0;
      },
      5000,
      50,
    );
    const before = service.messages.length;
    vigil.notify.push({ ...alert, id: 2 });
    await waitFor('two more messages', () => service.messages.length >= before + 2, 10_000, 50);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(messagesTo('gone').length, 1, 'nothing more was sent to it');
  });

  test('grants are read when sending: a camera taken away, a user disabled, get nothing more', async () => {
    const guard = await vigil.auth.store.findUser('guard');
    assert.ok(guard);
    await vigil.auth.store.updateUser(guard.id, { cameras: ['other'] });
    const admin = messagesTo('admin').length;
    vigil.notify.push({ ...alert, id: 3 });
    await waitFor('the admin message', () => messagesTo('admin').length > admin, 10_000, 50);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(messagesTo('guard').length, 2, 'only the first two alerts reached guard');
    // The camera's own alerts reach elsewhere now.
    vigil.notify.push({ ...alert, id: 4, cameraId: 'other' });
    await waitFor('guard and elsewhere', () => messagesTo('elsewhere').length === 1, 10_000, 50);
    const elsewhere = await vigil.auth.store.findUser('elsewhere');
    assert.ok(elsewhere);
    await vigil.auth.store.updateUser(elsewhere.id, { disabled: true });
    const adminNow = messagesTo('admin').length;
    vigil.notify.push({ ...alert, id: 5, cameraId: 'other' });
    await waitFor('the admin message', () => messagesTo('admin').length > adminNow, 10_000, 50);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(messagesTo('elsewhere').length, 1, 'a disabled user gets nothing');
    await vigil.auth.store.updateUser(elsewhere.id, { disabled: false });
  });

  test('a user keeps at most 20 browsers: the oldest goes', async () => {
    const auditor = person('auditor');
    const endpoints = Array.from({ length: 21 }, (_, i) => `${service.origin}/push/many-${i}`);
    for (const endpoint of endpoints) {
      const res = await call(auditor, 'POST', '/api/push/subscriptions', {
        endpoint,
        keys: auditor.keys.json,
      });
      assert.equal(res.statusCode, 201);
    }
    const list = (await call(auditor, 'GET', '/api/push/subscriptions')).json() as PushSubscriptionList;
    assert.equal(list.subscriptions.length, 20);
    assert.deepEqual(
      list.subscriptions.map((s) => s.endpoint),
      endpoints.slice(1),
    );
  });

  test("nobody removes another user's subscription", async () => {
    const guardsId = person('guard').subscription?.id as number;
    const res = await call(person('elsewhere'), 'DELETE', `/api/push/subscriptions/${guardsId}`);
    assert.equal(res.statusCode, 404);
    assert.equal((res.json() as { error: { code: string } }).error.code, 'PUSH_SUBSCRIPTION_NOT_FOUND');
    assert.equal(
      (await call(person('guard'), 'DELETE', `/api/push/subscriptions/${guardsId}`)).statusCode,
      204,
    );
    const list = (
      await call(person('guard'), 'GET', '/api/push/subscriptions')
    ).json() as PushSubscriptionList;
    assert.deepEqual(list.subscriptions, []);
    // Subscribing someone else's endpoint again takes it over: a browser alerts whoever enabled it last.
    const res2 = await call(person('elsewhere'), 'POST', '/api/push/subscriptions', {
      endpoint: `${service.origin}/push/admin`,
      keys: person('admin').keys.json,
    });
    assert.equal(res2.statusCode, 201);
    const adminList = (
      await call(person('admin'), 'GET', '/api/push/subscriptions')
    ).json() as PushSubscriptionList;
    assert.equal(adminList.subscriptions.length, 0);
  });
});
