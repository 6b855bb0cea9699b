import { useEffect, useState } from 'react';
import type { PrivacyNoticeResponse } from '@contract/system';
import { api, ApiError } from '../api';
import { Forbidden } from '../components/FormError';
import { formatDateTime } from '../format';
import { href } from '../router';

/**
 * The sign for the site: who records, why, how long, whom to ask. Printed from the browser; the
 * page's print style leaves out everything but the notice.
 */
export function PrivacyNoticePage() {
  const [notice, setNotice] = useState<PrivacyNoticeResponse | null>(null);
  const [error, setError] = useState<ApiError | Error | null>(null);
  useEffect(() => {
    api.privacyNotice().then(setNotice, (err: Error) => setError(err));
  }, []);
  if (error instanceof ApiError && error.code === 'FORBIDDEN') return <Forbidden message={error.message} />;
  if (error) return <p className="error">Cannot load the notice: {error.message}</p>;
  if (!notice) return <p className="muted">Loading…</p>;
  return (
    <section aria-label="Privacy notice" className="privacy-notice">
      <p className="no-print">
        <a href={href(['system'])}>← System</a>{' '}
        <button type="button" onClick={() => window.print()}>
          Print
        </button>
      </p>
      {notice.missing.length > 0 && (
        <p className="error no-print" role="alert" data-testid="notice-missing">
          The notice is incomplete: set {notice.missing.join(', ')} in the configuration file.
        </p>
      )}
      <article className="notice-sheet">
        <h1>Video surveillance</h1>
        <p className="notice-site">{notice.site.name}</p>
        <dl>
          <dt>Who records</dt>
          <dd>{notice.site.controller ?? '—'}</dd>
          <dt>Why</dt>
          <dd>{notice.site.purpose ?? '—'}</dd>
          <dt>How long recordings are kept</dt>
          <dd>
            <ul>
              {notice.cameras.map((camera) => (
                <li key={camera.id}>
                  <strong>{camera.name}</strong>: {days(camera.continuousDays)}
                  {camera.justification !== null && <> (because {camera.justification})</>}
                  {camera.detects.length > 0 && (
                    <span className="muted">
                      {' '}
                      — detects {camera.detects.join(', ')}; never identifies anyone
                    </span>
                  )}
                </li>
              ))}
            </ul>
            Recordings around events are kept {days(notice.eventsDays)}
            {notice.justification !== null && <> (because {notice.justification})</>}. Recordings locked as
            evidence are kept until the case is closed.
          </dd>
          <dt>Your rights</dt>
          <dd>
            You may ask to see recordings of yourself (others in them are blurred), and to have them deleted
            when they are no longer needed. You may complain to the data-protection authority.
          </dd>
          <dt>Whom to ask</dt>
          <dd>{notice.site.contact ?? '—'}</dd>
        </dl>
        <p className="muted">As of {formatDateTime(notice.generatedAtMs)}.</p>
      </article>
    </section>
  );
}

function days(count: number): string {
  if (count < 1) return `${Math.round(count * 24)} hours`;
  return count === 1 ? '1 day' : `${count} days`;
}
