import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { CameraRuntime } from '../../app/camera-manager.js';
import { redactCamera, validateCamera, type CameraConfig, type StreamConfig } from '../../config/index.js';
import { formatOrigin, sameOrigin, urlOrigin, type CameraNetworks } from '../../config/url.js';
import { VigilError } from '../../errors/catalogue.js';
import type { ApiContext } from '../context.js';
import { can, cameraFilter } from '../../auth/permissions.js';
import { actorOf, auditTarget, type AuditAction } from '../../audit/entry.js';
import { probeStream } from '../../ingest/probe.js';
import { checkCameraNetwork } from '../../ingest/sources.js';
import { clientIp, principalOf } from '../auth-hooks.js';
import { cameraIdParams, probeBody, type CameraIdParams, type ProbeBody } from '../schemas.js';
import type { CameraView, ProbeResponse } from '../../contract/cameras.js';

/** Long enough for a camera on a slow link to answer and send a keyframe; short enough to wait for. */
const PROBE_TIMEOUT_MS = 15_000;
/** What stopping a probe's ffmpeg may take beyond the limit (SIGTERM, then SIGKILL 3 s later). */
const PROBE_STOP_MS = 3_000;
/**
 * Probes running at once. Each is an ffmpeg connecting to an address the caller chose: a few are
 * enough for a camera form, and the cap keeps the probe from being a port scanner or a way to
 * tie up the recorder's CPU.
 */
const MAX_CONCURRENT_PROBES = 2;

/**
 * The camera as the caller may see it. The camera's user name is half of its login (often the
 * camera's own admin account): only callers who manage cameras (the edit form) see it.
 */
function cameraView(ctx: ApiContext, camera: CameraRuntime, request: FastifyRequest): CameraView {
  const showUser = can(principalOf(request), 'cameras.manage');
  return {
    id: camera.config.id,
    name: camera.config.name,
    enabled: camera.config.enabled,
    source: camera.source,
    retention: camera.config.retention ?? null,
    streams: Object.fromEntries(
      ctx.cameras.viewStreams(camera).map((s) => [s.name, showUser ? s : { ...s, user: null }]),
    ),
  };
}

function parseCameraBody(body: unknown, idFromPath?: string): CameraConfig {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new VigilError('REQUEST_INVALID', 'the body must be a JSON object describing the camera');
  }
  const candidate = idFromPath === undefined ? body : { id: idFromPath, ...body };
  if (idFromPath !== undefined && 'id' in body && (body as { id: unknown }).id !== idFromPath) {
    throw new VigilError(
      'REQUEST_INVALID',
      `body.id '${String((body as { id: unknown }).id)}' differs from the id in the path '${idFromPath}'`,
    );
  }
  const result = validateCamera(candidate, 'body', { origin: 'api' });
  if (!result.ok) {
    throw new VigilError(
      'REQUEST_INVALID',
      result.problems.map((p) => `${p.path}: ${p.message}`).join('; '),
      {
        problems: result.problems,
      },
    );
  }
  return result.camera;
}

/**
 * The stored password of a stream, for a request that sends none, only when the new URL goes to
 * the same scheme, host and port as the stored one: otherwise anyone who may edit cameras could
 * send the camera's password to a machine of their choosing by changing the host.
 */
function storedPasswordFor(url: string, stored: StreamConfig, field: string, what: string): string {
  if (stored.password === undefined || sameOrigin(url, stored.url)) return stored.password ?? '';
  const storedOrigin = urlOrigin(stored.url);
  throw new VigilError(
    'CAMERA_PASSWORD_REQUIRED',
    `${field}: the stored password of ${what} is only sent to ` +
      `${storedOrigin ? formatOrigin(storedOrigin) : 'its own address'}; this URL names another scheme, ` +
      'host or port, so send the password with it',
    { field },
  );
}

/**
 * A form that edits a camera never sees its passwords (no response carries them), so a stream
 * sent without a `password` key keeps the one stored, if its URL still goes to the same scheme,
 * host and port; `"password": ""` removes it.
 */
