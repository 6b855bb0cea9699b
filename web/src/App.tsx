import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { SessionResponse } from '@contract/auth';
import { api, ApiError, setAuthRequiredHandler } from './api';
import { AccountPage } from './pages/AccountPage';
import { AlertsPage, useUnreviewedAlerts } from './pages/AlertsPage';
import { ApprovalsPage, usePendingApprovals } from './pages/ApprovalsPage';
import { AuditPage } from './pages/AuditPage';
import { CamerasPage } from './pages/CamerasPage';
import { EventsPage } from './pages/EventsPage';
import { InsightsPage } from './pages/InsightsPage';
import { LivePage } from './pages/LivePage';
import { PlaybackPage } from './pages/PlaybackPage';
import { AuthFrame, SetupPage, SignInPage } from './pages/SignInPage';
import { PrivacyNoticePage } from './pages/PrivacyNoticePage';
import { RulesPage } from './pages/RulesPage';
import { SystemPage } from './pages/SystemPage';
import { UsersPage } from './pages/UsersPage';
import { VerifyPage } from './pages/VerifyPage';
import { href, useRoute, type Route } from './router';
import {
  allowedSections,
  homeSection,
  returnAddress,
  SessionContext,
  type SessionContextValue,
  type SignedInUser,
} from './session';
import { useTheme } from './theme';

const SIGNED_OUT: SessionResponse = { setupRequired: false, user: null, csrfToken: null };

/** The current view's address, to come back to after signing in (none for the home page). */
function currentAddress(): string {
  const hash = location.hash;
  return hash.startsWith('#/') && hash.length > 2 && !hash.startsWith('#/signin') ? hash : '';
}

/**
 * Who is signed in decides what shows: first-run setup while no account exists, the sign-in page
 * while nobody is signed in, else the app with what the user's role allows.
 */
