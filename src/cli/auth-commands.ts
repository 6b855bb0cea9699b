import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AUDIT_CHECKPOINT_KEY_PURPOSE, AuditLog } from '../audit/log.js';
import { SYSTEM_ACTOR, auditTarget } from '../audit/entry.js';
import { PERMISSIONS, ROLES, isPermission, isRole, type Permission, type Role } from '../auth/permissions.js';
import { loadOrCreateSecretKey, SecretBox, secretKeyPath } from '../auth/secrets.js';
import { assertPasswordPolicy } from '../auth/passwords.js';
import { AuthStore, assertUserName, type ApiTokenRecord, type UserRecord } from '../auth/store.js';
import { generateTotpSecret, totpUri } from '../auth/totp.js';
import type { LoadedConfig } from '../config/index.js';
import { VigilError, type ErrorCode } from '../errors/catalogue.js';
import { openDatabase, type Db } from '../storage/db.js';
import { describeModeChange, type ModeChange } from '../storage/file-modes.js';
import { ensureStorageFolder } from '../storage/start.js';
import { MonotonicWallClock } from '../time/clock.js';

/**
 * `vigil user …`, `vigil token …` and `vigil audit verify`: accounts, API tokens and the audit
 * log, on the database and key file of the storage folder named in the config. They work while
 * the server runs (SQLite in WAL mode; audit appends are serialised across processes by the
 * chain's insert trigger) and take no storage lock.
 */

const DAY_MS = 86_400_000;

/** Exit code for a mistake in what was asked (usage, a weak password, an unknown user). */
export const EXIT_BAD_INPUT = 2;

/** Errors that mean "what you asked for cannot be done as asked": exit 2, like a usage error. */
const INPUT_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'REQUEST_INVALID',
  'PASSWORD_WEAK',
  'USER_EXISTS',
  'USER_NOT_FOUND',
  'LAST_ADMIN',
  'SETUP_COMPLETE',
  'TOKEN_NOT_FOUND',
]);

export function isInputError(err: unknown): boolean {
  return err instanceof VigilError && INPUT_ERRORS.has(err.code);
}

/** A usage mistake: printed with a hint, exit 2. */
export class UsageError extends Error {}

/** Lines for a terminal about a VigilError; the policy's reasons one per line for PASSWORD_WEAK. */
export function describeError(err: VigilError): string {
  const problems = err.details?.['problems'];
  if (err.code === 'PASSWORD_WEAK' && Array.isArray(problems)) {
    const reasons = problems
      .map((p: unknown) =>
        typeof p === 'object' && p !== null ? (p as { message?: unknown }).message : null,
      )
      .filter((m): m is string => typeof m === 'string');
    return [
      'error PASSWORD_WEAK: the password is not accepted, because it',
      ...reasons.map((reason) => `  - ${reason}`),
      'Nothing was changed. A few unrelated words (a passphrase) make a password that is long and easy to remember.',
    ].join('\n');
  }
  return `error ${err.code}: ${err.message}`;
}

interface AuthHandles {
  db: Db;
  store: AuthStore;
  audit: AuditLog;
  storageRoot: string;
  close(): Promise<void>;
}

/**
 * The database and secret key the server uses for this config. `create` (first run, before the
 * server ever started) makes the storage folder and database; otherwise a missing database is
 * an error, so a wrong --config does not quietly create an empty storage elsewhere.
 */
