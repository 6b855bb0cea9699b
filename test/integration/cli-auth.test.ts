import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import pino from 'pino';
import { startVigil, type RunningVigil } from '../../src/app/vigil.js';
import { entryHash } from '../../src/audit/chain.js';
import { base32Decode, totpCode } from '../../src/auth/totp.js';
import type { AuditRow } from '../../src/audit/entry.js';
import { loadConfigFile } from '../../src/config/index.js';
import { CLI_FROM_SOURCE, REPO_ROOT, runCli, tempDir, writeConfig } from '../helpers/vigil.js';

/**
 * The `vigil user|token|audit` commands as an administrator runs them: real CLI processes on a
 * config file, next to a running server on the same storage, and an attacker with write access
 * to the database file who edits, deletes or reorders audit entries.
 */

const ADMIN = { name: 'root', password: 'granite otter lantern 7' };
const VIEWER = { name: 'guard', password: 'velvet harbour chimney' };

let dir: string;
let configPath: string;
let vigil: RunningVigil | undefined;
let token: string;
/** A storage folder with an intact audit log, copied for each tampering scenario. */
let pristine: string;

after(async () => {
  await vigil?.close();
});

function dataDir(root: string): string {
  return join(root, 'data');
}

async function health(url: string, bearer?: string): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${url}/api/health`, {
    headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` },
  });
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, ...(body.error ? { code: body.error.code } : {}) };
}

/** A copy of the pristine storage with its own config, for one attack. */
function copyOfPristine(): string {
  const copy = tempDir('vigil-cli-auth-copy-');
  mkdirSync(dataDir(copy));
  for (const file of ['index.sqlite', 'index.sqlite-wal', 'secret.key']) {
    const from = join(dataDir(pristine), file);
    if (existsSync(from)) copyFileSync(from, join(dataDir(copy), file));
  }
  return writeConfig(copy, 'storage: { path: ./data }\n');
}

/** Opens the database as an attacker would: plain SQLite, no Vigil code. */
function openRaw(config: string): Database.Database {
  return new Database(join(config, '..', 'data', 'index.sqlite'));
}

async function verify(config: string, ...extra: string[]) {
  return runCli(['audit', 'verify', '--config', config, ...extra]);
}

before(() => {
  dir = tempDir('vigil-cli-auth-');
  configPath = writeConfig(dir, 'storage: { path: ./data }\n');
});

test('user add refuses a weak password with the policy reasons, and creates nothing', async () => {
  const weak = await runCli(
    ['user', 'add', ADMIN.name, '--role', 'admin', '--password-stdin', '--config', configPath],
    {
      input: 'Dragon99!\n',
    },
  );
  assert.equal(weak.code, 2, weak.stderr);
  assert.match(weak.stderr, /PASSWORD_WEAK/);
  assert.match(weak.stderr, /- is 9 characters long; use at least 10/);
  assert.match(weak.stderr, /- is a common password \('dragon'\) with small changes/);
  assert.equal(weak.stdout, '');
  assert.ok(!existsSync(dataDir(dir)), 'a refused password leaves no storage behind');

  const withName = await runCli(
    ['user', 'add', ADMIN.name, '--role', 'admin', '--password-stdin', '--config', configPath],
    {
      input: 'root of all evil 99\n',
    },
  );
  assert.equal(withName.code, 2);
  assert.match(withName.stderr, /- contains the user name/);

  const noStdin = await runCli(['user', 'add', ADMIN.name, '--role', 'admin', '--config', configPath]);
  assert.equal(noStdin.code, 2);
  assert.match(noStdin.stderr, /--password-stdin/);

  const viewerFirst = await runCli(
    ['user', 'add', VIEWER.name, '--role', 'viewer', '--password-stdin', '--config', configPath],
    { input: `${VIEWER.password}\n` },
  );
  assert.equal(viewerFirst.code, 2);
  assert.match(viewerFirst.stderr, /the first must be an administrator/);
  assert.ok(!existsSync(dataDir(dir)), 'nor does a refused command');
});

