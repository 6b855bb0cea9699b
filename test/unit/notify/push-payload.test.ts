import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AlertView } from '../../../src/contract/alerts.js';
import { pushPayload } from '../../../src/notify/push-payload.js';
import { checkSubscription } from '../../../src/notify/push-store.js';

const alert: AlertView = {
  id: 31,
  ruleId: 'gate',
  ruleName: 'Gate at night',
  cameraId: 'front door',
  eventId: 42,
  kind: 'zone-entered',
  summary: 'Person entered Gate on Front door',
  timeMs: 1700000000000,
  snapshotUrl: '/api/events/42/snapshot.jpg',
  clipUrl: '/api/events/42/clip.mp4',
  reviewed: false,
};

test('a push carries words and links, never an image', () => {
  const payload = pushPayload(alert);
  assert.deepEqual(payload, {
    title: 'Gate at night',
    body: 'Person entered Gate on Front door',
    cameraId: 'front door',
    alertId: 31,
    eventId: 42,
    timeMs: 1700000000000,
    url: '/#/events/42',
    snapshotUrl: '/api/events/42/snapshot.jpg',
  });
  assert.equal(pushPayload({ ...alert, eventId: null }).url, '/#/events?camera=front%20door');
});

test('a long summary is cut so the payload fits a push message', () => {
  const payload = pushPayload({ ...alert, summary: 'x'.repeat(10_000), ruleName: 'r'.repeat(10_000) });
  assert.ok(Buffer.byteLength(JSON.stringify(payload)) < 3000);
  assert.ok(payload.body.endsWith('…'));
});

test('subscriptions: https endpoints and well-formed keys only', () => {
  const p256dh = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url');
  const auth = Buffer.alloc(16, 2).toString('base64url');
  const good = { endpoint: 'https://push.example.org/abc', keys: { p256dh, auth } };
  checkSubscription(good);
  const bad = [
    { ...good, endpoint: 'http://push.example.org/abc' },
    { ...good, endpoint: 'file:///etc/passwd' },
    { ...good, endpoint: 'https://user:pw@push.example.org/abc' },
    { ...good, endpoint: 'not a url' },
    { ...good, keys: { p256dh: p256dh.slice(2), auth } },
    { ...good, keys: { p256dh: Buffer.alloc(65, 3).toString('base64url'), auth } },
    { ...good, keys: { p256dh, auth: 'AAAA' } },
  ];
  for (const body of bad) {
    assert.throws(() => checkSubscription(body), { code: 'REQUEST_INVALID' }, JSON.stringify(body));
  }
});
