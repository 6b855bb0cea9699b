import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { freePort } from '../helpers/cameras.js';
import { CLI_FROM_SOURCE, REPO_ROOT, runCli, tempDir, writeConfig } from '../helpers/vigil.js';

/** Starts `vigil start` with the given log options, waits until it runs, stops it with SIGTERM. */
async function runServer(logArgs: string[]): Promise<{ stdout: string; code: number | null }> {
  const config = writeConfig(tempDir(), 'storage: { path: ./data, minFreeBytes: 1MB }\ncameras: []\n');
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...CLI_FROM_SOURCE, 'start', '--config', config, '--listen', `127.0.0.1:${port}`, ...logArgs],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VIGIL_LOG_LEVEL: '' } },
  );
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes('Vigil is running at')) child.kill('SIGTERM');
  });
  const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
  return { stdout, code };
}

test('--log-format json: every line the server writes is one JSON object, the shutdown included', async () => {
  const { stdout, code } = await runServer(['--log-format', 'json']);
  assert.equal(code, 0);
  const lines = stdout.trim().split('\n');
  const entries = lines.map((line) => JSON.parse(line) as { level: number; msg: string; url?: string });
  assert.ok(entries.some((e) => e.msg.startsWith('Vigil is running at http://127.0.0.1:') && e.url));
  assert.ok(entries.some((e) => e.msg.startsWith('SIGTERM: closing segments')));
});

test('--log-format pretty: readable lines with time and level, no JSON objects', async () => {
  const { stdout, code } = await runServer(['--log-format', 'pretty', '--log-level', 'debug']);
  assert.equal(code, 0);
  const lines = stdout.trim().split('\n');
  assert.ok(lines.length > 1);
  for (const line of lines) assert.match(line, /^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|DEBUG|WARN|ERROR)/, line);
  assert.ok(lines.some((l) => /INFO.*Vigil is running at http/.test(l)));
});

test('a wrong --log-format or --log-level is refused before anything starts, naming the choices', async () => {
  const config = writeConfig(tempDir(), 'storage: { path: ./data }\ncameras: []\n');
  const format = await runCli(['start', '--config', config, '--log-format', 'xml']);
  assert.notEqual(format.code, 0);
  assert.match(format.stderr, /log format 'xml' is not one of auto, json, pretty/);
  const level = await runCli(['start', '--config', config, '--log-level', 'loud']);
  assert.notEqual(level.code, 0);
  assert.match(level.stderr, /log level 'loud' is not one of/);
});
