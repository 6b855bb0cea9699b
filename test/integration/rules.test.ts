import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import type { AlertsPage, AlertView } from '../../src/contract/alerts.js';
import type { AuditPageResponse } from '../../src/contract/auth.js';
import type { EventsPage } from '../../src/contract/events.js';
import type { WsServerMessage } from '../../src/contract/push.js';
import type { RuleView, RulesList } from '../../src/contract/rules.js';
import type { SceneFact, SceneObject } from '../../src/contract/scene.js';
import { startTestVigil, tempDir, waitFor, type TestVigil } from '../helpers/vigil.js';

const PASSWORD = 'a long enough passphrase 7';
const PREFIX = `vigil-rules-${process.pid}`;

describe('rules turn scene facts into alerts', { timeout: 120_000 }, () => {
  let vigil: TestVigil;
  let mqtt: MqttClient;
  const mqttMessages: Array<{ topic: string; payload: string }> = [];
  const pushed: WsServerMessage[] = [];
  let socket: WebSocket;
  let guardToken: string;
  let viewerToken: string;

  async function call<T = unknown>(method: string, path: string, token: string | null, body?: unknown) {
    const res = await vigil.server.inject({
      method: method as 'GET',
      url: path,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    const isJson = String(res.headers['content-type']).includes('json');
    return { status: res.statusCode, body: (isJson ? JSON.parse(res.body) : null) as T, raw: res };
  }

  const admin = () => vigil.token;

  async function newEvent(cameraId: string, label: string): Promise<number> {
    const now = Date.now();
    const event = await vigil.events.store.insert({
      cameraId,
      label,
      trackId: 1,
      startTimeMs: now - 2000,
      endTimeMs: now,
      maxScore: 0.9,
      box: { x: 0.1, y: 0.1, width: 0.2, height: 0.4 },
      path: [],
      zones: ['Lawn'],
      snapshotPath: null,
      cropPath: null,
      snapshotTimeMs: null,
      clipStartMs: now - 5000,
      clipEndMs: now + 2000,
      createdAtMs: now,
      updatedAtMs: now,
    });
    return event.id;
  }

  function object(eventId: number, label = 'person'): SceneObject {
    return { eventId, trackId: eventId, label, score: 0.9, areaFraction: 0.05 };
  }

  function crossing(cameraId: string, eventId: number, direction: 'a-to-b' | 'b-to-a'): SceneFact {
    return {
      type: 'line-crossed',
      cameraId,
      lineId: 'path',
      direction,
      object: object(eventId),
      timeMs: Date.now(),
    };
  }

  async function alerts(token: string | null, query = ''): Promise<AlertsPage> {
    await vigil.rules.settled();
    const res = await call<AlertsPage>('GET', `/api/alerts${query}`, token);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  }

  before(async () => {
    vigil = await startTestVigil(
      `
storage: { path: ./data, minFreeBytes: 1MB }
site: { timeZone: Europe/Berlin }
mqtt: { url: "mqtt://127.0.0.1:1883", topicPrefix: "${PREFIX}" }
cameras:
  - id: cam
    streams:
      main: { url: "testsrc:?size=320x240&fps=5" }
    detect: { enabled: false }
    scene:
      lines: [{ id: path, name: Path, a: [0.5, 0], b: [0.5, 1] }]
      zones: [{ id: gate, name: Gate, points: [[0.1, 0.1], [0.4, 0.1], [0.4, 0.4]] }]
  - id: other
    streams:
      main: { url: "testsrc:?size=320x240&fps=5" }
    detect: { enabled: false }
    scene:
      lines: [{ id: path, name: Path, a: [0.5, 0], b: [0.5, 1] }]
rules:
  - id: path-a-to-b
    name: People crossing the path
    cameras: [cam, other]
    conditions: [{ type: line-crossed, lineId: path, direction: a-to-b, labels: [person] }]
    actions: [{ type: mqtt }, { type: keep, days: 30 }, { type: push }]
    limit: { maxAlerts: 3, windowMs: 600000, cooldownMs: 0 }
  - id: covered
    name: Camera covered
    conditions: [{ type: camera-health, states: [tamper-covered] }]
`,
      tempDir(),
    );
    const guard = await vigil.auth.store.createUser({
      name: 'guard',
      role: 'operator',
      password: PASSWORD,
      cameras: ['cam'],
    });
    guardToken = (await vigil.auth.store.createToken(guard.id, { label: 't' })).token;
    const viewer = await vigil.auth.store.createUser({ name: 'watcher', role: 'viewer', password: PASSWORD });
    viewerToken = (await vigil.auth.store.createToken(viewer.id, { label: 't' })).token;
    mqtt = connect('mqtt://127.0.0.1:1883', { reconnectPeriod: 500 });
    await new Promise<void>((resolve, reject) => {
      mqtt.once('connect', () => resolve());
      mqtt.once('error', reject);
    });
    mqtt.on('message', (topic, payload) => mqttMessages.push({ topic, payload: payload.toString('utf8') }));
    await mqtt.subscribeAsync(`${PREFIX}/alerts/#`, { qos: 1 });
    await waitFor('Vigil on MQTT', () => vigil.events.mqtt?.connected === true, 10_000, 50);
    socket = new WebSocket(`${vigil.url.replace(/^http/, 'ws')}/api/ws`, {
      headers: { authorization: `Bearer ${guardToken}` },
    });
    socket.on('message', (data) => pushed.push(JSON.parse(data.toString()) as WsServerMessage));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
  });

  after(async () => {
    socket?.close();
    await mqtt?.endAsync();
    await vigil?.close();
  });

  test('a crossing A→B makes one alert per person: row, /api/ws, MQTT, a retention hold', async () => {
    const first = await newEvent('cam', 'person');
    const bus = vigil.events.bus;
    bus.publish('scene', crossing('cam', first, 'a-to-b'));
    bus.publish('scene', crossing('cam', first, 'a-to-b')); // the same person again: no second alert
    bus.publish('scene', crossing('cam', first, 'b-to-a')); // the other way: not asked for
    const page = await alerts(admin(), '?rule=path-a-to-b');
    assert.equal(page.alerts.length, 1);
    const alert = page.alerts[0] as AlertView;
    assert.equal(alert.eventId, first);
    assert.equal(alert.summary, 'person crossed Path (A→B)', 'the line by its name');
    assert.equal(alert.snapshotUrl, `/api/events/${first}/snapshot.jpg`);
    assert.equal(alert.clipUrl, `/api/events/${first}/clip.mp4`);
    assert.equal(alert.reviewed, false);
    assert.equal(page.unreviewedCount, 1);
    const message = await waitFor(
      'the MQTT alert',
      () => mqttMessages.find((m) => m.topic === `${PREFIX}/alerts/cam`),
      10_000,
      50,
    );
    assert.equal((JSON.parse(message.payload) as AlertView).id, alert.id);
    const ws = await waitFor('the /api/ws alert', () => pushed.find((m) => m.type === 'alert'), 5000, 20);
    assert.equal(ws.type === 'alert' && ws.alert.id, alert.id);
    const holds = await vigil.index.holds();
    const hold = holds.find((h) => h.kind === 'alert');
    assert.ok(hold, 'the keep action holds the recording');
    assert.ok((hold.untilMs ?? 0) > Date.now() + 29 * 86_400_000);
  });

  test('the events list splits alerts from detections and filters by rule and zone', async () => {
    const detection = await newEvent('cam', 'dog');
    const kinds = async (query: string) =>
      (await call<EventsPage>('GET', `/api/events${query}`, admin())).body.events.map((e) => e.id);
    const alerted = await kinds('?kind=alert');
    const detections = await kinds('?kind=detection');
    assert.equal(alerted.length, 1);
    assert.ok(detections.includes(detection) && !detections.includes(alerted[0] as number));
    assert.deepEqual(await kinds('?rule=path-a-to-b'), alerted);
    assert.deepEqual(await kinds('?rule=covered'), []);
    assert.ok((await kinds('?zone=Lawn')).includes(detection));
    assert.deepEqual(await kinds('?zone=Street'), []);
  });

  test('the rate limit holds back a storm, and counts what it held back', async () => {
    for (let i = 0; i < 5; i += 1)
      vigil.events.bus.publish('scene', crossing('other', await newEvent('other', 'person'), 'a-to-b'));
    const page = await alerts(admin(), '?rule=path-a-to-b');
    assert.equal(page.alerts.length, 3, 'maxAlerts 3 in the window');
    const rules = (await call<RulesList>('GET', '/api/rules', admin())).body.rules;
    const status = rules.find((r) => r.id === 'path-a-to-b')?.status;
    assert.equal(status?.alertCount, 3);
    assert.equal(status?.suppressedCount, 3);
  });

  test('camera health: an alert with a fresh camera snapshot', async () => {
    vigil.events.bus.publish('scene', {
      type: 'camera-health',
      cameraId: 'cam',
      state: 'tamper-covered',
      detail: 'the view is covered',
      timeMs: Date.now(),
    });
    const alert = (await alerts(admin(), '?rule=covered')).alerts[0] as AlertView;
    assert.equal(alert.eventId, null);
    assert.equal(alert.summary, 'view covered: the view is covered');
    assert.equal(alert.snapshotUrl, `/api/alerts/${alert.id}/snapshot.jpg`);
    const jpeg = await call('GET', alert.snapshotUrl, admin());
    assert.equal(jpeg.status, 200);
    assert.equal(jpeg.raw.headers['content-type'], 'image/jpeg');
    assert.equal((await call('GET', alert.snapshotUrl, guardToken)).status, 200, 'cam is granted');
  });

  test('camera grants: a guard sees, reviews and counts only the cameras granted', async () => {
    const all = await alerts(admin());
    const mine = await alerts(guardToken);
    assert.ok(all.alerts.some((a) => a.cameraId === 'other'));
    assert.ok(mine.alerts.length > 0 && mine.alerts.every((a) => a.cameraId === 'cam'));
    const foreign = all.alerts.find((a) => a.cameraId === 'other') as AlertView;
    assert.equal((await call('POST', `/api/alerts/${foreign.id}/review`, guardToken)).status, 403);
    assert.equal((await call('GET', `/api/alerts?camera=other`, guardToken)).status, 403);
    assert.equal((await call('POST', '/api/alerts/review', guardToken, { camera: 'other' })).status, 403);
    // Naming a foreign alert in a batch does not review it either.
    const sneaky = await call<{ reviewedCount: number }>('POST', '/api/alerts/review', guardToken, {
      ids: [foreign.id],
    });
    assert.equal(sneaky.status, 200);
    assert.equal(sneaky.body.reviewedCount, 0);
    // Nor did /api/ws tell the guard about the other camera's alerts.
    assert.ok(pushed.every((m) => m.type !== 'alert' || m.alert.cameraId === 'cam'));
    assert.ok(pushed.some((m) => m.type === 'alert'));
    // "Mark all reviewed" by the guard: their cameras only, for them only.
    const marked = await call<{ reviewedCount: number }>('POST', '/api/alerts/review', guardToken, {});
    assert.equal(marked.body.reviewedCount, mine.alerts.length);
    assert.equal((await alerts(guardToken)).unreviewedCount, 0);
    assert.equal(
      (await alerts(admin())).unreviewedCount,
      all.unreviewedCount,
      "the admin's state is their own",
    );
    assert.equal((await alerts(admin(), '?reviewed=true')).alerts.length, 0);
    const one = await call<AlertView>('POST', `/api/alerts/${foreign.id}/review`, admin());
    assert.equal(one.status, 200);
    assert.equal(one.body.reviewed, true);
    assert.deepEqual(
      (await alerts(admin(), '?reviewed=true')).alerts.map((a) => a.id),
      [foreign.id],
    );
    assert.equal((await call('POST', '/api/alerts/999999/review', admin())).status, 404);
  });

  test('rules through the API: admins only, checked, config rules read-only', async () => {
    const rule = {
      id: 'loiter',
      name: 'Loitering at the gate',
      cameras: ['cam'],
      conditions: [{ type: 'loitering', zoneId: 'gate', minInsideMs: 0 }],
      schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], times: ['00:00-24:00'] },
    };
    assert.equal((await call('POST', '/api/rules', viewerToken, rule)).status, 403);
    assert.equal((await call('POST', '/api/rules', guardToken, rule)).status, 403);
    const bad = await call<{ error: { code: string; message: string } }>('POST', '/api/rules', admin(), {
      ...rule,
      cameras: ['nowhere'],
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'RULE_INVALID');
    assert.match(bad.body.error.message, /body\.cameras\[0\]: unknown camera 'nowhere'/);
    const noZone = await call<{ error: { code: string; message: string } }>('POST', '/api/rules', admin(), {
      ...rule,
      conditions: [{ type: 'loitering', zoneId: 'pond', minInsideMs: 0 }],
    });
    assert.equal(noZone.status, 400);
    assert.match(noZone.body.error.message, /unknown zone 'pond'/);
    const created = await call<RuleView>('POST', '/api/rules', admin(), rule);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.source, 'api');
    assert.deepEqual(created.body.limit, { maxAlerts: 10, windowMs: 600_000, cooldownMs: 0 });
    assert.equal((await call('POST', '/api/rules', admin(), rule)).status, 409);
    assert.equal(
      (await call('POST', '/api/rules', admin(), { ...rule, id: 'covered' })).status,
      409,
      'a config rule has that id',
    );
    // It is in force at once.
    const eventId = await newEvent('cam', 'person');
    vigil.events.bus.publish('scene', {
      type: 'zone-entered',
      cameraId: 'cam',
      zoneId: 'gate',
      object: object(eventId),
      timeMs: Date.now(),
    });
    assert.equal((await alerts(admin(), '?rule=loiter')).alerts.length, 1);
    const changed = await call<RuleView>('PUT', '/api/rules/loiter', admin(), {
      ...rule,
      id: undefined,
      enabled: false,
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(changed.body.enabled, false);
    assert.equal((await call('PUT', '/api/rules/loiter', admin(), { ...rule, id: 'other-id' })).status, 400);
    const readOnly = await call<{ error: { code: string } }>('PUT', '/api/rules/covered', admin(), {
      ...rule,
      id: 'covered',
    });
    assert.equal(readOnly.body.error.code, 'RULE_FROM_CONFIG');
    assert.equal((await call('DELETE', '/api/rules/covered', admin())).status, 409);
    assert.equal((await call('DELETE', '/api/rules/loiter', guardToken)).status, 403);
    assert.equal((await call('DELETE', '/api/rules/loiter', admin())).status, 204);
    assert.equal((await call('DELETE', '/api/rules/loiter', admin())).status, 404);
    // Audit entries are appended in the background.
    const audited = await waitFor(
      'three audit entries',
      async () => {
        const res = await call<AuditPageResponse>('GET', '/api/audit?action=rule', admin());
        return res.body.entries.length === 3 ? res.body.entries : undefined;
      },
      5000,
      50,
    );
    assert.deepEqual(audited.map((e) => e.action).sort(), ['rule.create', 'rule.delete', 'rule.update']);
    // The guard's list leaves out nothing they may see; every rule here is for cam or all cameras.
    const listed = (await call<RulesList>('GET', '/api/rules', guardToken)).body.rules.map((r) => r.id);
    assert.deepEqual(listed, ['path-a-to-b', 'covered']);
  });
});
