import { api } from '../api';
import { Forbidden } from '../components/FormError';
import { StatusBadge } from '../components/StatusBadge';
import { formatBytes, formatDateTime, formatDuration } from '../format';
import { href } from '../router';
import { usePoll } from '../usePoll';
import { WebhooksSection } from './WebhooksSection';

/** The public key export bundles are signed with: what recipients compare a bundle's key with. */
function SigningKeyCard() {
  const key = usePoll(api.signingKey, 600_000);
  if (!key.data) return null;
  return (
    <div className="card" data-testid="signing-key">
      <h2>Export signing key</h2>
      <p>
        Ed25519 fingerprint <code>{key.data.fingerprint}</code>
      </p>
      <pre>{key.data.pem}</pre>
      <p>
        <a href="/api/system/signing-key.pem" download>
          Download the public key
        </a>{' '}
        for recipients (<code>vigil verify BUNDLE --key FILE</code>), or{' '}
        <a href="#/verify">verify a bundle</a>.
      </p>
    </div>
  );
}

export function SystemPage() {
  const system = usePoll(api.system, 5000);
  const data = system.data;
  if (system.errorCode === 'FORBIDDEN' && system.error) return <Forbidden message={system.error} />;
  if (system.error && !data) return <p className="error">Cannot load system status: {system.error}</p>;
  if (!data) return <p className="muted">Loading…</p>;
  const { storage } = data;
  const usedPct = storage.totalBytes
    ? ((storage.totalBytes - (storage.freeBytes ?? 0)) / storage.totalBytes) * 100
    : null;
  const now = Date.now();

  return (
    <section aria-label="System" className="system">
      <h1>System</h1>
      <p>
        <a href={href(['system', 'notice'])}>Privacy notice for the site</a>{' '}
        <span className="muted">(to print and post where the cameras record)</span>
      </p>
      <div className="cards">
        <div className="card">
          <h2>Storage</h2>
          <p>
            Recordings use <strong>{formatBytes(storage.usedBytes)}</strong>; {formatBytes(storage.freeBytes)}{' '}
            free of {formatBytes(storage.totalBytes)}.
          </p>
          {usedPct !== null && (
            <div
              className="meter"
              role="meter"
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={Math.round(usedPct)}
              aria-label="Disk used"
            >
              <div style={{ width: `${usedPct.toFixed(1)}%` }} />
            </div>
          )}
          <p className="muted">{storage.path}</p>
          {storage.shortfallBytes > 0 && (
            <p className="error">
              Retention cannot free {formatBytes(storage.shortfallBytes)}: held recordings are in the way.
            </p>
          )}
        </div>
        <div className="card">
          <h2>Versions</h2>
          <p>Vigil {data.version}</p>
          <p>
            ffmpeg {data.ffmpeg.version} ({data.ffmpeg.origin})
          </p>
          {data.ffmpeg.warning !== null && (
            <p className="error" role="alert" data-testid="ffmpeg-warning">
              {data.ffmpeg.warning}
            </p>
          )}
          <p>Node.js {data.node}</p>
          <p className="muted">Up {formatDuration(data.uptimeMs)}</p>
        </div>
      </div>
      <h2>Cameras</h2>
      <table className="table">
        <thead>
          <tr>
            <th>Camera</th>
            <th>Oldest recording kept</th>
            <th>Storage</th>
            <th>Stream</th>
            <th>State</th>
            <th>Video</th>
            <th>Bitrate</th>
            <th>Uptime</th>
            <th>Viewers</th>
            <th title="What pulls the stream: Vigil's own RTSP client (native) or ffmpeg">Ingest</th>
            <th title="The ingest ffmpeg's CPU, one core = 100%">Ingest CPU</th>
          </tr>
        </thead>
        <tbody>
          {data.cameras.flatMap((camera) =>
            camera.streams.map((stream, i) => (
              <tr key={`${camera.id}/${stream.name}`}>
                {i === 0 && (
                  <>
                    <td rowSpan={camera.streams.length}>{camera.name}</td>
                    <td rowSpan={camera.streams.length}>
                      {camera.oldestRecordingMs
                        ? `${formatDateTime(camera.oldestRecordingMs)} (${formatDuration(now - camera.oldestRecordingMs)} back)`
                        : '—'}
                    </td>
                    <td rowSpan={camera.streams.length}>{formatBytes(camera.usedBytes)}</td>
                  </>
                )}
                <td>{stream.name}</td>
                <td>
                  <StatusBadge state={stream.state} />
                </td>
                <td>
                  {stream.codec ?? '—'}{' '}
                  {stream.width && stream.height ? `${stream.width}×${stream.height}` : ''}{' '}
                  {stream.fps !== null ? `${stream.fps} fps` : ''}
                </td>
                <td>{stream.bitrateKbps !== null ? `${stream.bitrateKbps} kbit/s` : '—'}</td>
                <td>{stream.state === 'online' ? formatDuration(stream.uptimeMs) : '—'}</td>
                <td>{stream.viewerCount}</td>
                <td title={stream.ingestFallbackReason ?? undefined}>
                  {stream.ingest}
                  {stream.ingestFallbackReason !== null && ' (fallback)'}
                </td>
                <td>{ingestCpu(stream)}</td>
              </tr>
            )),
          )}
        </tbody>
      </table>
      <SigningKeyCard />
      <h2>Privacy masks in video</h2>
      {data.maskedTranscoders.length === 0 ? (
        <p className="muted">No one watches video with privacy masks now: nothing is re-encoded.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Camera</th>
              <th>Stream</th>
              <th>Masks</th>
              <th>Viewers</th>
              <th>CPU (one core = 100%)</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {data.maskedTranscoders.map((t) => (
              <tr key={`${t.cameraId}/${t.stream}/${t.maskKey}`}>
                <td>{t.cameraId}</td>
                <td>{t.stream}</td>
                <td>
                  <code>{t.maskKey.slice(0, 8)}</code>
                </td>
                <td>{t.recording ? 'recording' : t.viewerCount}</td>
                <td>{t.cpuPercent !== null ? `${t.cpuPercent.toFixed(0)}%` : '—'}</td>
                <td>{t.lastError ?? (t.running ? 'running' : 'starting')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <WebhooksSection />
      <h2>Connectivity log</h2>
      {data.connectivity.length === 0 ? (
        <p className="muted">No changes yet.</p>
      ) : (
        <table className="table connectivity">
          <thead>
            <tr>
              <th>Time</th>
              <th>Camera</th>
              <th>Stream</th>
              <th>State</th>
              <th>Reason</th>
            </tr>
          </thead>
          <tbody>
            {data.connectivity.map((c, i) => (
              <tr key={`${c.atMs}-${i}`}>
                <td>{formatDateTime(c.atMs)}</td>
                <td>{c.cameraId}</td>
                <td>{c.stream}</td>
                <td>
                  <StatusBadge state={c.state} />
                </td>
                <td>{c.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The ingest's CPU, marked when ffmpeg encodes the video (MJPEG, snapshots): that is what costs. */
function ingestCpu(stream: { cpuPercent: number | null; transcoding: boolean }): string {
  const cpu = stream.cpuPercent !== null ? `${stream.cpuPercent.toFixed(0)}%` : '—';
  return stream.transcoding ? `${cpu} (encoding H.264)` : cpu;
}
