import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CAMERA_PERMISSIONS,
  PERMISSIONS,
  ROLES,
  ROLE_PERMISSIONS,
  assertCan,
  authorize,
  can,
  cameraFilter,
  permissionsOf,
  validateRouteAccess,
  type Permission,
  type Principal,
  type Role,
  type RouteAccess,
} from '../../../src/auth/permissions.js';
import { hasCode } from './helpers.js';

function principal(role: Role, overrides: Partial<Principal> = {}): Principal {
  return {
    userId: 1,
    name: role,
    role,
    cameras: null,
    scopes: null,
    via: 'session',
    tokenId: null,
    ...overrides,
  };
}

const VIDEO: Permission[] = ['live.view', 'playback.view', 'export.create', 'events.view'];

describe('roles', () => {
  test('exactly as the issue says', () => {
    assert.deepEqual([...ROLES], ['admin', 'operator', 'viewer', 'auditor']);
    assert.deepEqual([...ROLE_PERMISSIONS.admin].sort(), [...PERMISSIONS].sort(), 'admin: everything');
    assert.deepEqual([...ROLE_PERMISSIONS.viewer].sort(), ['cameras.view', 'events.view', 'live.view']);
    assert.deepEqual([...ROLE_PERMISSIONS.operator].sort(), [
      'cameras.view',
      'events.delete',
      'events.view',
      'evidence.lock',
      'export.create',
      'live.view',
      'playback.view',
      'ptz.control', // ONVIF PTZ (issue 14): operators steer cameras, audited
      'talk',
    ]);
    assert.deepEqual([...ROLE_PERMISSIONS.auditor], ['audit.view']);
  });

  test('viewers cannot play back or export; auditors see no video; only admins manage', () => {
    const viewer = principal('viewer');
    assert.ok(can(viewer, 'live.view', 'door') && can(viewer, 'events.view', 'door'));
    assert.ok(!can(viewer, 'playback.view', 'door') && !can(viewer, 'export.create', 'door'));
    const auditor = principal('auditor');
    for (const permission of [...VIDEO, 'cameras.view'] as Permission[])
      assert.ok(!can(auditor, permission, 'door'));
    assert.ok(can(auditor, 'audit.view'));
    for (const permission of [
      'users.manage',
      'cameras.manage',
      'settings.manage',
      'system.view',
    ] as Permission[]) {
      assert.ok(can(principal('admin'), permission));
      for (const role of ['operator', 'viewer', 'auditor'] as Role[])
        assert.ok(!can(principal(role), permission));
    }
    assert.ok(!can(principal('operator'), 'audit.view'), 'operators do not read the audit log');
  });
});

describe('per-camera grants', () => {
  test('a user limited to cameras sees only those, on every camera-bound permission', () => {
    const op = principal('operator', { cameras: new Set(['door', 'yard']) });
    assert.ok(can(op, 'live.view', 'door'));
    assert.ok(can(op, 'playback.view', 'yard'));
    assert.ok(!can(op, 'live.view', 'office'));
    assert.ok(!can(op, 'export.create', 'office'));
    assert.ok(can(op, 'live.view'), 'without a camera: on at least one');
    assert.deepEqual(cameraFilter(op, 'events.view'), new Set(['door', 'yard']));
    assert.equal(cameraFilter(principal('operator'), 'events.view'), null, 'null = all cameras');
    assert.deepEqual(
      cameraFilter(op, 'audit.view'),
      new Set(),
      'a permission not held filters out everything',
    );
  });

  test('no cameras granted means no camera-bound permission at all', () => {
    const none = principal('viewer', { cameras: new Set() });
    assert.ok(!can(none, 'live.view'));
    assert.ok(!can(none, 'live.view', 'door'));
  });

  test('admins ignore grants', () => {
    const admin = principal('admin', { cameras: new Set(['door']) });
    assert.ok(can(admin, 'live.view', 'office'));
    assert.equal(cameraFilter(admin, 'live.view'), null);
  });
});

describe('API token scopes', () => {
  test('narrow the role and never widen it', () => {
    const token = principal('operator', {
      via: 'token',
      tokenId: 3,
      scopes: new Set<Permission>(['live.view', 'users.manage']),
    });
    assert.deepEqual([...permissionsOf(token)], ['live.view']);
    assert.ok(can(token, 'live.view', 'door'));
    assert.ok(!can(token, 'playback.view', 'door'));
    assert.ok(!can(token, 'users.manage'), 'a scope beyond the role gives nothing');
    assert.throws(() => assertCan(token, 'playback.view', 'door'), /lacks the scope 'playback.view'/);
  });
});

