import Hls from 'hls.js/light';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, exportUrl, redactedExport, vodUrl } from '../api';
import { ExportBundleDialog } from '../components/ExportBundleDialog';
import { Forbidden } from '../components/FormError';
import { Timeline } from '../components/Timeline';
import { formatDateTime, formatTime, localDateValue, startOfLocalDay } from '../format';
import { navigate } from '../router';
import { useSession } from '../session';
import { usePoll } from '../usePoll';

const DAY_MS = 86_400_000;
const ZOOMS = [
  { label: '24 h', spanMs: DAY_MS },
  { label: '6 h', spanMs: 6 * 3_600_000 },
  { label: '1 h', spanMs: 3_600_000 },
  { label: '10 min', spanMs: 600_000 },
] as const;
const SPEEDS = [0.5, 1, 2, 4, 8, 16] as const;
/** How much a playlist covers from the chosen instant; playing past it loads the next. */
const PLAYLIST_SPAN_MS = 2 * 3_600_000;
const DEFAULT_CLIP_MS = 60_000;

export function PlaybackPage(props: { cameraId: string | undefined; query: URLSearchParams }) {
  const cameras = usePoll(api.cameras, 10_000);
  const cameraId = props.cameraId ?? cameras.data?.[0]?.id;
  const camera = cameras.data?.find((c) => c.id === cameraId);
  const startAtMs = Number(props.query.get('t')) || null;

  if (cameras.errorCode === 'FORBIDDEN' && cameras.error) return <Forbidden message={cameras.error} />;
  if (cameras.error && !cameras.data) return <p className="error">Cannot load cameras: {cameras.error}</p>;
  if (!cameras.data) return <p className="muted">Loading…</p>;
  if (!cameraId || !camera) return <p className="muted">No camera to play back. Add one under Cameras.</p>;
  return (
    <Playback
      key={cameraId}
      cameraId={cameraId}
      cameraName={camera.name}
      cameraIds={cameras.data.map((c) => ({ id: c.id, name: c.name }))}
      fps={camera.streams.main?.status.fps ?? 10}
      startAtMs={startAtMs}
    />
  );
}

