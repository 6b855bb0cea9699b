import { useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import type { CameraEventView, MotionPeriodView, TimeSpanView } from '@contract/recordings';
import type { EventView } from '@contract/events';
import type { EvidenceLockView } from '@contract/evidence';
import { formatTime } from '../format';

export interface TimelineProps {
  viewStartMs: number;
  viewEndMs: number;
  recordings: readonly TimeSpanView[];
  /** Shaded under the recordings: when something moved. */
  motion: readonly MotionPeriodView[];
  /** Marked above the recordings; clicking one plays it from its clip's start. */
  events: readonly EventView[];
  /** What the camera itself reported (tamper, line crossing, inputs): small marks under the events. */
  cameraEvents?: readonly CameraEventView[];
  /** Evidence locks: drawn as a band above the recordings. */
  locks?: readonly EvidenceLockView[];
  /** The instant being played, drawn as the playhead. */
  cursorMs: number | null;
  selection: { fromMs: number; toMs: number } | null;
  nowMs: number;
  onSeek: (ms: number) => void;
}

const CAMERA_EVENT_NAMES: Record<CameraEventView['kind'], string> = {
  motion: 'motion',
  tamper: 'tampering',
  'line-crossing': 'a line crossing',
  'digital-input': 'an input',
  other: 'an event',
};
/** A camera's event plays from a little before it, to see what led to it. */
const CAMERA_EVENT_LEAD_MS = 5000;

const TICK_STEPS_MS = [60_000, 5 * 60_000, 15 * 60_000, 3_600_000, 3 * 3_600_000];

/** Tick spacing for about 6 to 12 labels across the view. */
function tickStepMs(spanMs: number): number {
  return TICK_STEPS_MS.find((step) => spanMs / step <= 12) ?? 6 * 3_600_000;
}

/**
 * The recorded spans of one camera over a window of time: click or drag to play from an instant.
 * Arrow keys move the playhead by 1% of the window (Shift: 10%); Enter plays from it.
 */
export function Timeline(props: TimelineProps) {
  const { viewStartMs, viewEndMs, recordings, motion, events, cursorMs, selection, nowMs, onSeek } = props;
  const locks = (props.locks ?? []).filter(
    (l) => l.state === 'locked' && l.endTimeMs >= viewStartMs && l.startTimeMs <= viewEndMs,
  );
  const cameraEvents = (props.cameraEvents ?? []).filter(
    (e) => e.active && e.timeMs >= viewStartMs && e.timeMs <= viewEndMs,
  );
  const barRef = useRef<HTMLDivElement>(null);
  const [dragMs, setDragMs] = useState<number | null>(null);
  const spanMs = viewEndMs - viewStartMs;
  const pct = (ms: number) => `${(((ms - viewStartMs) / spanMs) * 100).toFixed(4)}%`;
  const clampToView = (ms: number) => Math.min(Math.max(ms, viewStartMs), Math.min(viewEndMs, nowMs));

  const msAt = (clientX: number): number => {
    const rect = barRef.current?.getBoundingClientRect();
    if (!rect || rect.width === 0) return viewStartMs;
    return clampToView(viewStartMs + ((clientX - rect.left) / rect.width) * spanMs);
  };

  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    e.currentTarget.setPointerCapture(e.pointerId);
    setDragMs(msAt(e.clientX));
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    if (dragMs !== null) setDragMs(msAt(e.clientX));
  };
  const onPointerUp = (e: PointerEvent<HTMLDivElement>) => {
    if (dragMs === null) return;
    setDragMs(null);
    onSeek(msAt(e.clientX));
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const base = dragMs ?? cursorMs ?? Math.min(nowMs, viewEndMs);
    const step = spanMs * (e.shiftKey ? 0.1 : 0.01);
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      e.preventDefault();
      setDragMs(clampToView(base + (e.key === 'ArrowLeft' ? -step : step)));
    } else if (e.key === 'Enter' && dragMs !== null) {
      setDragMs(null);
      onSeek(dragMs);
    }
  };

  const step = tickStepMs(spanMs);
  const ticks: number[] = [];
  for (let t = Math.ceil(viewStartMs / step) * step; t <= viewEndMs; t += step) ticks.push(t);
  const shownCursor = dragMs ?? cursorMs;

  return (
    <div className="timeline">
      <div
        ref={barRef}
        className="timeline-bar"
        role="slider"
        tabIndex={0}
        aria-label="Timeline: click or drag to play from a time"
        aria-valuemin={viewStartMs}
        aria-valuemax={viewEndMs}
        aria-valuenow={shownCursor ?? viewStartMs}
        aria-valuetext={shownCursor ? formatTime(shownCursor) : 'nothing playing'}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onKeyDown={onKeyDown}
      >
        {nowMs < viewEndMs && (
          <div className="timeline-future" style={{ left: pct(Math.max(nowMs, viewStartMs)), right: 0 }} />
        )}
        {recordings.map((r) => (
          <div
            key={r.startTimeMs}
            className="timeline-span"
            title={`${formatTime(r.startTimeMs)} – ${formatTime(r.endTimeMs)}`}
            style={{
              left: pct(Math.max(r.startTimeMs, viewStartMs)),
              width: `${(((Math.min(r.endTimeMs, viewEndMs) - Math.max(r.startTimeMs, viewStartMs)) / spanMs) * 100).toFixed(4)}%`,
            }}
          />
        ))}
        {motion
          .filter((m) => m.endTimeMs >= viewStartMs && m.startTimeMs <= viewEndMs)
          .map((m) => (
            <div
              key={`m${m.startTimeMs}`}
              className="timeline-motion"
              style={{
                left: pct(Math.max(m.startTimeMs, viewStartMs)),
                width: `${(((Math.min(m.endTimeMs, viewEndMs) - Math.max(m.startTimeMs, viewStartMs)) / spanMs) * 100).toFixed(4)}%`,
              }}
            />
          ))}
        {locks.map((l) => (
          <div
            key={`l${l.id}`}
            className="timeline-lock"
            role="img"
            aria-label={`Locked evidence from ${formatTime(l.startTimeMs)} to ${formatTime(l.endTimeMs)}`}
            data-lock-id={l.id}
            title={`Locked evidence: ${formatTime(l.startTimeMs)} – ${formatTime(l.endTimeMs)}, by ${l.createdBy}: ${l.reason}`}
            style={{
              left: pct(Math.max(l.startTimeMs, viewStartMs)),
              width: `${(((Math.min(l.endTimeMs, viewEndMs) - Math.max(l.startTimeMs, viewStartMs)) / spanMs) * 100).toFixed(4)}%`,
            }}
          />
        ))}
        {events
          .filter((e) => e.startTimeMs >= viewStartMs && e.startTimeMs <= viewEndMs)
          .map((e) => (
            <button
              key={`e${e.id}`}
              type="button"
              className="timeline-event"
              data-label={e.label}
              title={`${e.label} at ${formatTime(e.startTimeMs)}`}
              aria-label={`${e.label} at ${formatTime(e.startTimeMs)}: play`}
              style={{ left: pct(e.startTimeMs) }}
              onPointerDown={(ev) => ev.stopPropagation()}
              onClick={() => onSeek(e.clip.startTimeMs)}
            />
          ))}
        {cameraEvents.map((e) => (
          <button
            key={`c${e.timeMs}${e.topic}`}
            type="button"
            className="timeline-camera-event"
            data-kind={e.kind}
            title={`Camera: ${CAMERA_EVENT_NAMES[e.kind]} at ${formatTime(e.timeMs)} (${e.topic})`}
            aria-label={`Camera reported ${CAMERA_EVENT_NAMES[e.kind]} at ${formatTime(e.timeMs)}: play`}
            style={{ left: pct(e.timeMs) }}
            onPointerDown={(ev) => ev.stopPropagation()}
            onClick={() => onSeek(Math.max(viewStartMs, e.timeMs - CAMERA_EVENT_LEAD_MS))}
          />
        ))}
        {selection && (
          <div
            className="timeline-selection"
            style={{
              left: pct(Math.max(selection.fromMs, viewStartMs)),
              width: `${(((Math.min(selection.toMs, viewEndMs) - Math.max(selection.fromMs, viewStartMs)) / spanMs) * 100).toFixed(4)}%`,
            }}
          />
        )}
        {shownCursor !== null && shownCursor >= viewStartMs && shownCursor <= viewEndMs && (
          <div className="timeline-cursor" style={{ left: pct(shownCursor) }}>
            <span>{formatTime(shownCursor)}</span>
          </div>
        )}
      </div>
      <div className="timeline-ticks" aria-hidden="true">
        {ticks.map((t) => (
          <span key={t} style={{ left: pct(t) }}>
            {formatTime(t, false)}
          </span>
        ))}
      </div>
    </div>
  );
}
