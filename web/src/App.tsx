import { CamerasPage } from './pages/CamerasPage';
import { EventsPage } from './pages/EventsPage';
import { LivePage } from './pages/LivePage';
import { PlaybackPage } from './pages/PlaybackPage';
import { SystemPage } from './pages/SystemPage';
import { href, useRoute } from './router';
import { useTheme } from './theme';

const SECTIONS = [
  { id: 'live', label: 'Live' },
  { id: 'playback', label: 'Playback' },
  { id: 'events', label: 'Events' },
  { id: 'cameras', label: 'Cameras' },
  { id: 'system', label: 'System' },
] as const;

export function App() {
  const route = useRoute();
  const [theme, toggleTheme] = useTheme();
  const section = route.path[0] ?? 'live';

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <a className="brand" href={href(['live'])}>
          Vigil
        </a>
        <nav aria-label="Sections">
          {SECTIONS.map((s) => (
            <a key={s.id} href={href([s.id])} aria-current={section === s.id ? 'page' : undefined}>
              {s.label}
            </a>
          ))}
        </nav>
        <button
          type="button"
          className="ghost"
          onClick={toggleTheme}
          aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
        >
          {theme === 'dark' ? '☀' : '☾'}
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {section === 'playback' ? (
          <PlaybackPage cameraId={route.path[1]} query={route.query} />
        ) : section === 'events' ? (
          <EventsPage eventId={route.path[1]} query={route.query} />
        ) : section === 'cameras' ? (
          <CamerasPage editing={route.path[1]} />
        ) : section === 'system' ? (
          <SystemPage />
        ) : (
          <LivePage focus={route.path[1]} layout={route.query.get('layout')} />
        )}
      </main>
    </div>
  );
}