describe('route access', () => {
  test('every camera-bound permission must say where its camera comes from', () => {
    assert.deepEqual(validateRouteAccess({ permission: 'live.view', camera: { param: 'id' } }), []);
    assert.deepEqual(validateRouteAccess({ permission: 'events.view', camera: 'in-handler' }), []);
    assert.deepEqual(validateRouteAccess({ permission: 'users.manage' }), []);
    assert.deepEqual(validateRouteAccess({ signedIn: true }), []);
    assert.deepEqual(validateRouteAccess({ public: 'load balancers probe it' }), []);
    assert.equal(validateRouteAccess({ permission: 'live.view' }).length, 1);
    assert.equal(validateRouteAccess({ permission: 'users.manage', camera: 'filtered' }).length, 1);
    assert.equal(validateRouteAccess({ public: ' ' }).length, 1);
    assert.equal(validateRouteAccess({ permission: 'nope' as Permission }).length, 1);
    for (const permission of CAMERA_PERMISSIONS) assert.ok(PERMISSIONS.includes(permission));
  });

  test('authorize: anonymous, sessionOnly, path and query cameras', () => {
    const live: RouteAccess = { permission: 'live.view', camera: { param: 'id' } };
    assert.doesNotThrow(() => authorize(null, { public: 'health check' }));
    assert.throws(() => authorize(null, live, { params: { id: 'door' } }), hasCode('AUTH_REQUIRED'));
    assert.throws(() => authorize(null, { signedIn: true }), hasCode('AUTH_REQUIRED'));

    const viewer = principal('viewer', { cameras: new Set(['door']) });
    assert.doesNotThrow(() => authorize(viewer, live, { params: { id: 'door' } }));
    assert.throws(
      () => authorize(viewer, live, { params: { id: 'office' } }),
      (err: unknown) => {
        assert.ok(hasCode('FORBIDDEN')(err));
        assert.match((err as Error).message, /camera 'office' is not among the cameras granted to 'viewer'/);
        return true;
      },
    );
    assert.throws(() => authorize(viewer, live, { params: {} }), hasCode('REQUEST_INVALID'));
    assert.throws(
      () =>
        authorize(
          viewer,
          { permission: 'playback.view', camera: { param: 'id' } },
          { params: { id: 'door' } },
        ),
      /role 'viewer' of 'viewer' does not include 'playback.view'/,
    );

    const events: RouteAccess = { permission: 'events.view', camera: { query: 'camera' } };
    assert.doesNotThrow(() => authorize(viewer, events, { query: { camera: 'door' } }));
    assert.throws(() => authorize(viewer, events, { query: { camera: 'office' } }), hasCode('FORBIDDEN'));
    assert.doesNotThrow(() => authorize(viewer, events, { query: {} }), 'absent: the handler filters');

    const token = principal('admin', { via: 'token', tokenId: 1, scopes: new Set(PERMISSIONS) });
    assert.throws(() => authorize(token, { signedIn: true, sessionOnly: true }), hasCode('FORBIDDEN'));
    assert.doesNotThrow(() => authorize(token, { permission: 'users.manage' }));
    assert.throws(
      () => authorize(token, { permission: 'users.manage', sessionOnly: true }),
      hasCode('FORBIDDEN'),
    );
  });

  test('metrics.view: admins only, and a token may hold just that scope', () => {
    assert.ok(can(principal('admin'), 'metrics.view'));
    for (const role of ['operator', 'viewer', 'auditor'] as Role[])
      assert.ok(!can(principal(role), 'metrics.view'));
    const scraper = principal('admin', {
      via: 'token',
      tokenId: 2,
      scopes: new Set<Permission>(['metrics.view']),
    });
    assert.deepEqual([...permissionsOf(scraper)], ['metrics.view']);
    assert.doesNotThrow(() => authorize(scraper, { permission: 'metrics.view' }));
    assert.throws(() => authorize(scraper, { permission: 'system.view' }), /lacks the scope 'system.view'/);
    assert.throws(() => authorize(scraper, { signedIn: true }), hasCode('FORBIDDEN'));
  });

  test('orFrom: a listed address needs no sign-in; anywhere else the permission decides', () => {
    const listed = { allows: (address: string) => address === '10.0.5.9', key: 'server.metricsAllowFrom' };
    const metrics: RouteAccess = { permission: 'metrics.view', orFrom: listed };
    assert.deepEqual(validateRouteAccess(metrics), []);
    assert.doesNotThrow(() => authorize(null, metrics, { ip: '10.0.5.9' }));
    assert.doesNotThrow(() => authorize(principal('viewer'), metrics, { ip: '10.0.5.9' }));
    assert.throws(
      () => authorize(null, metrics, { ip: '10.0.5.10' }),
      (err: unknown) => {
        assert.ok(hasCode('AUTH_REQUIRED')(err));
        assert.match((err as Error).message, /10\.0\.5\.10 may not call this without a token/);
        return true;
      },
    );
    assert.throws(() => authorize(null, metrics), hasCode('AUTH_REQUIRED'), 'no address: no exception');
    assert.throws(() => authorize(principal('viewer'), metrics, { ip: '10.0.5.10' }), hasCode('FORBIDDEN'));
    assert.doesNotThrow(() => authorize(principal('admin'), metrics, { ip: '10.0.5.10' }));
    assert.equal(
      validateRouteAccess({ permission: 'live.view', camera: { param: 'id' }, orFrom: listed }).length,
      1,
      'camera-bound routes never answer to an address',
    );
    assert.equal(
      validateRouteAccess({ permission: 'metrics.view', sessionOnly: true, orFrom: listed }).length,
      1,
    );
  });
});
