import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * A child process of a test helper (a camera emulator, an ffmpeg packetiser). Tracked so that it
 * never outlives the test process: a child does not die with its parent on its own.
 */
export interface TrackedChild {
  readonly pid: number;
  readonly process: ChildProcessWithoutNullStreams;
  /** Resolves once the process has exited and been reaped (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last few kilobytes of its stderr, for error messages. */
  stderrTail(): string;
}

export interface SpawnTrackedOptions {
  /**
   * What the kernel sends the child when the test process dies, even by SIGKILL (Linux, through
   * setpriv). TERM lets a server shut down cleanly; KILL is for children with nothing to clean up.
   */
  deathSignal: 'TERM' | 'KILL';
  /** Called with every complete stdout line. Stdout is always drained, so a chatty child never blocks. */
  onStdoutLine?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

const SETPRIV = '/usr/bin/setpriv';
const hasSetpriv = process.platform === 'linux' && existsSync(SETPRIV);
const STDERR_TAIL_BYTES = 8192;

const live = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous, so there is no waiting for a graceful stop here.
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

export function spawnTracked(command: string, args: string[], options: SpawnTrackedOptions): TrackedChild {
  installExitHook();
  const [file, fileArgs] = hasSetpriv
    ? [SETPRIV, ['--pdeathsig', options.deathSignal, '--', command, ...args]]
    : [command, args];
  const child = spawn(file, fileArgs, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
  // setpriv execs the command in place, so the pid is the command's own.
  if (child.pid === undefined) {
    // Spawn failures (ENOENT) surface as an 'error' event; the pid is the only synchronous sign.
    child.on('error', () => undefined);
    throw new Error(`cannot start ${command}`);
  }
  live.add(child);
  let tail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-STDERR_TAIL_BYTES);
  });
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    if (options.onStdoutLine) for (const line of lines) options.onStdoutLine(line.replace(/\r$/, ''));
  });
  // Writes to stdin fail with EPIPE once the child is gone; nothing here writes, but be quiet about it.
  child.stdin.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  return { pid: child.pid, process: child, exited, stderrTail: () => tail };
}

/** SIGTERM, then SIGKILL after graceMs; resolves once the process is reaped. */
export async function stopChild(child: TrackedChild, graceMs = 3000): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) {
    await child.exited;
    return;
  }
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}
