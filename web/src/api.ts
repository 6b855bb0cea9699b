import type { LiftListResponse, LiftRequest, LiftView } from '@contract/privacy';
import type {
  AuditPageResponse,
  AuditVerifyResponse,
  CreatedToken,
  NewUser,
  SessionResponse,
  TokenView,
  UserChanges,
  UserView,
} from '@contract/auth';
import type {
  CameraInput,
  CameraListResponse,
  CameraView,
  ProbeRequest,
  ProbeResponse,
  StreamName,
} from '@contract/cameras';
import type { ApiErrorBody } from '@contract/errors';
import type { DiscoverResponse, OnvifProbeResponse, PtzPreset, PtzPresetList } from '@contract/onvif';
import type {
  CreatedShare,
  CreateExportBody,
  ExportList,
  ExportView,
  ShareList,
  ShareView,
  SigningKeyResponse,
  VerifyResponse,
} from '@contract/exports';
import type {
  CameraEventsResponse,
  MotionPeriodsResponse,
  RecordingsResponse,
  RedactedExportRequest,
} from '@contract/recordings';
import type { EventsPage, EventView } from '@contract/events';
import type { CountBucketSize, HeatMap, SceneCounts } from '@contract/scene';
import type { HealthResponse, PrivacyNoticeResponse, SystemResponse } from '@contract/system';
import type { ApprovalList, ApprovalOutcome, ApprovalView } from '@contract/approvals';
import type { EvidenceLockList, EvidenceLockView } from '@contract/evidence';
import type { AlertsPage, AlertsReviewed, AlertView } from '@contract/alerts';
import type { RuleDefinition, RulesList, RuleView } from '@contract/rules';
import type {
  PushKeyResponse,
  PushSubscriptionBody,
  PushSubscriptionList,
  PushSubscriptionView,
  WebhookDeliveryList,
  WebhookDeliveryView,
  WebhookList,
} from '@contract/notify';

/** An API error as the server words it: the code for logic, the message for people. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** PASSWORD_WEAK lists every problem of the password: their messages, to show them all. */
  get problems(): string[] {
    const problems = this.details.problems;
    if (!Array.isArray(problems)) return [];
    return problems
      .map((p: unknown) =>
        typeof p === 'object' && p !== null ? (p as { message?: unknown }).message : null,
      )
      .filter((m): m is string => typeof m === 'string');
  }
}

/** The session's CSRF token: sent back on every request that changes something. */
let csrfToken: string | null = null;
let onAuthRequired: () => void = () => undefined;

/** What to do when the server says the browser is not signed in (any more): the app shows sign-in. */
export function setAuthRequiredHandler(handler: () => void): void {
  onAuthRequired = handler;
}

function rememberSession(session: SessionResponse): SessionResponse {
  csrfToken = session.csrfToken;
  return session;
}

export function forgetSession(): void {
  csrfToken = null;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function send(method: string, path: string, body?: unknown): Promise<Response> {
  // A file goes as it is (a bundle to verify); anything else as JSON.
  const file = body instanceof Blob;
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = file ? 'application/zip' : 'application/json';
  if (STATE_CHANGING.has(method) && csrfToken) headers['x-csrf-token'] = csrfToken;
  return fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? null : file ? body : JSON.stringify(body),
  });
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await send(method, path, body);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const error = (json as ApiErrorBody | null)?.error;
    const failure = new ApiError(
      error?.code ?? 'HTTP',
      error?.message ?? `${response.status} ${response.statusText}`,
      response.status,
      error?.details ?? {},
    );
    if (failure.status === 401 && failure.code === 'AUTH_REQUIRED') {
      csrfToken = null;
      onAuthRequired();
    }
    throw failure;
  }
  return json as T;
}

export interface AuditFilters {
  /** Epoch milliseconds. */
  fromMs?: number;
  toMs?: number;
  actor?: string;
  /** A subject such as 'login' matches 'login' and every 'login.*'. */
  action?: string;
  target?: string;
}

function auditParams(filters: AuditFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.fromMs !== undefined) params.set('from', String(Math.floor(filters.fromMs)));
  if (filters.toMs !== undefined) params.set('to', String(Math.ceil(filters.toMs)));
  if (filters.actor) params.set('actor', filters.actor);
  if (filters.action) params.set('action', filters.action);
  if (filters.target) params.set('target', filters.target);
  return params;
}

export function auditCsvUrl(filters: AuditFilters): string {
  const query = auditParams(filters).toString();
  return `/api/audit.csv${query ? `?${query}` : ''}`;
}

/** Query of the insights routes: a period, and for counts the bucket size. */
function insightParams(fromMs: number, toMs: number, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({
    from: String(Math.floor(fromMs)),
    to: String(Math.ceil(toMs)),
    ...extra,
  });
  return params.toString();
}

