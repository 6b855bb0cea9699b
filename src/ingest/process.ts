import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { systemTimers, type Timers } from '../time/timers.js';

/**
 * A running ingest process as the supervisor sees it: media on stdout, messages on stderr, an exit.
 * A ChildProcess is one; tests pass fakes (see Spawner) so supervision runs without ffmpeg.
 */
export interface IngestProcess {
  /** Only when spawned with `stdin: true` (sources Vigil feeds itself, such as snapshots). */
  readonly stdin?: Writable | null;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Undefined when it could not be started (fakes may have none). */
  readonly pid?: number | undefined;
  /** The exit code once exited normally, else null. */
  readonly exitCode: number | null;
  /** The signal that ended it, else null. */
  readonly signalCode: NodeJS.Signals | null;
  kill(signal: NodeJS.Signals): boolean;
  /** Both output pipes are closed and the process has exited. */
  on(event: 'close', listener: (code: number | null) => void): this;
  /** It could not be started (or killed). */
  on(event: 'error', listener: (err: Error) => void): this;
  once(event: 'exit', listener: () => void): this;
}

/** Starts `command args` with stdout and stderr piped, and stdin piped when asked, else ignored. */
export type Spawner = (
  command: string,
  args: readonly string[],
  options?: { stdin?: boolean },
) => IngestProcess;

/** The real one: a child process. */
export const spawnProcess: Spawner = (command, args, options) =>
  options?.stdin
    ? spawn(command, [...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * Kills ffmpeg when Vigil dies, even by SIGKILL: otherwise a restarted Vigil could meet a stale
 * ffmpeg still connected to the camera (the pipe ends it too, but only at its next write).
 */
const SETPRIV = '/usr/bin/setpriv';
const hasSetpriv = process.platform === 'linux' && existsSync(SETPRIV);

/** The command line that runs `path args` and kills it when Vigil dies (where setpriv exists). */
export function diesWithVigil(path: string, args: readonly string[]): [string, string[]] {
  return hasSetpriv ? [SETPRIV, ['--pdeathsig', 'KILL', '--', path, ...args]] : [path, [...args]];
}

/** Whether the process has not exited yet. */
export function isRunning(child: IngestProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** How long a process gets to end after SIGTERM before it is killed. */
export const TERMINATE_GRACE_MS = 3000;

/** Ends a process: SIGTERM, then SIGKILL if it is still there after graceMs; resolves once it has exited. */
export async function terminate(
  child: IngestProcess,
  timers: Timers = systemTimers,
  graceMs = TERMINATE_GRACE_MS,
): Promise<void> {
  if (!isRunning(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killTimer = timers.after(graceMs, () => child.kill('SIGKILL'));
  await exited;
  killTimer.cancel();
}