async function openAuth(loaded: LoadedConfig, options: { create: boolean }): Promise<AuthHandles> {
  const storageRoot = loaded.config.storage.path;
  const dbPath = join(storageRoot, 'index.sqlite');
  if (!options.create && !existsSync(dbPath)) {
    throw new VigilError(
      'STORAGE_UNAVAILABLE',
      `there is no Vigil database at ${dbPath}: is --config the file Vigil runs with? ` +
        '(`vigil user add` creates it before the first start)',
    );
  }
  const tightened = (change: ModeChange) => console.error(`warning: ${describeModeChange(change)}`);
  ensureStorageFolder(storageRoot, tightened);
  const db = await openDatabase(dbPath, { onModeTightened: tightened });
  try {
    const keyFile = await loadOrCreateSecretKey(secretKeyPath(storageRoot));
    if (keyFile.created) {
      console.error(
        `created the secret key ${keyFile.path}: back it up with the database, and keep it private`,
      );
    }
    if (keyFile.permissionsTightened) {
      console.error(`warning: ${keyFile.path} was readable by other users; it is now mode 0600`);
    }
    const secrets = new SecretBox(keyFile.key);
    const clock = new MonotonicWallClock();
    const store = new AuthStore(db, { clock, secrets });
    const audit = new AuditLog(db, { clock, checkpointKey: secrets.deriveKey(AUDIT_CHECKPOINT_KEY_PURPOSE) });
    return { db, store, audit, storageRoot, close: () => db.destroy() };
  } catch (err) {
    await db.destroy();
    throw err;
  }
}

async function withAuth<T>(
  loaded: LoadedConfig,
  options: { create: boolean },
  work: (auth: AuthHandles) => Promise<T>,
): Promise<T> {
  const auth = await openAuth(loaded, options);
  try {
    return await work(auth);
  } finally {
    await auth.close();
  }
}

/** Who ran the command, for the audit entry's details: the actor itself is 'system'. */
function cliDetails(): { via: 'cli'; osUser: string | null } {
  let osUser: string | null = null;
  try {
    osUser = userInfo().username;
  } catch {
    osUser = process.env.USER ?? null;
  }
  return { via: 'cli', osUser };
}

/** The pid of a Vigil server holding the storage lock, or null. */
function runningServerPid(storageRoot: string): number | null {
  try {
    const pid = Number(readFileSync(join(storageRoot, 'vigil.lock'), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return null;
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? 0 : null;
  }
}

// ---- reading a password ----

/** One line typed without echo on a terminal. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          resolve(text);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new UsageError('cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') text = [...text].slice(0, -1).join('');
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** The first line of standard input (a pipe or a file), without its line ending. */
function firstLineOfStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
    let line: string | null = null;
    rl.once('line', (text) => {
      line = text;
      rl.close();
    });
    rl.once('close', () => {
      process.stdin.pause();
      resolve(line ?? '');
    });
    rl.once('error', reject);
  });
}

/**
 * The password, from standard input: one line from a pipe (`--password-stdin`, as docker login
 * does), or typed twice without echo on a terminal. Never from an argument: arguments show in
 * `ps` and in shell history.
 */
async function readPassword(passwordStdin: boolean, forWhom: string): Promise<string> {
  if (!passwordStdin) {
    throw new UsageError(
      'give the password on standard input with --password-stdin ' +
        '(e.g. `printf \'%s\\n\' "$PASSWORD" | vigil …`, or type it when asked): ' +
        'never as an argument, where it would show in `ps` and in shell history',
    );
  }
  if (!process.stdin.isTTY) return firstLineOfStdin();
  const first = await promptHidden(`Password for ${forWhom}: `);
  const again = await promptHidden('Same password again: ');
  if (first !== again) throw new UsageError('the two passwords differ; nothing was changed');
  return first;
}

// ---- arguments ----

function parseRole(text: string | undefined): Role {
  if (text === undefined) throw new UsageError(`--role is required: one of ${ROLES.join(', ')}`);
  if (!isRole(text)) throw new UsageError(`--role '${text}' is not a role: use one of ${ROLES.join(', ')}`);
  return text;
}

