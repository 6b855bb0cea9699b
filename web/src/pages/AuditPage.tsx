import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { AuditEntryView } from '@contract/auth';
import { api, ApiError, auditCsvUrl, type AuditFilters } from '../api';
import type { AuditVerifyResponse } from '@contract/auth';
import { FormError, Forbidden } from '../components/FormError';
import { formatDateTime } from '../format';
import { navigate } from '../router';

const PAGE_SIZE = 100;

/** Action subjects: the filter 'login' finds login.success, login.failure and login.lockout. */
const ACTIONS = [
  { id: 'login', label: 'Sign-ins (login)' },
  { id: 'logout', label: 'Sign-outs (logout)' },
  { id: 'live', label: 'Live viewing (live)' },
  { id: 'playback', label: 'Playback (playback)' },
  { id: 'export', label: 'Exports (export)' },
  { id: 'event', label: 'Event deletions (event)' },
  { id: 'camera', label: 'Camera changes (camera)' },
  { id: 'user', label: 'Accounts (user)' },
  { id: 'token', label: 'API tokens (token)' },
  { id: 'config', label: 'Configuration (config)' },
  { id: 'setup', label: 'First-run setup (setup)' },
  { id: 'audit', label: 'Audit log itself (audit)' },
] as const;

/** The filters as the address holds them: local date-times as typed, so the address reads well. */
interface FilterFields {
  from: string;
  to: string;
  actor: string;
  action: string;
}

function fieldsFrom(query: URLSearchParams): FilterFields {
  return {
    from: query.get('from') ?? '',
    to: query.get('to') ?? '',
    actor: query.get('actor') ?? '',
    action: query.get('action') ?? '',
  };
}

function localMs(value: string): number | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

function apiFilters(fields: FilterFields): AuditFilters {
  const fromMs = localMs(fields.from);
  const toMs = localMs(fields.to);
  return {
    ...(fromMs !== undefined ? { fromMs } : {}),
    ...(toMs !== undefined ? { toMs } : {}),
    ...(fields.actor.trim() ? { actor: fields.actor.trim() } : {}),
    ...(fields.action ? { action: fields.action } : {}),
  };
}

function detailsText(details: Record<string, unknown>): string {
  return Object.keys(details).length === 0 ? '' : JSON.stringify(details);
}

