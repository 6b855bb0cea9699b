import { useEffect, useRef, useState } from 'react';
import type { CountBucketSize, HeatMap, SceneCounts } from '@contract/scene';
import { api, countsCsvUrl } from '../api';
import { CameraSelect, LabelSelect } from '../components/FilterSelects';
import { formatDateTime } from '../format';
import { navigate } from '../router';
import { usePoll } from '../usePoll';

const PERIODS = [
  { id: '24h', label: 'Last 24 h', ms: 86_400_000, bucket: 'hour' },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86_400_000, bucket: 'day' },
  { id: '30d', label: 'Last 30 days', ms: 30 * 86_400_000, bucket: 'day' },
] as const satisfies ReadonlyArray<{ id: string; label: string; ms: number; bucket: CountBucketSize }>;

type Loaded<T> = { state: 'loading' } | { state: 'error'; message: string } | { state: 'ready'; value: T };

/** Loads `load()` again whenever `key` changes; a late answer for an old key is dropped. */
function useLoad<T>(key: string, load: (() => Promise<T>) | null): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  useEffect(() => {
    if (!load) return;
    let cancelled = false;
    setLoaded({ state: 'loading' });
    load().then(
      (value) => !cancelled && setLoaded({ state: 'ready', value }),
      (err: unknown) => !cancelled && setLoaded({ state: 'error', message: (err as Error).message }),
    );
    return () => {
      cancelled = true;
    };
    // The key names what load() fetches.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return loaded;
}

/**
 * Insights: where objects went on a camera (a heat map over its picture) and, where the camera
 * has counting lines or zones, counts per hour or day, with a CSV download.
 */
export function InsightsPage(props: { query: URLSearchParams }) {
  const cameras = usePoll(api.cameras, 60_000);
  const cameraId = props.query.get('camera') ?? cameras.data?.[0]?.id ?? '';
  const label = props.query.get('label') ?? '';
  const period = PERIODS.find((p) => p.id === props.query.get('period')) ?? PERIODS[1];
  // The period ends now, rounded to the minute, so the key (and the requests) stay put between renders.
  const [toMs] = useState(() => Math.ceil(Date.now() / 60_000) * 60_000);
  const fromMs = toMs - period.ms;
  const key = `${cameraId}|${label}|${period.id}`;
  const heat = useLoad<HeatMap>(key, cameraId ? () => api.heatMap(cameraId, fromMs, toMs, label) : null);
  const counts = useLoad<SceneCounts | null>(
    key,
    cameraId ? () => api.counts(cameraId, fromMs, toMs, period.bucket) : null,
  );

  const set = (name: string, value: string) =>
    navigate(['insights'], {
      camera: cameraId,
      label,
      period: period.id,
      [name]: value,
    });

  return (
    <section aria-label="Insights" className="insights-page">
      <div className="toolbar">
        <h1>Insights</h1>
        <CameraSelect cameras={cameras.data ?? []} value={cameraId} onChange={(id) => set('camera', id)} />
        <LabelSelect value={label} onChange={(l) => set('label', l)} />
        <label>
          Period{' '}
          <select value={period.id} onChange={(e) => set('period', e.target.value)}>
            {PERIODS.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      {!cameraId && cameras.data && <p className="empty">No cameras yet.</p>}
      {cameraId && (
        <div className="insights">
          <div className="card">
            <h2>Where objects went</h2>
            {heat.state === 'error' && <p className="error">Cannot load the heat map: {heat.message}</p>}
            {heat.state === 'loading' && <p className="muted">Loading…</p>}
            {heat.state === 'ready' && <HeatMapView cameraId={cameraId} map={heat.value} />}
          </div>
          <div className="card">
            <h2>Counts</h2>
            {counts.state === 'error' && <p className="error">Cannot load counts: {counts.message}</p>}
            {counts.state === 'loading' && <p className="muted">Loading…</p>}
            {counts.state === 'ready' && (
              <CountsView
                counts={counts.value}
                csvUrl={countsCsvUrl(cameraId, fromMs, toMs, period.bucket)}
              />
            )}
          </div>
        </div>
      )}
    </section>
  );
}

/** Colour of a cell at `t` (0..1 of the busiest cell): blue → yellow → red, more opaque as it heats. */
function heatColour(t: number): string {
  const hue = 240 - 240 * t;
  const alpha = 0.15 + 0.6 * t;
  return `hsla(${hue.toFixed(0)}, 100%, 50%, ${alpha.toFixed(2)})`;
}

function HeatMapView(props: { cameraId: string; map: HeatMap }) {
  const { map } = props;
  const canvas = useRef<HTMLCanvasElement>(null);
  const max = Math.max(0, ...map.cells);

  useEffect(() => {
    const context = canvas.current?.getContext('2d');
    if (!context) return;
    const { width, height } = context.canvas;
    context.clearRect(0, 0, width, height);
    if (max === 0) return;
    const cellWidth = width / map.columns;
    const cellHeight = height / map.rows;
    map.cells.forEach((count, i) => {
      if (count === 0) return;
      context.fillStyle = heatColour(count / max);
      const x = (i % map.columns) * cellWidth;
      const y = Math.floor(i / map.columns) * cellHeight;
      context.fillRect(x, y, Math.ceil(cellWidth), Math.ceil(cellHeight));
    });
  }, [map, max]);

  return (
    <figure className="heatmap">
      <div className="heatmap-picture">
        <img
          src={`/api/cameras/${encodeURIComponent(props.cameraId)}/snapshot.jpg`}
          alt=""
          onError={(e) => (e.currentTarget.style.visibility = 'hidden')}
        />
        <canvas
          ref={canvas}
          width={map.columns * 10}
          height={map.rows * 10}
          role="img"
          aria-label={`Heat map of ${map.eventCount} events`}
        />
      </div>
      <figcaption>
        {map.eventCount === 0
          ? 'No events in this period.'
          : `${map.eventCount} ${map.eventCount === 1 ? 'event' : 'events'} from ${formatDateTime(
              map.fromMs,
            )} to ${formatDateTime(map.toMs)}; the busiest place was crossed by ${max}.`}
        <span className="heatmap-legend" aria-hidden="true">
          <span>fewer</span>
          <span className="heatmap-ramp" />
          <span>more</span>
        </span>
      </figcaption>
    </figure>
  );
}

interface Series {
  name: string;
  buckets: Array<{ startTimeMs: number; value: number }>;
}

/** Lines (crossings per direction) and zones (entries, peak occupancy) as bar series. */
function seriesOf(counts: SceneCounts): Series[] {
  return [
    ...counts.lines.map((line) => ({
      name: `Line ${line.lineId}: ${line.label} ${line.direction === 'a-to-b' ? 'A→B' : 'B→A'}`,
      buckets: line.buckets.map((b) => ({ startTimeMs: b.startTimeMs, value: b.count })),
    })),
    ...counts.zones.flatMap((zone) => [
      {
        name: `Zone ${zone.zoneId}: ${zone.label} entries`,
        buckets: zone.buckets.map((b) => ({ startTimeMs: b.startTimeMs, value: b.entries })),
      },
      {
        name: `Zone ${zone.zoneId}: ${zone.label} most at once`,
        buckets: zone.buckets.map((b) => ({ startTimeMs: b.startTimeMs, value: b.maxOccupancy })),
      },
    ]),
  ];
}

function CountsView(props: { counts: SceneCounts | null; csvUrl: string }) {
  const series = props.counts ? seriesOf(props.counts) : [];
  if (series.length === 0) {
    return <p className="empty">No counting lines or zones on this camera.</p>;
  }
  return (
    <>
      {series.map((s) => (
        <BarChart key={s.name} series={s} bucket={props.counts!.bucket} />
      ))}
      <a className="button" href={props.csvUrl} download>
        Download CSV
      </a>
    </>
  );
}

const CHART = { width: 480, height: 120, gap: 2 };

/** Plain SVG bars: one per bucket with anything in it, tallest = the series' largest value. */
function BarChart(props: { series: Series; bucket: CountBucketSize }) {
  const { buckets, name } = props.series;
  const max = Math.max(1, ...buckets.map((b) => b.value));
  const barWidth = buckets.length > 0 ? CHART.width / buckets.length : CHART.width;
  const when = (ms: number) =>
    props.bucket === 'day' ? new Date(ms).toLocaleDateString() : formatDateTime(ms);
  return (
    <figure className="bar-chart">
      <figcaption>
        {name}: {buckets.reduce((sum, b) => sum + b.value, 0)} in all, at most {max} per {props.bucket}
      </figcaption>
      <svg viewBox={`0 0 ${CHART.width} ${CHART.height}`} role="img" aria-label={name}>
        {buckets.map((b, i) => {
          const height = (b.value / max) * (CHART.height - 4);
          return (
            <rect
              key={b.startTimeMs}
              x={i * barWidth + CHART.gap / 2}
              y={CHART.height - height}
              width={Math.max(1, barWidth - CHART.gap)}
              height={height}
            >
              <title>
                {when(b.startTimeMs)}: {b.value}
              </title>
            </rect>
          );
        })}
      </svg>
    </figure>
  );
}
