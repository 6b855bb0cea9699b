import { useState, type ReactNode } from 'react';
import type { CameraView } from '@contract/cameras';
import { api, streamFor } from '../api';
import { Forbidden } from '../components/FormError';
import { PtzControls } from '../components/PtzControls';
import { StatusBadge } from '../components/StatusBadge';
import { LiveVideo, type LiveTransport } from '../live/LiveVideo';
import type { LiveState } from '../live/mse-player';
import { href } from '../router';
import { useSession } from '../session';
import { usePoll } from '../usePoll';

const LAYOUTS = [
  { id: '1', columns: 1, label: '1' },
  { id: '2x2', columns: 2, label: '2×2' },
  { id: '3x3', columns: 3, label: '3×3' },
  { id: '4x4', columns: 4, label: '4×4' },
] as const;

/** The smallest layout that shows every camera, when the user has not chosen one. */
function defaultLayout(count: number): string {
  return (LAYOUTS.find((l) => l.columns * l.columns >= count) ?? LAYOUTS[3]).id;
}

const BOXES_KEY = 'vigil.live.boxes';

/** "Show detections" is a viewer's preference, remembered in this browser. */
function useShowBoxes(): [boolean, (on: boolean) => void] {
  const [on, setOn] = useState(() => localStorage.getItem(BOXES_KEY) === '1');
  return [
    on,
    (value) => {
      localStorage.setItem(BOXES_KEY, value ? '1' : '0');
      setOn(value);
    },
  ];
}

export function LivePage(props: { focus: string | undefined; layout: string | null }) {
  const cameras = usePoll(api.cameras, 5000);
  const { can } = useSession();
  const [showBoxes, setShowBoxes] = useShowBoxes();
  const boxesToggle = (
    <label className="toggle">
      <input type="checkbox" checked={showBoxes} onChange={(e) => setShowBoxes(e.target.checked)} /> Show
      detections
    </label>
  );
  const list = cameras.data ?? [];
  const focused = props.focus ? list.find((c) => c.id === props.focus) : undefined;

  if (cameras.errorCode === 'FORBIDDEN' && cameras.error) return <Forbidden message={cameras.error} />;
  if (cameras.error && !cameras.data) return <p className="error">Cannot load cameras: {cameras.error}</p>;
  if (!cameras.data) return <p className="muted">Loading cameras…</p>;
  if (list.length === 0) {
    return (
      <div className="empty">
        <h1>No cameras yet</h1>
        <p>
          {can('cameras.manage') ? (
            <a className="button" href={href(['cameras', 'new'])}>
              Add a camera
            </a>
          ) : (
            <span className="muted">No camera is shared with you; ask an administrator.</span>
          )}
        </p>
      </div>
    );
  }
  if (focused) return <FocusView camera={focused} showBoxes={showBoxes} toggle={boxesToggle} />;

  const layoutId = props.layout ?? defaultLayout(list.length);
  const layout = LAYOUTS.find((l) => l.id === layoutId) ?? LAYOUTS[1];
  const shown = list.slice(0, layout.columns * layout.columns);
  return (
    <section aria-label="Live view">
      <div className="toolbar">
        <h1>Live</h1>
        <div role="group" aria-label="Layout" className="segmented">
          {LAYOUTS.map((l) => (
            <a
              key={l.id}
              href={href(['live'], { layout: l.id })}
              aria-current={l.id === layout.id ? 'true' : undefined}
            >
              {l.label}
            </a>
          ))}
        </div>
        {boxesToggle}
      </div>
      {shown.length < list.length && (
        <p className="muted">
          Showing {shown.length} of {list.length} cameras; pick a larger layout to see all.
        </p>
      )}
      <div
        className="grid"
        style={{
          gridTemplateColumns: `repeat(${layout.columns}, minmax(0, 1fr))`,
          ['--columns' as string]: layout.columns,
        }}
      >
        {shown.map((camera) => (
          <CameraTile key={camera.id} camera={camera} showBoxes={showBoxes} />
        ))}
      </div>
    </section>
  );
}

