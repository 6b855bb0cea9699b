import { useCallback, useEffect, useState } from 'react';
import type { EventView } from '@contract/events';
import { api, ApiError } from '../api';
import { CameraSelect, LabelSelect } from '../components/FilterSelects';
import { Forbidden } from '../components/FormError';
import { formatDateTime, formatDuration, formatTime } from '../format';
import { href, navigate } from '../router';
import { useSession } from '../session';
import { usePoll } from '../usePoll';
import { usePush } from '../usePush';

const RANGES = [
  { id: '1h', label: 'Last hour', ms: 3_600_000 },
  { id: '24h', label: 'Last 24 h', ms: 86_400_000 },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { id: 'all', label: 'All', ms: null },
] as const;
const PAGE_SIZE = 48;

export function EventsPage(props: { eventId: string | undefined; query: URLSearchParams }) {
  const camera = props.query.get('camera') ?? '';
  const label = props.query.get('label') ?? '';
  const kindParam = props.query.get('kind');
  const kind: 'alert' | 'detection' | '' =
    kindParam === 'alert' || kindParam === 'detection' ? kindParam : '';
  const range = RANGES.find((r) => r.id === props.query.get('range')) ?? RANGES[1];
  const cameras = usePoll(api.cameras, 30_000);
  const [events, setEvents] = useState<EventView[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [forbidden, setForbidden] = useState(false);
  const [loading, setLoading] = useState(true);

  const filters = useCallback(
    () => ({
      ...(camera ? { camera } : {}),
      ...(label ? { label } : {}),
      ...(kind ? { kind } : {}),
      ...(range.ms !== null ? { fromMs: Date.now() - range.ms, toMs: Date.now() + 60_000 } : {}),
      limit: PAGE_SIZE,
    }),
    [camera, label, kind, range.ms],
  );

  useEffect(() => {
    let cancelled = false;
    setLoading(true);
    api.events(filters()).then(
      (page) => {
        if (cancelled) return;
        setEvents(page.events);
        setNextCursor(page.nextCursor);
        setError(null);
        setForbidden(false);
        setLoading(false);
      },
      (err: unknown) => {
        if (cancelled) return;
        setError((err as Error).message);
        setForbidden(err instanceof ApiError && err.code === 'FORBIDDEN');
        setLoading(false);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [filters]);

  // New and changed events arrive over the push channel: the list is live without reloading.
  usePush((message) => {
    if (message.type !== 'event') return;
    const event = message.after;
    // Whether a new event is an alert is known later (GET /api/alerts): filtered lists reload instead.
    if (kind || (camera && event.cameraId !== camera) || (label && event.label !== label)) return;
    setEvents((list) => {
      const index = list.findIndex((e) => e.id === event.id);
      if (index >= 0) return list.map((e) => (e.id === event.id ? event : e));
      return message.kind === 'new' ? [event, ...list] : list;
    });
  });

  const loadMore = async () => {
    if (!nextCursor) return;
    const page = await api.events({ ...filters(), cursor: nextCursor });
    setEvents((list) => [...list, ...page.events]);
    setNextCursor(page.nextCursor);
  };

  const setFilter = (key: string, value: string) => {
    const query: Record<string, string | undefined> = { camera, label, kind, range: range.id };
    query[key] = value || undefined;
    navigate(['events'], query);
  };

  const selectedId = Number(props.eventId);
  const selected = events.find((e) => e.id === selectedId);
  if (forbidden && error) return <Forbidden message={error} />;

  return (
    <section aria-label="Events" className="events-page">
      <div className="toolbar">
        <h1>Events</h1>
        <CameraSelect
          cameras={cameras.data ?? []}
          value={camera}
          onChange={(id) => setFilter('camera', id)}
          allLabel="All cameras"
        />
        <label>
          Kind{' '}
          <select value={kind} onChange={(e) => setFilter('kind', e.target.value)}>
            <option value="">Alerts and detections</option>
            <option value="alert">Alerts (a rule fired)</option>
            <option value="detection">Detections</option>
          </select>
        </label>
        <LabelSelect value={label} onChange={(l) => setFilter('label', l)} />
        <label>
          Time{' '}
          <select value={range.id} onChange={(e) => setFilter('range', e.target.value)}>
            {RANGES.map((r) => (
              <option key={r.id} value={r.id}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && <p className="error">Cannot load events: {error}</p>}
      {selectedId > 0 && (
        <EventDetail
          key={selectedId}
          id={selectedId}
          initial={selected}
          onDeleted={() => {
            setEvents((list) => list.filter((e) => e.id !== selectedId));
            navigate(['events'], { camera: camera || undefined, label: label || undefined, range: range.id });
          }}
        />
      )}
      {!loading && events.length === 0 && <p className="muted">No events for these filters.</p>}
      <ul className="event-grid">
        {events.map((event) => (
          <li key={event.id} data-event={event.id} data-label={event.label}>
            <a
              href={href(['events', String(event.id)], {
                camera: camera || undefined,
                label: label || undefined,
                range: range.id,
              })}
            >
              {event.snapshot ? (
                <img
                  src={event.snapshot.cropUrl}
                  alt={`${event.label} on ${event.cameraId}`}
                  loading="lazy"
                />
              ) : (
                <div className="event-placeholder">{event.label}</div>
              )}
              <span className="event-caption">
                <strong>{event.label}</strong> · {event.cameraId}
                <br />
                <span className="muted">
                  {formatDateTime(event.startTimeMs)}
                  {event.endTimeMs === null
                    ? ' · ongoing'
                    : ` · ${formatDuration(event.endTimeMs - event.startTimeMs)}`}
                </span>
              </span>
            </a>
          </li>
        ))}
      </ul>
      {nextCursor && (
        <button type="button" className="ghost" onClick={() => void loadMore()}>
          Older events
        </button>
      )}
    </section>
  );
}

function EventDetail(props: { id: number; initial: EventView | undefined; onDeleted: () => void }) {
  const { can } = useSession();
  const [event, setEvent] = useState<EventView | null>(props.initial ?? null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => {
    api.event(props.id).then(setEvent, (err: unknown) => setError((err as Error).message));
  }, [props.id]);
  if (error) return <p className="error">{error}</p>;
  if (!event) return <p className="muted">Loading event…</p>;
  const remove = async () => {
    if (
      !window.confirm(
        'Delete this event? Its snapshot goes, and its clip is no longer kept beyond normal retention.',
      )
    )
      return;
    setNotice(null);
    try {
      const result = await deleteEvent(event.id);
      if (result === 'deleted') props.onDeleted();
      else if (result === 'pending')
        setNotice('Deleting this event needs a second person: your request is on the Approvals page.');
    } catch (err) {
      setNotice((err as Error).message);
    }
  };
  return (
    <div className="event-detail" role="region" aria-label={`Event ${event.id}`}>
      <video className="event-clip" src={event.clip.url} controls autoPlay muted playsInline />
      <div>
        <h2>
          {event.label} on {event.cameraId}
        </h2>
        <p>
          {formatDateTime(event.startTimeMs)} – {event.endTimeMs ? formatTime(event.endTimeMs) : 'ongoing'} ·
          best score {Math.round(event.maxScore * 100)}%
        </p>
        {event.snapshot && (
          <img className="event-snapshot" src={event.snapshot.url} alt="Snapshot with the object marked" />
        )}
        <p className="form-actions">
          {can('playback.view') && (
            <a className="button" href={href(['playback', event.cameraId], { t: event.clip.startTimeMs })}>
              Open in playback
            </a>
          )}
          <a className="button ghost" href={event.clip.url} download>
            Download clip
          </a>
          {can('events.delete') && (
            <button type="button" className="ghost danger" onClick={() => void remove()}>
              Delete
            </button>
          )}
        </p>
        {notice && (
          <p className="muted" role="status">
            {notice}
          </p>
        )}
        {can('playback.view') && <EvidencePanel event={event} />}
      </div>
    </div>
  );
}

/** Deletes an event, asking why when the installation makes deleting wait for a second person. */
async function deleteEvent(id: number): Promise<'deleted' | 'pending' | 'cancelled'> {
  try {
    const outcome = await api.deleteEvent(id);
    return outcome?.status === 'pending' ? 'pending' : 'deleted';
  } catch (err) {
    if (!(err instanceof ApiError && err.details.parameter === 'reason')) throw err;
  }
  const why = reasonFor('delete this event');
  if (!why) return 'cancelled';
  const outcome = await api.deleteEvent(id, why);
  return outcome?.status === 'pending' ? 'pending' : 'deleted';
}

/** Asks why (an approval request needs a reason); empty when the user gives none. */
function reasonFor(action: string): string {
  return window.prompt(`Why ${action}? (a second person may need to approve it)`)?.trim() ?? '';
}

/** The event's evidence locks: a badge, and for users with evidence.lock a lock form or an unlock request. */
function EvidencePanel(props: { event: EventView }) {
  const { can } = useSession();
  const { event } = props;
  const locks = usePoll(() => api.evidence({ eventId: event.id }), 10_000, [event.id]);
  const [reason, setReason] = useState('');
  const [expires, setExpires] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const active = (locks.data ?? []).filter((l) => l.state === 'locked');
  const mayLock = can('evidence.lock');

  const lock = async () => {
    setMessage(null);
    try {
      const expiresAtMs = expires ? new Date(expires).getTime() : null;
      await api.lockEvent(event.id, reason.trim(), expiresAtMs);
      setReason('');
      setExpires('');
      locks.refresh();
    } catch (err) {
      setMessage((err as Error).message);
    }
  };
  const askUnlock = async (lockId: number) => {
    const why = reasonFor('unlock this evidence');
    if (!why) return;
    try {
      const outcome = await api.requestUnlock(lockId, why);
      setMessage(
        outcome.status === 'pending'
          ? 'Unlocking needs a second person: your request is on the Approvals page.'
          : 'Unlocked.',
      );
      locks.refresh();
    } catch (err) {
      setMessage((err as Error).message);
    }
  };

  return (
    <div className="evidence" aria-label="Evidence">
      {active.map((l) => (
        <p key={l.id}>
          <span className="lock-badge" data-lock-id={l.id}>
            🔒 Locked as evidence
          </span>{' '}
          by {l.createdBy}: {l.reason}
          {l.expiresAtMs !== null && <> (until {formatDateTime(l.expiresAtMs)})</>}{' '}
          {mayLock && (
            <button type="button" className="ghost" onClick={() => void askUnlock(l.id)}>
              Ask to unlock
            </button>
          )}
        </p>
      ))}
      {mayLock && active.length === 0 && (
        <form
          className="lock-form"
          onSubmit={(e) => {
            e.preventDefault();
            void lock();
          }}
        >
          <label>
            Reason{' '}
            <input value={reason} required maxLength={500} onChange={(e) => setReason(e.target.value)} />
          </label>{' '}
          <label>
            Expires (optional){' '}
            <input type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
          </label>{' '}
          <button type="submit" disabled={reason.trim() === ''}>
            Lock as evidence
          </button>
        </form>
      )}
      {message && (
        <p className="muted" role="status">
          {message}
        </p>
      )}
    </div>
  );
}