function keepPasswords(camera: CameraConfig, current: CameraConfig, body: unknown): CameraConfig {
  const sentStreams = (body as { streams?: Record<string, object | undefined> }).streams ?? {};
  const streams = { ...camera.streams };
  for (const name of ['main', 'sub'] as const) {
    const stream = streams[name];
    const sent = sentStreams[name];
    if (!stream || !sent || 'password' in sent || stream.password !== undefined) continue;
    const stored = current.streams[name];
    if (stored?.password === undefined) continue;
    const password = storedPasswordFor(
      stream.url,
      stored,
      `body.streams.${name}.password`,
      `camera '${current.id}' stream '${name}'`,
    );
    streams[name] = { ...stream, password };
  }
  return { ...camera, streams: streams as CameraConfig['streams'] };
}

/** security.cameraNetworks for a camera sent through the API: each stream's host must resolve inside. */
async function assertCameraNetworks(
  camera: CameraConfig,
  networks: CameraNetworks | undefined,
): Promise<void> {
  if (!networks) return;
  for (const [name, stream] of Object.entries(camera.streams)) {
    if (!stream) continue;
    await assertStreamNetwork(stream.url, networks, `body.streams.${name}.url`);
  }
}

async function assertStreamNetwork(
  url: string,
  networks: CameraNetworks | undefined,
  field: string,
): Promise<void> {
  const refused = await checkCameraNetwork(url, networks);
  if (refused) {
    throw new VigilError('CAMERA_NETWORK_REFUSED', `${field}: ${refused.message}`, {
      field,
      cameraNetworks: networks?.cidrs ?? [],
    });
  }
}

function assertApiManaged(camera: CameraRuntime): void {
  if (camera.source === 'config') {
    throw new VigilError(
      'CAMERA_FROM_CONFIG',
      `camera '${camera.config.id}' is defined in the configuration file; change it there and restart`,
    );
  }
}

/** Camera changes are configuration changes: audited with the camera as sent, minus passwords. */
function auditCamera(
  ctx: ApiContext,
  request: FastifyRequest,
  action: AuditAction,
  camera: CameraConfig | string,
): void {
  const id = typeof camera === 'string' ? camera : camera.id;
  ctx.auth.record({
    actor: actorOf(principalOf(request)),
    action,
    target: auditTarget.camera(id),
    ...(typeof camera === 'string' ? {} : { details: { camera: redactCamera(camera) } }),
    ip: clientIp(request),
  });
}

