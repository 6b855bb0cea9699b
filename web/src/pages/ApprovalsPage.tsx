import { useState } from 'react';
import type { ApprovalView } from '@contract/approvals';
import { api } from '../api';
import { formatDateTime } from '../format';
import { useSession } from '../session';
import { usePoll } from '../usePoll';
import { usePush } from '../usePush';

/**
 * Four-eyes approval: pending requests this user may decide (approve or refuse, never their own)
 * and their own (cancel), then the recent decisions. Refreshed when /api/ws says something changed.
 */
export function ApprovalsPage() {
  const { user } = useSession();
  const requests = usePoll(() => api.approvals(), 15_000);
  const [message, setMessage] = useState<string | null>(null);
  usePush((m) => {
    if (m.type === 'approval') requests.refresh();
  });
  const all = requests.data ?? [];
  const pending = all.filter((r) => r.state === 'pending');
  const decided = all.filter((r) => r.state !== 'pending').slice(0, 50);

  const act = async (what: () => Promise<ApprovalView>, done: string) => {
    setMessage(null);
    try {
      const result = await what();
      setMessage(result.state === 'failed' ? `Failed: ${result.decisionReason ?? ''}` : done);
    } catch (err) {
      setMessage((err as Error).message);
    }
    requests.refresh();
  };

  return (
    <div className="approvals-page">
      <h1>Approvals</h1>
      <p className="muted">
        Some actions need a second person. Approving carries the action out at once, as the person who asked.
      </p>
      {requests.error && <p className="error">{requests.error}</p>}
      {message && (
        <p role="status" className="muted">
          {message}
        </p>
      )}
      <h2>Waiting ({pending.length})</h2>
      {pending.length === 0 && <p className="muted">Nothing waits for a decision.</p>}
      <ul className="approval-list">
        {pending.map((r) => (
          <li key={r.id} className="approval" data-request-id={r.id} aria-label={`Request ${r.id}`}>
            <strong>{r.summary}</strong>
            <br />
            <span className="muted">
              asked by {r.requestedBy} at {formatDateTime(r.requestedAtMs)}, expires{' '}
              {formatDateTime(r.expiresAtMs)}
            </span>
            <br />
            Reason: {r.reason}
            <p className="form-actions">
              {r.requestedBy === user.name ? (
                <button
                  type="button"
                  className="ghost"
                  onClick={() => void act(() => api.cancelApproval(r.id), 'Cancelled.')}
                >
                  Cancel my request
                </button>
              ) : (
                <>
                  <button
                    type="button"
                    onClick={() => void act(() => api.approve(r.id), 'Approved and carried out.')}
                  >
                    Approve
                  </button>
                  <button
                    type="button"
                    className="ghost danger"
                    onClick={() => {
                      const why = window.prompt('Why refuse?')?.trim();
                      if (why) void act(() => api.refuse(r.id, why), 'Refused.');
                    }}
                  >
                    Refuse
                  </button>
                </>
              )}
            </p>
          </li>
        ))}
      </ul>
      <h2>Decided</h2>
      <ul className="approval-list">
        {decided.map((r) => (
          <li key={r.id} data-request-id={r.id} data-state={r.state}>
            {r.summary} — <strong>{r.state}</strong>
            {r.decidedBy && <> by {r.decidedBy}</>}
            {r.decisionReason && <>: {r.decisionReason}</>}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The number of pending requests this user may decide, for the navigation. */
export function usePendingApprovals(enabled: boolean): number {
  const { user } = useSession();
  const requests = usePoll(() => (enabled ? api.approvals('pending') : Promise.resolve([])), 30_000, [
    enabled,
  ]);
  usePush((m) => {
    if (enabled && m.type === 'approval') requests.refresh();
  });
  return (requests.data ?? []).filter((r) => r.requestedBy !== user.name).length;
}
