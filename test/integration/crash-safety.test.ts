import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { freePort, startCameras, type TestCameras } from '../helpers/cameras.js';
import {
  REPO_ROOT,
  getJson,
  runCli,
  spawnVigil,
  tempDir,
  waitFor,
  writeConfig,
  type VigilProcess,
} from '../helpers/vigil.js';

const execFileAsync = promisify(execFile);

interface Recordings {
  recordings: Array<{ startTimeMs: number; endTimeMs: number }>;
}

let cameras: TestCameras | undefined;
let running: VigilProcess | undefined;

after(async () => {
  running?.child.kill('SIGKILL');
  await cameras?.stop();
});

async function ffmpegChildrenFor(url: string): Promise<number> {
  try {
    const { stdout } = await execFileAsync('pgrep', ['-f', `ffmpeg.*${url}`]);
    return stdout.trim().split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

async function fsck(configPath: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await execFileAsync(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'fsck', '--config', configPath],
      { cwd: REPO_ROOT, timeout: 60_000 },
    );
    return { code: 0, output: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

test(
  'kill -9 loses at most 2 s, restart recovers the torn segment and fsck is clean',
  { timeout: 180_000 },
  async () => {
    cameras = await startCameras({ count: 1 });
    const dir = tempDir();
    const mainUrl = cameras.urls(1).main;
    const configPath = writeConfig(
      dir,
      `storage: { path: ./data, minFreeBytes: 1MB }\ncameras:\n  - id: cam1\n    streams:\n      main: { url: "${mainUrl}" }\n`,
    );
    const port = await freePort();
    running = await spawnVigil(configPath, port);
    const url = running.url;
    await waitFor(
      '12 s of recording',
      async () => {
        const { body } = await getJson<Recordings>(`${url}/api/cameras/cam1/recordings`);
        const span = body.recordings.at(-1);
        return span && span.endTimeMs - span.startTimeMs > 12_000;
      },
      40_000,
    );
    // Mid-segment (segments are 60 s), so the open segment is torn by the kill.
    running.child.kill('SIGKILL');
    const killedAtMs = Date.now();
    await new Promise<void>((resolve) => running!.child.once('exit', () => resolve()));
    // The ffmpeg that fed the killed Vigil must not outlive it: a second writer would corrupt the stream.
    await waitFor('the orphaned ffmpeg to exit', async () => (await ffmpegChildrenFor(mainUrl)) === 0, 5_000);

    running = await spawnVigil(configPath, port);
    const recovered = await waitFor(
      'recording after restart',
      async () => {
        const { body } = await getJson<Recordings>(
          `${running!.url}/api/cameras/cam1/recordings?from=${killedAtMs - 120_000}`,
        );
        return body.recordings.length >= 2 ? body.recordings : undefined;
      },
      30_000,
    );
    const beforeKill = recovered.find((s) => s.startTimeMs < killedAtMs)!;
    const lostMs = killedAtMs - beforeKill.endTimeMs;
    assert.ok(lostMs <= 2_000, `lost ${lostMs} ms of video before the kill`);
    assert.ok(recovered.at(-1)!.startTimeMs >= beforeKill.endTimeMs, 'no overlap after restart');

    running.child.kill('SIGTERM');
    await new Promise<void>((resolve) => running!.child.once('exit', () => resolve()));
    running = undefined;
    const report = await fsck(configPath);
    assert.equal(report.code, 0, report.output);
    assert.match(report.output, /: 0 problems/);
    // The kill hit the audit log too (sign-in setup, tokens): its chain is whole.
    const audit = await runCli(['audit', 'verify', '--config', configPath]);
    assert.equal(audit.code, 0, audit.stdout + audit.stderr);
    assert.match(audit.stdout, /the audit log is intact/);
  },
);
