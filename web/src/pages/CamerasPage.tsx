import { useState, type FormEvent } from 'react';
import type { CameraInput, CameraView, ProbeResponse, StreamInput, StreamName } from '@contract/cameras';
import { api, ApiError } from '../api';
import { Forbidden } from '../components/FormError';
import { StatusBadge } from '../components/StatusBadge';
import { href, navigate } from '../router';
import { usePoll } from '../usePoll';
import { OnvifFinder, type OnvifChoice } from './OnvifFinder';
import { PrivacyMasksEditor } from './PrivacyMasksEditor';
import { SceneEditor } from './SceneEditor';

export function CamerasPage(props: { editing: string | undefined; privacy?: boolean; scene?: boolean }) {
  const cameras = usePoll(api.cameras, 2000);
  if (cameras.errorCode === 'FORBIDDEN' && cameras.error) return <Forbidden message={cameras.error} />;
  if (cameras.error && !cameras.data) return <p className="error">Cannot load cameras: {cameras.error}</p>;
  if (!cameras.data) return <p className="muted">Loading…</p>;
  if (props.editing === 'new') return <CameraForm camera={null} onDone={cameras.refresh} />;
  const editing = props.editing ? cameras.data.find((c) => c.id === props.editing) : undefined;
  if (editing && props.privacy)
    return <PrivacyMasksEditor key={editing.id} camera={editing} onSaved={cameras.refresh} />;
  if (editing && props.scene)
    return <SceneEditor key={editing.id} camera={editing} onSaved={cameras.refresh} />;
  if (editing) return <CameraForm key={editing.id} camera={editing} onDone={cameras.refresh} />;

  return (
    <section aria-label="Cameras">
      <div className="toolbar">
        <h1>Cameras</h1>
        <a className="button" href={href(['cameras', 'new'])}>
          Add camera
        </a>
      </div>
      <table className="table">
        <thead>
          <tr>
            <th>Camera</th>
            <th>Status</th>
            <th>Main stream</th>
            <th>Sub stream</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {cameras.data.map((camera) => (
            <tr key={camera.id} data-camera={camera.id}>
              <td>
                <strong>{camera.name}</strong>
                <div className="muted">{camera.id}</div>
              </td>
              <td>
                <StreamStatusCell camera={camera} />
              </td>
              <td className="url">{camera.streams.main?.url ?? '—'}</td>
              <td className="url">{camera.streams.sub?.url ?? '—'}</td>
              <td className="actions">
                <a className="button ghost" href={href(['cameras', camera.id, 'privacy'])}>
                  Privacy masks
                </a>
                <a className="button ghost" href={href(['cameras', camera.id, 'scene'])}>
                  Zones &amp; lines
                </a>
                {camera.source === 'api' ? (
                  <>
                    <a className="button ghost" href={href(['cameras', camera.id])}>
                      Edit
                    </a>
                    <RemoveButton camera={camera} onRemoved={cameras.refresh} />
                  </>
                ) : (
                  <span className="muted" title="Defined in the configuration file: change it there">
                    from config file
                  </span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function StreamStatusCell(props: { camera: CameraView }) {
  const main = props.camera.streams.main;
  if (!props.camera.enabled) return <span className="muted">disabled</span>;
  if (!main) return null;
  return (
    <div className="status-cell">
      <StatusBadge state={main.status.state} />
      {main.status.state !== 'online' && main.status.lastError && (
        <div className="reason">{main.status.lastError.message}</div>
      )}
      {main.recording.stopped && (
        <div className="reason" role="alert" data-code={main.recording.stopped.code}>
          <span className="lock-badge">Not recording</span> {main.recording.stopped.message}
        </div>
      )}
    </div>
  );
}

function RemoveButton(props: { camera: CameraView; onRemoved: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const remove = async () => {
    if (
      !window.confirm(
        `Remove camera "${props.camera.name}"? Its recordings stay until retention deletes them.`,
      )
    )
      return;
    try {
      await api.removeCamera(props.camera.id);
      props.onRemoved();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <>
      <button type="button" className="ghost danger" onClick={() => void remove()}>
        Remove
      </button>
      {error && <span className="error">{error}</span>}
    </>
  );
}

interface StreamFields {
  url: string;
  user: string;
  password: string;
  /** Editing: the stored password stays unless the user types a new one. */
  passwordChanged: boolean;
  transport: 'tcp' | 'udp';
}

function fieldsOf(camera: CameraView | null, name: StreamName): StreamFields {
  const stream = camera?.streams[name];
  return {
    url: stream?.url ?? '',
    user: stream?.user ?? '',
    password: '',
    passwordChanged: false,
    transport: stream?.transport === 'udp' ? 'udp' : 'tcp',
  };
}

function streamInput(fields: StreamFields, editing: boolean): StreamInput {
  const input: StreamInput = { url: fields.url.trim(), transport: fields.transport };
  if (fields.user) input.user = fields.user;
  if (!editing || fields.passwordChanged) {
    if (fields.password || editing) input.password = fields.password;
  }
  return input;
}

function CameraForm(props: { camera: CameraView | null; onDone: () => void }) {
  const editing = props.camera !== null;
  const [id, setId] = useState(props.camera?.id ?? '');
  const [name, setName] = useState(props.camera?.name ?? '');
  const [main, setMain] = useState(() => fieldsOf(props.camera, 'main'));
  const [sub, setSub] = useState(() => fieldsOf(props.camera, 'sub'));
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [onvif, setOnvif] = useState<CameraInput['onvif']>(undefined);

  /** The finder's proposal fills the stream fields; the ONVIF address goes with the camera. */
  const choose = (choice: OnvifChoice) => {
    const stream = (url: string): StreamFields => ({
      url,
      user: choice.user,
      password: choice.password,
      passwordChanged: true,
      transport: 'tcp',
    });
    setMain(stream(choice.main));
    setSub(choice.sub ? stream(choice.sub) : fieldsOf(null, 'sub'));
    if (!name.trim()) setName(choice.name);
    setOnvif({ url: choice.onvifUrl, user: choice.user, password: choice.password });
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setSaving(true);
    const input: CameraInput = {
      id: id.trim(),
      streams: { main: streamInput(main, editing) },
    };
    if (name.trim()) input.name = name.trim();
    if (sub.url.trim()) input.streams.sub = streamInput(sub, editing);
    // A PUT replaces the whole camera: the masks, zones and lines drawn in their editors go with it.
    if (props.camera) {
      input.privacy = props.camera.privacy;
      input.scene = props.camera.scene;
    }
    // A PUT without `onvif` would drop it: keep the stored address (its password stays on the server).
    const keptOnvif = props.camera?.onvif
      ? {
          url: props.camera.onvif.url,
          ...(props.camera.onvif.user ? { user: props.camera.onvif.user } : {}),
          events: props.camera.onvif.events,
        }
      : undefined;
    const onvifInput = onvif ?? keptOnvif;
    if (onvifInput) input.onvif = onvifInput;
    try {
      await (editing ? api.updateCamera(input) : api.addCamera(input));
      props.onDone();
      navigate(['cameras']);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <form
      className="camera-form"
      onSubmit={(e) => void submit(e)}
      aria-label={editing ? 'Edit camera' : 'Add camera'}
    >
      <h1>{editing ? `Edit ${props.camera?.name}` : 'Add camera'}</h1>
      {!editing && <OnvifFinder onChoose={choose} />}
      {onvif && (
        <p className="muted" role="status">
          ONVIF: {onvif.url} (PTZ and the camera&apos;s own events)
        </p>
      )}
      <div className="fields">
        <label>
          Id
          <input
            name="id"
            required
            value={id}
            disabled={editing}
            pattern="[a-z0-9][a-z0-9_\-]{0,62}"
            placeholder="front-door"
            title="1 to 63 lowercase letters, digits, - or _"
            onChange={(e) => setId(e.target.value)}
          />
        </label>
        <label>
          Name
          <input
            name="name"
            value={name}
            placeholder="Front door"
            onChange={(e) => setName(e.target.value)}
          />
        </label>
      </div>
      <StreamFieldset
        legend="Main stream (recorded)"
        name="main"
        fields={main}
        onChange={setMain}
        required
        cameraId={editing ? id : undefined}
      />
      <StreamFieldset
        legend="Sub stream (optional: grid view and analytics)"
        name="sub"
        fields={sub}
        onChange={setSub}
        required={false}
        cameraId={editing ? id : undefined}
      />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" disabled={saving}>
          {saving ? 'Saving…' : editing ? 'Save' : 'Add camera'}
        </button>
        <a className="button ghost" href={href(['cameras'])}>
          Cancel
        </a>
      </div>
    </form>
  );
}

function StreamFieldset(props: {
  legend: string;
  name: StreamName;
  fields: StreamFields;
  onChange: (fields: StreamFields) => void;
  required: boolean;
  cameraId: string | undefined;
}) {
  const { fields, onChange, name } = props;
  const [probe, setProbe] = useState<ProbeResponse | null>(null);
  const [probing, setProbing] = useState(false);
  const [probeError, setProbeError] = useState<string | null>(null);
  const set = (patch: Partial<StreamFields>) => onChange({ ...fields, ...patch });

  const test = async () => {
    setProbing(true);
    setProbe(null);
    setProbeError(null);
    try {
      const input = streamInput(fields, props.cameraId !== undefined);
      setProbe(
        await api.probe({ ...input, ...(props.cameraId ? { camera: props.cameraId, stream: name } : {}) }),
      );
    } catch (err) {
      setProbeError((err as Error).message);
    } finally {
      setProbing(false);
    }
  };

  return (
    <fieldset className="stream-fields" data-stream={name}>
      <legend>{props.legend}</legend>
      <label className="wide">
        URL
        <input
          name={`${name}-url`}
          required={props.required}
          value={fields.url}
          placeholder="rtsp://192.168.1.20:554/stream1"
          onChange={(e) => set({ url: e.target.value })}
        />
      </label>
      <label>
        User
        <input
          name={`${name}-user`}
          autoComplete="off"
          value={fields.user}
          onChange={(e) => set({ user: e.target.value })}
        />
      </label>
      <label>
        Password
        <input
          name={`${name}-password`}
          type="password"
          autoComplete="new-password"
          value={fields.password}
          placeholder={props.cameraId ? 'unchanged' : ''}
          onChange={(e) => set({ password: e.target.value, passwordChanged: true })}
        />
      </label>
      <label>
        Transport
        <select
          name={`${name}-transport`}
          value={fields.transport}
          onChange={(e) => set({ transport: e.target.value === 'udp' ? 'udp' : 'tcp' })}
        >
          <option value="tcp">TCP</option>
          <option value="udp">UDP</option>
        </select>
      </label>
      <div className="probe">
        <button
          type="button"
          className="ghost"
          disabled={probing || !fields.url.trim()}
          onClick={() => void test()}
        >
          {probing ? 'Testing…' : 'Test connection'}
        </button>
        <ProbeResult probe={probe} error={probeError} />
      </div>
    </fieldset>
  );
}

function ProbeResult(props: { probe: ProbeResponse | null; error: string | null }) {
  const { probe, error } = props;
  if (error)
    return (
      <p className="probe-result error" role="alert">
        {error}
      </p>
    );
  if (!probe) return null;
  if (!probe.ok) {
    return (
      <p className="probe-result error" role="alert" data-kind={probe.kind}>
        {probe.message}
      </p>
    );
  }
  return (
    <div className="probe-result ok" role="status">
      <p>
        Connected: {probe.codec.toUpperCase()} {probe.width}×{probe.height}, {probe.fps ?? '?'} fps,{' '}
        {probe.bitrateKbps ?? '?'} kbit/s{probe.hasAudio ? ', with audio' : ''}
      </p>
      {probe.snapshotDataUrl && (
        <img src={probe.snapshotDataUrl} alt="Preview from the camera" className="probe-preview" />
      )}
    </div>
  );
}
