import type { ApprovalService } from '../approvals/approval-service.js';
import type { Logger } from 'pino';
import { SYSTEM_ACTOR, actorOf, auditTarget, type AuditInput } from '../audit/entry.js';
import { assertCan, can, type Principal } from '../auth/permissions.js';
import { privacyConfigFor, type CameraConfig, type PrivacyMaskConfig } from '../config/index.js';
import { MAX_LIFT_MS, MIN_LIFT_MS, type LiftView } from '../contract/privacy.js';
import { VigilError } from '../errors/catalogue.js';
import type { Clock } from '../time/clock.js';
import { systemTimers, type Timer, type Timers } from '../time/timers.js';
import type { MaskPolygon } from './mask-overlay.js';
import type { MaskPolicy } from './mask-policy.js';
import type { LiftRecord, LiftStore } from './lift-store.js';

export interface MaskServiceDeps {
  /** The camera's definition now (CameraManager.config): masks are read from it on every call. */
  cameraConfig(cameraId: string): CameraConfig | undefined;
  lifts: LiftStore;
  /** Appends to the audit log. */
  record(input: AuditInput): void;
  clock: Clock;
  /** approvals.require has `export.unredacted`: exports of lifted masks wait for a second person. */
  exportsNeedApproval: boolean;
  /** Expiry timers; default Node's. Enforcement does not wait for them: masksFor reads the clock. */
  timers?: Timers;
  log: Logger;
}

/** Who asks for a lift or its end, and from where (the audit entry's actor and address). */
export interface LiftCaller {
  principal: Principal;
  ip: string | null;
}

interface ActiveLift {
  record: LiftRecord;
  timer: Timer;
}

const MAX_REASON_LENGTH = 500;

/** What a request to lift masks carries until it is approved: plain data, stored as JSON. */
export interface LiftRequest {
  cameraId: string;
  reason: string;
  durationMs: number;
}

/**
 * Privacy masks for every output: which polygons to black out for whom, and the lifts that let a
 * user holding `unmask` see through a camera's liftable masks for a while. Permanent masks are
 * never lifted. A lift is stored, audited at its start, early end and expiry, and bounded by the
 * injected clock: masksFor() compares with the clock on every call, so a lift that has run out
 * hides again at once even before its expiry timer has run. Lifts are kept in memory (loaded at
 * start) so that masksFor() is synchronous, cheap and safe to call for each picture.
 */
export class MaskService implements MaskPolicy {
  private readonly active = new Map<number, ActiveLift>();
  /** Cameras with a lift being written for a user ("cameraId|userId"): one lift per user and camera. */
  private readonly starting = new Set<string>();
  private readonly listeners = new Set<(cameraId: string) => void>();
  /** The masks last seen per camera, to tell a mask change from another camera change. */
  private readonly known = new Map<string, string>();
  /**
   * The masks of cameras as last defined: a camera being replaced (removed, then added) or
   * deleted still has events whose pictures must stay masked.
   */
  private readonly lastMasks = new Map<string, readonly PrivacyMaskConfig[]>();
  private readonly timers: Timers;
  private stopped = false;

  private constructor(private readonly deps: MaskServiceDeps) {
    this.timers = deps.timers ?? systemTimers;
  }

  /** Loads the lifts still open; those that ran out while Vigil was stopped are closed and audited. */
  static async start(deps: MaskServiceDeps): Promise<MaskService> {
    const service = new MaskService(deps);
    const nowMs = deps.clock.nowMs();
    for (const lift of await deps.lifts.open()) {
      if (lift.expiresAtMs <= nowMs) await service.expire(lift);
      else service.follow(lift);
    }
    return service;
  }

  masksFor(principal: Principal, cameraId: string): readonly MaskPolygon[] {
    const masks = this.masks(cameraId);
    if (masks.length === 0) return [];
    const seesThrough = this.liftedFor(principal, cameraId);
    return masks.filter((m) => m.kind === 'permanent' || !seesThrough).map((m) => m.polygon);
  }

  exportMasksFor(principal: Principal, cameraId: string): readonly MaskPolygon[] {
    return this.deps.exportsNeedApproval ? this.allMasks(cameraId) : this.masksFor(principal, cameraId);
  }

  permanentMasks(cameraId: string): readonly MaskPolygon[] {
    return this.masks(cameraId)
      .filter((m) => m.kind === 'permanent')
      .map((m) => m.polygon);
  }