function CameraTile(props: { camera: CameraView; showBoxes: boolean }) {
  const { camera } = props;
  const { can } = useSession();
  const [live, setLive] = useState<LiveState>({ state: 'connecting', reason: null, unsupported: null });
  return (
    <figure className="tile" data-camera={camera.id} data-state={live.state}>
      <a
        className="tile-video"
        href={href(['live', camera.id])}
        aria-label={`${camera.name}: open full view`}
      >
        <LiveVideo
          cameraId={camera.id}
          stream={streamFor(camera, false)}
          onState={setLive}
          showDetections={props.showBoxes}
        />
        <TileOverlay live={live} />
      </a>
      <figcaption>
        <span className="tile-name">{camera.name}</span>
        <StatusBadge state={live.state} />
        <NotRecording camera={camera} />
        {can('playback.view') && <a href={href(['playback', camera.id])}>Playback</a>}
      </figcaption>
    </figure>
  );
}

/** Live goes on while recording is stopped (storage holds only this camera's evidence): say so. */
function NotRecording(props: { camera: CameraView }) {
  const stopped = props.camera.streams.main?.recording.stopped;
  if (!stopped) return null;
  return (
    <span className="lock-badge" role="alert" title={stopped.message} data-code={stopped.code}>
      Not recording
    </span>
  );
}

function TileOverlay(props: { live: LiveState }) {
  const { live } = props;
  if (live.unsupported) return <div className="tile-overlay">{live.unsupported}</div>;
  if (live.state === 'online') return null;
  const title =
    live.state === 'connecting' ? 'Reconnecting…' : live.state === 'error' ? 'Camera error' : 'Offline';
  return (
    <div className="tile-overlay" role="status">
      <strong>{title}</strong>
      {live.reason && <span className="tile-reason">{live.reason}</span>}
    </div>
  );
}

function FocusView(props: { camera: CameraView; showBoxes: boolean; toggle: ReactNode }) {
  const { camera } = props;
  const { can } = useSession();
  const [live, setLive] = useState<LiveState>({ state: 'connecting', reason: null, unsupported: null });
  const [transport, setTransport] = useState<LiveTransport>('auto');
  const [talking, setTalking] = useState(false);
  const [sound, setSound] = useState(false);
  const [talkStatus, setTalkStatus] = useState<string | null>(null);
  const main = camera.streams.main?.status;
  return (
    <section aria-label={`${camera.name} live`} className="focus">
      <div className="toolbar">
        <a href={href(['live'])} className="button ghost">
          ← All cameras
        </a>
        <h1>{camera.name}</h1>
        <StatusBadge state={live.state} />
        <NotRecording camera={camera} />
        {can('playback.view') && (
          <a className="button" href={href(['playback', camera.id])}>
            Playback
          </a>
        )}
        {props.toggle}
        <label className="toggle">
          <input
            type="checkbox"
            checked={transport === 'webrtc'}
            onChange={(e) => setTransport(e.currentTarget.checked ? 'webrtc' : 'auto')}
          />
          WebRTC
        </label>
        {camera.streams.main?.audio !== 'off' && (
          <button
            type="button"
            className="button"
            aria-pressed={sound}
            data-testid="live-sound"
            onClick={() => setSound(!sound)}
          >
            {sound ? 'Sound off' : 'Sound on'}
          </button>
        )}
        {can('talk') && (
          <button
            type="button"
            className={talking ? 'button danger' : 'button'}
            aria-pressed={talking}
            onClick={() => setTalking(!talking)}
          >
            {talking ? 'Stop talking' : 'Talk'}
          </button>
        )}
        {talkStatus && (
          <span className="muted" role="status" data-talk-status>
            {talkStatus}
          </span>
        )}
      </div>
      <figure className="tile focus-tile" data-camera={camera.id} data-state={live.state}>
        <div className="tile-video">
          <LiveVideo
            cameraId={camera.id}
            stream={streamFor(camera, true)}
            onState={setLive}
            showDetections={props.showBoxes}
            transport={talking ? 'webrtc' : transport}
            talking={talking}
            sound={sound}
            onTalk={(message) => {
              if (message.type === 'error') {
                setTalkStatus(`Cannot talk: ${message.message}`);
                setTalking(false);
              } else if (message.state === 'started') setTalkStatus(`Talking (${message.codec ?? 'audio'})`);
              else {
                setTalkStatus(message.reason ? `Stopped talking: ${message.reason}` : null);
                setTalking(false);
              }
            }}
          />
          <TileOverlay live={live} />
        </div>
        {main && (
          <figcaption className="muted">
            {main.codec ?? '—'} · {main.width && main.height ? `${main.width}×${main.height}` : '—'} ·{' '}
            {main.fps ?? '—'} fps · {main.bitrateKbps ?? '—'} kbit/s
          </figcaption>
        )}
      </figure>
      {camera.onvif && can('ptz.control') && <PtzControls cameraId={camera.id} />}
    </section>
  );
}
