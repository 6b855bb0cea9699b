import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import pino from 'pino';
import { startVigil } from '../../src/app/vigil.js';
import { parseConfigText } from '../../src/config/index.js';
import { runCli, startTestVigil, tempDir, TEST_ADMIN, writeConfig } from '../helpers/vigil.js';

/**
 * The storage folder is Vigil's alone: 0700, with the index database (and its -wal and -shm),
 * the secret key and the self-signed TLS key 0600, on a fresh start, after `vigil user add`, and
 * after a start that found them looser (tightened, with a warning in the log).
 */

const mode = (path: string) => `0${(statSync(path).mode & 0o777).toString(8)}`;

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function privateFiles(data: string, options: { tls: boolean }): string[] {
  const files = ['index.sqlite', 'index.sqlite-wal', 'index.sqlite-shm', 'secret.key'].map((f) =>
    join(data, f),
  );
  if (options.tls) files.push(join(data, 'tls', 'key.pem'));
  return files;
}

describe('file modes of the storage folder', () => {
  test('a fresh start makes the folder 0700 and the database, its -wal/-shm and the keys 0600', async (t) => {
    const tls = hasOpenssl();
    if (!tls) t.diagnostic('openssl missing: the self-signed key is not checked');
    const dir = tempDir('vigil-modes-');
    const vigil = await startTestVigil(
      `storage: { path: ./data }\n${tls ? 'server: { tls: { selfSigned: true } }\n' : ''}`,
      dir,
      { users: false },
    );
    try {
      const data = join(dir, 'data');
      assert.equal(mode(data), '0700');
      if (tls) assert.equal(mode(join(data, 'tls')), '0700');
      for (const file of privateFiles(data, { tls })) {
        assert.ok(existsSync(file), `${file} exists while Vigil runs`);
        assert.equal(mode(file), '0600', file);
      }
    } finally {
      await vigil.close();
    }
  });

  test('a start that finds them looser tightens them and says so in the log', async (t) => {
    const tls = hasOpenssl();
    const dir = tempDir('vigil-modes-');
    const yaml = `storage: { path: ./data }\n${tls ? 'server: { tls: { selfSigned: true } }\n' : ''}`;
    const first = await startTestVigil(yaml, dir, { users: false });
    await first.close();
    const data = join(dir, 'data');
    // As an older Vigil, a copy or a restore with the default umask left them.
    chmodSync(data, 0o755);
    if (tls) chmodSync(join(data, 'tls'), 0o755);
    // A clean close removes -wal and -shm; a crash leaves them, with whatever mode they had.
    for (const suffix of ['-wal', '-shm'])
      writeFileSync(join(data, `index.sqlite${suffix}`), '', { mode: 0o644 });
    const loose = privateFiles(data, { tls });
    for (const file of loose) chmodSync(file, 0o644);

    const lines: Array<{ level: number; msg: string; path?: string }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const vigil = await startVigil(parseConfigText(yaml, { baseDir: dir }), {
      log: pino({ level: 'warn' }, sink),
      listen: '127.0.0.1:0',
    });
    try {
      assert.equal(mode(data), '0700');
      if (tls) assert.equal(mode(join(data, 'tls')), '0700');
      for (const file of privateFiles(data, { tls })) assert.equal(mode(file), '0600', file);
      const warned = lines.filter(
        (l) => l.level === 40 && /accessible to other users|readable by others/.test(l.msg),
      );
      t.diagnostic(warned.map((l) => l.msg).join('\n'));
      // SQLite may itself remake a stale -wal/-shm (with the main file's mode): their modes are
      // checked above, a warning is not required for them.
      for (const path of [data, ...loose.filter((f) => !/secret\.key$|-wal$|-shm$/.test(f))]) {
        assert.ok(
          warned.some((l) => l.path === path),
          `a warning names ${path}`,
        );
      }
      assert.ok(
        warned.some((l) => l.msg.includes('secret key')),
        'the key file warning',
      );
      assert.ok(
        warned.some((l) =>
          l.msg.includes(`${data} was accessible to other users (mode 0755); it is now 0700`),
        ),
      );
    } finally {
      await vigil.close();
    }
  });

  test('`vigil user add` creates the folder 0700 and its files 0600, and tightens a loose folder', async () => {
    const dir = tempDir('vigil-modes-cli-');
    const config = writeConfig(dir, 'storage: { path: ./data }\n');
    const added = await runCli(
      ['user', 'add', TEST_ADMIN.name, '--role', 'admin', '--password-stdin', '--config', config],
      { input: `${TEST_ADMIN.password}\n` },
    );
    assert.equal(added.code, 0, added.stderr);
    const data = join(dir, 'data');
    assert.equal(mode(data), '0700');
    assert.equal(mode(join(data, 'index.sqlite')), '0600');
    assert.equal(mode(join(data, 'secret.key')), '0600');

    const other = tempDir('vigil-modes-cli-');
    mkdirSync(join(other, 'data'), { mode: 0o755 });
    chmodSync(join(other, 'data'), 0o755);
    const again = await runCli(
      [
        'user',
        'add',
        TEST_ADMIN.name,
        '--role',
        'admin',
        '--password-stdin',
        '--config',
        writeConfig(other, 'storage: { path: ./data }\n'),
      ],
      { input: `${TEST_ADMIN.password}\n` },
    );
    assert.equal(again.code, 0, again.stderr);
    assert.equal(mode(join(other, 'data')), '0700');
    assert.match(again.stderr, /was accessible to other users \(mode 0755\); it is now 0700/);
  });
});
