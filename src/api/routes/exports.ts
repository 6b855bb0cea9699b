import type { FfmpegBinary } from '../../ingest/ffmpeg-binary.js';
import { redactionTransform } from '../../privacy/redaction/index.js';
import type { MaskPolicy } from '../../privacy/mask-policy.js';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { assertCan, cameraFilter, type Principal } from '../../auth/permissions.js';
import type { CameraManager } from '../../camera/camera-manager.js';
import type {
  CreatedShare,
  ExportList,
  ExportView,
  ShareList,
  ShareView,
  SigningKeyResponse,
  VerifyResponse,
} from '../../contract/exports.js';
import { VigilError } from '../../errors/catalogue.js';
import type { ExportService } from '../../export/service.js';
import type { ExportRecord, ShareRecord } from '../../export/store.js';
import { describeVerdict, type Verdict } from '../../export/verify.js';
import { parseRangeParams } from '../../time/parse.js';
import type { Clock } from '../../time/clock.js';
import { clientIp, principalOf, requesterOf } from '../auth-hooks.js';
import { errors, json, media, noBody, type Tag } from '../openapi.js';
import {
  createdShare,
  exportList,
  exportView,
  shareList,
  shareView,
  signingKeyResponse,
  verifyResponse,
} from '../response-schemas.js';
import { cameraIdParams, streamName } from '../schemas.js';

const tags: Tag[] = ['exports'];
const HOUR_MS = 3_600_000;
const ZIP = 'application/zip';

export interface ExportRouteDeps {
  exports: ExportService;
  cameras: Pick<CameraManager, 'get'>;
  clock: Clock;
  /** A bundle is masked for its exporter: others who may not see under the masks do not get it. */
  masks: Pick<MaskPolicy, 'masksFor'>;
  /** Runs face redaction when a bundle asks for it. */
  ffmpeg: FfmpegBinary;
}

const createExportBody = Type.Object(
  {
    from: Type.String({ minLength: 1, maxLength: 40, description: 'Start, ISO-8601 or epoch ms.' }),
    to: Type.String({ minLength: 1, maxLength: 40, description: 'End (excluded), ISO-8601 or epoch ms.' }),
    stream: Type.Optional(streamName),
    reason: Type.String({ minLength: 1, maxLength: 1000, description: 'Why the export is made (required).' }),
    redact: Type.Optional(
      Type.Literal('faces', {
        description:
          'Blur every face in the video (face detection, never identification) before signing; the manifest ' +
          'declares it. Other redactions: POST /api/cameras/:id/redacted-export.',
      }),
    ),
  },
  { additionalProperties: false },
);

const exportIdParams = Type.Object({ id: Type.Integer({ minimum: 1, description: 'The export id.' }) });
const shareIdParams = Type.Object({
  id: exportIdParams.properties.id,
  shareId: Type.Integer({ minimum: 1, description: 'The share link id.' }),
});
const shareTokenParams = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 100, description: 'The token of the share link.' }),
});
const createShareBody = Type.Object(
  {
    recipient: Type.String({ minLength: 1, maxLength: 200, description: 'Who the link is for.' }),
    expiresInMs: Type.Integer({ minimum: 1, description: 'How long the link works (at most 30 days).' }),
  },
  { additionalProperties: false },
);

function exportViewOf(record: ExportRecord): ExportView {
  return {
    id: record.id,
    cameraId: record.cameraId,
    stream: record.stream,
    fromMs: record.fromMs,
    toMs: record.toMs,
    userId: record.userId,
    userName: record.userName,
    reason: record.reason,
    createdAtMs: record.createdAtMs,
    byteLength: record.byteLength,
    sha256: record.sha256,
    downloadPath: `/api/exports/${record.id}/bundle.zip`,
    deletedAtMs: record.deletedAtMs,
  };
}

function shareViewOf(share: ShareRecord): ShareView {
  return { ...share };
}

/**
 * The exporter may always reach their own bundle; anyone else needs export.create on its camera,
 * and no privacy masks of their own there: the bundle's video is masked for its exporter only (an
 * administrator's during a lift shows everything).
 */