export function cameraRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/api/cameras',
      { config: { access: { permission: 'cameras.view', camera: 'filtered' } } },
      async (request) => {
        const granted = cameraFilter(principalOf(request), 'cameras.view');
        const cameras = ctx.cameras.list().filter((c) => granted === null || granted.has(c.config.id));
        return { cameras: cameras.map((c) => cameraView(ctx, c, request)) };
      },
    );

    app.get<{ Params: CameraIdParams }>(
      '/api/cameras/:id',
      {
        schema: { params: cameraIdParams },
        config: { access: { permission: 'cameras.view', camera: { param: 'id' } } },
      },
      async (request) => cameraView(ctx, ctx.cameras.get(request.params.id), request),
    );

    app.get<{ Params: CameraIdParams }>(
      '/api/cameras/:id/status',
      {
        schema: { params: cameraIdParams },
        config: { access: { permission: 'cameras.view', camera: { param: 'id' } } },
      },
      async (request) => {
        const camera = ctx.cameras.get(request.params.id);
        const oldestMs = await ctx.index.oldestStartTimeMs(camera.config.id);
        return {
          id: camera.config.id,
          streams: Object.fromEntries(
            ctx.cameras.viewStreams(camera).map((s) => [s.name, { ...s.status, recording: s.recording }]),
          ),
          oldestRecordingMs: oldestMs,
        };
      },
    );

    /** Start times of the probes running now (at most MAX_CONCURRENT_PROBES). */
    const probesRunning: number[] = [];

    /**
     * "Test connection" for the camera form: pulls the stream once, as recording would, and says
     * what it found or exactly what is wrong. `camera` + `stream` name a camera being edited, so
     * its stored password is used when the form sends none, if the URL still goes to the same
     * scheme, host and port. At most MAX_CONCURRENT_PROBES at once, each PROBE_TIMEOUT_MS at most.
     */
    app.post<{ Body: ProbeBody }>(
      '/api/cameras/probe',
      { schema: { body: probeBody }, config: { access: { permission: 'cameras.manage' } } },
      async (request): Promise<ProbeResponse> => {
        const nowMs = ctx.clock.nowMs();
        if (probesRunning.length >= MAX_CONCURRENT_PROBES) {
          const endsAtMs = Math.min(...probesRunning) + PROBE_TIMEOUT_MS + PROBE_STOP_MS;
          throw new VigilError(
            'PROBE_BUSY',
            `${MAX_CONCURRENT_PROBES} connection tests are running already; retry when one has finished`,
            { retryAfterMs: Math.max(1000, endsAtMs - nowMs) },
          );
        }
        probesRunning.push(nowMs);
        try {
          return await probe(request.body);
        } finally {
          probesRunning.splice(probesRunning.indexOf(nowMs), 1);
        }
      },
    );

    const probe = async (body: ProbeBody): Promise<ProbeResponse> => {
      const { camera: cameraId, stream: streamName, ...streamBody } = body;
      const validate = (stream: object) => {
        const result = validateCamera({ id: 'probe', streams: { main: stream } }, 'body', { origin: 'api' });
        if (!result.ok) {
          throw new VigilError(
            'REQUEST_INVALID',
            result.problems
              .map((p) => `${p.path.replace('body.streams.main', 'body')}: ${p.message}`)
              .join('; '),
          );
        }
        return result.camera.streams.main;
      };
      let spec = validate(streamBody);
      const stored =
        cameraId !== undefined && ctx.cameras.has(cameraId)
          ? ctx.cameras.get(cameraId).config.streams[streamName ?? 'main']
          : undefined;
      // A password in the body (or in the URL) wins; "password": "" means none.
      if (!('password' in streamBody) && spec.password === undefined && stored?.password !== undefined) {
        const password = storedPasswordFor(
          spec.url,
          stored,
          'body.password',
          `camera '${cameraId ?? ''}' stream '${streamName ?? 'main'}'`,
        );
        spec = validate({ ...streamBody, password });
      }
      await assertStreamNetwork(spec.url, ctx.cameras.cameraNetworks, 'body.url');
      return probeStream(spec, {
        ffmpeg: ctx.ffmpeg,
        clock: ctx.clock,
        log: ctx.log.child({ component: 'probe' }),
        timeoutMs: PROBE_TIMEOUT_MS,
        cameraNetworks: ctx.cameras.cameraNetworks,
      });
    };

    app.post(
      '/api/cameras',
      { config: { access: { permission: 'cameras.manage' } } },
      async (request, reply) => {
        const camera = parseCameraBody(request.body);
        if (ctx.cameras.has(camera.id)) {
          throw new VigilError(
            'CAMERA_EXISTS',
            `a camera '${camera.id}' exists already; use PUT /api/cameras/${camera.id}`,
          );
        }
        await assertCameraNetworks(camera, ctx.cameras.cameraNetworks);
        await ctx.cameraStore.put(camera, ctx.clock.nowMs());
        const runtime = await ctx.cameras.add(camera, 'api');
        auditCamera(ctx, request, 'camera.create', camera);
        return reply.code(201).send(cameraView(ctx, runtime, request));
      },
    );

    app.put<{ Params: CameraIdParams }>(
      '/api/cameras/:id',
      { schema: { params: cameraIdParams }, config: { access: { permission: 'cameras.manage' } } },
      async (request) => {
        const current = ctx.cameras.get(request.params.id);
        assertApiManaged(current);
        const camera = keepPasswords(
          parseCameraBody(request.body, request.params.id),
          current.config,
          request.body,
        );
        await assertCameraNetworks(camera, ctx.cameras.cameraNetworks);
        await ctx.cameraStore.put(camera, ctx.clock.nowMs());
        auditCamera(ctx, request, 'camera.update', camera);
        return cameraView(ctx, await ctx.cameras.replace(camera, 'api'), request);
      },
    );

    app.delete<{ Params: CameraIdParams }>(
      '/api/cameras/:id',
      { schema: { params: cameraIdParams }, config: { access: { permission: 'cameras.manage' } } },
      async (request, reply) => {
        assertApiManaged(ctx.cameras.get(request.params.id));
        await ctx.cameras.remove(request.params.id);
        await ctx.cameraStore.delete(request.params.id);
        auditCamera(ctx, request, 'camera.delete', request.params.id);
        return reply.code(204).send();
      },
    );
  };
}
