import type { Logger } from 'pino';
import type { ApprovalService, Caller } from '../approvals/approval-service.js';
import { actorOf, auditTarget, type AuditInput } from '../audit/entry.js';
import { assertCan, cameraFilter, type Principal } from '../auth/permissions.js';
import type { EvidenceLockView } from '../contract/evidence.js';
import { VigilError } from '../errors/catalogue.js';
import type { EventStore } from '../events/store.js';
import { EvidenceLockStore, isLockActive, type EvidenceLockRecord } from '../storage/evidence-locks.js';
import { deleteRecordings } from '../storage/recording-deletion.js';
import type { SegmentIndex } from '../storage/segment-index.js';
import type { Db } from '../storage/db.js';
import type { Clock } from '../time/clock.js';

/** The longest range one lock may cover: a lock is for evidence, not for switching retention off. */
export const MAX_LOCK_RANGE_MS = 31 * 86_400_000;
export const MAX_REASON_LENGTH = 500;
const MAX_LISTED = 1000;

export interface EvidenceServiceDeps {
  db: Db;
  index: SegmentIndex;
  storageRoot: string;
  events: Pick<EventStore, 'require' | 'assertNotLocked'>;
  /** Deletes an event (refused while it is locked: EVIDENCE_LOCKED). */
  deleteEvent(id: number): Promise<boolean>;
  clock: Clock;
  log: Logger;
  record(input: AuditInput): void;
  approvals: ApprovalService;
}

export interface UnlockParams {
  lockId: number;
}

export interface DeleteEventParams {
  eventId: number;
}

export interface DeleteRecordingsParams {
  cameraId: string;
  fromMs: number;
  toMs: number;
}

export function lockView(lock: EvidenceLockRecord, nowMs: number): EvidenceLockView {
  return {
    ...lock,
    state: lock.unlockedAtMs !== null ? 'unlocked' : isLockActive(lock, nowMs) ? 'locked' : 'expired',
  };
}

function checkReason(reason: string): void {
  if (reason.trim() === '' || reason.length > MAX_REASON_LENGTH) {
    throw new VigilError(
      'REQUEST_INVALID',
      `say why this is evidence: a reason of 1 to ${MAX_REASON_LENGTH} characters`,
      {
        parameter: 'reason',
      },
    );
  }
}

/**
 * Evidence locks: an event or a camera's time range kept whatever retention and a full disk say
 * (a retention hold per lock), with who locked it, why and until when. Locking is one user's
 * decision; unlocking goes through approvals ('evidence.unlock'), which by default needs a second
 * user. Also registers 'recordings.delete', which never deletes locked recordings.
 */
export class EvidenceService {
  readonly locks: EvidenceLockStore;

  constructor(private readonly deps: EvidenceServiceDeps) {
    this.locks = new EvidenceLockStore(deps.db);
    deps.approvals.register<UnlockParams>('evidence.unlock', {
      permission: 'evidence.lock',
      describe: async ({ lockId }) => {
        const lock = await this.require(lockId);
        if (!isLockActive(lock, deps.clock.nowMs())) {
          throw new VigilError(
            'REQUEST_INVALID',
            `evidence lock ${lockId} no longer protects anything (expired or unlocked)`,
          );
        }
        return {
          cameraId: lock.cameraId,
          summary: `unlock evidence lock ${lock.id} on camera '${lock.cameraId}' (${describeRange(lock)}; locked by ${lock.createdBy}: ${lock.reason})`,
        };
      },
      execute: ({ lockId }, requestedBy, ip) => this.unlock(lockId, requestedBy, ip),
    });
    deps.approvals.register<DeleteEventParams>('events.delete', {
      permission: 'events.delete',
      describe: async ({ eventId }) => {
        const event = await deps.events.require(eventId);
        // Refused now rather than asking someone to approve what cannot be done.
        await deps.events.assertNotLocked(eventId, deps.clock.nowMs());
        return {
          cameraId: event.cameraId,
          summary: `delete event ${event.id} (${event.label} on camera '${event.cameraId}' at ${new Date(event.startTimeMs).toISOString()})`,
        };
      },
      execute: async ({ eventId }, requestedBy, ip) => {
        const event = await deps.events.require(eventId);
        if (!(await deps.deleteEvent(eventId))) {
          throw new VigilError('EVENT_NOT_FOUND', `no event ${eventId}; GET /api/events lists them`);
        }
        deps.record({
          actor: actorOf(requestedBy),
          action: 'event.delete',
          target: auditTarget.event(eventId),
          details: { cameraId: event.cameraId, label: event.label, startTimeMs: event.startTimeMs },
          ip,
        });
        return { eventId };
      },
    });
    deps.approvals.register<DeleteRecordingsParams>('recordings.delete', {
      permission: 'recordings.delete',
      describe: async (params) => {
        checkRange(params.fromMs, params.toMs, 'delete');
        return {
          cameraId: params.cameraId,
          summary: `delete the recordings of camera '${params.cameraId}' from ${new Date(params.fromMs).toISOString()} to ${new Date(params.toMs).toISOString()} (locked evidence stays)`,
        };
      },
      execute: async (params, requestedBy, ip) => {
        const nowMs = deps.clock.nowMs();
        const deleted = await deleteRecordings(deps.index, deps.storageRoot, params, nowMs, deps.log);
        deps.record({
          actor: actorOf(requestedBy),
          action: 'recordings.delete',
          target: auditTarget.camera(params.cameraId),
          details: { fromMs: params.fromMs, toMs: params.toMs, ...deleted },
          ip,
        });
        return deleted;
      },
    });
  }

