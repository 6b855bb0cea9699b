import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, test, type TestContext } from 'node:test';
import sharp from 'sharp';
import WebSocket from 'ws';
import { DOCS_ACCESS, DOCS_PREFIX } from '../../src/api/openapi.js';
import type { RgbFrame } from '../../src/events/event-manager.js';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import {
  AnswerChecker,
  METHODS,
  openApiProblems,
  openObjects,
  type OpenApiDocument,
} from '../helpers/openapi.js';
import { OnvifSimulator } from '../helpers/onvif-simulator.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startTestVigil, TEST_ADMIN, type TestVigil, waitFor } from '../helpers/vigil.js';

/**
 * The OpenAPI description (/api/openapi.json): a sound OpenAPI 3.1 document, every route in it,
 * and every answer a real Vigil gives (recording a real RTSP camera) matching the schema the
 * description gives for it, strict about properties the description does not know. Then the
 * page at /api/docs: signed in only, and no spelling of a path reaches a file outside its folder.
 */

const CAMERA_USER = 'viewer';
const CAMERA_PASSWORD = 'Cam3ra-OpenAPI-secret-41';
const PASSWORD = 'a long enough passphrase 7';

interface Session {
  cookie: string;
  csrf: string;
}

interface Sent {
  status: number;
  headers: Headers;
  bytes: Buffer;
  json: unknown;
}

function withoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

/** `/api/cameras/{id}` as Fastify spells it: `/api/cameras/:id`. */
function routeUrl(template: string): string {
  return template.replace(/\{([^}]+)\}/g, ':$1');
}

