import { chmodSync, mkdirSync, statSync } from 'node:fs';

/**
 * Vigil's private files: the storage folder (recordings, snapshots, the index database with its
 * users, sessions and audit log, the secret key) is for Vigil's own user only. The folder is
 * 0700, so everything below it is out of other users' reach whatever its own mode; the database
 * and key files are 0600 as well, in case they are copied or the folder is loosened later.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

export interface ModeChange {
  path: string;
  fromMode: number;
  toMode: number;
}

/** Told about every file or folder whose mode was tightened, to log it. */
export type OnModeTightened = (change: ModeChange) => void;

/** '0755' for 0o755. */
export function formatMode(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/** The log line for a tightened mode. */
export function describeModeChange(change: ModeChange): string {
  return (
    `${change.path} was accessible to other users (mode ${formatMode(change.fromMode)}); ` +
    `it is now ${formatMode(change.toMode)}`
  );
}

/**
 * Removes the permission bits `mode` does not grant (never adds any: a 0400 key stays 0400).
 * Returns the change, or null when there was nothing to do or the path does not exist.
 */
export function tightenMode(path: string, mode: number, onTightened?: OnModeTightened): ModeChange | null {
  let current: number;
  try {
    current = statSync(path).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  if ((current & ~mode) === 0) return null;
  const change = { path, fromMode: current, toMode: current & mode };
  chmodSync(path, change.toMode);
  onTightened?.(change);
  return change;
}

/** Creates the folder (and missing parents) 0700, or tightens an existing one to 0700. */
export function ensurePrivateDir(path: string, onTightened?: OnModeTightened): ModeChange | null {
  mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE });
  return tightenMode(path, PRIVATE_DIR_MODE, onTightened);
}