  /** Locks an event: its clip's recording, and the event itself against retention and deletion. */
  async lockEvent(
    caller: Caller,
    input: { eventId: number; reason: string; expiresAtMs: number | null },
  ): Promise<EvidenceLockView> {
    const event = await this.deps.events.require(input.eventId);
    assertCan(caller.principal, 'evidence.lock', event.cameraId);
    return this.create(caller, {
      cameraId: event.cameraId,
      eventId: event.id,
      startTimeMs: event.clipStartMs,
      // A lock on an instant still holds 1 ms, like the event's own hold.
      endTimeMs: Math.max(event.clipEndMs, event.clipStartMs + 1),
      reason: input.reason,
      expiresAtMs: input.expiresAtMs,
    });
  }

  /** Locks a camera's time range. */
  async lockRange(
    caller: Caller,
    input: {
      cameraId: string;
      startTimeMs: number;
      endTimeMs: number;
      reason: string;
      expiresAtMs: number | null;
    },
  ): Promise<EvidenceLockView> {
    assertCan(caller.principal, 'evidence.lock', input.cameraId);
    checkRange(input.startTimeMs, input.endTimeMs, 'lock');
    return this.create(caller, { ...input, eventId: null });
  }

  async get(principal: Principal, id: number): Promise<EvidenceLockView> {
    const lock = await this.require(id);
    assertCan(principal, 'playback.view', lock.cameraId);
    return lockView(lock, this.deps.clock.nowMs());
  }

  /** Locks the principal may see (playback.view on their camera), overlapping [fromMs, toMs). */
  async list(
    principal: Principal,
    query: { cameraId?: string; fromMs?: number; toMs?: number; eventId?: number },
  ): Promise<EvidenceLockView[]> {
    const cameras = cameraFilter(principal, 'playback.view');
    const locks = await this.locks.list({ ...query, cameras, limit: MAX_LISTED });
    const nowMs = this.deps.clock.nowMs();
    return locks.map((l) => lockView(l, nowMs));
  }

  /** Asks to unlock: done at once, or a pending request for a second user (approvals.require). */
  requestUnlock(caller: Caller, lockId: number, reason: string) {
    return this.deps.approvals.perform<UnlockParams>(caller, 'evidence.unlock', { lockId }, reason);
  }

  private async require(id: number): Promise<EvidenceLockRecord> {
    const lock = await this.locks.get(id);
    if (!lock)
      throw new VigilError('EVIDENCE_LOCK_NOT_FOUND', `no evidence lock ${id}; GET /api/evidence lists them`);
    return lock;
  }

  private async create(
    caller: Caller,
    input: Omit<EvidenceLockRecord, 'id' | 'createdBy' | 'createdAtMs' | 'unlockedBy' | 'unlockedAtMs'>,
  ): Promise<EvidenceLockView> {
    checkReason(input.reason);
    const nowMs = this.deps.clock.nowMs();
    if (input.expiresAtMs !== null && input.expiresAtMs <= nowMs) {
      throw new VigilError(
        'RANGE_INVALID',
        `the expiry ${new Date(input.expiresAtMs).toISOString()} is past: give a future time or none`,
        {
          parameter: 'expiresAtMs',
        },
      );
    }
    const lock = await this.locks.insert({ ...input, createdBy: caller.principal.name, createdAtMs: nowMs });
    this.deps.record({
      actor: actorOf(caller.principal),
      action: 'evidence.lock',
      target: auditTarget.evidence(lock.id),
      details: {
        cameraId: lock.cameraId,
        eventId: lock.eventId,
        fromMs: lock.startTimeMs,
        toMs: lock.endTimeMs,
        reason: lock.reason,
        expiresAtMs: lock.expiresAtMs,
      },
      ip: caller.ip,
    });
    this.deps.log.info({ lock: lock.id, camera: lock.cameraId }, 'evidence locked');
    return lockView(lock, nowMs);
  }

  private async unlock(lockId: number, requestedBy: Principal, ip: string | null): Promise<EvidenceLockView> {
    const nowMs = this.deps.clock.nowMs();
    if (!(await this.locks.unlock(lockId, requestedBy.name, nowMs))) {
      throw new VigilError('REQUEST_INVALID', `evidence lock ${lockId} is unlocked already`);
    }
    const lock = await this.require(lockId);
    this.deps.record({
      actor: actorOf(requestedBy),
      action: 'evidence.unlock',
      target: auditTarget.evidence(lockId),
      details: {
        cameraId: lock.cameraId,
        eventId: lock.eventId,
        fromMs: lock.startTimeMs,
        toMs: lock.endTimeMs,
      },
      ip,
    });
    this.deps.log.info({ lock: lockId, camera: lock.cameraId }, 'evidence unlocked');
    return lockView(lock, nowMs);
  }
}

function describeRange(lock: EvidenceLockRecord): string {
  return `${new Date(lock.startTimeMs).toISOString()} to ${new Date(lock.endTimeMs).toISOString()}`;
}

function checkRange(fromMs: number, toMs: number, verb: string): void {
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || toMs <= fromMs) {
    throw new VigilError('RANGE_INVALID', `the end (${toMs}) must be after the start (${fromMs})`);
  }
  if (toMs - fromMs > MAX_LOCK_RANGE_MS) {
    throw new VigilError('RANGE_INVALID', `${verb} at most ${MAX_LOCK_RANGE_MS / 86_400_000} days at a time`);
  }
}