export function App() {
  const route = useRoute();
  const [theme, toggleTheme] = useTheme();
  const [session, setSession] = useState<SessionResponse | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let cancelled = false;
    api.session().then(
      (loaded) => {
        if (cancelled) return;
        setSession(loaded);
        setLoadError(null);
      },
      (err: unknown) => {
        if (!cancelled) setLoadError(err instanceof Error ? err.message : String(err));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [attempt]);

  // Any request answered AUTH_REQUIRED: the session ended (expired, or signed out elsewhere).
  useEffect(() => {
    setAuthRequiredHandler(() => setSession((s) => (s === null || s.user === null ? s : SIGNED_OUT)));
  }, []);

  const section = route.path[0];
  const user = session?.user ?? null;
  const next = route.query.get('next');

  // Signed out: to the sign-in page, remembering the view. Signed in there: back to that view.
  useEffect(() => {
    if (!session || session.setupRequired) return;
    if (!session.user && section !== 'signin') {
      const from = currentAddress();
      location.replace(from ? `#/signin?next=${encodeURIComponent(from)}` : '#/signin');
    } else if (session.user && section === 'signin') {
      location.replace(returnAddress(next, session.user.permissions));
    }
  }, [session, section, next]);

  const themeToggle = (
    <button
      type="button"
      className="ghost"
      onClick={toggleTheme}
      aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
    >
      {theme === 'dark' ? '☀' : '☾'}
    </button>
  );

  if (!session) {
    if (!loadError) return <div className="app-loading" aria-busy="true" />;
    return (
      <AuthFrame title="Vigil cannot be reached" themeToggle={themeToggle}>
        <p className="error" role="alert">
          {loadError}
        </p>
        <button type="button" onClick={() => setAttempt((n) => n + 1)}>
          Try again
        </button>
      </AuthFrame>
    );
  }
  if (session.setupRequired) {
    return (
      <AuthFrame title="Create the administrator" themeToggle={themeToggle}>
        <SetupPage
          onCreated={(created) => {
            setSession(created);
            if (section === 'signin') location.replace('#/');
          }}
        />
      </AuthFrame>
    );
  }
  if (!user) {
    if (section !== 'signin') return <div className="app-loading" aria-busy="true" />;
    return (
      <AuthFrame title="Sign in to Vigil" themeToggle={themeToggle}>
        <SignInPage onSignedIn={setSession} />
      </AuthFrame>
    );
  }
  if (section === 'signin') return <div className="app-loading" aria-busy="true" />;
  return (
    <SignedInApp
      user={user}
      route={route}
      themeToggle={themeToggle}
      onSignedOut={() => setSession(SIGNED_OUT)}
    />
  );
}

function SignedInApp(props: {
  user: SignedInUser;
  route: Route;
  themeToggle: ReactNode;
  onSignedOut: () => void;
}) {
  const { user, route, onSignedOut } = props;
  const sections = allowedSections(user.permissions);
  const home = homeSection(user.permissions);
  const section = route.path[0] ?? home;

  const signOut = useCallback(async () => {
    try {
      await api.signOut();
    } catch (err) {
      // Already signed out (the session expired) is what the user wanted anyway.
      if (!(err instanceof ApiError && err.status === 401)) throw err;
    }
    onSignedOut();
  }, [onSignedOut]);

  const context = useMemo<SessionContextValue>(
    () => ({
      user,
      can: (permission) => user.permissions.includes(permission),
      signOut,
      signedOut: onSignedOut,
    }),
    [user, signOut, onSignedOut],
  );

  return (
    <SessionContext.Provider value={context}>
      <div className="app">
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <header className="topbar">
          <a className="brand" href={href([home])}>
            Vigil
          </a>
          <nav aria-label="Sections">
            {sections.map((s) =>
              s.id === 'approvals' ? (
                <ApprovalsLink key={s.id} current={section === s.id} />
              ) : s.id === 'alerts' ? (
                <AlertsLink key={s.id} current={section === s.id} />
              ) : (
                <a key={s.id} href={href([s.id])} aria-current={section === s.id ? 'page' : undefined}>
                  {s.label}
                </a>
              ),
            )}
          </nav>
          <UserMenu user={user} onSignOut={signOut} current={section === 'account'} />
          {props.themeToggle}
        </header>
        <main id="main" tabIndex={-1}>
          <View section={section} route={route} />
        </main>
      </div>
    </SessionContext.Provider>
  );
}

/** The Approvals link with the number of requests waiting for this user. */
function ApprovalsLink(props: { current: boolean }) {
  const count = usePendingApprovals(true);
  return (
    <a href={href(['approvals'])} aria-current={props.current ? 'page' : undefined}>
      Approvals
      {count > 0 && (
        <span className="nav-badge" aria-label={`${count} waiting`}>
          {count}
        </span>
      )}
    </a>
  );
}

/** The Alerts link with the number of alerts this user has not reviewed. */
function AlertsLink(props: { current: boolean }) {
  const count = useUnreviewedAlerts();
  return (
    <a href={href(['alerts'])} aria-current={props.current ? 'page' : undefined}>
      Alerts
      {count > 0 && (
        <span className="nav-badge" aria-label={`${count} unreviewed`}>
          {count}
        </span>
      )}
    </a>
  );
}

function View(props: { section: string; route: Route }) {
  const { section, route } = props;
  switch (section) {
    case 'playback':
      return <PlaybackPage cameraId={route.path[1]} query={route.query} />;
    case 'events':
      return <EventsPage eventId={route.path[1]} query={route.query} />;
    case 'insights':
      return <InsightsPage query={route.query} />;
    case 'alerts':
      return <AlertsPage />;
    case 'rules':
      return <RulesPage />;
    case 'cameras':
      return (
        <CamerasPage
          editing={route.path[1]}
          privacy={route.path[2] === 'privacy'}
          scene={route.path[2] === 'scene'}
        />
      );
    case 'system':
      return route.path[1] === 'notice' ? <PrivacyNoticePage /> : <SystemPage />;
    case 'account':
      return <AccountPage />;
    case 'verify':
      return <VerifyPage />;
    case 'users':
      return <UsersPage />;
    case 'audit':
      return <AuditPage query={route.query} />;
    case 'approvals':
      return <ApprovalsPage />;
    case 'live':
      return <LivePage focus={route.path[1]} layout={route.query.get('layout')} />;
    default:
      return (
        <div className="empty">
          <h1>No such page</h1>
          <p>
            <a href="#/">Go to the start page</a>
          </p>
        </div>
      );
  }
}

/** The user's name in the top bar, opening a small menu: the account page and signing out. */
function UserMenu(props: { user: SignedInUser; onSignOut: () => Promise<void>; current: boolean }) {
  const { user } = props;
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const rootRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return undefined;
    const onPointer = (e: PointerEvent) => {
      if (!rootRef.current?.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setOpen(false);
      buttonRef.current?.focus();
    };
    const onFocus = (e: FocusEvent) => {
      if (e.target instanceof Node && !rootRef.current?.contains(e.target)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointer);
    document.addEventListener('keydown', onKey);
    document.addEventListener('focusin', onFocus);
    return () => {
      document.removeEventListener('pointerdown', onPointer);
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('focusin', onFocus);
    };
  }, [open]);

  const signOut = async () => {
    setError(null);
    try {
      await props.onSignOut();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <div className="user-menu" ref={rootRef}>
      <button
        ref={buttonRef}
        type="button"
        className="ghost user-button"
        aria-expanded={open}
        aria-controls="user-menu"
        aria-current={props.current ? 'page' : undefined}
        title={`Signed in as ${user.name} (${user.role})`}
        onClick={() => setOpen((o) => !o)}
      >
        <span className="user-name">{user.name}</span>
        <span aria-hidden="true">▾</span>
      </button>
      {open && (
        <div id="user-menu" className="menu">
          <p className="muted">
            Signed in as <strong>{user.name}</strong>
            <br />
            Role: {user.role}
          </p>
          <a href={href(['account'])} onClick={() => setOpen(false)}>
            Account
          </a>
          <button type="button" className="ghost" onClick={() => void signOut()}>
            Sign out
          </button>
          {error && <p className="error">{error}</p>}
        </div>
      )}
    </div>
  );
}