  /** Every mask of the camera: for pictures that leave without a caller (MQTT snapshots). */
  allMasks(cameraId: string): readonly MaskPolygon[] {
    return this.masks(cameraId).map((m) => m.polygon);
  }

  onChange(listener: (cameraId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A camera was added, changed or removed: tells the listeners when its masks differ. A removed
   * camera keeps its last masks (for its events' pictures), so removing it tells nothing.
   */
  cameraChanged(cameraId: string): void {
    const masks = JSON.stringify(this.masks(cameraId));
    if (this.known.get(cameraId) === masks) return;
    this.known.set(cameraId, masks);
    this.changed(cameraId);
  }

  /** Whether the principal sees through this camera's liftable masks now. */
  liftedFor(principal: Principal, cameraId: string): boolean {
    if (!can(principal, 'unmask', cameraId)) return false;
    const nowMs = this.deps.clock.nowMs();
    for (const { record } of this.active.values()) {
      if (record.cameraId === cameraId && record.userId === principal.userId && record.expiresAtMs > nowMs)
        return true;
    }
    return false;
  }

  /** The camera's lifts in force now, oldest first. */
  lifts(principal: Principal, cameraId: string): LiftView[] {
    const nowMs = this.deps.clock.nowMs();
    return [...this.active.values()]
      .map(({ record }) => record)
      .filter((r) => r.cameraId === cameraId && r.expiresAtMs > nowMs)
      .map((r) => liftView(r, principal));
  }

  /**
   * Lifting masks as an approvable action ('mask.lift'): where the installation requires it, a
   * second user with `unmask` approves, and the lift then starts for the requester.
   */
  registerApprovals(approvals: Pick<ApprovalService, 'register'>): void {
    approvals.register<LiftRequest>('mask.lift', {
      permission: 'unmask',
      describe: async ({ cameraId, durationMs }) => {
        if (!this.deps.cameraConfig(cameraId))
          throw new VigilError('CAMERA_NOT_FOUND', `no camera '${cameraId}'; GET /api/cameras lists them`);
        const minutes = Math.max(1, Math.round(durationMs / 60_000));
        return {
          cameraId,
          summary: `see through the liftable privacy masks of camera '${cameraId}' for ${minutes} min`,
        };
      },
      execute: ({ cameraId, reason, durationMs }, requestedBy, ip) =>
        this.lift({ principal: requestedBy, ip }, cameraId, reason, durationMs),
    });
  }

  /**
   * Starts a lift: the principal sees through the camera's liftable masks for durationMs.
   * Checks `unmask` on the camera itself, so callers other than the route (an approval step)
   * cannot skip it. Refused when the camera has no liftable mask or the caller has a lift on it.
   */
  async lift(caller: LiftCaller, cameraId: string, reason: string, durationMs: number): Promise<LiftView> {
    const { principal } = caller;
    assertCan(principal, 'unmask', cameraId);
    const camera = this.deps.cameraConfig(cameraId);
    if (!camera)
      throw new VigilError('CAMERA_NOT_FOUND', `no camera '${cameraId}'; GET /api/cameras lists them`);
    const why = reason.trim();
    if (why === '' || why.length > MAX_REASON_LENGTH) {
      throw new VigilError(
        'REQUEST_INVALID',
        `body.reason: say why, in 1 to ${MAX_REASON_LENGTH} characters`,
      );
    }
    if (!Number.isInteger(durationMs) || durationMs < MIN_LIFT_MS || durationMs > MAX_LIFT_MS) {
      throw new VigilError(
        'REQUEST_INVALID',
        `body.durationMs: a lift lasts ${MIN_LIFT_MS} to ${MAX_LIFT_MS} ms (1 h); start another when it ends`,
      );
    }
    if (!privacyConfigFor(camera).masks.some((m) => m.kind === 'liftable')) {
      throw new VigilError(
        'NO_LIFTABLE_MASKS',
        `camera '${cameraId}' has no liftable privacy masks; permanent masks are never lifted`,
      );
    }
    const key = `${cameraId}|${principal.userId}`;
    const nowMs = this.deps.clock.nowMs();
    const own = [...this.active.values()].find(
      ({ record }) =>
        record.cameraId === cameraId && record.userId === principal.userId && record.expiresAtMs > nowMs,
    );
    if (own || this.starting.has(key)) {
      throw new VigilError(
        'LIFT_ACTIVE',
        `you have an active lift on camera '${cameraId}'` +
          (own
            ? ` (id ${own.record.id}); end it with DELETE /api/cameras/${cameraId}/privacy/lifts/${own.record.id}`
            : ''),
      );
    }
    this.starting.add(key);
    let record: LiftRecord;
    try {
      record = await this.deps.lifts.insert({
        cameraId,
        userId: principal.userId,
        userName: principal.name,
        reason: why,
        startedAtMs: nowMs,
        expiresAtMs: nowMs + durationMs,
      });
    } finally {
      this.starting.delete(key);
    }
    this.follow(record);
    this.deps.record({
      actor: actorOf(principal),
      action: 'privacy.lift.start',
      target: auditTarget.camera(cameraId),
      details: { liftId: record.id, reason: why, durationMs, expiresAtMs: record.expiresAtMs },
      ip: caller.ip,
    });
    this.changed(cameraId);
    return liftView(record, principal);
  }

  /**
   * Ends a lift early. Its owner may end it, and so may anyone who manages users (an
   * administrator stopping someone else's look).
   */
  async endLift(caller: LiftCaller, cameraId: string, liftId: number): Promise<void> {
    const { principal } = caller;
    const active = this.active.get(liftId);
    const nowMs = this.deps.clock.nowMs();
    if (!active || active.record.cameraId !== cameraId || active.record.expiresAtMs <= nowMs) {
      throw new VigilError(
        'LIFT_NOT_FOUND',
        `no active lift ${liftId} on camera '${cameraId}'; GET /api/cameras/${cameraId}/privacy/lifts lists them`,
      );
    }
    const { record } = active;
    if (record.userId !== principal.userId) assertCan(principal, 'users.manage');
    this.unfollow(liftId);
    await this.deps.lifts.close(liftId, nowMs, principal.name);
    this.deps.record({
      actor: actorOf(principal),
      action: 'privacy.lift.end',
      target: auditTarget.camera(cameraId),
      details: { liftId, user: record.userName, remainingMs: record.expiresAtMs - nowMs },
      ip: caller.ip,
    });
    this.changed(cameraId);
  }

  stop(): void {
    this.stopped = true;
    for (const id of [...this.active.keys()]) this.unfollow(id);
  }

  private masks(cameraId: string): readonly PrivacyMaskConfig[] {
    const camera = this.deps.cameraConfig(cameraId);
    if (!camera) return this.lastMasks.get(cameraId) ?? [];
    const masks = privacyConfigFor(camera).masks;
    this.lastMasks.set(cameraId, masks);
    return masks;
  }

  private follow(record: LiftRecord): void {
    const delayMs = Math.max(0, record.expiresAtMs - this.deps.clock.nowMs());
    const timer = this.timers.after(delayMs, () => {
      if (this.stopped || !this.active.has(record.id)) return;
      this.unfollow(record.id);
      void this.expire(record);
    });
    this.active.set(record.id, { record, timer });
  }

  private unfollow(liftId: number): void {
    this.active.get(liftId)?.timer.cancel();
    this.active.delete(liftId);
  }

  private async expire(record: LiftRecord): Promise<void> {
    try {
      if (!(await this.deps.lifts.close(record.id, record.expiresAtMs, null))) return;
      this.deps.record({
        actor: SYSTEM_ACTOR,
        action: 'privacy.lift.expire',
        target: auditTarget.camera(record.cameraId),
        details: { liftId: record.id, user: record.userName, expiresAtMs: record.expiresAtMs },
      });
    } catch (err) {
      this.deps.log.error({ err, lift: record.id }, 'cannot close an expired privacy-mask lift');
    }
    this.changed(record.cameraId);
  }

  private changed(cameraId: string): void {
    for (const listener of this.listeners) {
      try {
        listener(cameraId);
      } catch (err) {
        this.deps.log.error({ err, camera: cameraId }, 'privacy mask listener failed');
      }
    }
  }
}

function liftView(record: LiftRecord, principal: Principal): LiftView {
  return {
    id: record.id,
    cameraId: record.cameraId,
    userName: record.userName,
    reason: record.reason,
    startedAtMs: record.startedAtMs,
    expiresAtMs: record.expiresAtMs,
    mine: record.userId === principal.userId,
  };
}