/** Who did what, when: the audit log for auditors and administrators, with filters, CSV and verification. */
export function AuditPage(props: { query: URLSearchParams }) {
  const applied = fieldsFrom(props.query);
  const appliedKey = JSON.stringify(applied);
  const [fields, setFields] = useState<FilterFields>(applied);
  const [entries, setEntries] = useState<AuditEntryView[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | Error | null>(null);
  const [loading, setLoading] = useState(true);
  const [reloads, setReloads] = useState(0);

  const filters = useCallback(() => apiFilters(JSON.parse(appliedKey) as FilterFields), [appliedKey]);

  useEffect(() => {
    setFields(JSON.parse(appliedKey) as FilterFields);
  }, [appliedKey]);

  useEffect(() => {
    let cancelled = false;
    setLoading(true);
    api.audit(filters(), { limit: PAGE_SIZE }).then(
      (page) => {
        if (cancelled) return;
        setEntries(page.entries);
        setNextCursor(page.nextCursor);
        setError(null);
        setLoading(false);
      },
      (err: unknown) => {
        if (cancelled) return;
        setError(err instanceof Error ? err : new Error(String(err)));
        setLoading(false);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [filters, reloads]);

  const loadOlder = async () => {
    if (!nextCursor) return;
    try {
      const page = await api.audit(filters(), { limit: PAGE_SIZE, cursor: nextCursor });
      setEntries((list) => [...list, ...page.entries]);
      setNextCursor(page.nextCursor);
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    }
  };

  /** Filters live in the address (a view to bookmark); applying the same ones again reloads. */
  const apply = (e: FormEvent) => {
    e.preventDefault();
    const next: FilterFields = { ...fields, actor: fields.actor.trim() };
    if (JSON.stringify(next) === appliedKey) setReloads((n) => n + 1);
    else {
      navigate(['audit'], {
        from: next.from || undefined,
        to: next.to || undefined,
        actor: next.actor || undefined,
        action: next.action || undefined,
      });
    }
  };

  if (error instanceof ApiError && error.code === 'FORBIDDEN') return <Forbidden message={error.message} />;
  const set = (patch: Partial<FilterFields>) => setFields((f) => ({ ...f, ...patch }));

  return (
    <section aria-label="Audit log" className="audit-page">
      <div className="toolbar">
        <h1>Audit log</h1>
        <a className="button ghost" href={auditCsvUrl(filters())} download>
          Download CSV
        </a>
        <VerifyButton />
      </div>
      <form className="audit-filters" onSubmit={apply} aria-label="Filters">
        <label>
          From
          <input
            type="datetime-local"
            name="from"
            step={1}
            value={fields.from}
            onChange={(e) => set({ from: e.target.value })}
          />
        </label>
        <label>
          To
          <input
            type="datetime-local"
            name="to"
            step={1}
            value={fields.to}
            onChange={(e) => set({ to: e.target.value })}
          />
        </label>
        <label>
          Actor
          <input
            name="actor"
            placeholder="user name, system, anonymous"
            value={fields.actor}
            onChange={(e) => set({ actor: e.target.value })}
          />
        </label>
        <label>
          Action
          <select name="action" value={fields.action} onChange={(e) => set({ action: e.target.value })}>
            <option value="">All actions</option>
            {ACTIONS.map((a) => (
              <option key={a.id} value={a.id}>
                {a.label}
              </option>
            ))}
          </select>
        </label>
        <div className="form-actions">
          <button type="submit">Apply</button>
          <button type="button" className="ghost" onClick={() => navigate(['audit'])}>
            Clear
          </button>
        </div>
      </form>
      {error && <FormError error={error} />}
      {!loading && !error && entries.length === 0 && <p className="muted">No entries for these filters.</p>}
      {entries.length > 0 && (
        <table className="table audit-table">
          <thead>
            <tr>
              <th>Time</th>
              <th>Actor</th>
              <th>Action</th>
              <th>Target</th>
              <th>Details</th>
              <th>IP</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.seq} data-seq={entry.seq} data-action={entry.action}>
                <td className="nowrap">{formatDateTime(entry.timeMs)}</td>
                <td>{entry.actor}</td>
                <td>
                  <code>{entry.action}</code>
                </td>
                <td>{entry.target ?? ''}</td>
                <td className="details">
                  <code>{detailsText(entry.details)}</code>
                </td>
                <td className="nowrap">{entry.ip ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {nextCursor && (
        <p>
          <button type="button" className="ghost" onClick={() => void loadOlder()}>
            Older
          </button>
        </p>
      )}
    </section>
  );
}

/** Checks the whole hash chain on the server: "intact", or the first entry found edited, deleted or moved. */
function VerifyButton() {
  const [result, setResult] = useState<AuditVerifyResponse | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const verify = async () => {
    setBusy(true);
    setResult(null);
    setError(null);
    try {
      setResult(await api.verifyAudit());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="verify">
      <button type="button" onClick={() => void verify()} disabled={busy}>
        {busy ? 'Verifying…' : 'Verify chain'}
      </button>
      {result && (
        <p
          className={`verify-result ${result.ok ? 'ok' : 'error'}`}
          role={result.ok ? 'status' : 'alert'}
          data-ok={result.ok}
        >
          {result.ok ? '✓ ' : '✗ '}
          {result.message}
          {result.warnings.map((w) => (
            <span key={w} className="warning">
              {' '}
              ({w})
            </span>
          ))}
        </p>
      )}
      <FormError error={error} />
    </div>
  );
}
