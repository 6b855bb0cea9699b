import { createContext, useContext } from 'react';
import type { SessionResponse } from '@contract/auth';

export type SignedInUser = NonNullable<SessionResponse['user']>;

export interface SessionContextValue {
  user: SignedInUser;
  /**
   * Whether the user's role includes a permission: the UI hides what the user cannot use. The
   * server makes the real check on every request.
   */
  can: (permission: string) => boolean;
  signOut: () => Promise<void>;
  /** After "sign out everywhere": this browser's session is gone too. */
  signedOut: () => void;
}

export const SessionContext = createContext<SessionContextValue | null>(null);

/** The signed-in user; only the parts of the app shown after sign-in use it. */
export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession() outside the signed-in app');
  return value;
}

/** The app's sections: the permission each needs, in the order the navigation lists them. */
export const SECTIONS = [
  { id: 'live', label: 'Live', permission: 'live.view' },
  { id: 'playback', label: 'Playback', permission: 'playback.view' },
  { id: 'alerts', label: 'Alerts', permission: 'events.view' },
  { id: 'events', label: 'Events', permission: 'events.view' },
  { id: 'insights', label: 'Insights', permission: 'events.view' },
  { id: 'rules', label: 'Rules', permission: 'events.view' },
  { id: 'cameras', label: 'Cameras', permission: 'cameras.manage' },
  { id: 'system', label: 'System', permission: 'system.view' },
  { id: 'users', label: 'Users', permission: 'users.manage' },
  { id: 'audit', label: 'Audit', permission: 'audit.view' },
  // Who may decide requests: evidence.lock (operators and admins) is the widest approvable permission.
  { id: 'approvals', label: 'Approvals', permission: 'evidence.lock' },
] as const;

export function allowedSections(permissions: readonly string[]) {
  return SECTIONS.filter((s) => permissions.includes(s.permission));
}

/** Where a user lands: the first section they may use; the account page for anyone. */
export function homeSection(permissions: readonly string[]): string {
  return allowedSections(permissions)[0]?.id ?? 'account';
}

/**
 * The address to return to after signing in: `next` when it is one of the app's own views that
 * this user may open, else the user's home. Only hash routes: never another page or site.
 */
export function returnAddress(next: string | null, permissions: readonly string[]): string {
  const home = `#/${homeSection(permissions)}`;
  if (!next || !next.startsWith('#/')) return home;
  const section = next.slice(2).split(/[/?]/)[0] ?? '';
  if (section === 'account') return next;
  const known = SECTIONS.find((s) => s.id === section);
  return known && permissions.includes(known.permission) ? next : home;
}
