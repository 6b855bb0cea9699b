import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { UI_FILES_ACCESS } from '../../src/api/auth-hooks.js';
import type { RegisteredRoute } from '../../src/api/server.js';
import { validateRouteAccess, type Role } from '../../src/auth/permissions.js';
import { startTestVigil, tempDir, waitFor, type TestVigil } from '../helpers/vigil.js';

const CAMERA_PASSWORD = 'Cam3ra-Passw0rd-never-shown';
const PASSWORD = 'a long enough passphrase 7';

interface Caller {
  name: string;
  role: Role | 'anonymous';
  token: string | null;
}

/** A concrete URL for a route pattern: cameras exist ('cam'), everything numeric does not. */
function concrete(url: string, camera = 'cam'): string {
  return url
    .replace(':segmentId', '1')
    .replace(':range', '0-10.m4s')
    .replace(':liftId', '999999')
    .replace(':shareId', '1')
    .replace(/^\/api\/cameras\/:id/, `/api/cameras/${camera}`)
    .replace(':id', '999999');
}

/** Every route but the UI's files (public by design): the /api routes and /metrics. */
function isApi(route: RegisteredRoute): boolean {
  return route.access !== UI_FILES_ACCESS && route.method !== 'HEAD';
}

describe('every route checks who may use it', { timeout: 120_000 }, () => {
  let vigil: TestVigil;
  const callers: Caller[] = [];

  async function call(route: RegisteredRoute, caller: Caller, url = concrete(route.url), payload?: string) {
    const body = payload ?? (route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}');
    return vigil.server.inject({
      method: route.method as 'GET',
      url,
      headers: {
        ...(caller.token ? { authorization: `Bearer ${caller.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { payload: body } : {}),
    });
  }

  before(async () => {
    vigil = await startTestVigil(
      `
storage: { path: ./data, minFreeBytes: 1MB }
cameras:
  - id: cam
    streams:
      main: { url: "testsrc:?size=320x240&fps=5" }
    privacy:
      masks: [{ id: gate, kind: liftable, polygon: [[0.5, 0.5], [0.9, 0.5], [0.9, 0.9]] }]
  - id: other
    streams:
      main: { url: "testsrc:?size=320x240&fps=5" }
  - id: secret
    enabled: false
    streams:
      main: { url: "rtsp://127.0.0.1:9/x", user: viewer, password: "${CAMERA_PASSWORD}" }
    onvif: { url: "http://127.0.0.1:9/onvif/device_service", user: viewer, password: "${CAMERA_PASSWORD}" }
`,
      tempDir(),
    );
    callers.push({ name: 'anonymous', role: 'anonymous', token: null });
    for (const role of ['viewer', 'operator', 'auditor'] as const) {
      const user = await vigil.auth.store.createUser({ name: `${role}1`, role, password: PASSWORD });
      callers.push({
        name: user.name,
        role,
        token: (await vigil.auth.store.createToken(user.id, { label: 't' })).token,
      });
    }
    callers.push({ name: 'admin', role: 'admin', token: vigil.token });
    await waitFor('a recording', () => (vigil.cameras.liveSegment('cam', 'main') ? true : undefined), 20_000);
  });

  after(async () => {
    await vigil?.close();
  });

  test('every /api route declares a sound access rule', () => {
    const api = vigil.server.vigilRoutes.filter(isApi);
    assert.ok(api.length >= 40, `${api.length} routes`);
    const problems = api.flatMap((r) =>
      r.access === null
        ? [`${r.method} ${r.url}: no access rule`]
        : validateRouteAccess(r.access).map((p) => `${r.method} ${r.url}: ${p}`),
    );
    assert.deepEqual(problems, []);
  });

  test('no route answers without the permission it declares', async (t: TestContext) => {
    const api = vigil.server.vigilRoutes.filter(isApi);
    const failures: string[] = [];
    let checks = 0;
    for (const route of api) {
      const access = route.access;
      if (!access || 'public' in access) continue;
      for (const caller of callers) {
        const res = await call(route, caller);
        checks += 1;
        const denied = res.statusCode === 401 || res.statusCode === 403;
        let expectDenied: boolean;
        if (caller.token === null) expectDenied = true;
        else if (access.sessionOnly)
          expectDenied = true; // tokens never reach session-only routes
        else if ('signedIn' in access) expectDenied = false;
        else {
          const roles: Record<string, readonly string[]> = {
            admin: ['*'],
            operator: [
              'cameras.view',
              'live.view',
              'playback.view',
              'export.create',
              'events.view',
              'events.delete',
              'evidence.lock',
              'ptz.control',
            ],
            viewer: ['cameras.view', 'live.view', 'events.view'],
            auditor: ['audit.view'],
          };
          const held = roles[caller.role] ?? [];
          expectDenied = !(held.includes('*') || held.includes(access.permission));
        }
        if (denied !== expectDenied) {
          failures.push(
            `${route.method} ${route.url} as ${caller.name}: ${res.statusCode} ${res.body.slice(0, 120)}`,
          );
        }
        if (caller.token === null && res.statusCode !== 401) {
          failures.push(`${route.method} ${route.url} anonymous: ${res.statusCode}, expected 401`);
        }
      }
    }
    t.diagnostic(`${checks} route × caller checks over ${api.length} routes`);
    assert.deepEqual(failures, []);
  });

  test('a viewer reaches neither playback nor export by any route', async () => {
    const viewer = callers.find((c) => c.role === 'viewer') as Caller;
    const urls = [
      '/api/cameras/cam/recordings',
      '/api/cameras/cam/vod.m3u8',
      '/api/cameras/cam/segments/1/init.mp4',
      '/api/cameras/cam/segments/1/0-100.m4s',
      `/api/cameras/cam/export.mp4?from=${Date.now() - 60_000}&to=${Date.now()}`,
    ];
    for (const url of urls) {
      const res = await vigil.server.inject({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${viewer.token}` },
      });
      assert.equal(res.statusCode, 403, `${url}: ${res.body}`);
      assert.equal(JSON.parse(res.body).error.code, 'FORBIDDEN');
    }
  });

  test('camera grants narrow lists and refuse other cameras', async () => {
    const user = await vigil.auth.store.createUser({
      name: 'guard',
      role: 'operator',
      password: PASSWORD,
      cameras: ['cam'],
    });
    const token = (await vigil.auth.store.createToken(user.id, { label: 't' })).token;
    const get = (url: string) =>
      vigil.server.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    const list = JSON.parse((await get('/api/cameras')).body) as { cameras: Array<{ id: string }> };
    assert.deepEqual(
      list.cameras.map((c) => c.id),
      ['cam'],
    );
    assert.equal((await get('/api/cameras/cam/status')).statusCode, 200);
    assert.equal((await get('/api/cameras/other/status')).statusCode, 403);
    assert.equal((await get('/api/cameras/other/recordings')).statusCode, 403);
    assert.equal((await get('/api/cameras/cam/counts')).statusCode, 200);
    assert.equal((await get('/api/cameras/other/counts')).statusCode, 403);
    assert.equal((await get('/api/cameras/other/counts.csv?bucket=day')).statusCode, 403);
    assert.equal((await get('/api/events?camera=other')).statusCode, 403);
    assert.equal((await get('/api/cameras/cam/heatmap')).statusCode, 200);
    assert.equal((await get('/api/cameras/other/heatmap')).statusCode, 403);
    assert.equal((await get('/api/events')).statusCode, 200);
  });

  test("alert delivery: the webhook log is the administrators', push subscriptions each user's own", async () => {
    const viewer = callers.find((c) => c.role === 'viewer') as Caller;
    const operator = callers.find((c) => c.role === 'operator') as Caller;
    const as = (caller: Caller, method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) =>
      vigil.server.inject({
        method,
        url,
        headers: {
          authorization: `Bearer ${caller.token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
    assert.equal((await as(operator, 'GET', '/api/notify/deliveries')).statusCode, 403);
    assert.equal((await as(operator, 'POST', '/api/notify/webhooks/any/test')).statusCode, 403);
    const keys = {
      p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 9)]).toString('base64url'),
      auth: Buffer.alloc(16, 3).toString('base64url'),
    };
    const made = await as(viewer, 'POST', '/api/push/subscriptions', {
      endpoint: 'https://push.example.org/send/viewer',
      keys,
    });
    assert.equal(made.statusCode, 201);
    const id = (JSON.parse(made.body) as { id: number }).id;
    const theirs = JSON.parse((await as(operator, 'GET', '/api/push/subscriptions')).body) as {
      subscriptions: unknown[];
    };
    assert.deepEqual(theirs.subscriptions, []);
    assert.equal((await as(operator, 'DELETE', `/api/push/subscriptions/${id}`)).statusCode, 404);
    assert.equal((await as(viewer, 'DELETE', `/api/push/subscriptions/${id}`)).statusCode, 204);
  });

  test('no response carries a camera password', async () => {
    for (const route of vigil.server.vigilRoutes.filter((r) => isApi(r) && r.method === 'GET')) {
      for (const camera of ['cam', 'secret']) {
        const res = await call(route, callers.at(-1) as Caller, concrete(route.url, camera));
        assert.ok(
          !res.body.includes(CAMERA_PASSWORD),
          `${route.url} for ${camera} shows the camera password`,
        );
      }
    }
    const stored = await vigil.auth.store.countUsers();
    assert.ok(stored > 0);
  });

  test('fuzz: malformed JSON, oversized bodies, wrong types and path tricks never get a 500', async (t: TestContext) => {
    const admin = callers.at(-1) as Caller;
    const payloads = [
      '{"name":',
      'null',
      '[]',
      '"text"',
      '{"id": 12, "streams": "main", "password": {"$gt": ""}, "name": [1,2]}',
      JSON.stringify({ name: 'x'.repeat(70_000) }),
      '{"__proto__": {"role": "admin"}, "constructor": {"prototype": {"x": 1}}}',
    ];
    const tricks = [
      '..%2f..%2fetc%2fpasswd',
      '%2e%2e',
      '..',
      'cam%00',
      'CAM',
      "cam'--",
      '%ff%fe',
      'a'.repeat(300),
    ];
    let requests = 0;
    const fives: string[] = [];
    for (const route of vigil.server.vigilRoutes.filter(isApi)) {
      const bodies = route.method === 'GET' || route.method === 'DELETE' ? [undefined] : payloads;
      const urls = [concrete(route.url), ...tricks.map((trick) => route.url.replace(/:[a-zA-Z]+/g, trick))];
      for (const url of urls) {
        for (const payload of bodies) {
          const res = await call(route, admin, url, payload);
          requests += 1;
          if (res.statusCode >= 500 && res.statusCode !== 503)
            fives.push(`${route.method} ${url}: ${res.statusCode} ${res.body.slice(0, 100)}`);
        }
      }
    }
    t.diagnostic(`${requests} malformed requests`);
    assert.deepEqual(fives, []);
    const health = await vigil.server.inject({
      method: 'GET',
      url: '/api/health',
      headers: { authorization: `Bearer ${admin.token}` },
    });
    assert.equal(health.statusCode, 200, 'the server still answers');
    const recordedUntil = () => vigil.cameras.liveSegment('cam', 'main')?.endTimeMs ?? 0;
    const before = recordedUntil();
    await waitFor('recording to go on', () => (recordedUntil() > before ? true : undefined), 30_000);
  });
});
