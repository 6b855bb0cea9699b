import type { Logger } from 'pino';
import type { Selectable } from 'kysely';
import type { ApprovalsConfig } from '../config/index.js';
import type { ApprovalKind, ApprovalOutcome, ApprovalState, ApprovalView } from '../contract/approvals.js';
import type { WsApprovalMessage } from '../contract/push.js';
import { actorOf, auditTarget, SYSTEM_ACTOR, type AuditInput } from '../audit/entry.js';
import { assertCan, can, type Permission, type Principal } from '../auth/permissions.js';
import { principalFor, type UserRecord } from '../auth/store.js';
import { VigilError } from '../errors/catalogue.js';
import type { Db } from '../storage/db.js';
import type { ApprovalRequestTable } from '../storage/schema.js';
import type { Clock } from '../time/clock.js';

/**
 * One action that may need a second user's approval. Register it once at start-up:
 *
 *   approvals.register('mask.lift', {
 *     permission: 'privacy.manage',
 *     describe: async (params) => ({ cameraId: params.cameraId, summary: `lift the masks of ${params.cameraId}` }),
 *     execute: async (params, requestedBy) => masks.lift(params.cameraId, requestedBy),
 *   });
 *
 * and call `perform()` where the action used to be done. `describe` validates the parameters and
 * names the camera the permission applies to; it must not change anything (it runs before
 * permission is known). `execute` does the action as the requester, with their own audit entry;
 * it runs at once when the installation does not require approval for the kind, else when a
 * second user approves. Parameters are stored as JSON until then: keep them plain data.
 */
export interface ApprovalAction<P> {
  /** What both the requester and the approver must hold, on the camera when it is camera-bound. */
  permission: Permission;
  /** Checks the parameters (VigilError when wrong or not found) and says what they touch. Read-only. */
  describe(params: P): Promise<{ cameraId: string | null; summary: string }>;
  /** Does the action as `requestedBy`; the result is stored with the request and returned. */
  execute(params: P, requestedBy: Principal, ip: string | null): Promise<unknown>;
}

/** Who makes a call, and from where (for the audit log). */
export interface Caller {
  principal: Principal;
  ip: string | null;
}

export interface ApprovalServiceDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  config: ApprovalsConfig;
  record(input: AuditInput): void;
  /** The requester as they are now (role, grants, disabled): approval executes with their rights of the day. */
  getUser(id: number): Promise<UserRecord | undefined>;
}

type Row = Selectable<ApprovalRequestTable>;
type Listener = (message: WsApprovalMessage, permission: Permission) => void;

const MAX_LISTED = 500;

function viewOf(row: Row): ApprovalView {
  return {
    id: row.id,
    kind: row.kind as ApprovalKind,
    cameraId: row.camera_id,
    params: JSON.parse(row.params_json) as Record<string, unknown>,
    summary: row.summary,
    reason: row.reason,
    state: row.state,
    requestedBy: row.requested_by,
    requestedAtMs: row.requested_at_ms,
    expiresAtMs: row.expires_at_ms,
    decidedBy: row.decided_by,
    decidedAtMs: row.decided_at_ms,
    decisionReason: row.decision_reason,
    result: row.result_json === null ? null : (JSON.parse(row.result_json) as unknown),
  };
}

/**
 * Four-eyes approval: sensitive actions (config `approvals.require`) wait for a second user who
 * holds the action's permission on the same camera. Requests, approvals, refusals, cancellations
 * and expiries are audited and pushed (/api/ws) to the users who may decide and to the requester.
 */
export class ApprovalService {
  // The registry stores each action with its own parameter type erased: perform() hands it back
  // exactly the params it described.
  private readonly actions = new Map<ApprovalKind, ApprovalAction<never>>();
  private readonly listeners: Listener[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: ApprovalServiceDeps) {}

  register<P>(kind: ApprovalKind, action: ApprovalAction<P>): void {
    if (this.actions.has(kind)) throw new Error(`approval action '${kind}' is registered twice`);
    this.actions.set(kind, action as ApprovalAction<never>);
  }

  /** Whether the installation makes this kind wait for a second user. */
  requires(kind: ApprovalKind): boolean {
    return this.deps.config.require.includes(kind);
  }

