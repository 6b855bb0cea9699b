import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { UI_FILES_ACCESS } from '../../src/api/auth-hooks.js';
import type { RegisteredRoute } from '../../src/api/server.js';
import { requestTargetProblem, pathOf } from '../../src/api/request-target.js';
import { ROLE_PERMISSIONS, type RouteAccess, type Role } from '../../src/auth/permissions.js';
import { mutate, seededRandom, spellings } from '../helpers/path-corpus.js';
import { principalFor } from '../../src/auth/store.js';
import { rawRequest, WEBSOCKET_UPGRADE, type RawResponse } from '../helpers/raw-http.js';
import { startTestVigil, tempDir, waitFor, type TestVigil } from '../helpers/vigil.js';

/**
 * The access check as an attacker meets it: every route, spelled every way an access check and a
 * router could read differently, sent byte for byte over a real socket, anonymously and with each
 * role, with bodies that would change state if they got through. Nothing may answer 2xx without
 * the permission, no non-canonical spelling may answer 2xx at all, and nothing may change.
 */

const PASSWORD = 'a long enough passphrase 7';

interface Caller {
  name: string;
  role: Role | 'anonymous';
  token: string | null;
}

/** Every route but the UI's files (public by design): the /api routes and /metrics. */
function isApi(route: RegisteredRoute): boolean {
  return route.access !== UI_FILES_ACCESS && route.method !== 'HEAD';
}

/** Whether the caller holds what the route declares (tokens never reach session-only routes). */
function allowed(access: RouteAccess, caller: Caller): boolean {
  if ('public' in access) return true;
  if (caller.role === 'anonymous') return false;
  if (access.sessionOnly) return false;
  if ('signedIn' in access) return true;
  return ROLE_PERMISSIONS[caller.role].has(access.permission);
}

const STATE_CHANGING_ACTIONS = [
  'user',
  'token',
  'camera',
  'event.delete',
  'logout',
  'setup',
  'config',
  'privacy',
  'evidence',
  'approval',
  'recordings.delete',
  'export',
];

