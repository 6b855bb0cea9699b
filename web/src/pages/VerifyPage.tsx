import { useState, type FormEvent } from 'react';
import type { VerifyResponse } from '@contract/exports';
import { api } from '../api';
import { formatDateTime } from '../format';

const TRUST: Record<VerifyResponse['keyTrust'], string> = {
  installation: "this installation's key",
  given: 'the key given',
  mismatch: 'not the expected key',
  other: "another installation's key: compare its fingerprint with the one its sender published",
  unchecked: 'a key that was not compared',
};

/**
 * Verifies an export bundle: the file is sent to the server, which runs the same checks as
 * `vigil verify` and answers with the verdict.
 */
export function VerifyPage() {
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [verdict, setVerdict] = useState<VerifyResponse | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    setVerdict(null);
    try {
      setVerdict(await api.verifyBundle(file));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-label="Verify a bundle" className="verify">
      <h1>Verify an export bundle</h1>
      <p className="muted">
        Checks the signature, the manifest and every byte of the video. Offline, without Vigil running:{' '}
        <code>vigil verify BUNDLE.zip --key vigil-signing-key.pem</code>.
      </p>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          Bundle (.zip)
          <input
            type="file"
            name="bundle"
            accept=".zip,application/zip"
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
          />
        </label>{' '}
        <button type="submit" disabled={!file || busy}>
          {busy ? 'Verifying…' : 'Verify'}
        </button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {verdict && <Verdict verdict={verdict} />}
    </section>
  );
}

function Verdict(props: { verdict: VerifyResponse }) {
  const { verdict } = props;
  const m = verdict.manifest;
  return (
    <div className={`card verdict ${verdict.ok ? 'ok' : 'failed'}`} data-testid="verdict" role="status">
      <h2>
        {verdict.ok ? 'Verified: exactly as signed' : 'Failed: the bundle was changed or is not authentic'}
      </h2>
      {verdict.failures.length > 0 && (
        <ul data-testid="failures">
          {verdict.failures.map((f, i) => (
            <li key={i}>
              <strong>{f.part}</strong>: {f.message}
            </li>
          ))}
        </ul>
      )}
      {m && (
        <dl>
          <dt>Camera</dt>
          <dd>
            {m.cameraName} ({m.cameraId}), stream {m.stream}
          </dd>
          <dt>Range</dt>
          <dd>
            {formatDateTime(m.fromMs)} – {formatDateTime(m.toMs)}
          </dd>
          <dt>Exported by</dt>
          <dd>
            {m.exportedBy.name} on {formatDateTime(m.createdAtMs)}
          </dd>
          <dt>Reason</dt>
          <dd>{m.reason}</dd>
          <dt>Video</dt>
          <dd data-testid="content">
            {verdict.content === 'copy'
              ? `Exactly the recorded segments (a copy of ${m.segmentCount})`
              : `The declared transforms of the recorded segments: ${m.transforms.map((t) => JSON.stringify(t)).join(', ')}`}
          </dd>
        </dl>
      )}
      {verdict.fingerprint && (
        <p>
          Signed with key <code>{verdict.fingerprint}</code>: {TRUST[verdict.keyTrust]}.
        </p>
      )}
    </div>
  );
}
