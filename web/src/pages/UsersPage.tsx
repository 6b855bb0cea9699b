import { Fragment, useId, useState, type FormEvent } from 'react';
import type { Role, UserView } from '@contract/auth';
import type { CameraView } from '@contract/cameras';
import { api } from '../api';
import { FormError, Forbidden, PASSWORD_HINT } from '../components/FormError';
import { formatDateTime } from '../format';
import { useSession } from '../session';
import { usePoll } from '../usePoll';

const ROLES: ReadonlyArray<{ id: Role; label: string; description: string }> = [
  {
    id: 'viewer',
    label: 'Viewer',
    description: 'watches live video and sees events; no playback, no export',
  },
  {
    id: 'operator',
    label: 'Operator',
    description: 'also plays recordings back, exports them and deletes events',
  },
  { id: 'auditor', label: 'Auditor', description: 'reads the audit log only; sees no video at all' },
  { id: 'admin', label: 'Administrator', description: 'everything: cameras, users, settings, all cameras' },
];

/** Administrators are never limited to cameras, and auditors see no video: grants apply to the others. */
function grantsApply(role: Role): boolean {
  return role === 'viewer' || role === 'operator';
}

function camerasText(user: UserView): string {
  if (!grantsApply(user.role)) return user.role === 'admin' ? 'all' : '—';
  if (user.cameras === null) return 'all';
  return user.cameras.length > 0 ? user.cameras.join(', ') : 'none';
}

