import { useState, type FormEvent } from 'react';
import type { CreatedShare, ExportView } from '@contract/exports';
import { api } from '../api';
import { formatBytes, formatDateTime } from '../format';

const SHARE_LIFETIMES = [
  { label: '1 hour', ms: 3_600_000 },
  { label: '1 day', ms: 86_400_000 },
  { label: '7 days', ms: 7 * 86_400_000 },
  { label: '30 days', ms: 30 * 86_400_000 },
] as const;

/**
 * A signed export bundle of the selected range: the user says why (required), Vigil builds the
 * zip (video, manifest, signature, public key), and the dialog offers the download and a share
 * link for one recipient.
 */
export function ExportBundleDialog(props: {
  cameraId: string;
  fromMs: number;
  toMs: number;
  onClose: () => void;
}) {
  const [reason, setReason] = useState('');
  const [blurFaces, setBlurFaces] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [bundle, setBundle] = useState<ExportView | null>(null);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setBundle(
        await api.createExport(props.cameraId, {
          from: String(Math.floor(props.fromMs)),
          to: String(Math.ceil(props.toMs)),
          reason,
          ...(blurFaces ? { redact: 'faces' as const } : {}),
        }),
      );
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="dialog" role="dialog" aria-modal="false" aria-labelledby="bundle-title">
      <h2 id="bundle-title">Signed export</h2>
      <p className="muted">
        {formatDateTime(props.fromMs)} – {formatDateTime(props.toMs)}: the video, a manifest with the SHA-256
        of every recorded segment, and this installation's signature.
      </p>
      {bundle === null ? (
        <form onSubmit={(e) => void create(e)}>
          <label>
            Reason (required; written into the signed manifest and the audit log)
            <textarea
              name="reason"
              required
              maxLength={1000}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
            />
          </label>
          <label className="inline">
            <input
              type="checkbox"
              name="blur-faces"
              checked={blurFaces}
              onChange={(e) => setBlurFaces(e.target.checked)}
            />{' '}
            Blur every face (declared in the manifest; takes about as long as the video at 640×480)
          </label>
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" disabled={busy || reason.trim() === ''}>
            {busy ? 'Building…' : 'Create bundle'}
          </button>{' '}
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
        </form>
      ) : (
        <BundleReady bundle={bundle} onClose={props.onClose} />
      )}
    </div>
  );
}

function BundleReady(props: { bundle: ExportView; onClose: () => void }) {
  const { bundle } = props;
  const [recipient, setRecipient] = useState('');
  const [lifetimeMs, setLifetimeMs] = useState<number>(SHARE_LIFETIMES[1].ms);
  const [share, setShare] = useState<CreatedShare | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [deleted, setDeleted] = useState(false);

  const deleteBundle = async () => {
    if (!window.confirm(`Delete bundle ${bundle.id}? Its share links stop working.`)) return;
    setError(null);
    try {
      await api.deleteExport(bundle.id);
      setDeleted(true);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  if (deleted) {
    return (
      <div data-testid="bundle-ready">
        <p role="status">Bundle {bundle.id} is deleted; the record of the export stays in the audit log.</p>
        <button type="button" onClick={props.onClose}>
          Close
        </button>
      </div>
    );
  }

  const makeShare = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      setShare(await api.createShare(bundle.id, recipient, lifetimeMs));
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <div data-testid="bundle-ready">
      <p>
        Bundle {bundle.id} ({formatBytes(bundle.byteLength)}), SHA-256{' '}
        <code>{bundle.sha256.slice(0, 16)}…</code>
      </p>
      <a className="button" href={bundle.downloadPath} download>
        Download bundle
      </a>{' '}
      <a href="#/verify">How to verify</a>
      <form onSubmit={(e) => void makeShare(e)} aria-label="Share link">
        <h3>Share link</h3>
        <label>
          Recipient
          <input
            name="recipient"
            required
            maxLength={200}
            value={recipient}
            onChange={(e) => setRecipient(e.target.value)}
          />
        </label>
        <label>
          Valid for
          <select value={lifetimeMs} onChange={(e) => setLifetimeMs(Number(e.target.value))}>
            {SHARE_LIFETIMES.map((l) => (
              <option key={l.ms} value={l.ms}>
                {l.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={recipient.trim() === ''}>
          Make link
        </button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {share && (
        <p data-testid="share-link">
          For {share.share.recipient}, until {formatDateTime(share.share.expiresAtMs)} (shown once):{' '}
          <input
            readOnly
            value={`${location.origin}${share.path}`}
            size={60}
            aria-label="Share link address"
          />
        </p>
      )}
      <p className="hint">
        The bundle stays on this machine for the days set in <code>retention.exportsDays</code> (longer while
        a share link is valid).
      </p>
      <button type="button" onClick={() => void deleteBundle()}>
        Delete bundle
      </button>{' '}
      <button type="button" onClick={props.onClose}>
        Close
      </button>
    </div>
  );
}
