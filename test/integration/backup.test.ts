import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import {
  apiFetch,
  getJson,
  runCli,
  startTestVigil,
  tempDir,
  waitFor,
  writeConfig,
} from '../helpers/vigil.js';

/**
 * `vigil backup` against a recording Vigil and `vigil restore` into another folder, as an
 * operator moving to a new disk or recovering from a lost one: what cannot be rebuilt from the
 * recordings (accounts, tokens, the audit chain, API-added cameras with their sealed passwords,
 * the recording index) comes back; a changed or foreign backup is refused before anything moves.
 */

const CAMERA_USER = 'operator';
const CAMERA_PASSWORD = 'p@ss word:/#1';

function configYaml(storage: string): string {
  return `storage: { path: ${storage}, minFreeBytes: 1MB }\nrecording: { segmentDurationMs: 2000 }\n`;
}

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

async function expectRefused(args: string[], code: string, pattern: RegExp): Promise<void> {
  const result = await runCli(args);
  assert.notEqual(result.code, 0, result.stdout);
  assert.match(result.stderr, new RegExp(code));
  assert.match(result.stderr, pattern);
}

describe('backup and restore', { timeout: 240_000 }, () => {
  let cameras: TestCameras;
  let sourceDir: string;
  let sourceConfig: string;
  let backupDir: string;
  let auditEntriesAtBackup: number;
  let segmentsAtBackup: number;

  before(async () => {
    cameras = await startCameras({ count: 1, user: CAMERA_USER, password: CAMERA_PASSWORD });
    sourceDir = tempDir('vigil-backup-source-');
    sourceConfig = writeConfig(sourceDir, configYaml('./data'));
    backupDir = join(tempDir('vigil-backup-out-'), 'backup');
  });

  after(async () => {
    await cameras?.stop();
  });

  test('a backup taken while a camera records holds a consistent database, the key and the config', async () => {
    const vigil = await startTestVigil(readFileSync(sourceConfig, 'utf8'), sourceDir);
    try {
      const url = new URL(cameras.urls(1).main);
      const created = await apiFetch(`${vigil.url}/api/cameras`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          id: 'yard',
          streams: {
            main: {
              url: `rtsp://${url.host}${url.pathname}`,
              user: CAMERA_USER,
              password: CAMERA_PASSWORD,
            },
          },
        }),
      });
      assert.equal(created.status, 201, await created.text());
      await waitFor(
        'three recorded segments',
        async () =>
          (await vigil.index.inRange('yard', 'main', 0, Date.now() + 60_000)).length >= 3 ? true : undefined,
        60_000,
      );
      // Taken from another process while the recorder commits segments every 2 s.
      const result = await runCli(['backup', '--config', sourceConfig, '--out', backupDir]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /backed up to/);
    } finally {
      await vigil.close();
    }
    assert.equal(modeOf(backupDir), 0o700);
    for (const name of [
      'index.sqlite',
      'secret.key',
      'signing.key',
      'vapid.json',
      'config.yaml',
      'manifest.json',
    ]) {
      assert.equal(modeOf(join(backupDir, name)), 0o600, name);
    }
    const db = new Database(join(backupDir, 'index.sqlite'), { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      segmentsAtBackup = (db.prepare('SELECT count(*) AS n FROM segments').get() as { n: number }).n;
      auditEntriesAtBackup = (db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;
    } finally {
      db.close();
    }
    assert.ok(segmentsAtBackup >= 3, `${segmentsAtBackup} segments`);
    assert.ok(auditEntriesAtBackup >= 1, 'the camera.create entry');
  });

  test('a changed byte, a missing file, a foreign file name or a newer schema is refused first', async () => {
    const target = tempDir('vigil-restore-refused-');
    const targetConfig = writeConfig(target, configYaml('./data'));
    const tamper = (edit: (dir: string) => void): string => {
      const copy = join(tempDir('vigil-backup-copy-'), 'b');
      cpSync(backupDir, copy, { recursive: true });
      edit(copy);
      return copy;
    };
    const flipped = tamper((dir) => {
      const path = join(dir, 'secret.key');
      const bytes = readFileSync(path);
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      writeFileSync(path, bytes);
    });
    await expectRefused(
      ['restore', flipped, '--config', targetConfig],
      'BACKUP_INVALID',
      /secret\.key differs/,
    );
    const missing = tamper((dir) => writeFileSync(join(dir, 'index.sqlite'), ''));
    await expectRefused(['restore', missing, '--config', targetConfig], 'BACKUP_INVALID', /index\.sqlite/);
    const manifestEdit = (change: (m: Record<string, unknown>) => void) =>
      tamper((dir) => {
        const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<
          string,
          unknown
        >;
        change(manifest);
        writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
      });
    const escaping = manifestEdit((m) => {
      (m.files as Array<{ name: string }>)[0]!.name = '../../escaped';
    });
    await expectRefused(['restore', escaping, '--config', targetConfig], 'BACKUP_INVALID', /unexpected file/);
    const newer = manifestEdit((m) => {
      m.schemaVersion = '9999_future';
    });
    await expectRefused(['restore', newer, '--config', targetConfig], 'BACKUP_TOO_NEW', /9999_future/);
    assert.ok(!existsSync(join(target, 'data', 'index.sqlite')), 'nothing was restored');
  });

  test('restore refuses to run under a running Vigil', async () => {
    const vigil = await startTestVigil(readFileSync(sourceConfig, 'utf8'), sourceDir);
    try {
      await expectRefused(
        ['restore', backupDir, '--config', sourceConfig],
        'STORAGE_UNAVAILABLE',
        /stop it first/,
      );
    } finally {
      await vigil.close();
    }
  });

  test('restored into a new folder, Vigil has the accounts, the audit chain and the camera with its password', async () => {
    const target = tempDir('vigil-restore-');
    const targetConfig = writeConfig(target, configYaml('./restored'));
    // An installation there already: restore moves it aside, never deletes it.
    const first = await startTestVigil(readFileSync(targetConfig, 'utf8'), target, { users: false });
    await first.close();
    const result = await runCli(['restore', backupDir, '--config', targetConfig]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /moved aside {2}index\.sqlite\.before-restore-/);
    // The recordings were not copied (a file backup's job): restore says the index and disk differ.
    assert.match(result.stdout, /vigil fsck --repair/);
    const restoredFiles = readdirSync(join(target, 'restored'));
    assert.ok(restoredFiles.some((name) => name.startsWith('index.sqlite.before-restore-')));

    const verify = await runCli(['audit', 'verify', '--config', targetConfig]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);

    const vigil = await startTestVigil(readFileSync(targetConfig, 'utf8'), target);
    try {
      const { body } = await getJson<{ cameras: Array<{ id: string; source: string }> }>(
        `${vigil.url}/api/cameras`,
      );
      assert.deepEqual(
        body.cameras.map((c) => [c.id, c.source]),
        [['yard', 'api']],
      );
      // The camera's password was sealed with the secret key: online again proves both came back.
      await waitFor(
        'the restored camera online',
        async () => {
          const status = await getJson<{ streams: { main: { state: string } } }>(
            `${vigil.url}/api/cameras/yard/status`,
          );
          return status.body.streams.main.state === 'online' ? true : undefined;
        },
        30_000,
      );
      const audit = await getJson<{ entries: Array<{ action: string }> }>(`${vigil.url}/api/audit?limit=200`);
      assert.ok(audit.body.entries.some((e) => e.action === 'camera.create'));
      const segments = await vigil.index.inRange('yard', 'main', 0, Date.now() + 60_000);
      assert.ok(segments.length >= segmentsAtBackup, `${segments.length} segments listed`);
    } finally {
      await vigil.close();
    }
  });
});
