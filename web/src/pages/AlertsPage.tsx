import { useState } from 'react';
import type { AlertView } from '@contract/alerts';
import { api } from '../api';
import { formatDateTime } from '../format';
import { href } from '../router';
import { usePoll } from '../usePoll';
import { usePush } from '../usePush';

const PAGE_SIZE = 50;
const DETECTIONS_MS = 86_400_000;

/**
 * The review list: alerts (what rules fired on) first, newest first, each marked reviewed by the
 * user; below them the detections of the last day that no rule fired on. Live over /api/ws.
 */
export function AlertsPage() {
  const [unreviewedOnly, setUnreviewedOnly] = useState(false);
  const alerts = usePoll(
    () => api.alerts({ limit: PAGE_SIZE, ...(unreviewedOnly ? { reviewed: false } : {}) }),
    30_000,
    [unreviewedOnly],
  );
  const detections = usePoll(
    () => api.events({ kind: 'detection', fromMs: Date.now() - DETECTIONS_MS, limit: 24 }),
    60_000,
  );
  const [message, setMessage] = useState<string | null>(null);
  usePush((m) => {
    if (m.type === 'alert') alerts.refresh();
  });

  const review = async (what: () => Promise<unknown>, done: string) => {
    setMessage(null);
    try {
      await what();
      setMessage(done);
    } catch (err) {
      setMessage((err as Error).message);
    }
    alerts.refresh();
  };

  const page = alerts.data;
  return (
    <section aria-label="Alerts" className="alerts-page">
      <div className="toolbar">
        <h1>Alerts</h1>
        <label>
          <input
            type="checkbox"
            checked={unreviewedOnly}
            onChange={(e) => setUnreviewedOnly(e.target.checked)}
          />{' '}
          Only unreviewed
        </label>
        <button
          type="button"
          disabled={!page || page.unreviewedCount === 0}
          onClick={() => void review(() => api.reviewAlerts(), 'Every alert is marked reviewed.')}
        >
          Mark all reviewed
        </button>
        <span className="muted" data-testid="unreviewed-count">
          {page ? `${page.unreviewedCount} unreviewed` : ''}
        </span>
      </div>
      {alerts.error && <p className="error">Cannot load alerts: {alerts.error}</p>}
      {message && (
        <p role="status" className="muted">
          {message}
        </p>
      )}
      {page && page.alerts.length === 0 && <p className="muted">No alerts.</p>}
      <ul className="event-grid alert-list">
        {(page?.alerts ?? []).map((alert) => (
          <AlertCard
            key={alert.id}
            alert={alert}
            onReview={() => void review(() => api.reviewAlert(alert.id), `Alert ${alert.id} reviewed.`)}
          />
        ))}
      </ul>
      <h2>Detections</h2>
      <p className="muted">Objects seen in the last 24 hours that no rule fired on.</p>
      <ul className="event-grid" aria-label="Detections">
        {(detections.data?.events ?? []).map((event) => (
          <li key={event.id}>
            <a href={href(['events', String(event.id)])}>
              {event.snapshot ? (
                <img src={event.snapshot.cropUrl} alt={event.label} loading="lazy" />
              ) : (
                <div className="event-placeholder">{event.label}</div>
              )}
              <span className="event-caption">
                {event.label} <span className="muted">{formatDateTime(event.startTimeMs)}</span>
              </span>
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}

function AlertCard(props: { alert: AlertView; onReview: () => void }) {
  const { alert } = props;
  return (
    <li className="alert-card" data-alert-id={alert.id} data-reviewed={alert.reviewed}>
      {alert.snapshotUrl ? (
        <img src={alert.snapshotUrl} alt={alert.summary} loading="lazy" />
      ) : (
        <div className="event-placeholder">{alert.kind}</div>
      )}
      <span className="event-caption">
        <strong>{alert.summary}</strong>
        <br />
        <span className="muted">
          {alert.ruleName} · {alert.cameraId} · {formatDateTime(alert.timeMs)}
        </span>
      </span>
      <span className="form-actions">
        {alert.eventId !== null && <a href={href(['events', String(alert.eventId)])}>Event</a>}
        {alert.clipUrl && <a href={alert.clipUrl}>Clip</a>}
        {alert.reviewed ? (
          <span className="muted">Reviewed</span>
        ) : (
          <button type="button" className="ghost" onClick={props.onReview}>
            Mark reviewed
          </button>
        )}
      </span>
    </li>
  );
}

/** Alerts this user has not reviewed, for the navigation badge. */
export function useUnreviewedAlerts(): number {
  const alerts = usePoll(() => api.alerts({ limit: 1, reviewed: false }), 60_000);
  usePush((m) => {
    if (m.type === 'alert') alerts.refresh();
  });
  return alerts.data?.unreviewedCount ?? 0;
}