function parseList(text: string): string[] {
  return [
    ...new Set(
      text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ];
}

function parseScopes(text: string | undefined): Permission[] | undefined {
  if (text === undefined) return undefined;
  const scopes = parseList(text);
  const unknown = scopes.filter((s) => !isPermission(s));
  if (unknown.length > 0) {
    throw new UsageError(
      `--scopes: ${unknown.map((s) => `'${s}'`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not ` +
        `a permission; use some of ${PERMISSIONS.join(', ')}`,
    );
  }
  if (scopes.length === 0) throw new UsageError('--scopes is empty: leave it out for all of the role');
  return scopes as Permission[];
}

function parseExpiresDays(text: string | undefined): number | null {
  if (text === undefined) return null;
  const days = Number(text);
  if (!Number.isFinite(days) || days <= 0 || days > 3650) {
    throw new UsageError(`--expires-days '${text}' is not a number of days between 0 and 3650`);
  }
  return days;
}

function requireName(name: string | undefined, what: string): string {
  if (name === undefined || name === '') throw new UsageError(`${what}: the user name is missing`);
  return name;
}

function when(ms: number | null): string {
  return ms === null ? '-' : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

/** Columns padded to their widest cell. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function camerasText(user: UserRecord): string {
  if (user.role === 'admin') return 'all (admin)';
  return user.cameras === null ? 'all' : user.cameras.join(',') || 'none';
}

// ---- commands ----

export interface AuthCommandOptions {
  role?: string | undefined;
  passwordStdin: boolean;
  cameras?: string | undefined;
  user?: string | undefined;
  name?: string | undefined;
  scopes?: string | undefined;
  expiresDays?: string | undefined;
  anchor?: string | undefined;
}

/** Camera ids granted that neither the config nor the database knows: a warning, not an error (a camera may come later). */
async function unknownCameras(db: Db, loaded: LoadedConfig, ids: string[]): Promise<string[]> {
  const known = new Set(loaded.config.cameras.map((c) => c.id));
  const stored = await db.selectFrom('cameras').select('id').execute();
  for (const row of stored) known.add(row.id);
  return ids.filter((id) => !known.has(id));
}

async function userAdd(loaded: LoadedConfig, name: string, options: AuthCommandOptions): Promise<number> {
  const role = parseRole(options.role);
  const cameras = options.cameras === undefined ? null : parseList(options.cameras);
  if (cameras !== null && role === 'admin') {
    throw new UsageError('administrators see every camera: leave out --cameras, or choose another --role');
  }
  if (cameras !== null && cameras.length === 0) {
    throw new UsageError('--cameras is empty: leave it out to grant all cameras');
  }
  assertUserName(name);
  const firstMustBeAdmin = () =>
    new UsageError(
      `there is no user yet, and the first must be an administrator: run \`vigil user add NAME --role admin --password-stdin\``,
    );
  // Checked before anything is created: a refused command leaves no storage folder behind.
  if (role !== 'admin' && !existsSync(join(loaded.config.storage.path, 'index.sqlite')))
    throw firstMustBeAdmin();
  const password = await readPassword(options.passwordStdin, name);
  assertPasswordPolicy(password, { username: name });
  return withAuth(loaded, { create: true }, async ({ db, store, audit, storageRoot }) => {
    const first = (await store.countUsers()) === 0;
    if (first && role !== 'admin') throw firstMustBeAdmin();
    if (cameras !== null) {
      const unknown = await unknownCameras(db, loaded, cameras);
      if (unknown.length > 0) {
        console.error(`warning: no camera has the id ${unknown.map((c) => `'${c}'`).join(', ')} (yet)`);
      }
    }
    const user = first
      ? await store.createFirstAdmin(name, password)
      : await store.createUser({ name, role, password, cameras });
    await audit.append({
      actor: SYSTEM_ACTOR,
      action: first ? 'setup.first-admin' : 'user.create',
      target: auditTarget.user(user.name),
      details: { role: user.role, cameras: user.cameras, ...cliDetails() },
    });
    if (first) {
      console.log(`created the first administrator '${user.name}'`);
      const pid = runningServerPid(storageRoot);
      console.error(
        pid !== null
          ? `Vigil${pid > 0 ? ` (pid ${pid})` : ''} is running: restart it so machines other than this one can connect`
          : 'Vigil now accepts connections from other machines when it starts',
      );
    } else {
      console.log(`created ${user.role} '${user.name}' (cameras: ${camerasText(user)})`);
    }
    return 0;
  });
}

async function userList(loaded: LoadedConfig): Promise<number> {
  return withAuth(loaded, { create: false }, async ({ store }) => {
    const users = await store.listUsers();
    if (users.length === 0) {
      console.log('no users yet: `vigil user add NAME --role admin --password-stdin` creates the first');
      return 0;
    }
    const rows = [['NAME', 'ROLE', 'CAMERAS', 'STATE', 'TOTP', 'CREATED', 'PASSWORD CHANGED']];
    for (const user of users) {
      rows.push([
        user.name,
        user.role,
        camerasText(user),
        user.disabled ? 'disabled' : 'enabled',
        user.totpEnabled ? 'on' : 'off',
        when(user.createdAtMs),
        when(user.passwordChangedAtMs),
      ]);
    }
    console.log(table(rows));
    return 0;
  });
}

async function userPasswd(loaded: LoadedConfig, name: string, options: AuthCommandOptions): Promise<number> {
  return withAuth(loaded, { create: false }, async ({ store, audit }) => {
    const user = await store.requireUser(name);
    const password = await readPassword(options.passwordStdin, user.name);
    await store.setPassword(user.id, password);
    await audit.append({
      actor: SYSTEM_ACTOR,
      action: 'user.password',
      target: auditTarget.user(user.name),
      details: cliDetails(),
    });
    console.log(`changed the password of '${user.name}' and signed them out everywhere`);
    return 0;
  });
}

async function userSetDisabled(loaded: LoadedConfig, name: string, disabled: boolean): Promise<number> {
  return withAuth(loaded, { create: false }, async ({ store, audit }) => {
    const before = await store.requireUser(name);
    const after = await store.updateUser(before.id, { disabled });
    await audit.append({
      actor: SYSTEM_ACTOR,
      action: 'user.update',
      target: auditTarget.user(after.name),
      details: {
        before: { role: before.role, disabled: before.disabled, cameras: before.cameras },
        after: { role: after.role, disabled: after.disabled, cameras: after.cameras },
        ...cliDetails(),
      },
    });
    console.log(
      disabled
        ? `disabled '${after.name}': their sessions ended, and their API tokens stop working while disabled`
        : `enabled '${after.name}'`,
    );
    return 0;
  });
}

/**
 * Turns on two-step sign-in for a user at the console: prints a new secret (as an otpauth://
 * URI for a QR code, and as a key to type), then reads a code from the app to prove it has it.
 */
async function userTotpOn(loaded: LoadedConfig, name: string): Promise<number> {
  return withAuth(loaded, { create: false }, async ({ store, audit }) => {
    const user = await store.requireUser(name);
    const secret = generateTotpSecret();
    console.log(
      `Add '${user.name}' to an authenticator app: scan this URI as a QR code, or type the key.\n` +
        `key: ${secret}\n` +
        `uri: ${totpUri({ secret, account: user.name })}`,
    );
    if (process.stdin.isTTY) process.stderr.write('Then type the 6-digit code the app shows: ');
    const code = (await firstLineOfStdin()).trim();
    const result = await store.enableTotp(user.id, secret, code);
    if (!result.ok) {
      throw new UsageError(
        `the code ${result.reason === 'malformed' ? 'is not 6 digits' : 'does not match the key'}: ` +
          "two-step sign-in stays as it was; check the phone's clock, and run the command again",
      );
    }
    await audit.append({
      actor: SYSTEM_ACTOR,
      action: 'user.totp.enable',
      target: auditTarget.user(user.name),
      details: cliDetails(),
    });
    console.log(
      `two-step sign-in is on for '${user.name}'${user.totpEnabled ? ' (the previous key no longer works)' : ''}`,
    );
    return 0;
  });
}

/** For a lost phone: the user signs in with the password alone until they turn it on again. */
async function userTotpOff(loaded: LoadedConfig, name: string): Promise<number> {
  return withAuth(loaded, { create: false }, async ({ store, audit }) => {
    const user = await store.requireUser(name);
    await store.disableTotp(user.id);
    await audit.append({
      actor: SYSTEM_ACTOR,
      action: 'user.totp.disable',
      target: auditTarget.user(user.name),
      details: cliDetails(),
    });
    console.log(
      user.totpEnabled
        ? `two-step sign-in is off for '${user.name}': the password alone signs in now`
        : `two-step sign-in was not on for '${user.name}'`,
    );
    return 0;
  });
}

async function tokenCreate(loaded: LoadedConfig, options: AuthCommandOptions): Promise<number> {
  const userName = requireName(options.user, 'token create needs --user NAME');
  if (options.name === undefined || options.name.trim() === '') {
    throw new UsageError('token create needs --name LABEL: what uses the token (e.g. home-assistant)');
  }
  const scopes = parseScopes(options.scopes);
  const days = parseExpiresDays(options.expiresDays);
  return withAuth(loaded, { create: false }, async ({ store, audit }) => {
    const user = await store.requireUser(userName);
    if (user.disabled) {
      throw new UsageError(
        `'${user.name}' is disabled: a token of theirs would not work (vigil user enable)`,
      );
    }
    const expiresAtMs = days === null ? null : Date.now() + Math.round(days * DAY_MS);
    const created = await store.createToken(user.id, {
      label: options.name!,
      ...(scopes ? { scopes } : {}),
      expiresAtMs,
    });
    await audit.append({
      actor: SYSTEM_ACTOR,
      action: 'token.create',
      target: auditTarget.token(created.record.id),
      details: {
        user: user.name,
        label: created.record.label,
        scopes: created.record.scopes,
        expiresAtMs,
        ...cliDetails(),
      },
    });
    // Only the token on stdout, so TOKEN=$(vigil token create …) works.
    console.log(created.token);
    console.error(
      `created API token ${created.record.id} '${created.record.label}' of ${user.role} '${user.name}' ` +
        `(scopes: ${scopeText(created.record.scopes)}; ${expiresAtMs === null ? 'never expires' : `expires ${when(expiresAtMs)}`}).\n` +
        'It is shown only now: keep it like a password. Send it as the header `Authorization: Bearer TOKEN`; ' +
        `\`vigil token revoke ${created.record.id}\` ends it.`,
    );
    return 0;
  });
}

function tokenState(token: ApiTokenRecord, nowMs: number): string {
  if (token.revokedAtMs !== null) return `revoked ${when(token.revokedAtMs)}`;
  if (token.expiresAtMs !== null && token.expiresAtMs <= nowMs) return 'expired';
  return 'live';
}

async function tokenList(loaded: LoadedConfig, options: AuthCommandOptions): Promise<number> {
  return withAuth(loaded, { create: false }, async ({ store }) => {
    const users = new Map((await store.listUsers()).map((u) => [u.id, u.name]));
    const only = options.user === undefined ? undefined : (await store.requireUser(options.user)).id;
    const tokens = await store.listTokens(only);
    if (tokens.length === 0) {
      console.log('no API tokens');
      return 0;
    }
    const nowMs = Date.now();
    const rows = [['ID', 'USER', 'LABEL', 'CREATED', 'LAST USED', 'EXPIRES', 'STATE', 'SCOPES']];
    for (const token of tokens) {
      rows.push([
        String(token.id),
        users.get(token.userId) ?? '?',
        token.label,
        when(token.createdAtMs),
        when(token.lastUsedAtMs),
        when(token.expiresAtMs),
        tokenState(token, nowMs),
        token.scopes?.join(',') ?? 'all of the role',
      ]);
    }
    console.log(table(rows));
    return 0;
  });
}

async function tokenRevoke(loaded: LoadedConfig, idText: string | undefined): Promise<number> {
  const id = Number(idText);
  if (idText === undefined || !Number.isSafeInteger(id) || id < 1) {
    throw new UsageError('token revoke needs the token id that `vigil token list` shows');
  }
  return withAuth(loaded, { create: false }, async ({ store, audit }) => {
    const revoked = await store.revokeToken(id);
    await audit.append({
      actor: SYSTEM_ACTOR,
      action: 'token.revoke',
      target: auditTarget.token(revoked.id),
      details: { label: revoked.label, ...cliDetails() },
    });
    console.log(`revoked API token ${revoked.id} '${revoked.label}'`);
    return 0;
  });
}

function parseAnchor(text: string | undefined): { seq: number; hash: string } | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d{1,15}):([0-9a-f]{64})$/.exec(text.trim());
  if (!match) {
    throw new UsageError(`--anchor '${text}' is not SEQ:HASH as \`vigil audit verify\` prints it`);
  }
  return { seq: Number(match[1]), hash: match[2]! };
}