test('user add creates the first administrator; token create prints only the token', async () => {
  const added = await runCli(
    ['user', 'add', ADMIN.name, '--role', 'admin', '--password-stdin', '--config', configPath],
    {
      input: `${ADMIN.password}\n`,
    },
  );
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /created the first administrator 'root'/);
  assert.match(added.stderr, /created the secret key .*secret\.key/);

  const again = await runCli(
    ['user', 'add', 'ROOT', '--role', 'admin', '--password-stdin', '--config', configPath],
    {
      input: `${ADMIN.password}\n`,
    },
  );
  assert.equal(again.code, 2);
  assert.match(again.stderr, /USER_EXISTS/);

  const viewer = await runCli(
    [
      'user',
      'add',
      VIEWER.name,
      '--role',
      'viewer',
      '--cameras',
      'yard,gate',
      '--password-stdin',
      '--config',
      configPath,
    ],
    { input: `${VIEWER.password}\n` },
  );
  assert.equal(viewer.code, 0, viewer.stderr);
  assert.match(viewer.stdout, /created viewer 'guard' \(cameras: gate,yard\)/);

  const created = await runCli([
    'token',
    'create',
    '--user',
    ADMIN.name,
    '--name',
    'scripts',
    '--config',
    configPath,
  ]);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /^vgl_[A-Za-z0-9_-]{43}\n$/, 'stdout is the token and nothing else');
  assert.match(created.stderr, /shown only now/);
  token = created.stdout.trim();

  const beyondRole = await runCli([
    'token',
    'create',
    '--user',
    VIEWER.name,
    '--name',
    'x',
    '--scopes',
    'live.view,users.manage',
    '--config',
    configPath,
  ]);
  assert.equal(beyondRole.code, 2);
  assert.match(beyondRole.stderr, /does not include users\.manage/);

  const list = await runCli(['user', 'list', '--config', configPath]);
  assert.equal(list.code, 0);
  assert.match(list.stdout, /^root +admin +all \(admin\) +enabled/m);
  assert.match(list.stdout, /^guard +viewer +gate,yard +enabled/m);
});