function Playback(props: {
  cameraId: string;
  cameraName: string;
  cameraIds: Array<{ id: string; name: string }>;
  fps: number;
  startAtMs: number | null;
}) {
  const { cameraId, fps } = props;
  const { can } = useSession();
  const mayExport = can('export.create');
  const seesEvents = can('events.view');
  const [nowMs, setNowMs] = useState(() => Date.now());
  const [dayStartMs, setDayStartMs] = useState(() => startOfLocalDay(props.startAtMs ?? Date.now()));
  const [zoom, setZoom] = useState<number>(DAY_MS);
  const [cursorMs, setCursorMs] = useState<number | null>(null);
  const [bundling, setBundling] = useState(false);
  const [playing, setPlaying] = useState<{ fromMs: number; seq: number } | null>(null);
  const [speed, setSpeed] = useState(1);
  const [sound, setSound] = useState(false);
  const [selection, setSelection] = useState<{ fromMs: number; toMs: number } | null>(null);
  const [playError, setPlayError] = useState<string | null>(null);
  const [firstFrameMs, setFirstFrameMs] = useState<number | null>(null);
  const videoRef = useRef<HTMLVideoElement>(null);
  const hlsRef = useRef<Hls | null>(null);
  const timeMapRef = useRef<{ pdtMs: number } | null>(null);

  const dayEndMs = dayStartMs + DAY_MS;
  const recordings = usePoll(
    () => api.recordings(cameraId, dayStartMs, Math.min(dayEndMs, Date.now())),
    10_000,
    [cameraId, dayStartMs],
  );
  const spans = recordings.data?.recordings ?? [];
  const dayEvents = usePoll(
    () =>
      seesEvents
        ? api.events({ camera: cameraId, fromMs: dayStartMs, toMs: dayEndMs, limit: 500 })
        : Promise.resolve({ events: [], nextCursor: null }),
    10_000,
    [cameraId, dayStartMs],
  );
  const events = [...(dayEvents.data?.events ?? [])].sort((a, b) => a.startTimeMs - b.startTimeMs);
  const motion = usePoll(
    () =>
      seesEvents
        ? api.motion(cameraId, dayStartMs, Math.min(dayEndMs, Date.now()))
        : Promise.resolve({ cameraId, fromMs: dayStartMs, toMs: dayEndMs, periods: [] }),
    10_000,
    [cameraId, dayStartMs],
  );

  // The camera's own events (ONVIF: tamper, line crossing, inputs), marked under the events.
  const cameraEvents = usePoll(
    () =>
      seesEvents
        ? api.cameraEvents(cameraId, dayStartMs, Math.min(dayEndMs, Date.now()))
        : Promise.resolve({ cameraId, fromMs: dayStartMs, toMs: dayEndMs, events: [] }),
    10_000,
    [cameraId, dayStartMs],
  );

  const locks = usePoll(
    () => api.evidence({ camera: cameraId, fromMs: dayStartMs, toMs: dayEndMs }),
    10_000,
    [cameraId, dayStartMs],
  );

  useEffect(() => {
    const timer = window.setInterval(() => setNowMs(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);

  const playFrom = useCallback(
    (ms: number) => {
      setPlayError(null);
      setCursorMs(ms);
      setSelection({ fromMs: ms, toMs: Math.min(ms + DEFAULT_CLIP_MS, Date.now()) });
      setPlaying((p) => ({ fromMs: ms, seq: (p?.seq ?? 0) + 1 }));
      if (ms < dayStartMs || ms >= dayStartMs + DAY_MS) setDayStartMs(startOfLocalDay(ms));
    },
    [dayStartMs],
  );

  useEffect(() => {
    if (props.startAtMs !== null) playFrom(props.startAtMs);
    // Only the instant in the URL when the page opens; later seeks come from the timeline.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Loads the playlist from the chosen instant and starts at its exact offset in the first GOP.
  useEffect(() => {
    const video = videoRef.current;
    if (!video || !playing) return undefined;
    const requestedAt = performance.now();
    const url = vodUrl(cameraId, playing.fromMs, playing.fromMs + PLAYLIST_SPAN_MS);
    let hls: Hls | null = null;
    let cancelled = false;
    setFirstFrameMs(null);
    void (async () => {
      const response = await fetch(url);
      const text = await response.text();
      if (cancelled) return;
      if (!response.ok) {
        setPlayError((JSON.parse(text) as { error: { message: string } }).error.message);
        return;
      }
      const pdt = /#EXT-X-PROGRAM-DATE-TIME:(\S+)/.exec(text)?.[1];
      const pdtMs = pdt ? Date.parse(pdt) : playing.fromMs;
      timeMapRef.current = { pdtMs };
      const startPosition = Math.max(0, (playing.fromMs - pdtMs) / 1000);
      if (Hls.isSupported()) {
        hls = new Hls({ startPosition, maxBufferLength: 20, enableWorker: true });
        hlsRef.current = hls;
        hls.on(Hls.Events.ERROR, (_event, data) => {
          if (data.fatal) setPlayError(`playback failed: ${data.details}`);
        });
        hls.loadSource(url);
        hls.attachMedia(video);
      } else {
        video.src = url;
        video.addEventListener('loadedmetadata', () => (video.currentTime = startPosition), { once: true });
      }
      // After attaching: loading a new source cancels frame callbacks registered before it.
      const onFirstFrame = () => {
        if (!cancelled) setFirstFrameMs(Math.round(performance.now() - requestedAt));
      };
      if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(onFirstFrame);
      else video.addEventListener('playing', onFirstFrame, { once: true });
      video.playbackRate = speed;
      void video.play().catch(() => undefined);
    })().catch((err: unknown) => setPlayError(String(err)));
    return () => {
      cancelled = true;
      hls?.destroy();
      hlsRef.current = null;
    };
    // speed is applied by its own effect; restarting playback for it would lose the position.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [cameraId, playing]);

  useEffect(() => {
    if (videoRef.current) videoRef.current.playbackRate = speed;
  }, [speed]);

  // React does not update the muted property after the first render: set it directly.
  useEffect(() => {
    if (videoRef.current) videoRef.current.muted = !sound;
  }, [sound]);

  const onTimeUpdate = () => {
    const video = videoRef.current;
    const date = hlsRef.current?.playingDate;
    if (date) setCursorMs(date.getTime());
    else if (video && timeMapRef.current) setCursorMs(timeMapRef.current.pdtMs + video.currentTime * 1000);
  };

  const stepFrame = (direction: 1 | -1) => {
    const video = videoRef.current;
    if (!video) return;
    video.pause();
    video.currentTime = Math.max(0, video.currentTime + direction / Math.max(1, fps));
  };
  const togglePlay = () => {
    const video = videoRef.current;
    if (!video) return;
    if (video.paused) void video.play();
    else video.pause();
  };
  const jumpRecording = (direction: 1 | -1) => {
    const at = cursorMs ?? nowMs;
    const target =
      direction === 1
        ? spans.find((s) => s.startTimeMs > at + 1000)
        : [...spans].reverse().find((s) => s.startTimeMs < at - 1000);
    if (target) playFrom(target.startTimeMs);
  };

  const jumpEvent = (direction: 1 | -1) => {
    const at = cursorMs ?? nowMs;
    const target =
      direction === 1
        ? events.find((e) => e.clip.startTimeMs > at + 1000)
        : [...events].reverse().find((e) => e.clip.startTimeMs < at - 1000);
    if (target) playFrom(target.clip.startTimeMs);
  };

  const viewSpanMs = zoom;
  const center = cursorMs ?? nowMs;
  const viewStartMs = Math.min(Math.max(dayStartMs, center - viewSpanMs / 2), dayEndMs - viewSpanMs);
  const viewEndMs = viewStartMs + viewSpanMs;

  const onKeyDown = (e: React.KeyboardEvent) => {
    if ((e.target as HTMLElement).closest('input, select, [role="slider"]')) return;
    if (e.key === ' ') {
      e.preventDefault();
      togglePlay();
    } else if (e.key === ',') stepFrame(-1);
    else if (e.key === '.') stepFrame(1);
  };

  // The role lacks playback (a viewer who opened a playback address): the server's reason, no player.
  if (recordings.errorCode === 'FORBIDDEN' && recordings.error)
    return <Forbidden message={recordings.error} />;

  return (
    <section aria-label="Playback" className="playback" onKeyDown={onKeyDown}>
      <div className="toolbar">
        <h1>Playback</h1>
        <label>
          Camera{' '}
          <select value={cameraId} onChange={(e) => navigate(['playback', e.target.value])}>
            {props.cameraIds.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Day{' '}
          <input
            type="date"
            value={localDateValue(dayStartMs)}
            max={localDateValue(nowMs)}
            onChange={(e) => {
              const ms = new Date(`${e.target.value}T00:00`).getTime();
              if (Number.isFinite(ms)) setDayStartMs(ms);
            }}
          />
        </label>
        <div role="group" aria-label="Zoom" className="segmented">
          {ZOOMS.map((z) => (
            <button
              key={z.label}
              type="button"
              aria-pressed={zoom === z.spanMs}
              onClick={() => setZoom(z.spanMs)}
            >
              {z.label}
            </button>
          ))}
        </div>
      </div>
      <div className="player">
        <video
          ref={videoRef}
          className="playback-video"
          muted
          playsInline
          controls={false}
          onTimeUpdate={onTimeUpdate}
          data-first-frame-ms={firstFrameMs ?? undefined}
        />
        {!playing && <div className="tile-overlay">Click the timeline to play from that time.</div>}
        {playError && (
          <div className="tile-overlay error" role="alert">
            {playError}
          </div>
        )}
      </div>
      <div className="controls" role="group" aria-label="Playback controls">
        <button type="button" onClick={() => jumpRecording(-1)} title="Previous recording">
          « Prev
        </button>
        <button
          type="button"
          onClick={() => cursorMs !== null && playFrom(cursorMs - 10_000)}
          disabled={!playing}
        >
          −10 s
        </button>
        <button type="button" onClick={() => stepFrame(-1)} disabled={!playing} title="Previous frame (,)">
          ‹ Frame
        </button>
        <button type="button" onClick={togglePlay} disabled={!playing} title="Play or pause (space)">
          Play/Pause
        </button>
        <button type="button" onClick={() => stepFrame(1)} disabled={!playing} title="Next frame (.)">
          Frame ›
        </button>
        <button
          type="button"
          onClick={() => cursorMs !== null && playFrom(cursorMs + 10_000)}
          disabled={!playing}
        >
          +10 s
        </button>
        <button type="button" onClick={() => jumpRecording(1)} title="Next recording">
          Next »
        </button>
        <button type="button" className="ghost" onClick={() => jumpEvent(-1)} disabled={events.length === 0}>
          « Event
        </button>
        <button type="button" className="ghost" onClick={() => jumpEvent(1)} disabled={events.length === 0}>
          Event »
        </button>
        <button
          type="button"
          aria-pressed={sound}
          data-testid="playback-sound"
          onClick={() => setSound(!sound)}
          title="The recorded sound, where the camera sent any"
        >
          {sound ? 'Sound off' : 'Sound on'}
        </button>
        <label>
          Speed{' '}
          <select value={speed} onChange={(e) => setSpeed(Number(e.target.value))}>
            {SPEEDS.map((s) => (
              <option key={s} value={s}>
                {s}×
              </option>
            ))}
          </select>
        </label>
        <span className="muted cursor-time" data-cursor-ms={cursorMs ?? undefined}>
          {cursorMs ? formatDateTime(cursorMs) : '—'}
        </span>
      </div>
      <Timeline
        viewStartMs={viewStartMs}
        viewEndMs={viewEndMs}
        recordings={spans}
        motion={motion.data?.periods ?? []}
        events={events}
        cameraEvents={cameraEvents.data?.events ?? []}
        locks={locks.data ?? []}
        cursorMs={cursorMs}
        selection={selection}
        nowMs={nowMs}
        onSeek={playFrom}
      />
      {recordings.error && <p className="error">Cannot load recordings: {recordings.error}</p>}
      {mayExport && (
        <div className="export" role="group" aria-label="Export">
          <strong>Export</strong>
          <button
            type="button"
            disabled={cursorMs === null}
            onClick={() =>
              cursorMs !== null &&
              setSelection((s) => ({ fromMs: cursorMs, toMs: Math.max(cursorMs + 1000, s?.toMs ?? 0) }))
            }
          >
            Set start
          </button>
          <button
            type="button"
            disabled={cursorMs === null}
            onClick={() =>
              cursorMs !== null &&
              setSelection((s) => ({
                fromMs: Math.min(s?.fromMs ?? cursorMs - DEFAULT_CLIP_MS, cursorMs - 1000),
                toMs: cursorMs,
              }))
            }
          >
            Set end
          </button>
          {selection ? (
            <>
              <span>
                {formatTime(selection.fromMs)} – {formatTime(selection.toMs)}
              </span>
              <a className="button" href={exportUrl(cameraId, selection.fromMs, selection.toMs)} download>
                Download MP4
              </a>
              <button type="button" onClick={() => setBundling(true)}>
                Signed export…
              </button>
              <RedactedExport cameraId={cameraId} fromMs={selection.fromMs} toMs={selection.toMs} />
            </>
          ) : (
            <span className="muted">Play something, then set the range to export.</span>
          )}
        </div>
      )}
      {mayExport && bundling && selection && (
        <ExportBundleDialog
          cameraId={cameraId}
          fromMs={selection.fromMs}
          toMs={selection.toMs}
          onClose={() => setBundling(false)}
        />
      )}
    </section>
  );
}

/**
 * "Blur faces" / "Blur everyone except event #…": asks for a redacted copy of the range and saves
 * it. It takes a while (the server decodes, detects and re-encodes), so the button says so.
 */
function RedactedExport(props: { cameraId: string; fromMs: number; toMs: number }) {
  const [mode, setMode] = useState<'faces' | 'all-except-track'>('faces');
  const [eventId, setEventId] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const keep = Number(eventId);
  const ready = mode === 'faces' || (Number.isInteger(keep) && keep > 0);

  async function download() {
    setBusy(true);
    setError(null);
    try {
      const blob = await redactedExport(props.cameraId, {
        from: String(Math.floor(props.fromMs)),
        to: String(Math.ceil(props.toMs)),
        redaction: mode === 'faces' ? { mode } : { mode, keepEventId: keep },
      });
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = `${props.cameraId}-${new Date(props.fromMs).toISOString().replace(/[:.]/g, '-')}-redacted.mp4`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <span className="redacted-export">
      <select
        aria-label="Blur"
        value={mode}
        onChange={(e) => setMode(e.target.value as 'faces' | 'all-except-track')}
      >
        <option value="faces">Blur faces</option>
        <option value="all-except-track">Blur everyone except event #</option>
      </select>
      {mode === 'all-except-track' && (
        <input
          aria-label="Event number"
          inputMode="numeric"
          size={6}
          value={eventId}
          onChange={(e) => setEventId(e.target.value.trim())}
        />
      )}
      <button type="button" disabled={busy || !ready} onClick={() => void download()}>
        {busy ? 'Blurring… (this takes a while)' : 'Download blurred MP4'}
      </button>
      {error && <span className="error">{error}</span>}
    </span>
  );
}