describe('an attacker gets nothing through any spelling of any route', { timeout: 600_000 }, () => {
  let vigil: TestVigil;
  let port: number;
  const callers: Caller[] = [];
  const ids = { viewerUser: 0, adminUser: 0, adminToken: 0, segment: 1, lift: 0, lock: 0, approval: 0 };

  /** A concrete path for a route: real ids, so a request that got through would change something real. */
  function concrete(route: RegisteredRoute): string {
    const camera = route.url === '/api/cameras/:id' && route.method !== 'GET' ? 'apicam' : 'cam';
    return route.url
      .replace(':segmentId', String(ids.segment))
      .replace(':range', '0-10.m4s')
      .replace(':liftId', String(ids.lift))
      .replace(':shareId', '1')
      .replace(/^\/api\/cameras\/:id/, `/api/cameras/${camera}`)
      .replace(/^\/api\/users\/:id/, `/api/users/${ids.viewerUser}`)
      .replace(/^\/api\/tokens\/:id/, `/api/tokens/${ids.adminToken}`)
      .replace(/^\/api\/evidence\/:id/, `/api/evidence/${ids.lock}`)
      .replace(/^\/api\/approvals\/:id/, `/api/approvals/${ids.approval}`)
      .replace(':id', '999999');
  }

  /** The body that would do the most harm if the route ran for this caller. */
  function attackBody(route: RegisteredRoute): string | undefined {
    if (route.method === 'GET' || route.method === 'DELETE') return undefined;
    const bodies: Record<string, object> = {
      'POST /api/users': { name: 'mallory', role: 'admin', password: 'correct horse battery staple 9' },
      'PUT /api/users/:id': { role: 'admin', cameras: null },
      'POST /api/tokens': { label: 'stolen' },
      'POST /api/cameras': { id: 'evil', streams: { main: { url: 'testsrc:?size=320x240&fps=5' } } },
      'PUT /api/cameras/:id': { streams: { main: { url: 'rtsp://127.0.0.1:9/evil' } } },
      'POST /api/cameras/probe': { url: 'rtsp://127.0.0.1:9/x' },
      'POST /api/setup': { name: 'mallory', password: 'correct horse battery staple 9' },
      'POST /api/session/password': { currentPassword: PASSWORD, newPassword: 'pwned pwned pwned 99' },
      'POST /api/cameras/:id/privacy/lifts': { reason: 'peek', durationMs: 3_600_000 },
      'POST /api/evidence': { cameraId: 'cam', startTimeMs: 0, endTimeMs: 1000, reason: 'attack' },
      'POST /api/evidence/:id/unlock': { reason: 'attack' },
      'POST /api/approvals/:id/refuse': { reason: 'attack' },
    };
    return JSON.stringify(bodies[`${route.method} ${route.url}`] ?? {});
  }

  function send(route: RegisteredRoute, caller: Caller, target: string, extra: Record<string, string> = {}) {
    const body = attackBody(route);
    return rawRequest(
      port,
      route.method,
      target,
      {
        ...(caller.token ? { authorization: `Bearer ${caller.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...extra,
      },
      body,
    );
  }

  /** Everything an attack could change, as comparable text. */
  async function state(): Promise<Record<string, unknown>> {
    const audit = await vigil.auth.audit.query({ limit: 1000 });
    return {
      users: (await vigil.auth.store.listUsers()).map(
        (u) => `${u.id} ${u.name} ${u.role} ${u.disabled} ${JSON.stringify(u.cameras)}`,
      ),
      tokens: (await vigil.auth.store.listTokens()).map((t) => `${t.id} ${t.userId} ${t.revokedAtMs}`),
      cameras: vigil.cameras
        .list()
        .map((c) => `${c.config.id} ${c.config.enabled} ${JSON.stringify(c.config.streams)}`),
      events: (await vigil.events.store.query({ limit: 500 })).events.length,
      locks: (await vigil.evidence.locks.list({ cameras: null, limit: 1000 })).map(
        (l) => `${l.id} ${l.unlockedAtMs}`,
      ),
      approvals: (await vigil.approvals.list(adminPrincipal())).map((r) => `${r.id} ${r.state}`),
      stateChanges: audit.entries
        .filter((e) => STATE_CHANGING_ACTIONS.some((a) => e.action === a || e.action.startsWith(`${a}.`)))
        .map((e) => `${e.seq} ${e.action} ${e.target}`),
    };
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
`,
      tempDir(),
    );
    port = Number(new URL(vigil.url).port);
    callers.push({ name: 'anonymous', role: 'anonymous', token: null });
    for (const role of ['viewer', 'operator', 'auditor'] as const) {
      const user = await vigil.auth.store.createUser({ name: `${role}1`, role, password: PASSWORD });
      if (role === 'viewer') ids.viewerUser = user.id;
      callers.push({
        name: user.name,
        role,
        token: (await vigil.auth.store.createToken(user.id, { label: 't' })).token,
      });
    }
    callers.push({ name: 'admin', role: 'admin', token: vigil.token });
    const admin = await vigil.auth.store.findUser('admin');
    ids.adminUser = admin?.id ?? 0;
    ids.adminToken = (await vigil.auth.store.listTokens(ids.adminUser))[0]?.id ?? 0;
    // Over a raw socket that closes: the test counts the server's open connections at the end.
    const created = await rawRequest(
      port,
      'POST',
      '/api/cameras',
      { authorization: `Bearer ${vigil.token}`, 'content-type': 'application/json' },
      JSON.stringify({ id: 'apicam', streams: { main: { url: 'testsrc:?size=320x240&fps=5' } } }),
    );
    assert.equal(created.statusCode, 201, created.body);
    const segment = await waitFor(
      'a recording',
      () => vigil.cameras.liveSegment('cam', 'main') ?? undefined,
      20_000,
    );
    ids.segment = segment.id;
    // A lift of the administrator's in force, so that ending it is a real target.
    const lift = await rawRequest(
      port,
      'POST',
      '/api/cameras/cam/privacy/lifts',
      { authorization: `Bearer ${vigil.token}`, 'content-type': 'application/json' },
      JSON.stringify({ reason: 'control', durationMs: 3_600_000 }),
    );
    assert.equal(lift.statusCode, 201, lift.body);
    ids.lift = (JSON.parse(lift.body) as { id: number }).id;
    // A real lock with a pending unlock request: an attack that got through would lift it.
    const adminUser = await vigil.auth.store.getUser(ids.adminUser);
    const lock = await vigil.evidence.lockRange(
      { principal: principalFor(adminUser!), ip: null },
      { cameraId: 'cam', startTimeMs: 0, endTimeMs: 1000, reason: 'attack target', expiresAtMs: null },
    );
    ids.lock = lock.id;
    const asked = await vigil.evidence.requestUnlock(
      { principal: principalFor(adminUser!), ip: null },
      lock.id,
      'x',
    );
    ids.approval = asked.status === 'pending' ? asked.request.id : 0;
  });

  const adminPrincipal = () => ({
    userId: ids.adminUser,
    name: 'admin',
    role: 'admin' as const,
    cameras: null,
    scopes: null,
    via: 'session' as const,
    tokenId: null,
  });

  after(async () => {
    await vigil?.close();
  });

  test('the corpus is sound: the canonical spelling works for an administrator', async () => {
    const get = (path: string) => rawRequest(port, 'GET', path, { authorization: `Bearer ${vigil.token}` });
    assert.equal((await get('/api/users')).statusCode, 200);
    assert.equal((await get('/api/cameras/cam/status')).statusCode, 200);
    for (const spelling of spellings('/api/users', port)) {
      assert.equal(
        requestTargetProblem(spelling.target) === null,
        spelling.canonical,
        `${spelling.name}: ${JSON.stringify(spelling.target)}`,
      );
    }
  });

  test('the reported attack: POST /%61pi/users creates no administrator', async () => {
    const before = await state();
    const res = await rawRequest(
      port,
      'POST',
      '/%61pi/users',
      { 'content-type': 'application/json' },
      JSON.stringify({ name: 'mallory', role: 'admin', password: 'correct horse battery staple 9' }),
    );
    assert.equal(res.statusCode, 400, res.body);
    assert.match(res.body, /PATH_NOT_CANONICAL/);
    assert.equal((await rawRequest(port, 'GET', '/%61pi/users')).statusCode, 400);
    assert.deepEqual(await state(), before);
    assert.ok(!(await vigil.auth.store.findUser('mallory')), 'no user mallory');
  });

  test('every route, every spelling, every caller, over a real socket', async (t: TestContext) => {
    const before = await state();
    const failures: string[] = [];
    let requests = 0;
    const statuses = new Map<number, number>();
    for (const route of vigil.server.vigilRoutes.filter(isApi)) {
      const access = route.access;
      assert.ok(access, `${route.method} ${route.url} declares its access`);
      const path = concrete(route);
      for (const spelling of spellings(path, port)) {
        for (const caller of callers) {
          const mayRun = allowed(access, caller);
          // The administrator's canonical state changes would really happen: they are the control
          // the route-access test covers, not an attack.
          if (spelling.canonical && mayRun && route.method !== 'GET') continue;
          const res: RawResponse = await send(route, caller, spelling.target);
          requests += 1;
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          const ok = res.statusCode >= 200 && res.statusCode < 300;
          const where = `${route.method} ${route.url} as ${caller.name}, ${spelling.name} ${JSON.stringify(spelling.target)}`;
          if (!spelling.canonical && ok)
            failures.push(`${where}: ${res.statusCode}, a non-canonical path got through`);
          if (!spelling.canonical && res.statusCode !== 400 && res.statusCode !== 404) {
            failures.push(`${where}: ${res.statusCode}, expected 400 or 404`);
          }
          if (spelling.canonical && !mayRun && ok)
            failures.push(`${where}: ${res.statusCode} without the permission`);
          if (
            spelling.canonical &&
            caller.role === 'anonymous' &&
            !('public' in access) &&
            res.statusCode !== 401
          ) {
            failures.push(`${where}: ${res.statusCode}, expected 401`);
          }
          if (res.statusCode >= 500) failures.push(`${where}: ${res.statusCode} ${res.body.slice(0, 120)}`);
        }
      }
    }
    t.diagnostic(`${requests} requests; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    assert.deepEqual(failures.slice(0, 30), []);
    assert.deepEqual(await state(), before, 'no user, token, camera or event changed');
  });

  test('WebSocket upgrades: no spelling opens a live or push socket without the permission', async (t: TestContext) => {
    const routes = vigil.server.vigilRoutes.filter(
      (r) => r.method === 'GET' && (r.url === '/api/ws' || r.url.endsWith('/live')),
    );
    assert.equal(routes.length, 2);
    const failures: string[] = [];
    let upgrades = 0;
    for (const route of routes) {
      const access = route.access as RouteAccess;
      for (const spelling of spellings(concrete(route), port)) {
        for (const caller of callers) {
          const res = await send(route, caller, spelling.target, WEBSOCKET_UPGRADE);
          const mayRun = allowed(access, caller);
          if (res.statusCode === 101) upgrades += 1;
          if (res.statusCode === 101 && !(spelling.canonical && mayRun)) {
            failures.push(`${route.url} as ${caller.name}, ${spelling.name}: upgraded`);
          }
          if (spelling.canonical && mayRun && res.statusCode !== 101) {
            failures.push(`${route.url} as ${caller.name}: ${res.statusCode}, the control did not upgrade`);
          }
        }
      }
    }
    t.diagnostic(`${upgrades} upgrades, all canonical and permitted`);
    assert.deepEqual(failures, []);
    // Every socket was closed by the client: none may stay open on the server (a refused upgrade
    // whose socket is never closed is a leak an attacker can repeat, and it holds up shutdown).
    await waitFor(
      'the server to close every upgrade socket',
      () =>
        new Promise<true | undefined>((resolve) =>
          vigil.server.server.getConnections((_err, count) => resolve(count === 0 ? true : undefined)),
        ),
      5_000,
    );
  });

  test('the UI files: no spelling reaches the API or a file outside the UI', async () => {
    const targets = [
      '/assets/../../package.json',
      '/..%2f..%2fpackage.json',
      '/%2e%2e/%2e%2e/package.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/api',
      '/api/',
      '/apix',
      '/index.html/..',
      '//etc/passwd',
      '/\\..\\..\\package.json',
    ];
    for (const target of targets) {
      const res = await rawRequest(port, 'GET', target);
      assert.ok([400, 404].includes(res.statusCode), `${target}: ${res.statusCode}`);
      assert.doesNotMatch(res.body, /"name": "vigil"|root:x:0:0/, target);
    }
    assert.equal((await rawRequest(port, 'GET', '/')).statusCode, 200);
  });

  test('fuzz: random mutations of every route, fixed seed, change nothing', async (t: TestContext) => {
    const before = await state();
    const random = seededRandom(0x5eed);
    const routes = vigil.server.vigilRoutes.filter(isApi);
    const fuzzCallers = callers.filter(
      (c) => c.role === 'anonymous' || c.role === 'auditor' || c.role === 'viewer',
    );
    const failures: string[] = [];
    let nonCanonical = 0;
    const REQUESTS = 3000;
    for (let i = 0; i < REQUESTS; i += 1) {
      const route = routes[Math.floor(random() * routes.length)]!;
      const caller = fuzzCallers[Math.floor(random() * fuzzCallers.length)]!;
      const target = mutate(concrete(route), random);
      const res = await send(route, caller, target);
      const canonical = requestTargetProblem(target) === null;
      if (!canonical) nonCanonical += 1;
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      const where = `${route.method} ${JSON.stringify(target)} as ${caller.name}`;
      if (res.statusCode >= 500) failures.push(`${where}: ${res.statusCode}`);
      if (ok && !canonical) failures.push(`${where}: ${res.statusCode} for a non-canonical path`);
      if (ok && canonical) {
        // A mutation that is still canonical names some route: the caller must hold its access.
        const matched = routeFor(vigil.server.vigilRoutes, route.method, pathOf(target));
        if (!matched?.access || !allowed(matched.access, caller)) {
          failures.push(`${where}: ${res.statusCode} on ${matched?.url ?? 'no route'}`);
        }
      }
    }
    t.diagnostic(`${REQUESTS} fuzzed requests, ${nonCanonical} of them non-canonical`);
    assert.deepEqual(failures.slice(0, 30), []);
    assert.deepEqual(await state(), before, 'no user, token, camera or event changed');
  });
});

/**
 * The route a canonical path matches, as find-my-way would: static segments before parameters,
 * and the UI's catch-all (`/*`) last.
 */
function routeFor(routes: RegisteredRoute[], method: string, path: string): RegisteredRoute | undefined {
  const matches = routes.filter((r) => {
    if (r.method !== method) return false;
    if (r.url === '/*') return true;
    const pattern = r.url
      .split('/')
      .map((s) => (s.startsWith(':') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    return new RegExp(`^${pattern.join('/')}$`).test(path);
  });
  const rank = (r: RegisteredRoute) =>
    r.url === '/*' ? 1000 : r.url.split('/').filter((s) => s.startsWith(':')).length;
  return matches.sort((a, b) => rank(a) - rank(b))[0];
}