export function UsersPage() {
  const users = usePoll(api.users, 10_000);
  const cameras = usePoll(api.cameras, 30_000);
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<number | null>(null);

  if (users.errorCode === 'FORBIDDEN' && users.error) return <Forbidden message={users.error} />;
  if (users.error && !users.data) return <p className="error">Cannot load users: {users.error}</p>;
  if (!users.data) return <p className="muted">Loading…</p>;
  const cameraList = cameras.data ?? [];

  return (
    <section aria-label="Users" className="users-page">
      <div className="toolbar">
        <h1>Users</h1>
        {!adding && (
          <button type="button" onClick={() => setAdding(true)}>
            Add user
          </button>
        )}
      </div>
      {adding && (
        <AddUserForm
          cameras={cameraList}
          onDone={(added) => {
            setAdding(false);
            if (added) users.refresh();
          }}
        />
      )}
      <table className="table users-table">
        <thead>
          <tr>
            <th>User</th>
            <th>Role</th>
            <th>Cameras</th>
            <th>State</th>
            <th>Created</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {users.data.map((user) => (
            <Fragment key={user.id}>
              <tr data-user={user.name}>
                <td>
                  <strong>{user.name}</strong>
                </td>
                <td>{ROLES.find((r) => r.id === user.role)?.label ?? user.role}</td>
                <td>{camerasText(user)}</td>
                <td>
                  {user.disabled ? <span className="badge badge-offline">disabled</span> : 'active'}
                  {user.totpEnabled && <div className="muted">two-step sign-in</div>}
                </td>
                <td>{formatDateTime(user.createdAtMs)}</td>
                <td className="actions">
                  <button
                    type="button"
                    className="ghost"
                    aria-expanded={editing === user.id}
                    onClick={() => setEditing(editing === user.id ? null : user.id)}
                  >
                    Edit
                  </button>
                  <DeleteUserButton user={user} onDeleted={users.refresh} />
                </td>
              </tr>
              {editing === user.id && (
                <tr className="edit-row">
                  <td colSpan={6}>
                    <EditUserForm
                      user={user}
                      cameras={cameraList}
                      onDone={(changed) => {
                        setEditing(null);
                        if (changed) users.refresh();
                      }}
                    />
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function RoleField(props: { role: Role; onChange: (role: Role) => void; name: string }) {
  const descriptionId = useId();
  return (
    <label>
      Role
      <select
        name={props.name}
        value={props.role}
        aria-describedby={descriptionId}
        onChange={(e) => props.onChange(e.target.value as Role)}
      >
        {ROLES.map((r) => (
          <option key={r.id} value={r.id}>
            {r.label}
          </option>
        ))}
      </select>
      <span id={descriptionId} className="hint">
        {ROLES.find((r) => r.id === props.role)?.description}
      </span>
    </label>
  );
}

/** "All cameras", or ticks on the cameras this user may see (null = all). */
function CameraGrants(props: {
  cameras: CameraView[];
  value: string[] | null;
  onChange: (value: string[] | null) => void;
}) {
  const { value } = props;
  const name = useId();
  // Grants of cameras that were removed since still show, so saving does not drop them silently.
  const ids = [
    ...props.cameras.map((c) => c.id),
    ...(value ?? []).filter((id) => !props.cameras.some((c) => c.id === id)),
  ];
  const nameOf = (id: string) => props.cameras.find((c) => c.id === id)?.name ?? id;
  return (
    <fieldset className="grants">
      <legend>Cameras</legend>
      <label className="toggle">
        <input type="radio" name={name} checked={value === null} onChange={() => props.onChange(null)} /> All
        cameras (also cameras added later)
      </label>
      <label className="toggle">
        <input
          type="radio"
          name={name}
          checked={value !== null}
          onChange={() => props.onChange(value ?? [])}
        />{' '}
        Only these:
      </label>
      <div className="grant-list">
        {ids.length === 0 && <span className="muted">No cameras yet.</span>}
        {ids.map((id) => (
          <label key={id} className="toggle">
            <input
              type="checkbox"
              name="camera"
              value={id}
              disabled={value === null}
              checked={value === null || value.includes(id)}
              onChange={(e) => {
                const current = value ?? [];
                props.onChange(e.target.checked ? [...current, id] : current.filter((c) => c !== id));
              }}
            />{' '}
            {nameOf(id)}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function AddUserForm(props: { cameras: CameraView[]; onDone: (added: boolean) => void }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [password, setPassword] = useState('');
  const [cameras, setCameras] = useState<string[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.addUser({
        name: name.trim(),
        role,
        password,
        ...(grantsApply(role) ? { cameras } : {}),
      });
      props.onDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card user-form" onSubmit={(e) => void submit(e)} aria-label="Add user">
      <h2>Add user</h2>
      <div className="fields">
        <label>
          User name
          <input
            name="new-user-name"
            required
            maxLength={64}
            autoComplete="off"
            autoFocus
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        <RoleField name="new-user-role" role={role} onChange={setRole} />
        <label>
          Password
          <input
            name="new-user-password"
            type="password"
            required
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <span className="hint">
            {PASSWORD_HINT} Give it to the person; they can change it on their Account page.
          </span>
        </label>
      </div>
      {grantsApply(role) && <CameraGrants cameras={props.cameras} value={cameras} onChange={setCameras} />}
      <FormError error={error} />
      <div className="form-actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Adding…' : 'Add user'}
        </button>
        <button type="button" className="ghost" onClick={() => props.onDone(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function EditUserForm(props: { user: UserView; cameras: CameraView[]; onDone: (changed: boolean) => void }) {
  const { user } = props;
  const session = useSession();
  const [role, setRole] = useState<Role>(user.role);
  const [disabled, setDisabled] = useState(user.disabled);
  const [cameras, setCameras] = useState<string[] | null>(user.cameras);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const self = user.name === session.user.name;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.updateUser(user.id, {
        role,
        disabled,
        ...(grantsApply(role) ? { cameras } : {}),
      });
      props.onDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="user-form" onSubmit={(e) => void submit(e)} aria-label={`Edit ${user.name}`}>
      <div className="fields">
        <RoleField name="role" role={role} onChange={setRole} />
        <label className="toggle">
          <input
            type="checkbox"
            name="disabled"
            checked={disabled}
            onChange={(e) => setDisabled(e.target.checked)}
          />{' '}
          Disabled (cannot sign in; their sessions end and their tokens stop working)
        </label>
      </div>
      {self && (role !== 'admin' || disabled) && (
        <p className="error">This is your own account: you would lose the right to manage users.</p>
      )}
      {grantsApply(role) && <CameraGrants cameras={props.cameras} value={cameras} onChange={setCameras} />}
      <FormError error={error} />
      <div className="form-actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save'}
        </button>
        <button type="button" className="ghost" onClick={() => props.onDone(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function DeleteUserButton(props: { user: UserView; onDeleted: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const remove = async () => {
    if (
      !window.confirm(
        `Delete the user "${props.user.name}"? Their sessions and API tokens end; the audit log keeps what they did.`,
      )
    )
      return;
    setError(null);
    try {
      await api.deleteUser(props.user.id);
      props.onDeleted();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <>
      <button type="button" className="ghost danger" onClick={() => void remove()}>
        Delete
      </button>
      {error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}