function assertMayUse(principal: Principal, record: ExportRecord, masks: ExportRouteDeps['masks']): void {
  if (record.userId !== null && record.userId === principal.userId) return;
  assertCan(principal, 'export.create', record.cameraId);
  if (masks.masksFor(principal, record.cameraId).length > 0) {
    throw new VigilError(
      'FORBIDDEN',
      `this bundle was made by '${record.userName}' and may show areas under privacy masks hidden from you; ` +
        'export the range yourself (your export is masked) or ask them to share it',
      { exportId: record.id },
    );
  }
}

export function verdictView(verdict: Verdict): VerifyResponse {
  const m = verdict.manifest;
  return {
    ok: verdict.ok,
    failures: verdict.failures,
    content: verdict.content,
    keyTrust: verdict.keyTrust,
    fingerprint: verdict.fingerprint,
    manifest: m
      ? {
          cameraId: m.camera.id,
          cameraName: m.camera.name,
          stream: m.stream,
          fromMs: m.range.fromMs,
          toMs: m.range.toMs,
          exportedBy: m.exportedBy,
          reason: m.reason,
          createdAtMs: m.createdAtMs,
          vigilVersion: m.vigilVersion,
          transforms: m.transforms,
          segmentCount: m.segments.length,
        }
      : null,
    lines: describeVerdict(verdict),
  };
}

function sendBundle(reply: FastifyReply, path: string, record: ExportRecord) {
  const stamp = new Date(record.fromMs).toISOString().replace(/[:.]/g, '-');
  return reply
    .type(ZIP)
    .header('content-length', record.byteLength)
    .header('cache-control', 'no-store')
    .header(
      'content-disposition',
      `attachment; filename="vigil-${record.cameraId}-${stamp}-${record.id}.zip"`,
    )
    .send(createReadStream(path));
}

/** Copies an upload to a file, refusing it past `maxBytes` (the route's own body limit). */
async function saveUpload(body: unknown, path: string, maxBytes: number): Promise<void> {
  if (!(body instanceof Readable)) {
    throw new VigilError(
      'REQUEST_INVALID',
      `send the bundle file itself as the body, with content-type ${ZIP}`,
    );
  }
  let received = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (received > maxBytes)
        done(new VigilError('BODY_TOO_LARGE', `a bundle is smaller than ${maxBytes} bytes`));
      else done(null, chunk);
    },
  });
  await pipeline(body, cap, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
}