/** The CSV of a camera's counts (B's route), for a download link. */
export function countsCsvUrl(
  cameraId: string,
  fromMs: number,
  toMs: number,
  bucket: CountBucketSize,
): string {
  return `/api/cameras/${encodeURIComponent(cameraId)}/counts.csv?${insightParams(fromMs, toMs, { bucket })}`;
}

export const api = {
  session: () => request<SessionResponse>('GET', '/api/session').then(rememberSession),
  setup: (name: string, password: string) =>
    request<SessionResponse>('POST', '/api/setup', { name, password }).then(rememberSession),
  signIn: (name: string, password: string, totp?: string) =>
    request<SessionResponse>('POST', '/api/session', { name, password, ...(totp ? { totp } : {}) }).then(
      rememberSession,
    ),
  signOut: () => request<void>('DELETE', '/api/session').then(forgetSession),
  signOutEverywhere: () => request<void>('POST', '/api/session/logout-everywhere').then(forgetSession),
  changePassword: (currentPassword: string, newPassword: string) =>
    request<void>('POST', '/api/session/password', { currentPassword, newPassword }),
  users: () => request<{ users: UserView[] }>('GET', '/api/users').then((r) => r.users),
  addUser: (user: NewUser) => request<UserView>('POST', '/api/users', user),
  updateUser: (id: number, changes: UserChanges) => request<UserView>('PUT', `/api/users/${id}`, changes),
  deleteUser: (id: number) => request<void>('DELETE', `/api/users/${id}`),
  tokens: () => request<{ tokens: TokenView[] }>('GET', '/api/tokens').then((r) => r.tokens),
  createToken: (label: string, scopes?: string[]) =>
    request<CreatedToken>('POST', '/api/tokens', { label, ...(scopes ? { scopes } : {}) }),
  revokeToken: (id: number) => request<void>('DELETE', `/api/tokens/${id}`),
  audit: (filters: AuditFilters, page: { limit?: number; cursor?: string } = {}) => {
    const params = auditParams(filters);
    if (page.limit !== undefined) params.set('limit', String(page.limit));
    if (page.cursor) params.set('cursor', page.cursor);
    return request<AuditPageResponse>('GET', `/api/audit?${params.toString()}`);
  },
  verifyAudit: () => request<AuditVerifyResponse>('GET', '/api/audit/verify'),
  health: () => request<HealthResponse>('GET', '/api/health'),
  system: () => request<SystemResponse>('GET', '/api/system'),
  privacyNotice: () => request<PrivacyNoticeResponse>('GET', '/api/system/privacy-notice'),
  cameras: () => request<CameraListResponse>('GET', '/api/cameras').then((r) => r.cameras),
  addCamera: (camera: CameraInput) => request<CameraView>('POST', '/api/cameras', camera),
  updateCamera: (camera: CameraInput) => request<CameraView>('PUT', `/api/cameras/${camera.id}`, camera),
  removeCamera: (id: string) => request<void>('DELETE', `/api/cameras/${id}`),
  lifts: (cameraId: string) =>
    request<LiftListResponse>('GET', `/api/cameras/${encodeURIComponent(cameraId)}/privacy/lifts`).then(
      (r) => r.lifts,
    ),
  startLift: (cameraId: string, lift: LiftRequest) =>
    // 201 with the lift, or 202 with a pending request where a second user must approve it.
    request<LiftView | ApprovalOutcome>(
      'POST',
      `/api/cameras/${encodeURIComponent(cameraId)}/privacy/lifts`,
      lift,
    ),
  endLift: (cameraId: string, liftId: number) =>
    request<void>('DELETE', `/api/cameras/${encodeURIComponent(cameraId)}/privacy/lifts/${liftId}`),
  probe: (stream: ProbeRequest) => request<ProbeResponse>('POST', '/api/cameras/probe', stream),
  rules: () => request<RulesList>('GET', '/api/rules').then((r) => r.rules),
  createRule: (rule: RuleDefinition) => request<RuleView>('POST', '/api/rules', rule),
  updateRule: (rule: RuleDefinition) =>
    request<RuleView>('PUT', `/api/rules/${encodeURIComponent(rule.id)}`, rule),
  deleteRule: (id: string) => request<void>('DELETE', `/api/rules/${encodeURIComponent(id)}`),
  alerts: (query: { camera?: string; reviewed?: boolean; limit?: number; cursor?: string }) => {
    const params = new URLSearchParams();
    if (query.camera) params.set('camera', query.camera);
    if (query.reviewed !== undefined) params.set('reviewed', String(query.reviewed));
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.cursor) params.set('cursor', query.cursor);
    return request<AlertsPage>('GET', `/api/alerts?${params.toString()}`);
  },
  reviewAlert: (id: number) => request<AlertView>('POST', `/api/alerts/${id}/review`),
  /** Without ids: every alert the user may see ("mark all reviewed"). */
  reviewAlerts: (ids?: number[]) =>
    request<AlertsReviewed>('POST', '/api/alerts/review', ids === undefined ? {} : { ids }),
  discoverOnvif: () => request<DiscoverResponse>('POST', '/api/onvif/discover', {}),
  probeOnvif: (device: { address: string; user: string; password: string }) =>
    request<OnvifProbeResponse>('POST', '/api/onvif/probe', device),
  ptzMove: (cameraId: string, speed: { pan: number; tilt: number; zoom: number }) =>
    request<void>('POST', `${ptzBase(cameraId)}/move`, speed),
  ptzStop: (cameraId: string) => request<void>('POST', `${ptzBase(cameraId)}/stop`),
  ptzHome: (cameraId: string) => request<void>('POST', `${ptzBase(cameraId)}/home`),
  ptzPresets: (cameraId: string) =>
    request<PtzPresetList>('GET', `${ptzBase(cameraId)}/presets`).then((r) => r.presets),
  ptzSavePreset: (cameraId: string, name: string) =>
    request<PtzPreset>('POST', `${ptzBase(cameraId)}/presets`, { name }),
  ptzGotoPreset: (cameraId: string, token: string) =>
    request<void>('POST', `${ptzBase(cameraId)}/presets/${encodeURIComponent(token)}/goto`),
  ptzRemovePreset: (cameraId: string, token: string) =>
    request<void>('DELETE', `${ptzBase(cameraId)}/presets/${encodeURIComponent(token)}`),
  events: (query: {
    camera?: string;
    label?: string;
    kind?: 'alert' | 'detection';
    fromMs?: number;
    toMs?: number;
    limit?: number;
    cursor?: string;
  }) => {
    const params = new URLSearchParams();
    if (query.camera) params.set('camera', query.camera);
    if (query.label) params.set('label', query.label);
    if (query.kind) params.set('kind', query.kind);
    if (query.fromMs !== undefined) params.set('from', String(Math.floor(query.fromMs)));
    if (query.toMs !== undefined) params.set('to', String(Math.ceil(query.toMs)));
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.cursor) params.set('cursor', query.cursor);
    return request<EventsPage>('GET', `/api/events?${params.toString()}`);
  },
  event: (id: number) => request<EventView>('GET', `/api/events/${id}`),
  /** Answers the pending request when deleting events needs a second user's approval. */
  deleteEvent: (id: number, reason = '') =>
    request<ApprovalOutcome | undefined>(
      'DELETE',
      `/api/events/${id}${reason ? `?reason=${encodeURIComponent(reason)}` : ''}`,
    ),
  evidence: (query: { camera?: string; fromMs?: number; toMs?: number; eventId?: number }) => {
    const params = new URLSearchParams();
    if (query.camera) params.set('camera', query.camera);
    if (query.fromMs !== undefined) params.set('from', String(Math.floor(query.fromMs)));
    if (query.toMs !== undefined) params.set('to', String(Math.ceil(query.toMs)));
    if (query.eventId !== undefined) params.set('event', String(query.eventId));
    return request<EvidenceLockList>('GET', `/api/evidence?${params.toString()}`).then((r) => r.locks);
  },
  lockEvent: (eventId: number, reason: string, expiresAtMs: number | null) =>
    request<EvidenceLockView>('POST', '/api/evidence', { eventId, reason, expiresAtMs }),
  lockRange: (
    cameraId: string,
    startTimeMs: number,
    endTimeMs: number,
    reason: string,
    expiresAtMs: number | null,
  ) =>
    request<EvidenceLockView>('POST', '/api/evidence', {
      cameraId,
      startTimeMs,
      endTimeMs,
      reason,
      expiresAtMs,
    }),
  requestUnlock: (lockId: number, reason: string) =>
    request<ApprovalOutcome>('POST', `/api/evidence/${lockId}/unlock`, { reason }),
  approvals: (state?: string) =>
    request<ApprovalList>('GET', `/api/approvals${state ? `?state=${state}` : ''}`).then((r) => r.requests),
  approve: (id: number) => request<ApprovalView>('POST', `/api/approvals/${id}/approve`),
  refuse: (id: number, reason: string) =>
    request<ApprovalView>('POST', `/api/approvals/${id}/refuse`, { reason }),
  cancelApproval: (id: number) => request<ApprovalView>('POST', `/api/approvals/${id}/cancel`),
  heatMap: (cameraId: string, fromMs: number, toMs: number, label: string) =>
    request<HeatMap>(
      'GET',
      `/api/cameras/${encodeURIComponent(cameraId)}/heatmap?${insightParams(fromMs, toMs, label ? { label } : {})}`,
    ),
  /** Null when the camera counts nothing (no lines or zones, or a Vigil without counting: 404). */
  counts: (cameraId: string, fromMs: number, toMs: number, bucket: CountBucketSize) =>
    request<SceneCounts>(
      'GET',
      `/api/cameras/${encodeURIComponent(cameraId)}/counts?${insightParams(fromMs, toMs, { bucket })}`,
    ).catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 404 && err.code !== 'CAMERA_NOT_FOUND') return null;
      throw err;
    }),
  motion: (cameraId: string, fromMs: number, toMs: number) =>
    request<MotionPeriodsResponse>(
      'GET',
      `/api/cameras/${cameraId}/motion?from=${Math.floor(fromMs)}&to=${Math.ceil(toMs)}`,
    ),
  cameraEvents: (cameraId: string, fromMs: number, toMs: number) =>
    request<CameraEventsResponse>(
      'GET',
      `/api/cameras/${cameraId}/camera-events?from=${Math.floor(fromMs)}&to=${Math.ceil(toMs)}`,
    ),
  createExport: (cameraId: string, body: CreateExportBody) =>
    request<ExportView>('POST', `/api/cameras/${cameraId}/exports`, body),
  exports: () => request<ExportList>('GET', '/api/exports').then((r) => r.exports),
  shares: (exportId: number) =>
    request<ShareList>('GET', `/api/exports/${exportId}/shares`).then((r) => r.shares),
  createShare: (exportId: number, recipient: string, expiresInMs: number) =>
    request<CreatedShare>('POST', `/api/exports/${exportId}/shares`, { recipient, expiresInMs }),
  revokeShare: (exportId: number, shareId: number) =>
    request<ShareView>('DELETE', `/api/exports/${exportId}/shares/${shareId}`),
  deleteExport: (exportId: number) => request<void>('DELETE', `/api/exports/${exportId}`),
  signingKey: () => request<SigningKeyResponse>('GET', '/api/system/signing-key'),
  verifyBundle: (file: Blob) => request<VerifyResponse>('POST', '/api/verify', file),
  recordings: (cameraId: string, fromMs: number, toMs: number) =>
    request<RecordingsResponse>(
      'GET',
      `/api/cameras/${cameraId}/recordings?from=${Math.floor(fromMs)}&to=${Math.ceil(toMs)}`,
    ),
  webhooks: () => request<WebhookList>('GET', '/api/notify/webhooks').then((r) => r.webhooks),
  webhookDeliveries: () =>
    request<WebhookDeliveryList>('GET', '/api/notify/deliveries?limit=20').then((r) => r.deliveries),
  testWebhook: (id: string) =>
    request<WebhookDeliveryView>('POST', `/api/notify/webhooks/${encodeURIComponent(id)}/test`),
  pushKey: () => request<PushKeyResponse>('GET', '/api/push/key'),
  pushSubscriptions: () =>
    request<PushSubscriptionList>('GET', '/api/push/subscriptions').then((r) => r.subscriptions),
  subscribePush: (body: PushSubscriptionBody) =>
    request<PushSubscriptionView>('POST', '/api/push/subscriptions', body),
  unsubscribePush: (id: number) => request<void>('DELETE', `/api/push/subscriptions/${id}`),
};

