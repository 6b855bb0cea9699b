import { VigilError } from '../errors/catalogue.js';

/**
 * What a signed-in principal may do. Permissions are the unit routes declare; roles are fixed
 * sets of them; per-camera grants narrow the camera-bound permissions of non-admin users.
 */
export const PERMISSIONS = [
  // Camera-bound: always checked against the user's camera grants.
  'cameras.view', // camera list, names, status and analytics status; no video
  'live.view', // live video and current snapshots
  'playback.view', // recordings timeline, VOD playlists, stored segments
  'export.create', // MP4 export of a time range (a copy leaves the system)
  'events.view', // events, their snapshots and clips, motion periods
  'events.delete',
  'unmask', // see through a camera's liftable privacy masks, during a lift (reason, time limit, audited)
  'talk', // speak through a camera's speaker from the live view (ONVIF audio backchannel; audited)
  'evidence.lock', // lock an event or a time range against retention and deletion
  'recordings.delete', // delete a camera's recordings in a time range (never locked evidence)
  'ptz.control', // pan, tilt, zoom a camera and use or change its presets (ONVIF PTZ), audited
  // Global.
  'cameras.manage', // add, change, remove cameras; probe URLs
  'users.manage', // users, roles, camera grants, other users' tokens and sessions
  'settings.manage', // configuration changes made at run time
  'rules.manage', // add, change, remove rules (alerts are read with events.view)
  'system.view', // system page: storage, ingest, versions, logs
  'audit.view', // the audit log and its CSV export
  'metrics.view', // GET /metrics: Prometheus counters of streams, storage, analytics, HTTP
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export const CAMERA_PERMISSIONS: ReadonlySet<Permission> = new Set<Permission>([
  'cameras.view',
  'live.view',
  'playback.view',
  'export.create',
  'events.view',
  'events.delete',
  'unmask',
  'talk',
  'evidence.lock',
  'recordings.delete',
  'ptz.control',
]);

export const ROLES = ['admin', 'operator', 'viewer', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/**
 * The roles, exactly: viewer watches live and sees events; operator also plays back,
 * exports, handles (deletes) events, locks evidence and steers PTZ cameras; auditor reads the audit log and sees no video at all;
 * admin does everything. Anyone signed in may also manage their own password, second factor,
 * sessions and tokens (routes declare those with `signedIn`).
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  admin: new Set(PERMISSIONS),
  operator: new Set<Permission>([
    'cameras.view',
    'live.view',
    'playback.view',
    'export.create',
    'events.view',
    'events.delete',
    'evidence.lock',
    'ptz.control',
    'talk',
  ]),
  viewer: new Set<Permission>(['cameras.view', 'live.view', 'events.view']),
  auditor: new Set<Permission>(['audit.view']),
};

export function isPermission(text: string): text is Permission {
  return (PERMISSIONS as readonly string[]).includes(text);
}

export function isRole(text: string): text is Role {
  return (ROLES as readonly string[]).includes(text);
}

/** Who is asking: a user through a login session or an API token, or Vigil itself. */
export interface Principal {
  userId: number;
  name: string;
  role: Role;
  /** Cameras this user may see; null = all. Ignored for admins. */
  cameras: ReadonlySet<string> | null;
  /** For an API token made with scopes: they only ever narrow the role. Null for sessions and whole-role tokens. */
  scopes: ReadonlySet<Permission> | null;
  via: 'session' | 'token';
  tokenId: number | null;
}

/** The permissions a principal holds: the role's, narrowed by a token's scopes. */
export function permissionsOf(principal: Principal): Set<Permission> {
  const role = ROLE_PERMISSIONS[principal.role];
  return new Set([...role].filter((p) => principal.scopes === null || principal.scopes.has(p)));
}

/** Cameras a principal may use a camera-bound permission on: null = all of them. */
export function cameraFilter(principal: Principal, permission: Permission): ReadonlySet<string> | null {
  if (!permissionsOf(principal).has(permission)) return new Set();
  if (principal.role === 'admin' || !CAMERA_PERMISSIONS.has(permission)) return null;
  return principal.cameras;
}

/**
 * Whether the principal holds the permission, on this camera when one is named. Without a
 * camera, a camera-bound permission answers "on at least one camera": list routes then narrow
 * their results with cameraFilter().
 */
export function can(principal: Principal, permission: Permission, cameraId?: string): boolean {
  if (!permissionsOf(principal).has(permission)) return false;
  const cameras = cameraFilter(principal, permission);
  if (cameras === null) return true;
  return cameraId === undefined ? cameras.size > 0 : cameras.has(cameraId);
}

/** can(), or FORBIDDEN saying what is missing. */
export function assertCan(principal: Principal, permission: Permission, cameraId?: string): void {
  if (can(principal, permission, cameraId)) return;
  const held = permissionsOf(principal).has(permission);
  const what =
    held && cameraId !== undefined
      ? `camera '${cameraId}' is not among the cameras granted to '${principal.name}'`
      : principal.scopes !== null && ROLE_PERMISSIONS[principal.role].has(permission)
        ? `this API token lacks the scope '${permission}'; create a token with it`
        : `the role '${principal.role}' of '${principal.name}' does not include '${permission}'`;
  throw new VigilError('FORBIDDEN', `${what}; ask an administrator if you need it`, {
    permission,
    ...(cameraId !== undefined ? { cameraId } : {}),
  });
}

/**
 * Where a route finds the camera its permission applies to.
 * - `{ param: 'id' }`: a path parameter (`/api/cameras/:id/...`), checked before the handler.
 * - `{ query: 'camera' }`: an optional query parameter, checked when present; when absent the
 *   handler must narrow results with cameraFilter().
 * - `'in-handler'`: the camera is known only after loading something (an event's camera); the
 *   handler must call assertCan(principal, permission, cameraId) once it knows.
 * - `'filtered'`: a list over cameras; the handler narrows it with cameraFilter().
 */
export type CameraSource = { param: string } | { query: string } | 'in-handler' | 'filtered';

/** Client addresses a route also answers without sign-in (server.metricsAllowFrom). */
export interface AddressAllowList {
  /** Whether the connection's own address is listed (IPv4-mapped IPv6 counted as IPv4). */
  allows(address: string): boolean;
  /** The config key that lists the addresses: what descriptions name, never the addresses. */
  readonly key: string;
}

/**
 * What a route requires, declared next to it so that a test can enumerate every route and
 * prove each one declares exactly one of these:
 * - `{ permission, camera? }`: a permission, bound to a camera when the permission is camera-bound
 *   (CAMERA_PERMISSIONS; then `camera` is required, see validateRouteAccess).
 * - `{ signedIn: true }`: any signed-in user (own profile, password, tokens, sign-out).
 * - `{ public: 'why' }`: no sign-in (health check, sign-in itself, first-run setup, the UI's files).
 * `sessionOnly` refuses API tokens (e.g. creating tokens or changing one's password with a token).
 * `orFrom` also lets in a caller from a listed address, signed in or not (Prometheus scraping
 * /metrics); only for a global permission, never a camera-bound or session-only one.
 */
export type RouteAccess =
  | { permission: Permission; camera?: CameraSource; sessionOnly?: boolean; orFrom?: AddressAllowList }
  | { signedIn: true; sessionOnly?: boolean }
  | { public: string };

/** Problems with a route's declaration (for a test over all routes): empty when it is sound. */
export function validateRouteAccess(access: RouteAccess): string[] {
  if ('public' in access)
    return access.public.trim() === '' ? ['a public route must say why it is public'] : [];
  if ('signedIn' in access) return [];
  const problems: string[] = [];
  if (!isPermission(access.permission)) problems.push(`unknown permission '${String(access.permission)}'`);
  const bound = CAMERA_PERMISSIONS.has(access.permission);
  if (bound && access.camera === undefined) {
    problems.push(`'${access.permission}' is camera-bound: declare where the camera comes from`);
  }
  if (!bound && access.camera !== undefined) {
    problems.push(`'${access.permission}' is not camera-bound: drop 'camera'`);
  }
  if (access.orFrom !== undefined && (bound || access.sessionOnly)) {
    problems.push(`'orFrom' lets in callers without a user: not with a camera-bound or session-only route`);
  }
  return problems;
}

export interface RequestParts {
  params?: unknown;
  query?: unknown;
  /** The connection's own address (request.ip without a trusted proxy), for `orFrom`. */
  ip?: string;
}

function field(record: unknown, name: string): string | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  const value = (record as Record<string, unknown>)[name];
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** A token whose scopes leave out part of its role (a token made without scopes holds the whole role). */
export function isNarrowedToken(principal: Principal): boolean {
  const scopes = principal.scopes;
  if (scopes === null) return false;
  return [...ROLE_PERMISSIONS[principal.role]].some((p) => !scopes.has(p));
}

/**
 * The check a route runs before its handler: AUTH_REQUIRED without a principal, FORBIDDEN when
 * the declaration is not met. `principal` is null for anonymous requests.
 */
export function authorize(
  principal: Principal | null,
  access: RouteAccess,
  request: RequestParts = {},
): void {
  if ('public' in access) return;
  const orFrom = 'permission' in access ? access.orFrom : undefined;
  if (orFrom !== undefined && request.ip !== undefined && orFrom.allows(request.ip)) return;
  if (principal === null) {
    throw new VigilError(
      'AUTH_REQUIRED',
      'sign in first, or send an API token as Authorization: Bearer TOKEN (vigil token create makes one)' +
        (orFrom !== undefined ? `; the address ${String(request.ip)} may not call this without a token` : ''),
    );
  }
  if (access.sessionOnly && principal.via !== 'session') {
    throw new VigilError('FORBIDDEN', 'API tokens cannot do this; sign in with a password in the web UI');
  }
  if ('signedIn' in access) {
    // A token's scopes narrow everything it can reach: a token made for watching one thing must
    // not list or revoke its owner's other tokens. Only unscoped tokens manage their owner's account.
    if (isNarrowedToken(principal)) {
      throw new VigilError(
        'FORBIDDEN',
        `this API token is limited to ${[...(principal.scopes ?? [])].join(', ')}; ` +
          'managing your own account needs a token without scopes, or signing in',
      );
    }
    return;
  }
  const source = access.camera;
  let cameraId: string | undefined;
  if (source !== undefined && typeof source === 'object') {
    cameraId = 'param' in source ? field(request.params, source.param) : field(request.query, source.query);
    if (cameraId === undefined && 'param' in source) {
      throw new VigilError('REQUEST_INVALID', `the path lacks the camera parameter '${source.param}'`);
    }
  }
  assertCan(principal, access.permission, cameraId);
}
