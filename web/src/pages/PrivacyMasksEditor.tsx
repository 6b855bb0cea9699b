import { useEffect, useState } from 'react';
import type { CameraInput, CameraView } from '@contract/cameras';
import type { LiftView, PrivacyMaskKind, PrivacyMaskView } from '@contract/privacy';
import { api, ApiError } from '../api';
import { PolygonEditor, type EditorPoint } from '../components/PolygonEditor';
import { href, navigate } from '../router';
import { useSession } from '../session';
import { cameraInputOf } from './camera-input';

const KIND_COLOUR: Record<PrivacyMaskKind, string> = { permanent: '#ff3b30', liftable: '#ff9500' };

/** A new mask's id: mask-1, mask-2 … whichever is free. */
function freeId(masks: readonly PrivacyMaskView[]): string {
  for (let i = 1; ; i++) {
    const id = `mask-${i}`;
    if (!masks.some((m) => m.id === id)) return id;
  }
}

/** The camera as a PUT body, unchanged but for its masks. */
function withMasks(camera: CameraView, masks: PrivacyMaskView[]): CameraInput {
  return { ...cameraInputOf(camera), privacy: { masks, maskAtRecording: camera.privacy.maskAtRecording } };
}

function formatRemaining(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/**
 * The "Privacy masks" editor of a camera: polygons drawn on a live snapshot, each permanent or
 * liftable, saved with the camera. A user with `unmask` can lift the liftable masks for a while.
 */
export function PrivacyMasksEditor(props: { camera: CameraView; onSaved: () => void }) {
  const { camera } = props;
  const session = useSession();
  const [masks, setMasks] = useState<PrivacyMaskView[]>(() => camera.privacy.masks);
  const [selectedId, setSelectedId] = useState<string | null>(camera.privacy.masks[0]?.id ?? null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [saving, setSaving] = useState(false);
  const [snapshotAt, setSnapshotAt] = useState(() => Date.now());
  const editable = camera.source === 'api' && session.can('cameras.manage');
  const selected = masks.find((m) => m.id === selectedId) ?? null;

  const change = (id: string, patch: Partial<PrivacyMaskView>) => {
    setSaved(false);
    setMasks((all) => all.map((m) => (m.id === id ? { ...m, ...patch } : m)));
  };

  const addMask = () => {
    const id = freeId(masks);
    setMasks((all) => [...all, { id, kind: 'permanent', polygon: [] }]);
    setSelectedId(id);
    setSaved(false);
  };

  const removeMask = (id: string) => {
    setMasks((all) => all.filter((m) => m.id !== id));
    setSelectedId(null);
    setSaved(false);
  };

  const save = async () => {
    setError(null);
    const unfinished = masks.find((m) => m.polygon.length < 3);
    if (unfinished) {
      setError(`mask '${unfinished.name ?? unfinished.id}' needs at least three points`);
      return;
    }
    setSaving(true);
    try {
      await api.updateCamera(withMasks(camera, masks));
      setSaved(true);
      setSnapshotAt(Date.now());
      props.onSaved();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <section className="privacy-editor" aria-label="Privacy masks">
      <div className="toolbar">
        <h1>Privacy masks: {camera.name}</h1>
        <a className="button ghost" href={href(['cameras'])}>
          Back to cameras
        </a>
      </div>
      <p className="muted">
        Masked areas are blacked out on the server in every picture and video of this camera. Permanent masks
        hide from everyone and are left out of analytics; liftable masks can be lifted for a while by a user
        with the <code>unmask</code> permission, with a reason that is kept in the audit log.
        {!editable && ' This camera is defined in the configuration file: change its masks there.'}
      </p>
      <div className="privacy-layout">
        <PolygonEditor
          imageUrl={`/api/cameras/${encodeURIComponent(camera.id)}/snapshot.jpg?t=${snapshotAt}`}
          alt={`Snapshot of ${camera.name}`}
          polygons={masks.map((m) => ({
            id: m.id,
            points: m.polygon,
            label: m.name ?? m.id,
            colour: KIND_COLOUR[m.kind],
          }))}
          selectedId={editable ? selectedId : null}
          onSelect={setSelectedId}
          onChange={(id, points: EditorPoint[]) => change(id, { polygon: points })}
        />
        <div className="privacy-side">
          <ul className="mask-list">
            {masks.map((m) => (
              <li key={m.id} className={m.id === selectedId ? 'selected' : undefined} data-mask={m.id}>
                <button type="button" className="ghost" onClick={() => setSelectedId(m.id)}>
                  {m.name ?? m.id}{' '}
                  <span className="muted">
                    ({m.kind}, {m.polygon.length} points)
                  </span>
                </button>
              </li>
            ))}
          </ul>
          {editable && (
            <button type="button" onClick={addMask}>
              Add mask
            </button>
          )}
          {editable && selected && (
            <fieldset className="mask-fields">
              <legend>Selected mask</legend>
              <label>
                Name
                <input
                  name="mask-name"
                  value={selected.name ?? ''}
                  placeholder={selected.id}
                  onChange={(e) => {
                    const name = e.target.value;
                    change(selected.id, name ? { name } : { name: undefined });
                  }}
                />
              </label>
              <label>
                Kind
                <select
                  name="mask-kind"
                  value={selected.kind}
                  onChange={(e) => change(selected.id, { kind: e.target.value as PrivacyMaskKind })}
                >
                  <option value="permanent">Permanent: hidden from everyone</option>
                  <option value="liftable">Liftable: can be lifted with a reason</option>
                </select>
              </label>
              <p className="muted">
                Click the picture to add points; drag a point to move it; double-click it to remove it.
              </p>
              <div className="form-actions">
                <button
                  type="button"
                  className="ghost"
                  disabled={selected.polygon.length === 0}
                  onClick={() => change(selected.id, { polygon: selected.polygon.slice(0, -1) })}
                >
                  Remove last point
                </button>
                <button type="button" className="ghost danger" onClick={() => removeMask(selected.id)}>
                  Delete mask
                </button>
              </div>
            </fieldset>
          )}
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          {saved && <p role="status">Saved.</p>}
          {editable && (
            <div className="form-actions">
              <button type="button" disabled={saving} onClick={() => void save()}>
                {saving ? 'Saving…' : 'Save masks'}
              </button>
              <button type="button" className="ghost" onClick={() => navigate(['cameras'])}>
                Cancel
              </button>
            </div>
          )}
          {session.can('unmask') && camera.privacy.masks.some((m) => m.kind === 'liftable') && (
            <LiftPanel cameraId={camera.id} onChange={() => setSnapshotAt(Date.now())} />
          )}
        </div>
      </div>
    </section>
  );
}

/** Lift the liftable masks for a while, with a reason; shows the time left of the caller's lift. */
function LiftPanel(props: { cameraId: string; onChange: () => void }) {
  const [lifts, setLifts] = useState<LiftView[]>([]);
  const [pending, setPending] = useState(false);
  const [reason, setReason] = useState('');
  const [minutes, setMinutes] = useState(5);
  const [error, setError] = useState<string | null>(null);
  const [nowMs, setNowMs] = useState(() => Date.now());
  const { cameraId, onChange } = props;

  const load = async () => {
    try {
      setLifts(await api.lifts(cameraId));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };

  useEffect(() => {
    void load();
    // load only reads cameraId
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [cameraId]);

  const mine = lifts.find((l) => l.mine && l.expiresAtMs > nowMs);
  useEffect(() => {
    if (!mine) return;
    const timer = setInterval(() => {
      const now = Date.now();
      setNowMs(now);
      if (now >= mine.expiresAtMs) {
        void load();
        onChange();
      }
    }, 1000);
    return () => clearInterval(timer);
    // load only reads cameraId
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [mine, onChange]);

  const start = async () => {
    setError(null);
    try {
      const answer = await api.startLift(cameraId, { reason: reason.trim(), durationMs: minutes * 60_000 });
      setPending('status' in answer && answer.status === 'pending');
      setReason('');
      setNowMs(Date.now());
      await load();
      onChange();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };

  const end = async (id: number) => {
    setError(null);
    try {
      await api.endLift(cameraId, id);
      await load();
      onChange();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };

  return (
    <fieldset className="lift-panel">
      <legend>Lift liftable masks</legend>
      {mine ? (
        <p role="status">
          You see through the liftable masks for another{' '}
          <strong data-testid="lift-remaining">{formatRemaining(mine.expiresAtMs - nowMs)}</strong>.{' '}
          <button type="button" className="ghost" onClick={() => void end(mine.id)}>
            End lift now
          </button>
        </p>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void start();
          }}
        >
          <label>
            Reason (kept in the audit log)
            <input
              name="lift-reason"
              required
              maxLength={500}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
            />
          </label>
          <label>
            For
            <select name="lift-minutes" value={minutes} onChange={(e) => setMinutes(Number(e.target.value))}>
              {[1, 5, 15, 30, 60].map((m) => (
                <option key={m} value={m}>
                  {m} min
                </option>
              ))}
            </select>
          </label>
          <button type="submit">Lift masks</button>
        </form>
      )}
      {lifts
        .filter((l) => !l.mine)
        .map((l) => (
          <p key={l.id} className="muted">
            {l.userName} has a lift until {new Date(l.expiresAtMs).toLocaleTimeString()}: {l.reason}
          </p>
        ))}
      {pending && (
        <p role="status">
          A second person with the right to lift masks must approve this: the lift starts when they do (
          <a href="#/approvals">Approvals</a>).
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}
