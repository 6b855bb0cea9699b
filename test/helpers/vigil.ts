import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { startVigil, type RunningVigil, type VigilOptions } from '../../src/app/vigil.js';
import { parseConfigText } from '../../src/config/index.js';

export const REPO_ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..');

export function tempDir(prefix = 'vigil-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The administrator every test Vigil gets (a fresh one, with `users: false`, has none). */
export const TEST_ADMIN = { name: 'admin', password: 'blue kettle on the windowsill 42' } as const;

/** API tokens of the test Vigils running now, by origin: apiFetch() and getJson() send them. */
const tokens = new Map<string, string>();

export interface TestVigil extends RunningVigil {
  dir: string;
  /** An API token of TEST_ADMIN; null for a fresh Vigil. */
  token: string | null;
}

/**
 * Starts a real Vigil in this process on a free port, from YAML text. Unless `users: false`,
 * it has TEST_ADMIN and an API token for them (as `vigil user add` and `vigil token create` would
 * make), so tests talk to the API as an administrator through apiFetch()/getJson().
 */
export async function startTestVigil(
  yaml: string,
  dir = tempDir(),
  options: { users?: boolean; vigil?: Omit<VigilOptions, 'log' | 'listen'> } = {},
): Promise<TestVigil> {
  const loaded = parseConfigText(yaml, { baseDir: dir, sourceName: 'test.yaml' });
  const log = pino({ level: process.env.VIGIL_TEST_LOG ?? 'silent' });
  const vigil = await startVigil(loaded, { ...options.vigil, log, listen: '127.0.0.1:0' });
  let token: string | null = null;
  if (options.users !== false) {
    const admin =
      (await vigil.auth.store.findUser(TEST_ADMIN.name)) ??
      (await vigil.auth.store.createFirstAdmin(TEST_ADMIN.name, TEST_ADMIN.password));
    token = (await vigil.auth.store.createToken(admin.id, { label: 'tests' })).token;
    tokens.set(new URL(vigil.url).origin, token);
  }
  const close = vigil.close.bind(vigil);
  return Object.assign(vigil, {
    dir,
    token,
    close: async () => {
      tokens.delete(new URL(vigil.url).origin);
      await close();
    },
  });
}

/** Remembers the API token of a Vigil started another way (a child process). */
export function useToken(url: string, token: string): void {
  tokens.set(new URL(url).origin, token);
}

/** fetch() with the API token of the test Vigil the URL points at. */
export function apiFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const token = tokens.get(new URL(url).origin);
  const headers = new Headers(init.headers);
  if (token && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
  return fetch(url, { ...init, headers });
}

export interface VigilProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** An API token of TEST_ADMIN (registered for apiFetch/getJson); null with `users: false`. */
  token: string | null;
}

/** Node arguments that run the vigil CLI from src/ (as the tests do); benchmarks pass a build's. */
export const CLI_FROM_SOURCE: readonly string[] = [
  '--import',
  'tsx',
  join(REPO_ROOT, 'src', 'cli', 'main.ts'),
];

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the vigil CLI in a separate process, as a person would; `input` is written to its stdin. */
export function runCli(
  args: readonly string[],
  options: { input?: string; cli?: readonly string[]; timeoutMs?: number } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [...(options.cli ?? CLI_FROM_SOURCE), ...args], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(options.input ?? '');
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolveResult, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vigil ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${stdout}${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveResult({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

/**
 * What an administrator does before the first start: `vigil user add` (TEST_ADMIN or `user`,
 * unless it exists) then `vigil token create`, on the storage of the config file. Returns the
 * new token.
 */
export async function createAdminWithCli(
  configPath: string,
  options: { cli?: readonly string[]; label?: string; user?: { name: string; password: string } } = {},
): Promise<string> {
  const cli = options.cli ?? CLI_FROM_SOURCE;
  const user = options.user ?? TEST_ADMIN;
  const added = await runCli(
    ['user', 'add', user.name, '--role', 'admin', '--password-stdin', '--config', configPath],
    { cli, input: `${user.password}\n` },
  );
  if (added.code !== 0 && !added.stderr.includes('USER_EXISTS')) {
    throw new Error(`vigil user add failed (exit ${added.code}):\n${added.stdout}${added.stderr}`);
  }
  const created = await runCli(
    ['token', 'create', '--user', user.name, '--name', options.label ?? 'tests', '--config', configPath],
    { cli },
  );
  const token = created.stdout.trim();
  if (created.code !== 0 || !/^vgl_\S+$/.test(token)) {
    throw new Error(`vigil token create failed (exit ${created.code}):\n${created.stdout}${created.stderr}`);
  }
  return token;
}

/**
 * Starts Vigil as a separate process (for kill -9 tests), from a config file, via the CLI. Unless
 * `users: false`, TEST_ADMIN and a token are made with the CLI first (createAdminWithCli), and
 * apiFetch()/getJson() send the token to it.
 */
export async function spawnVigil(
  configPath: string,
  port: number,
  options: { users?: boolean } = {},
): Promise<VigilProcess> {
  const token = options.users === false ? null : await createAdminWithCli(configPath);
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
      const match = /Vigil is running at (https?:\/\/[^\s"]+)/.exec(output);
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
  if (token !== null) useToken(url, token);
  return { url, child, output: () => output, token };
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
  const res = await apiFetch(url);
  return { status: res.status, body: (await res.json()) as T };
}
