/** Four-eyes approval requests as the API shows them (GET /api/approvals). */

/** Actions an installation may make wait for a second user (config `approvals.require`). */
export const APPROVAL_KINDS = [
  'mask.lift',
  'export.unredacted',
  'evidence.unlock',
  'events.delete',
  'recordings.delete',
] as const;

export type ApprovalKind = (typeof APPROVAL_KINDS)[number];

export type ApprovalState = 'pending' | 'approved' | 'refused' | 'cancelled' | 'expired' | 'failed';

export interface ApprovalView {
  id: number;
  kind: ApprovalKind;
  /** The camera the action touches; null when it touches none. */
  cameraId: string | null;
  params: Record<string, unknown>;
  /** What the action does, in words. */
  summary: string;
  /** Why the requester asks. */
  reason: string;
  state: ApprovalState;
  requestedBy: string;
  requestedAtMs: number;
  expiresAtMs: number;
  decidedBy: string | null;
  decidedAtMs: number | null;
  /** A refusal's reason, or why executing the approved action failed. */
  decisionReason: string | null;
  /** What the executed action returned. */
  result: unknown;
}

/** What an action answers: done at once, or waiting for a second user. */
export type ApprovalOutcome =
  { status: 'done'; result: unknown } | { status: 'pending'; request: ApprovalView };

export interface ApprovalList {
  requests: ApprovalView[];
}
