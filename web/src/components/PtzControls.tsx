import { useEffect, useState, type KeyboardEvent } from 'react';
import type { PtzPreset } from '@contract/onvif';
import { api } from '../api';

/** Pan/tilt speed of the joystick buttons and arrow keys (ONVIF's -1..1 velocity space). */
const SPEED = 0.5;

type Direction = { pan: number; tilt: number; zoom: number };

const KEYS: Record<string, Direction> = {
  ArrowLeft: { pan: -SPEED, tilt: 0, zoom: 0 },
  ArrowRight: { pan: SPEED, tilt: 0, zoom: 0 },
  ArrowUp: { pan: 0, tilt: SPEED, zoom: 0 },
  ArrowDown: { pan: 0, tilt: -SPEED, zoom: 0 },
  '+': { pan: 0, tilt: 0, zoom: SPEED },
  '-': { pan: 0, tilt: 0, zoom: -SPEED },
};

/**
 * Pan, tilt and zoom for a camera with ONVIF PTZ: hold a button (pointer) or an arrow key /
 * + / − to move, release to stop; presets to go to, save and remove.
 */
export function PtzControls(props: { cameraId: string }) {
  const { cameraId } = props;
  const [presets, setPresets] = useState<PtzPreset[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [moving, setMoving] = useState(false);

  const fail = (err: unknown) => setError((err as Error).message);
  const reload = () => api.ptzPresets(cameraId).then(setPresets, fail);
  useEffect(() => {
    void api.ptzPresets(cameraId).then(setPresets, fail);
  }, [cameraId]);

  const start = (direction: Direction) => {
    setError(null);
    setMoving(true);
    api.ptzMove(cameraId, direction).catch(fail);
  };
  const stop = () => {
    if (!moving) return;
    setMoving(false);
    api.ptzStop(cameraId).catch(fail);
  };
  const onKeyDown = (e: KeyboardEvent) => {
    const direction = KEYS[e.key];
    if (!direction || e.repeat) return;
    e.preventDefault();
    start(direction);
  };
  const onKeyUp = (e: KeyboardEvent) => {
    if (KEYS[e.key]) stop();
  };
  const button = (label: string, title: string, direction: Direction) => (
    <button
      type="button"
      className="ghost"
      title={title}
      aria-label={title}
      onPointerDown={() => start(direction)}
      onPointerUp={stop}
      onPointerLeave={stop}
    >
      {label}
    </button>
  );
  const save = async () => {
    const name = window.prompt('Name of the preset (the current position)');
    if (!name) return;
    await api.ptzSavePreset(cameraId, name).then(reload, fail);
  };

  return (
    <div
      className="ptz"
      role="group"
      aria-label="Pan, tilt, zoom"
      tabIndex={0}
      onKeyDown={onKeyDown}
      onKeyUp={onKeyUp}
    >
      <div className="ptz-pad">
        {button('↑', 'Tilt up', KEYS.ArrowUp!)}
        {button('←', 'Pan left', KEYS.ArrowLeft!)}
        <button
          type="button"
          className="ghost"
          title="Home position"
          onClick={() => api.ptzHome(cameraId).catch(fail)}
        >
          ⌂
        </button>
        {button('→', 'Pan right', KEYS.ArrowRight!)}
        {button('↓', 'Tilt down', KEYS.ArrowDown!)}
        {button('+', 'Zoom in', KEYS['+']!)}
        {button('−', 'Zoom out', KEYS['-']!)}
      </div>
      <ul className="ptz-presets" aria-label="Presets">
        {presets.map((preset) => (
          <li key={preset.token}>
            <button
              type="button"
              className="ghost"
              onClick={() => api.ptzGotoPreset(cameraId, preset.token).catch(fail)}
            >
              {preset.name || preset.token}
            </button>
            <button
              type="button"
              className="ghost danger"
              title={`Remove preset ${preset.name}`}
              onClick={() => void api.ptzRemovePreset(cameraId, preset.token).then(reload, fail)}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <button type="button" className="ghost" onClick={() => void save()}>
        Save position as preset
      </button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
