import type { ApprovalService } from '../approvals/approval-service.js';
import { actorOf } from '../audit/entry.js';
import { assertCan } from '../auth/permissions.js';
import { VigilError } from '../errors/catalogue.js';
import type { VideoTransform } from '../media/video-transform.js';
import type { ExportService } from './service.js';
import type { ExportRecord } from './store.js';

/** What an `export.unredacted` request stores until it is approved: plain data. */
export interface UnredactedExportRequest {
  cameraId: string;
  stream: string;
  fromMs: number;
  toMs: number;
  reason: string;
  redactFaces: boolean;
}

export interface UnredactedExportDeps {
  exports: Pick<ExportService, 'create'>;
  /** The camera's name, undefined for an unknown camera. */
  cameraName(cameraId: string): string | undefined;
  /** Whether the camera has liftable privacy masks now (nothing to lift: nothing to approve). */
  hasLiftableMasks(cameraId: string): boolean;
  /** The face redaction a request may ask for, applied before the masks. */
  faceRedaction(): VideoTransform;
}

/**
 * A signed bundle showing what the camera's liftable privacy masks hide, as an approvable action
 * (`export.unredacted`, permission `unmask`): where the installation requires it, it is built for
 * the requester when a second user with `unmask` on the camera approves; elsewhere at once.
 */
export function registerUnredactedExport(
  approvals: Pick<ApprovalService, 'register'>,
  deps: UnredactedExportDeps,
): void {
  approvals.register<UnredactedExportRequest>('export.unredacted', {
    permission: 'unmask',
    describe: async ({ cameraId, fromMs, toMs }) => {
      if (deps.cameraName(cameraId) === undefined)
        throw new VigilError('CAMERA_NOT_FOUND', `no camera '${cameraId}'; GET /api/cameras lists them`);
      if (!deps.hasLiftableMasks(cameraId)) {
        throw new VigilError(
          'NO_LIFTABLE_MASKS',
          `camera '${cameraId}' has no liftable privacy masks: export it without "unmasked"`,
        );
      }
      const range = `${new Date(fromMs).toISOString()} to ${new Date(toMs).toISOString()}`;
      return { cameraId, summary: `export camera '${cameraId}' ${range} without its liftable privacy masks` };
    },
    execute: async (request, requestedBy, ip): Promise<ExportRecord> => {
      // The requester's rights of the day: both exporting and seeing under masks.
      assertCan(requestedBy, 'export.create', request.cameraId);
      const name = deps.cameraName(request.cameraId);
      if (name === undefined)
        throw new VigilError('CAMERA_NOT_FOUND', `camera '${request.cameraId}' was removed meanwhile`);
      return deps.exports.create({
        camera: { id: request.cameraId, name },
        stream: request.stream,
        fromMs: request.fromMs,
        toMs: request.toMs,
        reason: request.reason,
        exportedBy: { userId: requestedBy.userId, name: requestedBy.name },
        principal: requestedBy,
        ...(request.redactFaces ? { transforms: [deps.faceRedaction()] } : {}),
        liftableMasksShown: true,
        requester: { actor: actorOf(requestedBy), ip },
      });
    },
  });
}
