import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { TokenView } from '@contract/auth';
import { api } from '../api';
import type { CreatedToken } from '@contract/auth';
import { FormError, PASSWORD_HINT } from '../components/FormError';
import { formatDateTime } from '../format';
import { currentSubscription, disableNotifications, enableNotifications, pushSupported } from '../pwa';
import { useSession } from '../session';
import { usePoll } from '../usePoll';

/** Your own account: password, API tokens, and ending every session at once. */
export function AccountPage() {
  const { user } = useSession();
  return (
    <section aria-label="Account" className="account-page">
      <h1>Account</h1>
      <p>
        Signed in as <strong>{user.name}</strong>, role <strong>{user.role}</strong>
        {user.role !== 'admin' && user.role !== 'auditor' && (
          <>
            {' '}
            · cameras:{' '}
            {user.cameras === null ? 'all' : user.cameras.length ? user.cameras.join(', ') : 'none'}
          </>
        )}{' '}
        · two-step sign-in: {user.totpEnabled ? 'on' : 'off'}
      </p>
      <div className="cards">
        <PasswordCard />
        <SignOutEverywhereCard />
        <NotificationsCard />
      </div>
      <TokensSection />
    </section>
  );
}

function PasswordCard() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(false);
    if (next !== repeat) {
      setError(new Error('The two new passwords differ: type the same password twice.'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.changePassword(current, next);
      setCurrent('');
      setNext('');
      setRepeat('');
      setDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card stack-form" onSubmit={(e) => void submit(e)} aria-label="Change password">
      <h2>Change password</h2>
      <label>
        Current password
        <input
          name="current-password"
          type="password"
          autoComplete="current-password"
          required
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
        />
      </label>
      <label>
        New password
        <input
          name="new-password"
          type="password"
          autoComplete="new-password"
          required
          aria-describedby="new-password-hint"
          value={next}
          onChange={(e) => setNext(e.target.value)}
        />
      </label>
      <label>
        Repeat the new password
        <input
          name="repeat-password"
          type="password"
          autoComplete="new-password"
          required
          value={repeat}
          onChange={(e) => setRepeat(e.target.value)}
        />
      </label>
      <p id="new-password-hint" className="hint">
        {PASSWORD_HINT}
      </p>
      <FormError error={error} />
      {done && (
        <p className="ok" role="status">
          Password changed. Your other sessions were signed out; this one stays.
        </p>
      )}
      <div className="form-actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Changing…' : 'Change password'}
        </button>
      </div>
    </form>
  );
}

function SignOutEverywhereCard() {
  const { signedOut } = useSession();
  const [error, setError] = useState<unknown>(null);
  const run = async () => {
    if (
      !window.confirm(
        'Sign out on every device, this one included, and revoke all your API tokens? ' +
          'Programs using your tokens will stop working.',
      )
    )
      return;
    try {
      await api.signOutEverywhere();
      signedOut();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div className="card">
      <h2>Sign out everywhere</h2>
      <p>
        Ends every session of yours, on every device (a forgotten browser, a lost phone), and revokes all your
        API tokens.
      </p>
      <FormError error={error} />
      <p>
        <button type="button" className="ghost danger" onClick={() => void run()}>
          Sign out everywhere
        </button>
      </p>
    </div>
  );
}

/** A guess at what the person calls this browser, for the list of their notified devices. */
function browserLabel(): string {
  const agent = navigator.userAgent;
  const device = /Android/.test(agent) ? 'Android' : /iPhone|iPad/.test(agent) ? 'iPhone' : 'Computer';
  const browser = /Firefox\//.test(agent)
    ? 'Firefox'
    : /Edg\//.test(agent)
      ? 'Edge'
      : /Chrome\//.test(agent)
        ? 'Chrome'
        : 'Safari';
  return `${browser} on ${device}`;
}

/** Alerts of rules with a push action, shown by this browser even when no Vigil tab is open. */
function NotificationsCard() {
  const subscriptions = usePoll(api.pushSubscriptions, 60_000);
  const [endpoint, setEndpoint] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void currentSubscription().then((s) => setEndpoint(s?.endpoint ?? null));
  }, []);

  const list = subscriptions.data ?? [];
  const here = list.find((s) => s.endpoint === endpoint) ?? null;
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      setEndpoint((await currentSubscription())?.endpoint ?? null);
      subscriptions.refresh();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="card" aria-label="Notifications">
      <h2>Notifications</h2>
      <p>
        Alerts of rules that notify, on this browser or phone, for the cameras you may see. Installed on a
        phone (Add to Home screen), Vigil shows them like any app.
      </p>
      {!pushSupported() && (
        <p className="muted">
          This browser cannot receive them here: open Vigil over HTTPS in a current browser.
        </p>
      )}
      <FormError error={error} />
      <p>
        {here ? (
          <button
            type="button"
            className="ghost"
            disabled={busy}
            onClick={() => void run(() => disableNotifications(here.id))}
          >
            Turn off notifications here
          </button>
        ) : (
          <button
            type="button"
            disabled={busy || !pushSupported()}
            onClick={() => void run(() => enableNotifications(browserLabel()))}
          >
            Enable notifications
          </button>
        )}
      </p>
      {list.length > 0 && (
        <ul className="plain" aria-label="Notified browsers">
          {list.map((s) => (
            <li key={s.id}>
              {s.label}
              {s.id === here?.id ? ' (this browser)' : ''} · since {formatDateTime(s.createdAtMs)}{' '}
              {s.id !== here?.id && (
                <button
                  type="button"
                  className="ghost small"
                  onClick={() => void run(() => api.unsubscribePush(s.id))}
                >
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function TokensSection() {
  const { user } = useSession();
  const tokens = usePoll(api.tokens, 30_000);
  const [label, setLabel] = useState('');
  const [scopes, setScopes] = useState<string[]>([]);
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setCreated(null);
    try {
      setCreated(await api.createToken(label.trim(), scopes.length > 0 ? scopes : undefined));
      setLabel('');
      setScopes([]);
      tokens.refresh();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const list = tokens.data ?? [];
  const showOwner = user.role === 'admin';
  return (
    <section aria-label="API tokens" className="tokens">
      <h2>API tokens</h2>
      <p className="muted">
        For programs that use Vigil's API (home automation, scripts): they send the token as{' '}
        <code>Authorization: Bearer TOKEN</code>. A token can do what you can, or less.
      </p>
      <form className="token-form" onSubmit={(e) => void create(e)} aria-label="Create an API token">
        <label>
          Label
          <input
            name="token-label"
            required
            maxLength={100}
            placeholder="Home Assistant"
            value={label}
            onChange={(e) => setLabel(e.target.value)}
          />
        </label>
        <fieldset className="scopes">
          <legend>Limit it to (none ticked: everything you may do)</legend>
          {user.permissions.map((permission) => (
            <label key={permission} className="toggle">
              <input
                type="checkbox"
                name="token-scope"
                value={permission}
                checked={scopes.includes(permission)}
                onChange={(e) =>
                  setScopes((s) =>
                    e.target.checked ? [...s, permission] : s.filter((p) => p !== permission),
                  )
                }
              />{' '}
              {permission}
            </label>
          ))}
        </fieldset>
        <div className="form-actions">
          <button type="submit" disabled={busy || !label.trim()}>
            Create token
          </button>
        </div>
      </form>
      <FormError error={error} />
      {created && <NewToken token={created} onDismiss={() => setCreated(null)} />}
      {tokens.error && <p className="error">Cannot load tokens: {tokens.error}</p>}
      {tokens.data && list.length === 0 && <p className="muted">No API tokens yet.</p>}
      {list.length > 0 && (
        <table className="table token-table">
          <thead>
            <tr>
              <th>Label</th>
              {showOwner && <th>User</th>}
              <th>Can</th>
              <th>Created</th>
              <th>Last used</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((token) => (
              <TokenRow key={token.id} token={token} showOwner={showOwner} onRevoked={tokens.refresh} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function TokenRow(props: { token: TokenView; showOwner: boolean; onRevoked: () => void }) {
  const { token } = props;
  const { user } = useSession();
  const scopes = token.scopes;
  const [error, setError] = useState<string | null>(null);
  const nowMs = Date.now();
  const expired = token.expiresAtMs !== null && token.expiresAtMs <= nowMs;
  const state = token.revokedAtMs
    ? `revoked ${formatDateTime(token.revokedAtMs)}`
    : expired
      ? 'expired'
      : token.expiresAtMs
        ? `active until ${formatDateTime(token.expiresAtMs)}`
        : 'active';
  const revoke = async () => {
    if (!window.confirm(`Revoke the token "${token.label}"? Programs using it stop working at once.`)) return;
    try {
      await api.revokeToken(token.id);
      props.onRevoked();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <tr data-token={token.id} data-state={token.revokedAtMs ? 'revoked' : expired ? 'expired' : 'active'}>
      <td>
        <strong>{token.label}</strong>
      </td>
      {props.showOwner && <td>{token.userName}</td>}
      <td className="scopes-cell">
        {scopes === null
          ? token.userName === user.name
            ? 'everything you may do'
            : 'everything its owner may do'
          : scopes.join(', ')}
      </td>
      <td>{formatDateTime(token.createdAtMs)}</td>
      <td>{token.lastUsedAtMs ? formatDateTime(token.lastUsedAtMs) : 'never'}</td>
      <td className={token.revokedAtMs || expired ? 'muted' : undefined}>{state}</td>
      <td className="actions">
        {!token.revokedAtMs && (
          <button type="button" className="ghost danger" onClick={() => void revoke()}>
            Revoke
          </button>
        )}
        {error && <span className="error">{error}</span>}
      </td>
    </tr>
  );
}

/** The new token, shown this once: Vigil keeps only its hash. */
function NewToken(props: { token: CreatedToken; onDismiss: () => void }) {
  const inputRef = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    const input = inputRef.current;
    try {
      // The Clipboard API needs a secure context (https or localhost); on a LAN address over http
      // the selection and the older copy command still work.
      if (navigator.clipboard && window.isSecureContext)
        await navigator.clipboard.writeText(props.token.token);
      else {
        input?.select();
        if (!document.execCommand('copy')) throw new Error('copy refused');
      }
      setCopied('Copied.');
    } catch {
      input?.select();
      setCopied('Copying was refused: the token is selected, press Ctrl+C (⌘C on a Mac).');
    }
  };
  return (
    <div className="new-token" role="region" aria-label="New API token">
      <p>
        <strong>Copy the token "{props.token.label}" now:</strong> it is shown only this once. If you lose it,
        revoke it and create another.
      </p>
      <div className="token-copy">
        <input
          ref={inputRef}
          className="token-value"
          readOnly
          value={props.token.token}
          aria-label="The new API token"
          onFocus={(e) => e.currentTarget.select()}
        />
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
        <button type="button" className="ghost" onClick={props.onDismiss}>
          Done
        </button>
      </div>
      {copied && (
        <p className="muted" role="status">
          {copied}
        </p>
      )}
    </div>
  );
}