/** A redacted MP4 of a range (faces or everyone but one event's person pixelated), as a file to save. */
export async function redactedExport(cameraId: string, body: RedactedExportRequest): Promise<Blob> {
  const response = await send('POST', `/api/cameras/${cameraId}/redacted-export`, body);
  if (response.ok) return response.blob();
  const error = ((await response.json().catch(() => null)) as ApiErrorBody | null)?.error;
  throw new ApiError(
    error?.code ?? 'HTTP',
    error?.message ?? `${response.status} ${response.statusText}`,
    response.status,
    error?.details ?? {},
  );
}

function ptzBase(cameraId: string): string {
  return `/api/cameras/${encodeURIComponent(cameraId)}/ptz`;
}

export function vodUrl(cameraId: string, fromMs: number, toMs: number): string {
  return `/api/cameras/${cameraId}/vod.m3u8?from=${Math.floor(fromMs)}&to=${Math.ceil(toMs)}`;
}

export function exportUrl(cameraId: string, fromMs: number, toMs: number): string {
  return `/api/cameras/${cameraId}/export.mp4?from=${Math.floor(fromMs)}&to=${Math.ceil(toMs)}`;
}

export function liveSocketUrl(cameraId: string, stream: StreamName): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api/cameras/${cameraId}/live?stream=${stream}`;
}

export function liveHlsUrl(cameraId: string, stream: StreamName): string {
  return `/api/cameras/${cameraId}/live.m3u8?stream=${stream}`;
}

/** The stream a tile shows: the sub stream in grids (less to decode), main when focused. */
export function streamFor(camera: CameraView, focused: boolean): StreamName {
  return !focused && camera.streams.sub ? 'sub' : 'main';
}

export function pushSocketUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api/ws`;
}
