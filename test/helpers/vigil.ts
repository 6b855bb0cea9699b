import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { startVigil, type RunningVigil } from '../../src/app/vigil.js';
import { parseConfigText } from '../../src/config/index.js';

export const REPO_ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..');

export function tempDir(prefix = 'vigil-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Starts a real Vigil in this process on a free port, from YAML text. */
export async function startTestVigil(yaml: string, dir = tempDir()): Promise<RunningVigil & { dir: string }> {
  const loaded = parseConfigText(yaml, { baseDir: dir, sourceName: 'test.yaml' });
  const log = pino({ level: process.env.VIGIL_TEST_LOG ?? 'silent' });
  const vigil = await startVigil(loaded, { log, listen: '127.0.0.1:0' });
  return Object.assign(vigil, { dir });
}

export interface VigilProcess {
  url: string;
  child: ChildProcess;
  output(): string;
}

/** Starts Vigil as a separate process (for kill -9 tests), from a config file, via the CLI. */
export async function spawnVigil(configPath: string, port: number): Promise<VigilProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO_ROOT, 'src', 'cli', 'main.ts'),
      'start',
      '--config',
      configPath,
      '--listen',
      `127.0.0.1:${port}`,
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VIGIL_LOG_LEVEL: 'info' } },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`Vigil did not start in 30 s:\n${output}`)), 30_000);
    const onData = () => {
      const match = /Vigil is running at (\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Vigil exited with ${code}:\n${output}`));
    });
  });
  return { url, child, output: () => output };
}

export function writeConfig(dir: string, yaml: string): string {
  const path = join(dir, 'vigil.yaml');
  writeFileSync(path, yaml);
  return path;
}

/** Polls until `check` returns a value (not undefined/false), or fails with the last state. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
  );
}

export async function getJson<T = unknown>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}
