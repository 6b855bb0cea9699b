import type {
  ApiErrorBody,
  CameraListResponse,
  CameraView,
  HealthResponse,
  ProbeResponse,
  RecordingsResponse,
  StreamName,
  SystemResponse,
  MotionPeriodsResponse,
} from '../../src/api/types';
import type { EventsPage, EventView } from '../../src/events/types';

/** An API error as the server words it: the code for logic, the message for people. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const json: unknown = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = (json as ApiErrorBody | null)?.error;
    throw new ApiError(
      error?.code ?? 'HTTP',
      error?.message ?? `${response.status} ${response.statusText}`,
      response.status,
    );
  }
  return json as T;
}

/** The body of POST/PUT /api/cameras: what the camera form edits. */
export interface CameraInput {
  id: string;
  name?: string;
  enabled?: boolean;
  streams: Partial<Record<StreamName, StreamInput>> & { main: StreamInput };
}

export interface StreamInput {
  url: string;
  user?: string;
  password?: string;
  transport?: 'tcp' | 'udp';
}

export const api = {
  health: () => request<HealthResponse>('GET', '/api/health'),
  system: () => request<SystemResponse>('GET', '/api/system'),
  cameras: () => request<CameraListResponse>('GET', '/api/cameras').then((r) => r.cameras),
  addCamera: (camera: CameraInput) => request<CameraView>('POST', '/api/cameras', camera),
  updateCamera: (camera: CameraInput) => request<CameraView>('PUT', `/api/cameras/${camera.id}`, camera),
  removeCamera: (id: string) => request<void>('DELETE', `/api/cameras/${id}`),
  probe: (stream: StreamInput & { camera?: string; stream?: StreamName }) =>
    request<ProbeResponse>('POST', '/api/cameras/probe', stream),
  events: (query: {
    camera?: string;
    label?: string;
    fromMs?: number;
    toMs?: number;
    limit?: number;
    cursor?: string;
  }) => {
    const params = new URLSearchParams();
    if (query.camera) params.set('camera', query.camera);
    if (query.label) params.set('label', query.label);
    if (query.fromMs !== undefined) params.set('from', String(Math.floor(query.fromMs)));
    if (query.toMs !== undefined) params.set('to', String(Math.ceil(query.toMs)));
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.cursor) params.set('cursor', query.cursor);
    return request<EventsPage>('GET', `/api/events?${params.toString()}`);
  },
  event: (id: number) => request<EventView>('GET', `/api/events/${id}`),
  deleteEvent: (id: number) => request<void>('DELETE', `/api/events/${id}`),
  motion: (cameraId: string, fromMs: number, toMs: number) =>
    request<MotionPeriodsResponse>(
      'GET',
      `/api/cameras/${cameraId}/motion?from=${Math.floor(fromMs)}&to=${Math.ceil(toMs)}`,
    ),
  recordings: (cameraId: string, fromMs: number, toMs: number) =>
    request<RecordingsResponse>(
      'GET',
      `/api/cameras/${cameraId}/recordings?from=${Math.floor(fromMs)}&to=${Math.ceil(toMs)}`,
    ),
};

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