describe('the OpenAPI description', { timeout: 240_000 }, () => {
  let cameras: TestCameras;
  let vigil: TestVigil;
  let onvif: OnvifSimulator;
  let doc: OpenApiDocument;
  let checker: AnswerChecker;
  /** Answers that do not match the description. */
  const mismatches: string[] = [];

  /**
   * One request, as an administrator's API token unless `token` or `session` says otherwise; its
   * answer is checked against the description.
   */
  async function call(
    method: string,
    path: string,
    options: {
      body?: unknown;
      headers?: Record<string, string>;
      token?: string | null;
      session?: Session;
      /** Another Vigil than the one of the suite. */
      base?: string;
    } = {},
  ): Promise<Sent> {
    const headers = new Headers(options.headers);
    const token = options.session ? null : options.token === undefined ? vigil.token : options.token;
    if (token) headers.set('authorization', `Bearer ${token}`);
    if (options.session) {
      headers.set('cookie', options.session.cookie);
      if (method !== 'GET') headers.set('x-csrf-token', options.session.csrf);
    }
    // A Buffer is a file upload (a bundle to verify); anything else goes as JSON.
    const file = options.body instanceof Buffer;
    if (options.body !== undefined)
      headers.set('content-type', file ? 'application/zip' : 'application/json');
    const res = await fetch(`${options.base ?? vigil.url}${path}`, {
      method,
      headers,
      ...(options.body !== undefined
        ? { body: file ? new Uint8Array(options.body as Buffer) : JSON.stringify(options.body) }
        : {}),
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    const contentType = res.headers.get('content-type');
    const isJson = contentType?.startsWith('application/json') ?? false;
    const body = isJson ? bytes.toString('utf8') : bytes.length > 0 ? `<${bytes.length} bytes>` : '';
    mismatches.push(
      ...checker.check({ method, path: path.split('?')[0] ?? path, status: res.status, contentType, body }),
    );
    return { status: res.status, headers: res.headers, bytes, json: isJson ? JSON.parse(body) : null };
  }

  /** Opens a WebSocket with the administrator's token; its upgrade answer is checked too. */
  async function upgrade(path: string): Promise<number> {
    const socket = new WebSocket(`${vigil.url.replace(/^http/, 'ws')}${path}`, {
      headers: { authorization: `Bearer ${vigil.token}` },
    });
    const answer = await new Promise<{ status: number; contentType: string | null; body: string }>(
      (resolve, reject) => {
        socket.once('upgrade', (res: IncomingMessage) =>
          resolve({ status: res.statusCode ?? 0, contentType: null, body: '' }),
        );
        socket.once('unexpected-response', (_req, res: IncomingMessage) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? null, body }),
          );
        });
        socket.once('error', reject);
      },
    );
    socket.on('error', () => undefined);
    socket.close();
    mismatches.push(...checker.check({ method: 'GET', path: path.split('?')[0] ?? path, ...answer }));
    return answer.status;
  }

  async function signIn(name: string, password: string): Promise<Session> {
    const res = await call('POST', '/api/session', { body: { name, password }, token: null });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const cookie = res.headers.get('set-cookie')?.split(';')[0];
    const csrf = (res.json as { csrfToken: string | null }).csrfToken;
    assert.ok(cookie && csrf);
    return { cookie, csrf };
  }

  before(async () => {
    cameras = await startCameras({ count: 1, user: CAMERA_USER, password: CAMERA_PASSWORD });
    onvif = new OnvifSimulator({
      user: CAMERA_USER,
      password: CAMERA_PASSWORD,
      ptz: true,
      profiles: [
        {
          token: 'p1',
          name: 'Main',
          width: 1280,
          height: 960,
          fps: 10,
          encoding: 'H264',
          uri: withoutCredentials(cameras.urls(1).main),
        },
      ],
    });
    await onvif.start();
    process.env['VIGIL_OPENAPI_CAM_PASSWORD'] = CAMERA_PASSWORD;
    vigil = await startTestVigil(`
storage: { path: ./data, minFreeBytes: 1MB }
recording: { segmentDurationMs: 4000 }
cameras:
  - id: cam
    streams:
      main:
        url: "${withoutCredentials(cameras.urls(1).main)}"
        user: ${CAMERA_USER}
        password: "\${VIGIL_OPENAPI_CAM_PASSWORD}"
    # The pipeline stays off: the test plays its part with its own tracks.
    detect: { enabled: false, labels: [person], preCaptureMs: 2000, postCaptureMs: 1000 }
    privacy:
      masks: [{ id: gate, kind: liftable, polygon: [[0.6, 0.6], [0.9, 0.6], [0.9, 0.9]] }]
notify:
  # Nothing listens on the discard port: the test delivery stays pending, as a real answer may.
  webhooks: [{ id: hook, url: "http://127.0.0.1:9/vigil", secret: "a secret for the description test" }]
`);
    const res = await fetch(`${vigil.url}/api/openapi.json`, {
      headers: { authorization: `Bearer ${vigil.token}` },
    });
    assert.equal(res.status, 200);
    doc = (await res.json()) as OpenApiDocument;
    checker = new AnswerChecker(doc);
  });

  after(async () => {
    await vigil?.close();
    await onvif?.stop();
    await cameras?.stop();
  });

  test('is a sound OpenAPI 3.1 document, every object schema closed', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(openApiProblems(doc), []);
    assert.deepEqual(openObjects(doc), [], 'object schemas that say nothing of unlisted properties');
  });

  test('describes every route of the server, with its method', (t: TestContext) => {
    const described = new Set<string>();
    for (const [template, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) described.add(`${method.toUpperCase()} ${routeUrl(template)}`);
    }
    // Routes deliberately left out, with why.
    const leftOut = (route: { method: string; url: string }): string | null => {
      if (route.method === 'HEAD')
        return 'Fastify answers HEAD for every GET route itself: the GET describes it';
      if (route.url === '/' || route.url === '/*') return "the web UI's own files, not the API";
      if (route.url === DOCS_PREFIX || route.url.startsWith(`${DOCS_PREFIX}/`)) {
        return 'the page that shows this description, and its files';
      }
      return null;
    };
    const routes = vigil.server.vigilRoutes;
    const missing = routes.filter((r) => leftOut(r) === null && !described.has(`${r.method} ${r.url}`));
    const registered = new Set(routes.map((r) => `${r.method} ${r.url}`));
    const phantom = [...described].filter((d) => !registered.has(d));
    assert.deepEqual(missing, []);
    assert.deepEqual(phantom, [], 'described operations without a route');
    const apiRoutes = routes.filter((r) => leftOut(r) === null);
    assert.equal(described.size, apiRoutes.length);
    t.diagnostic(
      `${described.size} operations described; ${routes.length - apiRoutes.length} routes left out`,
    );
  });

  test('every operation says what it is, who may call it and what it answers', () => {
    const problems: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const at = `${method.toUpperCase()} ${path}`;
        if (!(METHODS as readonly string[]).includes(method)) problems.push(`${at}: not an HTTP method`);
        if (!op.summary) problems.push(`${at}: no summary`);
        if (!op.operationId) problems.push(`${at}: no operationId`);
        if (!op.tags?.length) problems.push(`${at}: no tag`);
        if (!op.security?.length) problems.push(`${at}: no security requirement`);
        const statuses = Object.keys(op.responses);
        if (!statuses.some((s) => /^[123]/.test(s))) problems.push(`${at}: no success answer`);
        if (!statuses.includes('400') || !statuses.includes('500')) problems.push(`${at}: no 400 or 500`);
        for (const status of statuses.filter((s) => /^[45]/.test(s))) {
          const schema = op.responses[status]?.content?.['application/json']?.schema;
          if (JSON.stringify(schema) !== JSON.stringify({ $ref: '#/components/schemas/ApiError' })) {
            problems.push(`${at} ${status}: not the ApiError shape`);
          }
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  test('real answers match their description', async (t: TestContext) => {
    // Recording first: playlists, exports and clips need some.
    await waitFor(
      '8 s of recording',
      async () => {
        const res = await call('GET', '/api/cameras/cam/recordings');
        return (res.json as { recordings: Array<{ durationMs: number }> }).recordings.some(
          (s) => s.durationMs >= 8000,
        );
      },
      60_000,
      500,
    );

    // An event, fed to the event manager as the analytics pipeline would, on a real frame.
    const snapshot = await call('GET', '/api/cameras/cam/snapshot.jpg');
    assert.equal(snapshot.status, 200);
    const { data, info } = await sharp(snapshot.bytes)
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const frame: Omit<RgbFrame, 'timeMs'> = {
      data: new Uint8Array(data),
      width: info.width,
      height: info.height,
    };
    const lastMs = Date.now() - 2000;
    for (let i = 0; i < 10; i += 1) {
      vigil.events.manager.observe('cam', { ...frame, timeMs: lastMs - (9 - i) * 200 }, [
        {
          trackId: 1,
          label: 'person',
          score: 0.7,
          box: { x: 20 + i * 8, y: 40, width: 60, height: 120 },
          confirmed: true,
          stationary: false,
        },
      ]);
    }
    vigil.events.manager.trackEnded('cam', 1, lastMs + 400);
    const event = await waitFor(
      'the event, ended, with its snapshot',
      async () => {
        const page = (await call('GET', '/api/events')).json as {
          events: Array<{ id: number; endTimeMs: number | null; snapshot: unknown }>;
        };
        return page.events.find((e) => e.endTimeMs !== null && e.snapshot !== null);
      },
      15_000,
    );

    // Every JSON GET route.
    for (const path of [
      '/api/session',
      '/api/users',
      '/api/tokens',
      '/api/audit',
      '/api/audit?limit=1',
      '/api/audit/verify',
      '/api/health',
      '/api/system',
      '/api/system/privacy-notice',
      '/api/cameras',
      '/api/cameras/cam',
      '/api/cameras/cam/status',
      '/api/cameras/cam/recordings?stream=main',
      '/api/cameras/cam/motion',
      '/api/cameras/cam/camera-events',
      '/api/cameras/cam/heatmap',
      '/api/cameras/cam/heatmap?label=person',
      '/api/cameras/cam/analytics',
      '/api/cameras/cam/counts?bucket=day',
      '/api/events',
      '/api/events?limit=1&camera=cam&label=person',
      `/api/events/${event.id}`,
      '/api/openapi.json',
    ]) {
      assert.equal((await call('GET', path)).status, 200, path);
    }
    assert.equal((await call('GET', '/api/session', { token: null })).status, 200, 'anonymous');

    // Media: playlists, segments, exports, snapshots, CSV. The camera has a liftable privacy mask:
    // with a lift the administrator gets the stored video itself (Range answers and all); masked
    // video is re-encoded per request and answered whole (test/integration/masked-video.test.ts).
    const mediaLift = await call('POST', '/api/cameras/cam/privacy/lifts', {
      body: { reason: 'media answers as stored', durationMs: 600_000 },
    });
    assert.equal(mediaLift.status, 201);
    const playlist = (await call('GET', '/api/cameras/cam/vod.m3u8')).bytes.toString('utf8');
    const init = /URI="(segments\/\d+\/init\.mp4)"/.exec(playlist)?.[1];
    const part = /^(segments\/\d+\/\d+-\d+\.m4s)$/m.exec(playlist)?.[1];
    assert.ok(init && part, playlist.slice(0, 500));
    assert.equal((await call('GET', `/api/cameras/cam/${init}`)).status, 200);
    assert.equal((await call('GET', `/api/cameras/cam/${part}`)).status, 200);
    assert.equal((await call('GET', '/api/cameras/cam/live.m3u8')).status, 200);
    // Well behind the newest frame: the ETag is of the bytes, and the same range must give the
    // same bytes on the next request (the last fragments of a range up to 1 s ago may still land).
    const to = Date.now() - 3000;
    const exportPath = `/api/cameras/cam/export.mp4?from=${to - 4000}&to=${to}`;
    const exported = await call('GET', exportPath);
    assert.equal(exported.status, 200);
    const etag = exported.headers.get('etag') ?? '';
    assert.equal((await call('GET', exportPath, { headers: { range: 'bytes=0-99' } })).status, 206);
    assert.equal((await call('GET', exportPath, { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal((await call('GET', exportPath, { headers: { range: 'bytes=999999999-' } })).status, 416);
    const redacted = await call('POST', '/api/cameras/cam/redacted-export', {
      body: {
        from: String(to - 2000),
        to: String(to),
        redaction: {
          mode: 'manual',
          manualBoxes: [{ keys: [{ atMs: 0, box: { x: 0, y: 0, width: 0.5, height: 0.5 } }] }],
        },
      },
    });
    assert.equal(redacted.status, 200);
    assert.equal((await call('GET', `/api/events/${event.id}/snapshot.jpg`)).status, 200);
    assert.equal((await call('GET', `/api/events/${event.id}/snapshot.jpg?crop=1`)).status, 200);
    assert.equal((await call('GET', `/api/events/${event.id}/clip.mp4`)).status, 200);
    assert.equal((await call('GET', '/api/audit.csv?action=login')).status, 200);
    assert.equal((await call('GET', '/api/cameras/cam/counts.csv')).status, 200);
    const mediaLiftId = (mediaLift.json as { id: number }).id;
    assert.equal((await call('DELETE', `/api/cameras/cam/privacy/lifts/${mediaLiftId}`)).status, 204);
    assert.equal((await call('GET', '/metrics')).status, 200);

    // Export bundles: build, list, download, share links, verify, the signing key.
    const bundle = await call('POST', '/api/cameras/cam/exports', {
      body: { from: String(to - 4000), to: String(to), reason: 'checking the description' },
    });
    assert.equal(bundle.status, 201);
    const exportId = (bundle.json as { id: number }).id;
    assert.equal((await call('GET', '/api/exports')).status, 200);
    const zip = await call('GET', `/api/exports/${exportId}/bundle.zip`);
    assert.equal(zip.status, 200);
    const shared = await call('POST', `/api/exports/${exportId}/shares`, {
      body: { recipient: 'someone', expiresInMs: 60_000 },
    });
    assert.equal(shared.status, 201);
    const link = shared.json as { share: { id: number }; path: string };
    assert.equal((await call('GET', `/api/exports/${exportId}/shares`)).status, 200);
    assert.equal((await call('GET', link.path, { token: null })).status, 200);
    assert.equal((await call('DELETE', `/api/exports/${exportId}/shares/${link.share.id}`)).status, 200);
    assert.equal((await call('GET', link.path, { token: null })).status, 410);
    assert.equal((await call('POST', '/api/verify', { body: zip.bytes })).status, 200);
    assert.equal((await call('GET', '/api/system/signing-key')).status, 200);
    assert.equal((await call('GET', '/api/system/signing-key.pem')).status, 200);
    assert.equal((await call('DELETE', `/api/exports/${exportId}`)).status, 204);
    assert.equal((await call('GET', `/api/exports/${exportId}/bundle.zip`)).status, 404);

    // WebSockets: the upgrade, and a refusal before it.
    assert.equal(await upgrade('/api/ws'), 101);
    assert.equal(await upgrade('/api/cameras/cam/live?stream=main'), 101);
    assert.equal(await upgrade('/api/cameras/nope/live'), 404);

    // Cameras: test a connection, add, change, remove.
    const probe = await call('POST', '/api/cameras/probe', {
      body: { url: withoutCredentials(cameras.urls(1).sub), user: CAMERA_USER, password: CAMERA_PASSWORD },
    });
    assert.equal(probe.status, 200);
    const stream = {
      url: withoutCredentials(cameras.urls(1).sub),
      user: CAMERA_USER,
      password: CAMERA_PASSWORD,
    };
    assert.equal(
      (await call('POST', '/api/cameras', { body: { id: 'api-cam', streams: { main: stream } } })).status,
      201,
    );
    assert.equal(
      (await call('POST', '/api/cameras', { body: { id: 'api-cam', streams: { main: stream } } })).status,
      409,
    );
    assert.equal((await call('POST', '/api/cameras', { body: { id: 'Bad id', streams: {} } })).status, 400);
    const changed = await call('PUT', '/api/cameras/api-cam', {
      body: { name: 'Added here', enabled: false, streams: { main: { url: stream.url, user: CAMERA_USER } } },
    });
    assert.equal(changed.status, 200);
    assert.equal(
      (await call('PUT', '/api/cameras/cam', { body: { streams: { main: stream } } })).status,
      409,
    );
    assert.equal((await call('DELETE', '/api/cameras/api-cam')).status, 204);
    assert.equal((await call('DELETE', '/api/cameras/api-cam')).status, 404);

    // Privacy-mask lifts: start, list, end, and an end of what has ended.
    const lift = await call('POST', '/api/cameras/cam/privacy/lifts', {
      body: { reason: 'description check', durationMs: 60_000 },
    });
    assert.equal(lift.status, 201);
    assert.equal((await call('GET', '/api/cameras/cam/privacy/lifts')).status, 200);
    const liftId = (lift.json as { id: number }).id;
    assert.equal((await call('DELETE', `/api/cameras/cam/privacy/lifts/${liftId}`)).status, 204);
    assert.equal((await call('DELETE', `/api/cameras/cam/privacy/lifts/${liftId}`)).status, 404);

    // ONVIF (against the simulator): discover, probe, and PTZ on a camera that names it.
    assert.equal((await call('POST', '/api/onvif/discover', { body: { durationMs: 500 } })).status, 200);
    const device = { address: onvif.deviceUrl, user: CAMERA_USER, password: CAMERA_PASSWORD };
    assert.equal((await call('POST', '/api/onvif/probe', { body: device })).status, 200);
    const ptzCamera = {
      id: 'ptz-cam',
      enabled: false,
      streams: { main: stream },
      onvif: { url: onvif.deviceUrl, user: CAMERA_USER, password: CAMERA_PASSWORD, events: false },
    };
    assert.equal((await call('POST', '/api/cameras', { body: ptzCamera })).status, 201);
    assert.equal((await call('POST', '/api/cameras/ptz-cam/ptz/move', { body: { pan: 0.5 } })).status, 204);
    assert.equal((await call('POST', '/api/cameras/ptz-cam/ptz/stop')).status, 204);
    assert.equal((await call('POST', '/api/cameras/ptz-cam/ptz/home')).status, 204);
    assert.equal((await call('GET', '/api/cameras/ptz-cam/ptz/presets')).status, 200);
    const preset = await call('POST', '/api/cameras/ptz-cam/ptz/presets', { body: { name: 'Door' } });
    assert.equal(preset.status, 201);
    const presetToken = (preset.json as { token: string }).token;
    assert.equal((await call('POST', `/api/cameras/ptz-cam/ptz/presets/${presetToken}/goto`)).status, 204);
    assert.equal((await call('DELETE', `/api/cameras/ptz-cam/ptz/presets/${presetToken}`)).status, 204);
    assert.equal((await call('POST', '/api/cameras/cam/ptz/move', { body: {} })).status, 409);
    assert.equal((await call('DELETE', '/api/cameras/ptz-cam')).status, 204);

    // Errors in the one shape, by the status the description gives.
    assert.equal((await call('GET', '/api/cameras/nope')).status, 404);
    assert.equal((await call('GET', '/api/cameras/cam/recordings?from=yesterday')).status, 400);
    assert.equal((await call('GET', '/api/events/999999')).status, 404);
    assert.equal((await call('GET', '/api/cameras', { token: null })).status, 401);
    assert.equal((await call('GET', '/api/cameras', { token: 'vgl_not-a-token' })).status, 401);
    assert.equal((await call('POST', '/api/users', { body: {} })).status, 403, 'session only');
    assert.equal(
      (await call('POST', '/api/setup', { body: { name: 'second', password: PASSWORD }, token: null }))
        .status,
      409,
    );
    assert.equal(
      (
        await call('POST', '/api/session', {
          body: { name: TEST_ADMIN.name, password: 'wrong' },
          token: null,
        })
      ).status,
      401,
    );

    // First-run setup, on a Vigil without users.
    const fresh = await startTestVigil('cameras: []\n', undefined, { users: false });
    try {
      const anonymous = { base: fresh.url, token: null };
      assert.equal((await call('GET', '/api/session', anonymous)).status, 200);
      const owner = { name: 'owner', password: PASSWORD };
      const weakSetup = await call('POST', '/api/setup', {
        ...anonymous,
        body: { ...owner, password: 'password1' },
      });
      assert.equal(weakSetup.status, 400);
      assert.equal((await call('POST', '/api/setup', { ...anonymous, body: owner })).status, 201);
    } finally {
      await fresh.close();
    }

    // Users, tokens and sessions: signed in with a password, as the web UI is.
    const admin = await signIn(TEST_ADMIN.name, TEST_ADMIN.password);
    assert.equal((await call('GET', '/api/session', { session: admin })).status, 200);
    const weak = await call('POST', '/api/users', {
      session: admin,
      body: { name: 'dev', role: 'viewer', password: 'password1' },
    });
    assert.equal(weak.status, 400);
    const created = await call('POST', '/api/users', {
      session: admin,
      body: { name: 'dev', role: 'viewer', password: PASSWORD, cameras: ['cam'] },
    });
    assert.equal(created.status, 201);
    const devId = (created.json as { id: number }).id;
    assert.equal(
      (
        await call('POST', '/api/users', {
          session: admin,
          body: { name: 'dev', role: 'viewer', password: PASSWORD },
        })
      ).status,
      409,
    );
    assert.equal(
      (
        await call('PUT', `/api/users/${devId}`, {
          session: admin,
          body: { role: 'operator', cameras: null },
        })
      ).status,
      200,
    );
    const token = await call('POST', '/api/tokens', {
      session: admin,
      body: { label: 'openapi test', scopes: ['cameras.view'] },
    });
    assert.equal(token.status, 201);
    const scoped = token.json as { id: number; token: string };
    assert.equal((await call('GET', '/api/cameras', { token: scoped.token })).status, 200);
    assert.equal((await call('GET', '/api/health', { token: scoped.token })).status, 403, 'a scoped token');
    assert.equal((await call('DELETE', `/api/tokens/${scoped.id}`, { session: admin })).status, 204);
    assert.equal((await call('DELETE', `/api/tokens/${scoped.id + 1000}`)).status, 404);

    const dev = await signIn('dev', PASSWORD);
    const wrongCurrent = { currentPassword: 'not it at all', newPassword: `${PASSWORD}!` };
    assert.equal(
      (await call('POST', '/api/session/password', { session: dev, body: wrongCurrent })).status,
      401,
    );
    const newPassword = { currentPassword: PASSWORD, newPassword: 'another long passphrase 8' };
    assert.equal(
      (await call('POST', '/api/session/password', { session: dev, body: newPassword })).status,
      204,
    );
    assert.equal((await call('POST', '/api/session/logout-everywhere', { session: dev })).status, 204);
    assert.equal((await call('DELETE', `/api/users/${devId}`, { session: admin })).status, 204);
    assert.equal((await call('DELETE', `/api/users/${devId}`, { session: admin })).status, 404);
    // Evidence and four-eyes approval: the event locked, then unlocked by a second administrator.
    const lock = await call('POST', '/api/evidence', { body: { eventId: event.id, reason: 'openapi test' } });
    assert.equal(lock.status, 201);
    const lockId = (lock.json as { id: number }).id;
    assert.equal((await call('GET', '/api/evidence?camera=cam')).status, 200);
    assert.equal((await call('GET', `/api/evidence/${lockId}`)).status, 200);
    assert.equal((await call('DELETE', `/api/events/${event.id}`)).status, 409, 'locked');
    const unlock = await call('POST', `/api/evidence/${lockId}/unlock`, { body: { reason: 'done' } });
    assert.equal(unlock.status, 202);
    const requestId = (unlock.json as { request: { id: number } }).request.id;
    assert.equal((await call('GET', '/api/approvals?state=pending')).status, 200);
    assert.equal((await call('GET', `/api/approvals/${requestId}`)).status, 200);
    await vigil.auth.store.createUser({ name: 'second', role: 'admin', password: PASSWORD, cameras: null });
    const second = await signIn('second', PASSWORD);
    assert.equal(
      (await call('POST', `/api/approvals/${requestId}/approve`, { session: second })).status,
      200,
    );
    const rangeLock = async () => {
      const created = await call('POST', '/api/evidence', {
        body: {
          cameraId: 'cam',
          startTimeMs: to - 4000,
          endTimeMs: to,
          reason: 'openapi test',
          expiresAtMs: null,
        },
      });
      const asked = await call('POST', `/api/evidence/${(created.json as { id: number }).id}/unlock`, {
        body: { reason: 'x' },
      });
      return (asked.json as { request: { id: number } }).request.id;
    };
    const toRefuse = await rangeLock();
    assert.equal(
      (await call('POST', `/api/approvals/${toRefuse}/refuse`, { session: second, body: { reason: 'no' } }))
        .status,
      200,
    );
    assert.equal((await call('POST', `/api/approvals/${await rangeLock()}/cancel`)).status, 200);
    assert.equal((await call('DELETE', `/api/cameras/cam/recordings?from=0&to=1000`)).status, 200);

    // Rules and alerts: a rule made, fired by a scene fact, its alert listed, seen and reviewed.
    const rule = {
      id: 'covered',
      name: 'Covered',
      conditions: [{ type: 'camera-health', states: ['tamper-covered'] }],
    };
    assert.equal((await call('POST', '/api/rules', { body: rule })).status, 201);
    assert.equal((await call('POST', '/api/rules', { body: rule })).status, 409);
    assert.equal(
      (await call('PUT', '/api/rules/covered', { body: { ...rule, name: 'View covered' } })).status,
      200,
    );
    assert.equal((await call('GET', '/api/rules')).status, 200);
    vigil.events.bus.publish('scene', {
      type: 'camera-health',
      cameraId: 'cam',
      state: 'tamper-covered',
      detail: 'openapi test',
      timeMs: Date.now(),
    });
    await vigil.rules.settled();
    const alertList = await call('GET', '/api/alerts?camera=cam&reviewed=false');
    assert.equal(alertList.status, 200);
    const alertId = (alertList.json as { alerts: Array<{ id: number }> }).alerts[0]?.id;
    assert.equal((await call('GET', `/api/alerts/${alertId}/snapshot.jpg`)).status, 200);
    assert.equal((await call('POST', `/api/alerts/${alertId}/review`)).status, 200);
    assert.equal((await call('POST', '/api/alerts/review', { body: { ids: [alertId] } })).status, 200);
    assert.equal((await call('GET', '/api/alerts/999999/snapshot.jpg')).status, 404);
    assert.equal((await call('GET', '/api/events?kind=alert&zone=Lawn')).status, 200);
    assert.equal((await call('DELETE', '/api/rules/covered')).status, 204);
    assert.equal((await call('DELETE', '/api/rules/covered')).status, 404);

    assert.equal((await call('DELETE', `/api/events/${event.id}`)).status, 204);
    assert.equal((await call('DELETE', `/api/events/${event.id}`)).status, 404);
    // Alert delivery: the webhook test button and log, a browser's push subscription.
    assert.equal((await call('GET', '/api/notify/webhooks')).status, 200);
    assert.equal((await call('POST', '/api/notify/webhooks/hook/test')).status, 200);
    assert.equal((await call('POST', '/api/notify/webhooks/nope/test')).status, 404);
    assert.equal((await call('GET', '/api/notify/deliveries?state=pending')).status, 200);
    assert.equal((await call('GET', '/api/push/key')).status, 200);
    const p256dh = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]).toString('base64url');
    const subscribed = await call('POST', '/api/push/subscriptions', {
      body: {
        endpoint: 'https://push.example.org/send/abc',
        keys: { p256dh, auth: Buffer.alloc(16, 1).toString('base64url') },
        label: 'Phone',
      },
    });
    assert.equal(subscribed.status, 201);
    assert.equal((await call('GET', '/api/push/subscriptions')).status, 200);
    const subscriptionId = (subscribed.json as { id: number }).id;
    assert.equal((await call('DELETE', `/api/push/subscriptions/${subscriptionId}`)).status, 204);
    assert.equal((await call('DELETE', `/api/push/subscriptions/${subscriptionId}`)).status, 404);

    assert.equal((await call('DELETE', '/api/session', { session: admin })).status, 204);

    assert.deepEqual(mismatches, []);
    // Every operation was called, and every one with a success answer got one.
    const operations = Object.entries(doc.paths).flatMap(([template, item]) =>
      Object.entries(item).map(([method, op]) => ({ at: `${method.toUpperCase()} ${template}`, op })),
    );
    const seen = [...checker.seen];
    const unexercised = operations.filter(({ at, op }) => {
      const successes = Object.keys(op.responses).filter((s) => /^[12]/.test(s));
      return !successes.some((status) => seen.includes(`${at} ${status}`));
    });
    assert.deepEqual(
      unexercised.map((o) => o.at),
      [],
      'operations never answered with success',
    );
    t.diagnostic(`${seen.length} operation × status pairs checked over ${operations.length} operations`);
  });

  test('holds no secret: no camera URL, user, password or token', async () => {
    const text = JSON.stringify(doc);
    const camera = new URL(cameras.urls(1).main);
    for (const secret of [
      CAMERA_PASSWORD,
      withoutCredentials(cameras.urls(1).main),
      camera.host,
      `:${camera.port}/`,
      vigil.token ?? 'no token',
      TEST_ADMIN.password,
      vigil.dir,
    ]) {
      assert.ok(!text.includes(secret), `the description holds ${secret}`);
    }
    // The same document for every caller: it describes routes, never the data behind them.
    const again = await fetch(`${vigil.url}/api/docs/json`, {
      headers: { authorization: `Bearer ${vigil.token}` },
    });
    assert.deepEqual(await again.json(), doc);
  });

  test('the page: signed in only, and no spelling of a path leaves its folder', async () => {
    const docsRoutes = vigil.server.vigilRoutes.filter(
      (r) => r.url === '/api/openapi.json' || r.url === DOCS_PREFIX || r.url.startsWith(`${DOCS_PREFIX}/`),
    );
    assert.ok(docsRoutes.length >= 8, `${docsRoutes.length} routes`);
    for (const route of docsRoutes)
      assert.deepEqual(route.access, DOCS_ACCESS, `${route.method} ${route.url}`);

    const port = Number(new URL(vigil.url).port);
    const admin = { authorization: `Bearer ${vigil.token}` };
    const page = await rawRequest(port, 'GET', DOCS_PREFIX, admin);
    assert.equal(page.statusCode, 200);
    assert.match(page.head, /content-type: text\/html/i);
    assert.match(page.head, /content-security-policy: default-src 'self'/i, 'the security headers apply');
    for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-initializer.js']) {
      assert.equal(
        (await rawRequest(port, 'GET', `${DOCS_PREFIX}/static/${file}`, admin)).statusCode,
        200,
        file,
      );
    }
    for (const path of [
      DOCS_PREFIX,
      `${DOCS_PREFIX}/json`,
      `${DOCS_PREFIX}/static/swagger-ui.css`,
      '/api/openapi.json',
    ]) {
      const anonymous = await rawRequest(port, 'GET', path);
      assert.equal(anonymous.statusCode, 401, path);
      assert.match(anonymous.body, /AUTH_REQUIRED/);
    }
    // Spellings that would reach the package's other files, this repository or the system.
    const escapes = [
      '/api/docs/static/../index.js',
      '/api/docs/static/../../swagger/package.json',
      '/api/docs/static/../../../../package.json',
      '/api/docs/static/%2e%2e/index.js',
      '/api/docs/static/%2e%2e%2f%2e%2e%2fpackage.json',
      '/api/docs/static/..%2findex.js',
      '/api/docs/static/.%2e/index.js',
      '/api/docs/static/%252e%252e/index.js',
      '/api/docs/static/..\\index.js',
      '/api/docs/static//etc/passwd',
      '/api/docs/static/./swagger-ui.css',
      '/api/docs/static/swagger-ui.css/',
      '/api/docs/static/swagger-ui.css%00.js',
      '/api/docs/static/SWAGGER-UI.CSS',
      '/api/docs/static/%73wagger-ui.css',
      '/api/docs/static/.hidden',
      '/api/docs/static/',
      '/api/docs/',
      '/API/docs',
      '/api/docs/static/index.html',
    ];
    for (const target of escapes) {
      for (const headers of [{}, admin]) {
        const res = await rawRequest(port, 'GET', target, headers);
        assert.ok(
          [302, 400, 401, 403, 404].includes(res.statusCode),
          `${target}: ${res.statusCode} ${res.body.slice(0, 80)}`,
        );
        assert.doesNotMatch(res.body, /"name": "|module\.exports|root:x:0:0|fastifySwagger/, target);
      }
    }
    // A canonical name of a file that does not exist is a plain 404 in the error shape.
    const missing = await rawRequest(port, 'GET', '/api/docs/static/nothing.js', admin);
    assert.equal(missing.statusCode, 404);
    assert.match(missing.body, /"NOT_FOUND"/);
  });
});