test('the running server accepts the CLI token as Bearer, and the CLI works next to it', async () => {
  vigil = await startVigil(await loadConfigFile(configPath), {
    log: pino({ level: 'silent' }),
    listen: '127.0.0.1:0',
  });
  assert.deepEqual(await health(vigil.url, token), { status: 200 });
  const wrong = `vgl_${'A'.repeat(43)}`;
  assert.deepEqual(await health(vigil.url, wrong), { status: 401, code: 'AUTH_FAILED' });
  assert.deepEqual(await health(vigil.url), { status: 401, code: 'AUTH_REQUIRED' });

  // Entries from the server (sign-ins) and from the CLI (a second token) interleave in one chain.
  const signIn = (password: string) =>
    fetch(`${vigil!.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: VIEWER.name, password }),
    });
  assert.equal((await signIn('not the password at all')).status, 401);
  assert.equal((await signIn(VIEWER.password)).status, 200);
  const second = await runCli([
    'token',
    'create',
    '--user',
    VIEWER.name,
    '--name',
    'wall display',
    '--config',
    configPath,
  ]);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(await health(vigil.url, second.stdout.trim()), { status: 200 });

  const res = await fetch(`${vigil.url}/api/audit?limit=50`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const page = (await res.json()) as {
    entries: Array<{ seq: number; actor: string; action: string; target: string | null }>;
  };
  const actions = page.entries.map((e) => `${e.actor} ${e.action} ${e.target ?? ''}`.trim()).reverse();
  assert.deepEqual(actions, [
    'system setup.first-admin user:root',
    'system user.create user:guard',
    'system token.create token:1',
    'guard login.failure',
    'guard login.success',
    'system token.create token:2',
  ]);

  const verified = await verify(configPath);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  assert.match(verified.stdout, /the audit log is intact: 6 entries/);
  assert.match(verified.stdout, /^head: 6:[0-9a-f]{64}$/m);

  await vigil.close();
  vigil = undefined;
  pristine = dir;
});

test('audit verify names an entry edited in SQLite after its trigger was dropped', async () => {
  const config = copyOfPristine();
  const db = openRaw(config);
  assert.throws(
    () => db.prepare(`UPDATE audit_log SET details_json = '{}' WHERE seq = 3`).run(),
    /append-only/,
    'the trigger refuses a plain UPDATE',
  );
  db.exec('DROP TRIGGER audit_log_no_update');
  db.prepare(`UPDATE audit_log SET details_json = ? WHERE seq = 3`).run('{"label":"nothing to see"}');
  db.close();
  const result = await verify(config);
  assert.equal(result.code, 1, result.stdout);
  assert.match(result.stdout, /the audit log was tampered with: entry 3 was edited/);
  assert.match(result.stdout, /entries up to 2 are sound/);
  assert.match(
    result.stdout,
    /warning: the database triggers that protect the audit log are missing \(audit_log_no_update\)/,
  );
});

test('audit verify finds a deleted entry, a deleted newest entry and two swapped entries', async () => {
  {
    const config = copyOfPristine();
    const db = openRaw(config);
    db.exec('DROP TRIGGER audit_log_delete_by_retention_only');
    db.prepare('DELETE FROM audit_log WHERE seq = 4').run();
    db.close();
    const result = await verify(config);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stdout, /entry 4 was deleted: the log goes from entry 3 to entry 5/);
  }
  {
    const config = copyOfPristine();
    const db = openRaw(config);
    db.exec('DROP TRIGGER audit_log_delete_by_retention_only');
    db.prepare('DELETE FROM audit_log WHERE seq = 6').run();
    db.close();
    const result = await verify(config);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stdout, /entry 6 was deleted from the end of the log/);
  }
  {
    // Entries 4 and 5 trade places: deleted and inserted again under each other's number.
    const config = copyOfPristine();
    const db = openRaw(config);
    db.exec('DROP TRIGGER audit_log_delete_by_retention_only; DROP TRIGGER audit_log_extends_chain');
    const rows = db.prepare('SELECT * FROM audit_log WHERE seq IN (4, 5) ORDER BY seq').all() as AuditRow[];
    const insert = db.prepare(
      `INSERT INTO audit_log (seq, time_ms, actor_kind, actor, token_id, action, target, details_json, ip, prev_hash, hash)
       VALUES (@seq, @time_ms, @actor_kind, @actor, @token_id, @action, @target, @details_json, @ip, @prev_hash, @hash)`,
    );
    db.transaction(() => {
      db.prepare('DELETE FROM audit_log WHERE seq IN (4, 5)').run();
      insert.run({ ...rows[1]!, seq: 4 });
      insert.run({ ...rows[0]!, seq: 5 });
    })();
    db.close();
    const result = await verify(config);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stdout, /entry 4 holds the entry written as number 5: entries were reordered/);
  }
});

test('a rewritten chain passes alone but not against an anchor recorded before', async () => {
  const anchorLine = /^head: (\d+:[0-9a-f]{64})$/m.exec((await verify(copyOfPristine())).stdout)?.[1];
  assert.ok(anchorLine);
  // The attacker edits entry 2 and recomputes every hash from there: the chain is consistent again.
  const config = copyOfPristine();
  const db = openRaw(config);
  db.exec('DROP TRIGGER audit_log_no_update');
  const rows = db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as AuditRow[];
  const update = db.prepare(
    'UPDATE audit_log SET details_json = @details_json, prev_hash = @prev_hash, hash = @hash WHERE seq = @seq',
  );
  db.transaction(() => {
    let prevHash = rows[0]!.hash;
    // Hashes are UNIQUE: park the rewritten rows on placeholders first, newest first.
    for (const row of rows.slice(1).reverse()) {
      update.run({ ...row, prev_hash: `x${row.seq}`, hash: `y${row.seq}` });
    }
    for (const row of rows.slice(1)) {
      const edited = {
        ...row,
        details_json: row.seq === 2 ? '{"cameras":null,"role":"operator"}' : row.details_json,
        prev_hash: prevHash,
      };
      const hash = entryHash(edited);
      update.run({ ...edited, hash });
      prevHash = hash;
    }
  })();
  db.close();
  const alone = await verify(config);
  assert.equal(alone.code, 0, alone.stdout);
  assert.match(alone.stdout, /intact/);
  assert.match(alone.stdout, /warning: the database triggers/);
  const anchored = await verify(config, '--anchor', anchorLine);
  assert.equal(anchored.code, 1, anchored.stdout);
  assert.match(anchored.stdout, /entry 6 is not the one recorded in the anchor/);
});

test('user totp turns on two-step sign-in with a code from the app; totp-off turns it off', async () => {
  // As a person at the console: read the key the command prints, answer with the app's code.
  const child = spawn(
    process.execPath,
    [...CLI_FROM_SOURCE, 'user', 'totp', VIEWER.name, '--config', configPath],
    {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const key = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const match = /^key: ([A-Z2-7]+)$/m.exec(stdout);
      if (match) resolve(match[1]!);
    });
    void exited.then(() => reject(new Error(`no key printed:\n${stdout}${stderr}`)));
  });
  assert.match(stdout, /^uri: otpauth:\/\/totp\/Vigil:guard\?secret=[A-Z2-7]+&issuer=Vigil/m);
  child.stdin.end(`${totpCode(base32Decode(key)!, Date.now())}\n`);
  assert.equal(await exited, 0, stdout + stderr);
  assert.match(stdout, /two-step sign-in is on for 'guard'/);
  assert.match(
    (await runCli(['user', 'list', '--config', configPath])).stdout,
    /^guard +viewer +gate,yard +enabled +on/m,
  );

  vigil = await startVigil(await loadConfigFile(configPath), {
    log: pino({ level: 'silent' }),
    listen: '127.0.0.1:0',
  });
  const signIn = async () => {
    const res = await fetch(`${vigil!.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: VIEWER.name, password: VIEWER.password }),
    });
    return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
  };
  const withoutCode = await signIn();
  assert.equal(withoutCode.status, 401);
  assert.equal(withoutCode.body.error?.code, 'TOTP_REQUIRED');

  const wrongCode = await runCli(['user', 'totp', VIEWER.name, '--config', configPath], {
    input: '000000\n',
  });
  assert.equal(wrongCode.code, 2);
  assert.match(wrongCode.stderr, /does not match the key/);

  const off = await runCli(['user', 'totp-off', VIEWER.name, '--config', configPath]);
  assert.equal(off.code, 0, off.stderr);
  assert.equal((await signIn()).status, 200);

  const res = await fetch(`${vigil.url}/api/audit?action=user.totp`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const page = (await res.json()) as { entries: Array<{ actor: string; action: string; target: string }> };
  assert.deepEqual(
    page.entries.map((e) => `${e.actor} ${e.action} ${e.target}`),
    ['system user.totp.disable user:guard', 'system user.totp.enable user:guard'],
  );
  await vigil.close();
  vigil = undefined;
});