/** Export bundles: build, list, download, share links, the signing key and verification. */
export function exportRoutes(ctx: ExportRouteDeps): FastifyPluginAsync {
  return async (app) => {
    // The bundle arrives as a stream the handler copies to disk under its own limit, not in memory.
    app.addContentTypeParser(ZIP, (_request, payload, done) => done(null, payload));

    app.post<{ Params: Static<typeof cameraIdParams>; Body: Static<typeof createExportBody> }>(
      '/api/cameras/:id/exports',
      {
        schema: {
          operationId: 'createExport',
          summary: 'Build a signed export bundle',
          description:
            'Builds a zip of the MP4 of [from, to) (stream copy, at most 24 h), a manifest (camera, range, ' +
            'SHA-256 of every source segment and of the video, transforms applied, who and why) and its ' +
            "Ed25519 signature with the installation's key. A reason is required. Audited.",
          tags,
          params: cameraIdParams,
          body: createExportBody,
          response: {
            201: json(exportView),
            ...errors(
              'TIME_INVALID',
              'RANGE_INVALID',
              'CAMERA_NOT_FOUND',
              'NO_RECORDINGS',
              'EXPORT_TOO_LARGE',
              'EXPORT_FAILED',
            ),
          },
        },
        config: { access: { permission: 'export.create', camera: { param: 'id' } } },
      },
      async (request, reply) => {
        const camera = ctx.cameras.get(request.params.id);
        const { fromMs, toMs } = parseRangeParams(request.body, ctx.clock.nowMs(), {
          defaultSpanMs: HOUR_MS,
          maxSpanMs: 24 * HOUR_MS,
        });
        const principal = principalOf(request);
        const record = await ctx.exports.create({
          camera: { id: camera.config.id, name: camera.config.name ?? camera.config.id },
          stream: request.body.stream ?? 'main',
          fromMs,
          toMs,
          reason: request.body.reason,
          exportedBy: { userId: principal.userId, name: principal.name },
          principal,
          ...(request.body.redact === 'faces'
            ? { transforms: [redactionTransform({ mode: 'faces' }, ctx.ffmpeg)] }
            : {}),
          requester: requesterOf(request),
        });
        return reply.code(201).send(exportViewOf(record));
      },
    );

    app.get(
      '/api/exports',
      {
        schema: {
          operationId: 'listExports',
          summary: 'Export bundles',
          description: 'The newest 200 bundles of cameras the caller may export, and their own.',
          tags,
          response: { 200: json(exportList) },
        },
        config: { access: { permission: 'export.create', camera: 'filtered' } },
      },
      async (request): Promise<ExportList> => {
        const principal = principalOf(request);
        const cameras = cameraFilter(principal, 'export.create');
        const visible = (r: ExportRecord) =>
          r.userId === principal.userId || cameras === null || cameras.has(r.cameraId);
        return { exports: (await ctx.exports.list()).filter(visible).map(exportViewOf) };
      },
    );

    app.get<{ Params: Static<typeof exportIdParams> }>(
      '/api/exports/:id/bundle.zip',
      {
        schema: {
          operationId: 'downloadExport',
          summary: 'Download a bundle',
          description: 'The zip. For its exporter, or whoever may export its camera. Audited.',
          tags,
          params: exportIdParams,
          response: { 200: media(ZIP, 'The bundle.'), ...errors('EXPORT_NOT_FOUND') },
        },
        config: { access: { permission: 'export.create', camera: 'in-handler' } },
      },
      async (request, reply) => {
        const record = await ctx.exports.get(request.params.id);
        assertMayUse(principalOf(request), record, ctx.masks);
        const path = await ctx.exports.bundlePath(record);
        ctx.exports.auditDownload(record, requesterOf(request));
        return sendBundle(reply, path, record);
      },
    );

    app.delete<{ Params: Static<typeof exportIdParams> }>(
      '/api/exports/:id',
      {
        schema: {
          operationId: 'deleteExport',
          summary: 'Delete a bundle',
          description:
            'Removes the bundle file and ends its share links. For its exporter, or whoever may delete the ' +
            "camera's recordings. The record (who, when, why, hash) stays in the list and the audit log. Audited.",
          tags,
          params: exportIdParams,
          response: { 204: noBody('Removed.'), ...errors('EXPORT_NOT_FOUND') },
        },
        config: { access: { permission: 'export.create', camera: 'in-handler' } },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const record = await ctx.exports.get(request.params.id);
        if (record.userId === null || record.userId !== principal.userId) {
          assertCan(principal, 'recordings.delete', record.cameraId);
        }
        await ctx.exports.remove(record, requesterOf(request));
        return reply.code(204).send();
      },
    );

    app.get<{ Params: Static<typeof exportIdParams> }>(
      '/api/exports/:id/shares',
      {
        schema: {
          operationId: 'listShares',
          summary: "A bundle's share links",
          tags,
          params: exportIdParams,
          response: { 200: json(shareList), ...errors('EXPORT_NOT_FOUND') },
        },
        config: { access: { permission: 'export.create', camera: 'in-handler' } },
      },
      async (request): Promise<ShareList> => {
        const record = await ctx.exports.get(request.params.id);
        assertMayUse(principalOf(request), record, ctx.masks);
        return { shares: (await ctx.exports.store.sharesOf(record.id)).map(shareViewOf) };
      },
    );

    app.post<{ Params: Static<typeof exportIdParams>; Body: Static<typeof createShareBody> }>(
      '/api/exports/:id/shares',
      {
        schema: {
          operationId: 'createShare',
          summary: 'Make a share link',
          description:
            'A link for one recipient, usable without an account until it expires (at most 30 days) or is ' +
            'revoked. The token is shown once. Every download through it is audited with the recipient and address.',
          tags,
          params: exportIdParams,
          body: createShareBody,
          response: { 201: json(createdShare), ...errors('EXPORT_NOT_FOUND') },
        },
        config: { access: { permission: 'export.create', camera: 'in-handler' } },
      },
      async (request, reply) => {
        const record = await ctx.exports.get(request.params.id);
        const principal = principalOf(request);
        assertMayUse(principal, record, ctx.masks);
        const { share, token } = await ctx.exports.createShare(record, {
          recipient: request.body.recipient,
          expiresInMs: request.body.expiresInMs,
          createdBy: principal.name,
          requester: requesterOf(request),
        });
        const answer: CreatedShare = {
          share: shareViewOf(share),
          token,
          path: `/api/shares/${token}/bundle.zip`,
        };
        return reply.code(201).send(answer);
      },
    );

    app.delete<{ Params: Static<typeof shareIdParams> }>(
      '/api/exports/:id/shares/:shareId',
      {
        schema: {
          operationId: 'revokeShare',
          summary: 'Revoke a share link',
          tags,
          params: shareIdParams,
          response: {
            200: json(shareView),
            ...errors('EXPORT_NOT_FOUND', 'SHARE_NOT_FOUND'),
          },
        },
        config: { access: { permission: 'export.create', camera: 'in-handler' } },
      },
      async (request): Promise<ShareView> => {
        const record = await ctx.exports.get(request.params.id);
        assertMayUse(principalOf(request), record, ctx.masks);
        return shareViewOf(
          await ctx.exports.revokeShare(record, request.params.shareId, requesterOf(request)),
        );
      },
    );

    app.get<{ Params: Static<typeof shareTokenParams> }>(
      '/api/shares/:token/bundle.zip',
      {
        schema: {
          operationId: 'downloadShare',
          summary: 'Download a bundle through a share link',
          description:
            'No account: the token is the access. An unknown or wrong token is 404; an expired or revoked ' +
            'link is 410. Each download is audited with the recipient and the address.',
          tags,
          params: shareTokenParams,
          response: {
            200: media(ZIP, 'The bundle.'),
            ...errors('SHARE_NOT_FOUND', 'SHARE_EXPIRED', 'SHARE_REVOKED', 'EXPORT_NOT_FOUND'),
          },
        },
        config: { access: { public: 'a share link carries its own access: an unguessable, expiring token' } },
      },
      async (request, reply) => {
        const { record, path } = await ctx.exports.openShare(request.params.token, clientIp(request));
        return sendBundle(reply, path, record);
      },
    );

    app.get(
      '/api/system/signing-key',
      {
        schema: {
          operationId: 'getSigningKey',
          summary: "The installation's public signing key",
          description: 'The Ed25519 public key that signs export bundles (PEM, raw base64, fingerprint).',
          tags: ['system' satisfies Tag],
          response: { 200: json(signingKeyResponse) },
        },
        config: { access: { permission: 'system.view' } },
      },
      async (): Promise<SigningKeyResponse> => ({ ...ctx.exports.publicKey }),
    );

    app.get(
      '/api/system/signing-key.pem',
      {
        schema: {
          operationId: 'downloadSigningKey',
          summary: 'The public signing key as a file',
          description: 'For `vigil verify --key FILE` on another machine.',
          tags: ['system' satisfies Tag],
          response: { 200: media('application/x-pem-file', 'The PEM.', { binary: false }) },
        },
        config: { access: { permission: 'system.view' } },
      },
      async (_request, reply) =>
        reply
          .type('application/x-pem-file')
          .header('content-disposition', 'attachment; filename="vigil-signing-key.pem"')
          .send(ctx.exports.publicKey.pem),
    );

    app.post(
      '/api/verify',
      {
        schema: {
          operationId: 'verifyBundle',
          summary: 'Verify a bundle',
          description:
            `Send the bundle file as the body (content-type ${ZIP}). The answer says whether it is exactly ` +
            "as signed, which part failed, whether it was signed with this installation's key, who " +
            'exported it and why, and whether the video is a copy of the recording or declared transforms of it.',
          tags,
          response: { 200: json(verifyResponse), ...errors('BUNDLE_INVALID', 'BODY_TOO_LARGE') },
        },
        config: { access: { signedIn: true } },
      },
      async (request: FastifyRequest): Promise<VerifyResponse> => {
        await mkdir(ctx.exports.exportsDir, { recursive: true, mode: 0o700 });
        const dir = await mkdtemp(join(ctx.exports.exportsDir, '.work-verify-'));
        try {
          const path = join(dir, 'upload.zip');
          const limitBytes = await ctx.exports.uploadLimitBytes();
          if (Number(request.headers['content-length'] ?? 0) > limitBytes) {
            throw new VigilError(
              'BODY_TOO_LARGE',
              `a bundle to verify here may be ${limitBytes} bytes at most`,
            );
          }
          await saveUpload(request.body, path, limitBytes);
          return verdictView(await ctx.exports.verifyFile(path));
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    );
  };
}