/** Exit 0 when the chain is intact, 1 when it is not (saying where), as fsck does for storage. */
async function auditVerify(loaded: LoadedConfig, options: AuthCommandOptions): Promise<number> {
  const anchor = parseAnchor(options.anchor);
  return withAuth(loaded, { create: false }, async ({ audit }) => {
    const result = await audit.verify(anchor ? { anchor } : {});
    console.log(result.message);
    for (const warning of result.warnings) console.log(`warning: ${warning}`);
    if (result.ok) {
      console.log(
        `head: ${result.head.seq}:${result.head.hash}\n` +
          'Keep this line somewhere else (another machine, a printout): ' +
          '`vigil audit verify --anchor SEQ:HASH` later shows whether the log was rewritten since.',
      );
      return 0;
    }
    console.log(
      result.checkedCount > 0
        ? `entries up to ${result.head.seq} are sound (last sound hash ${result.head.hash})`
        : 'no entry before the problem could be checked',
    );
    return 1;
  });
}

/** Runs `vigil user|token|audit SUBCOMMAND …`; returns the exit code. */
export async function runAuthCommand(
  command: 'user' | 'token' | 'audit',
  args: string[],
  loadConfig: () => Promise<LoadedConfig>,
  options: AuthCommandOptions,
): Promise<number> {
  const [sub, arg] = args;
  switch (`${command} ${sub ?? ''}`) {
    case 'user add':
      return userAdd(await loadConfig(), requireName(arg, 'user add NAME'), options);
    case 'user list':
      return userList(await loadConfig());
    case 'user passwd':
      return userPasswd(await loadConfig(), requireName(arg, 'user passwd NAME'), options);
    case 'user disable':
      return userSetDisabled(await loadConfig(), requireName(arg, 'user disable NAME'), true);
    case 'user enable':
      return userSetDisabled(await loadConfig(), requireName(arg, 'user enable NAME'), false);
    case 'user totp':
      return userTotpOn(await loadConfig(), requireName(arg, 'user totp NAME'));
    case 'user totp-off':
      return userTotpOff(await loadConfig(), requireName(arg, 'user totp-off NAME'));
    case 'token create':
      return tokenCreate(await loadConfig(), options);
    case 'token list':
      return tokenList(await loadConfig(), options);
    case 'token revoke':
      return tokenRevoke(await loadConfig(), arg);
    case 'audit verify':
      return auditVerify(await loadConfig(), options);
    default:
      throw new UsageError(
        sub === undefined
          ? `'vigil ${command}' needs a subcommand`
          : `unknown command 'vigil ${command} ${sub}'`,
      );
  }
}

function scopeText(scopes: readonly string[] | null): string {
  return scopes === null ? 'all of the role' : scopes.join(', ');
}