  /** Pushes each change; `permission` is the action's, for choosing who may hear it. */
  onChange(listener: Listener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** The action's permission (for choosing who may see a request). */
  permissionOf(kind: ApprovalKind): Permission | undefined {
    return this.actions.get(kind)?.permission;
  }

  /** Expires due requests every `intervalMs`. */
  start(intervalMs = 60_000): void {
    this.timer = setInterval(
      () =>
        void this.expireDue().catch((err: unknown) => this.deps.log.error({ err }, 'approval expiry failed')),
      intervalMs,
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Does the action now when the kind needs no approval, else records a pending request. The
   * caller's permission is checked (on the camera `describe` names) before anything changes.
   */
  async perform<P>(caller: Caller, kind: ApprovalKind, params: P, reason: string): Promise<ApprovalOutcome> {
    const action = this.action<P>(kind);
    const { cameraId, summary } = await action.describe(params);
    assertCan(caller.principal, action.permission, cameraId ?? undefined);
    if (!this.requires(kind)) {
      return { status: 'done', result: await action.execute(params, caller.principal, caller.ip) };
    }
    if (reason.trim() === '') {
      throw new VigilError(
        'REQUEST_INVALID',
        `'${kind}' needs a second person's approval: say why you ask (reason)`,
        {
          parameter: 'reason',
        },
      );
    }
    const nowMs = this.deps.clock.nowMs();
    const row = await this.deps.db
      .insertInto('approval_requests')
      .values({
        kind,
        camera_id: cameraId,
        params_json: JSON.stringify(params),
        summary,
        reason,
        state: 'pending',
        requested_by_id: caller.principal.userId,
        requested_by: caller.principal.name,
        requested_at_ms: nowMs,
        expires_at_ms: nowMs + this.deps.config.expiryMs,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const request = viewOf(row);
    this.audit(caller, 'approval.request', request, { reason, summary });
    this.notify('requested', request);
    return { status: 'pending', request };
  }

  /**
   * A second user approves: they must not be the requester and must hold the action's permission
   * on its camera now; the requester must still hold it too. The action then runs as the requester.
   */
  async approve(caller: Caller, id: number): Promise<ApprovalView> {
    const { row, action } = await this.decidable(caller, id);
    const requester = await this.deps.getUser(row.requested_by_id);
    const requesterPrincipal = requester && !requester.disabled ? principalFor(requester) : null;
    const nowMs = this.deps.clock.nowMs();
    if (!requesterPrincipal || !can(requesterPrincipal, action.permission, row.camera_id ?? undefined)) {
      const why = `'${row.requested_by}' no longer holds '${action.permission}'${row.camera_id ? ` on camera '${row.camera_id}'` : ''}`;
      const failed = await this.settle(row.id, 'failed', caller.principal.name, nowMs, why);
      this.audit(caller, 'approval.approve', failed, { outcome: 'failed', error: why });
      this.notify('failed', failed);
      throw new VigilError('FORBIDDEN', `${why}; the request cannot be carried out`);
    }
    // Claimed first, so two approvers at once cannot both execute it.
    const claimed = await this.settle(row.id, 'approved', caller.principal.name, nowMs, null);
    let result: unknown;
    try {
      result = await action.execute(JSON.parse(row.params_json) as never, requesterPrincipal, caller.ip);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await this.deps.db
        .updateTable('approval_requests')
        .set({ state: 'failed', decision_reason: message })
        .where('id', '=', row.id)
        .execute();
      const failed = { ...claimed, state: 'failed' as const, decisionReason: message };
      this.audit(caller, 'approval.approve', failed, { outcome: 'failed', error: message });
      this.notify('failed', failed);
      throw err;
    }
    const resultJson = JSON.stringify(result ?? null);
    await this.deps.db
      .updateTable('approval_requests')
      .set({ result_json: resultJson })
      .where('id', '=', row.id)
      .execute();
    const done = { ...claimed, result: result ?? null };
    this.audit(caller, 'approval.approve', done, { outcome: 'executed' });
    this.notify('approved', done);
    return done;
  }

  /** A second user refuses, with a reason; nothing is done. */
  async refuse(caller: Caller, id: number, reason: string): Promise<ApprovalView> {
    const { row } = await this.decidable(caller, id);
    const refused = await this.settle(
      row.id,
      'refused',
      caller.principal.name,
      this.deps.clock.nowMs(),
      reason,
    );
    this.audit(caller, 'approval.refuse', refused, { reason });
    this.notify('refused', refused);
    return refused;
  }

  /** The requester (or an administrator) withdraws a pending request. */
  async cancel(caller: Caller, id: number): Promise<ApprovalView> {
    const row = await this.pending(caller.principal, id);
    if (row.requested_by_id !== caller.principal.userId && caller.principal.role !== 'admin') {
      throw new VigilError(
        'FORBIDDEN',
        `only '${row.requested_by}', who asked, or an administrator can cancel request ${id}`,
      );
    }
    const cancelled = await this.settle(
      row.id,
      'cancelled',
      caller.principal.name,
      this.deps.clock.nowMs(),
      null,
    );
    this.audit(caller, 'approval.cancel', cancelled, {});
    this.notify('cancelled', cancelled);
    return cancelled;
  }

  /** Requests the principal may see: their own, and those they may decide; newest first. */
  async list(principal: Principal, query: { state?: ApprovalState } = {}): Promise<ApprovalView[]> {
    await this.expireDue();
    let q = this.deps.db.selectFrom('approval_requests').selectAll();
    if (query.state !== undefined) q = q.where('state', '=', query.state);
    const rows = await q.orderBy('id', 'desc').limit(MAX_LISTED).execute();
    return rows.map(viewOf).filter((r) => this.visibleTo(principal, r));
  }

  async get(principal: Principal, id: number): Promise<ApprovalView> {
    await this.expireDue();
    const row = await this.row(id);
    const view = viewOf(row);
    if (!this.visibleTo(principal, view)) throw this.notFound(id);
    return view;
  }

  /** The requester, or a user who holds the action's permission on its camera. */
  visibleTo(principal: Principal, request: Pick<ApprovalView, 'kind' | 'cameraId' | 'requestedBy'>): boolean {
    if (request.requestedBy === principal.name) return true;
    const permission = this.permissionOf(request.kind);
    return permission !== undefined && can(principal, permission, request.cameraId ?? undefined);
  }

  /** Marks pending requests past their expiry 'expired'; returns how many. */
  async expireDue(): Promise<number> {
    const nowMs = this.deps.clock.nowMs();
    const due = await this.deps.db
      .updateTable('approval_requests')
      .set({ state: 'expired', decided_at_ms: nowMs })
      .where('state', '=', 'pending')
      .where('expires_at_ms', '<=', nowMs)
      .returningAll()
      .execute();
    for (const row of due) {
      const view = viewOf(row);
      this.deps.record({
        actor: SYSTEM_ACTOR,
        action: 'approval.expire',
        target: auditTarget.approval(row.id),
        details: { kind: row.kind, cameraId: row.camera_id, requestedBy: row.requested_by },
        ip: null,
      });
      this.notify('expired', view);
    }
    return due.length;
  }

  private action<P>(kind: ApprovalKind): ApprovalAction<P> {
    const action = this.actions.get(kind);
    if (!action)
      throw new VigilError('REQUEST_INVALID', `'${kind}' is not an action this Vigil can carry out`);
    return action as ApprovalAction<P>;
  }

  private async row(id: number): Promise<Row> {
    const row = await this.deps.db
      .selectFrom('approval_requests')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw this.notFound(id);
    return row;
  }

  private notFound(id: number): VigilError {
    return new VigilError('APPROVAL_NOT_FOUND', `no approval request ${id}; GET /api/approvals lists them`);
  }

  /** A pending request the principal may see (expired ones are marked first). */
  private async pending(principal: Principal, id: number): Promise<Row> {
    await this.expireDue();
    const row = await this.row(id);
    if (!this.visibleTo(principal, viewOf(row))) throw this.notFound(id);
    if (row.state !== 'pending') {
      throw new VigilError(
        'APPROVAL_NOT_PENDING',
        `request ${id} is ${row.state} already; only a pending request can change`,
      );
    }
    return row;
  }

  /** A pending request the caller may decide: another user, holding the permission now. */
  private async decidable(caller: Caller, id: number): Promise<{ row: Row; action: ApprovalAction<never> }> {
    const row = await this.pending(caller.principal, id);
    const action = this.action<never>(row.kind as ApprovalKind);
    assertCan(caller.principal, action.permission, row.camera_id ?? undefined);
    if (row.requested_by_id === caller.principal.userId) {
      throw new VigilError(
        'APPROVAL_SELF',
        `request ${id} is your own: another user holding '${action.permission}' must decide it`,
      );
    }
    return { row, action };
  }

  /** Moves a pending request to its final state; APPROVAL_NOT_PENDING when someone was quicker. */
  private async settle(
    id: number,
    state: ApprovalState,
    by: string,
    nowMs: number,
    reason: string | null,
  ): Promise<ApprovalView> {
    const row = await this.deps.db
      .updateTable('approval_requests')
      .set({ state, decided_by: by, decided_at_ms: nowMs, decision_reason: reason })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new VigilError('APPROVAL_NOT_PENDING', `request ${id} was decided meanwhile`);
    return viewOf(row);
  }

  private audit(
    caller: Caller,
    action: 'approval.request' | 'approval.approve' | 'approval.refuse' | 'approval.cancel',
    request: ApprovalView,
    details: Record<string, unknown>,
  ): void {
    this.deps.record({
      actor: actorOf(caller.principal),
      action,
      target: auditTarget.approval(request.id),
      details: {
        kind: request.kind,
        cameraId: request.cameraId,
        requestedBy: request.requestedBy,
        ...details,
      },
      ip: caller.ip,
    });
  }

  private notify(change: WsApprovalMessage['change'], request: ApprovalView): void {
    const permission = this.permissionOf(request.kind);
    if (!permission) return;
    for (const listener of this.listeners) {
      try {
        listener({ type: 'approval', change, request }, permission);
      } catch (err) {
        this.deps.log.error({ err }, 'approval listener failed');
      }
    }
  }
}
