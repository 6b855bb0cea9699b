import { useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { SessionResponse } from '@contract/auth';
import { api, ApiError } from '../api';
import { FormError, PASSWORD_HINT } from '../components/FormError';

/** The frame of the pages shown before anyone is signed in: a card in the middle of the page. */
export function AuthFrame(props: { title: string; children: ReactNode; themeToggle: ReactNode }) {
  return (
    <div className="auth-page">
      <header className="auth-header">
        <span className="brand">Vigil</span>
        {props.themeToggle}
      </header>
      <main id="main" className="auth-card" aria-label={props.title}>
        <h1>{props.title}</h1>
        {props.children}
      </main>
    </div>
  );
}

/** Name and password; a 6-digit code field appears when the account has a second factor. */
export function SignInPage(props: { onSignedIn: (session: SessionResponse) => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [totpAsked, setTotpAsked] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const totpRef = useRef<HTMLInputElement>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      props.onSignedIn(await api.signIn(name.trim(), password, totpAsked ? totp : undefined));
    } catch (err) {
      if (err instanceof ApiError && err.code === 'TOTP_REQUIRED') {
        // The code field appears (and takes the focus, autoFocus on mount).
        setTotpAsked(true);
        setError(null);
        totpRef.current?.focus();
      } else {
        setError(err);
        if (totpAsked) setTotp('');
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="stack-form" onSubmit={(e) => void submit(e)} aria-label="Sign in">
      <label>
        User name
        <input
          name="name"
          autoComplete="username"
          required
          autoFocus
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      {totpAsked && (
        <label>
          6-digit code from your authenticator app
          <input
            ref={totpRef}
            autoFocus
            name="totp"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9]{6}"
            maxLength={6}
            required
            value={totp}
            onChange={(e) => setTotp(e.target.value.replace(/\D/g, ''))}
          />
        </label>
      )}
      <FormError error={error} />
      <button type="submit" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}

/** First run: no account exists yet; whoever sits at the machine creates the administrator. */
export function SetupPage(props: { onCreated: (session: SessionResponse) => void }) {
  const [name, setName] = useState('admin');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (password !== repeat) {
      setError(new Error('The two passwords differ: type the same password twice.'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      props.onCreated(await api.setup(name.trim(), password));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="stack-form" onSubmit={(e) => void submit(e)} aria-label="Create the administrator">
      <p className="muted">
        Vigil has no accounts yet, and no default password. The administrator you create here can add cameras
        and the other users. This works only from the machine Vigil runs on.
      </p>
      <label>
        User name
        <input
          name="name"
          autoComplete="username"
          required
          maxLength={64}
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete="new-password"
          required
          autoFocus
          aria-describedby="password-hint"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      <label>
        Repeat the password
        <input
          name="repeat"
          type="password"
          autoComplete="new-password"
          required
          value={repeat}
          onChange={(e) => setRepeat(e.target.value)}
        />
      </label>
      <p id="password-hint" className="hint">
        {PASSWORD_HINT}
      </p>
      <FormError error={error} />
      <button type="submit" disabled={busy}>
        {busy ? 'Creating…' : 'Create the administrator'}
      </button>
    </form>
  );
}
