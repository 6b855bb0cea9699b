import { sql, type Selectable } from 'kysely';
import { VigilError } from '../errors/catalogue.js';
import type { Db } from '../storage/db.js';
import type { ApiTokenTable, LoginSessionTable, UserTable } from '../storage/schema.js';
import type { Clock } from '../time/clock.js';
import {
  assertPasswordPolicy,
  hashPassword,
  needsRehash,
  verifyDummyPassword,
  verifyPassword,
} from './passwords.js';
import { ROLE_PERMISSIONS, isPermission, type Permission, type Principal, type Role } from './permissions.js';
import type { SecretBox } from './secrets.js';
import {
  csrfTokenFor,
  generateApiToken,
  generateSessionId,
  hashSecret,
  looksLikeApiToken,
  looksLikeSessionId,
} from './tokens.js';
import { verifyTotp, type TotpVerification } from './totp.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** A signed-in browser unused this long must sign in again. */
export const DEFAULT_SESSION_IDLE_MS = DAY_MS;
/** …and every 30 days whatever its use. */
export const DEFAULT_SESSION_LIFETIME_MS = 30 * DAY_MS;
/** last_seen / last_used are written at most this often: not one write per API request. */
const TOUCH_INTERVAL_MS = MINUTE_MS;
/** Letters, digits and . _ @ -, starting with a letter or digit (so never a CSV formula). */
const USER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export interface UserRecord {
  id: number;
  name: string;
  role: Role;
  /** Cameras granted; null = all cameras. */
  cameras: string[] | null;
  disabled: boolean;
  totpEnabled: boolean;
  passwordChangedAtMs: number;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface NewUser {
  name: string;
  role: Role;
  password: string;
  /** Cameras granted; null or absent = all cameras. */
  cameras?: string[] | null;
}

export interface UserChanges {
  role?: Role;
  disabled?: boolean;
  cameras?: string[] | null;
}

export interface LoginSessionRecord {
  /** SHA-256 of the session id: the handle to list and end one session. */
  idHash: string;
  userId: number;
  createdAtMs: number;
  lastSeenAtMs: number;
  /** Absolute end; an idle session ends earlier (lastSeenAtMs + idle). */
  expiresAtMs: number;
  ip: string | null;
  userAgent: string | null;
}

export interface ApiTokenRecord {
  id: number;
  userId: number;
  label: string;
  scopes: Permission[];
  createdAtMs: number;
  lastUsedAtMs: number | null;
  expiresAtMs: number | null;
  revokedAtMs: number | null;
}

export interface ClientInfo {
  ip?: string | null;
  userAgent?: string | null;
}

export type PasswordCheck =
  | { ok: true; user: UserRecord; totpRequired: boolean }
  | { ok: false; reason: 'unknown-user' | 'wrong-password' | 'disabled'; user: UserRecord | null };

export type TotpCheck = TotpVerification | { ok: false; reason: 'not-enabled' };

/**
 * What a change to the store may have taken away from credentials in use: one login session
 * (by its id hash), one API token, or anything of a user's (sessions, tokens, role, grants,
 * disabled, deleted). Listeners re-check the credentials it names; open live views and
 * downloads must not outlive the access that started them (src/api/connections.ts).
 */
export type CredentialChange =
  { kind: 'session'; idHash: string } | { kind: 'token'; tokenId: number } | { kind: 'user'; userId: number };

/** `touch: false` resolves without recording use (periodic re-checks of open responses). */
export interface ResolveOptions {
  touch?: boolean;
}

export interface AuthStoreOptions {
  clock: Clock;
  /** Seals TOTP secrets. */
  secrets: SecretBox;
  sessionIdleMs?: number;
  sessionLifetimeMs?: number;
}

type UserRow = Selectable<UserTable>;

function sessionFromRow(row: Selectable<LoginSessionTable>): LoginSessionRecord {
  return {
    idHash: row.id_hash,
    userId: row.user_id,
    createdAtMs: row.created_at_ms,
    lastSeenAtMs: row.last_seen_at_ms,
    expiresAtMs: row.expires_at_ms,
    ip: row.ip,
    userAgent: row.user_agent,
  };
}

function tokenFromRow(row: Selectable<ApiTokenTable>): ApiTokenRecord {
  const scopes = (JSON.parse(row.scopes_json) as string[]).filter(isPermission);
  return {
    id: row.id,
    userId: row.user_id,
    label: row.label,
    scopes,
    createdAtMs: row.created_at_ms,
    lastUsedAtMs: row.last_used_at_ms,
    expiresAtMs: row.expires_at_ms,
    revokedAtMs: row.revoked_at_ms,
  };
}

/** USER_NOT_FOUND / REQUEST_INVALID for a name that cannot be a user's. */
export function assertUserName(name: string): void {
  if (!USER_NAME_PATTERN.test(name)) {
    throw new VigilError(
      'REQUEST_INVALID',
      `'${name.slice(0, 80)}' cannot be a user name: use 1 to 64 letters, digits, '.', '_', '@' or '-', ` +
        'starting with a letter or digit',
      { parameter: 'name' },
    );
  }
}

/** The principal of a user, through a session or a token. */
export function principalFor(user: UserRecord, token: ApiTokenRecord | null = null): Principal {
  return {
    userId: user.id,
    name: user.name,
    role: user.role,
    cameras: user.cameras === null ? null : new Set(user.cameras),
    scopes: token ? new Set(token.scopes) : null,
    via: token ? 'token' : 'session',
    tokenId: token ? token.id : null,
  };
}

/**
 * Users, their camera grants, login sessions and API tokens in the index database. Passwords
 * are checked against the policy and hashed here, so no caller can store a weak or plain one.
 */
export class AuthStore {
  private readonly clock: Clock;
  private readonly secrets: SecretBox;
  readonly sessionIdleMs: number;
  readonly sessionLifetimeMs: number;
  private readonly changeListeners = new Set<(change: CredentialChange) => void>();

  constructor(
    private readonly db: Db,
    options: AuthStoreOptions,
  ) {
    this.clock = options.clock;
    this.secrets = options.secrets;
    this.sessionIdleMs = options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS;
    this.sessionLifetimeMs = options.sessionLifetimeMs ?? DEFAULT_SESSION_LIFETIME_MS;
  }

  // ---- change notification ----

  /**
   * Calls `listener` after each change in this process that may narrow or end credentials;
   * returns the unsubscribe function. Changes made by another process (the `vigil` CLI) are
   * not seen here: see changeGeneration().
   */
  onCredentialChange(listener: (change: CredentialChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /**
   * A number that differs from the last call's when another process has committed to the
   * database since (SQLite's `PRAGMA data_version`, one cheap query). This process's own
   * writes do not change it: those come through onCredentialChange().
   */
  async changeGeneration(): Promise<number> {
    const result = await sql<{ data_version: number }>`PRAGMA data_version`.execute(this.db);
    return Number(result.rows[0]?.data_version ?? 0);
  }

  private notify(change: CredentialChange): void {
    for (const listener of this.changeListeners) {
      try {
        listener(change);
      } catch {
        // A listener's failure must not fail the change that was already committed.
      }
    }
  }

  // ---- users ----

  /** 0 until the first administrator exists: the server then listens on localhost only. */
  async countUsers(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Creates a user; USER_EXISTS, PASSWORD_WEAK or REQUEST_INVALID (name) when it cannot. */
  async createUser(input: NewUser): Promise<UserRecord> {
    assertUserName(input.name);
    assertPasswordPolicy(input.password, { username: input.name });
    const passwordHash = await hashPassword(input.password);
    return this.db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('users')
        .select('id')
        .where('name', '=', input.name)
        .executeTakeFirst();
      if (existing) {
        throw new VigilError(
          'USER_EXISTS',
          `a user named '${input.name}' exists already (names ignore case)`,
        );
      }
      const nowMs = this.clock.nowMs();
      const row = await trx
        .insertInto('users')
        .values({
          name: input.name,
          role: input.role,
          password_hash: passwordHash,
          password_changed_at_ms: nowMs,
          totp_secret: null,
          totp_last_step: null,
          all_cameras: input.cameras ? 0 : 1,
          created_at_ms: nowMs,
          updated_at_ms: nowMs,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (input.cameras) await this.writeGrants(trx, row.id, input.cameras);
      return (await this.getUserIn(trx, row.id))!;
    });
  }

  /**
   * First-run setup: creates the first user, an admin, only while there is none (SETUP_COMPLETE
   * otherwise), in one transaction so two setup requests cannot both win.
   */
  async createFirstAdmin(name: string, password: string): Promise<UserRecord> {
    assertUserName(name);
    assertPasswordPolicy(password, { username: name });
    const passwordHash = await hashPassword(password);
    return this.db.transaction().execute(async (trx) => {
      const any = await trx.selectFrom('users').select('id').limit(1).executeTakeFirst();
      if (any) throw new VigilError('SETUP_COMPLETE', 'an administrator exists already; sign in instead');
      const nowMs = this.clock.nowMs();
      const row = await trx
        .insertInto('users')
        .values({
          name,
          role: 'admin',
          password_hash: passwordHash,
          password_changed_at_ms: nowMs,
          totp_secret: null,
          totp_last_step: null,
          created_at_ms: nowMs,
          updated_at_ms: nowMs,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return (await this.getUserIn(trx, row.id))!;
    });
  }

  async getUser(id: number): Promise<UserRecord | undefined> {
    return this.getUserIn(this.db, id);
  }

  /** By name, ignoring case. */
  async findUser(name: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? this.fromRow(this.db, row) : undefined;
  }

  /** By name, or USER_NOT_FOUND. */
  async requireUser(name: string): Promise<UserRecord> {
    const user = await this.findUser(name);
    if (!user) throw new VigilError('USER_NOT_FOUND', `no user named '${name}'; vigil user list shows them`);
    return user;
  }

  async listUsers(): Promise<UserRecord[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('name').execute();
    return Promise.all(rows.map((row) => this.fromRow(this.db, row)));
  }

  /**
   * Changes role, enabled state or camera grants. LAST_ADMIN when it would leave no enabled
   * admin. Disabling a user also ends their sessions (their tokens stop working while disabled).
   */
  async updateUser(id: number, changes: UserChanges): Promise<UserRecord> {
    const updated = await this.db.transaction().execute(async (trx) => {
      const before = await this.getUserIn(trx, id);
      if (!before) throw new VigilError('USER_NOT_FOUND', `no user with id ${id}`);
      const role = changes.role ?? before.role;
      const disabled = changes.disabled ?? before.disabled;
      if (before.role === 'admin' && !before.disabled && (role !== 'admin' || disabled)) {
        await this.assertAnotherAdmin(trx, id);
      }
      const updates: Partial<Pick<UserRow, 'role' | 'disabled' | 'all_cameras'>> = {
        role,
        disabled: disabled ? 1 : 0,
      };
      if (changes.cameras !== undefined) {
        updates.all_cameras = changes.cameras === null ? 1 : 0;
        await trx.deleteFrom('user_cameras').where('user_id', '=', id).execute();
        if (changes.cameras !== null) await this.writeGrants(trx, id, changes.cameras);
      }
      await trx
        .updateTable('users')
        .set({ ...updates, updated_at_ms: this.clock.nowMs() })
        .where('id', '=', id)
        .execute();
      if (disabled && !before.disabled)
        await trx.deleteFrom('login_sessions').where('user_id', '=', id).execute();
      return (await this.getUserIn(trx, id))!;
    });
    this.notify({ kind: 'user', userId: id });
    return updated;
  }

  /** Deletes a user with their grants, sessions and tokens; LAST_ADMIN for the last enabled admin. */
  async deleteUser(id: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const user = await this.getUserIn(trx, id);
      if (!user) throw new VigilError('USER_NOT_FOUND', `no user with id ${id}`);
      if (user.role === 'admin' && !user.disabled) await this.assertAnotherAdmin(trx, id);
      await trx.deleteFrom('users').where('id', '=', id).execute();
    });
    this.notify({ kind: 'user', userId: id });
  }

  /**
   * Sets a new password (policy checked) and ends the user's other sessions: whoever knew the
   * old password is signed out. `keepSessionId` is the session that made the change.
   */
  async setPassword(id: number, password: string, options: { keepSessionId?: string } = {}): Promise<void> {
    const user = await this.getUser(id);
    if (!user) throw new VigilError('USER_NOT_FOUND', `no user with id ${id}`);
    assertPasswordPolicy(password, { username: user.name });
    const passwordHash = await hashPassword(password);
    const nowMs = this.clock.nowMs();
    await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash, password_changed_at_ms: nowMs, updated_at_ms: nowMs })
      .where('id', '=', id)
      .execute();
    await this.logoutEverywhere(
      id,
      options.keepSessionId !== undefined ? { except: options.keepSessionId } : {},
    );
  }

  /**
   * The password step of signing in. Unknown users cost the same time as known ones. A right
   * password for a disabled user still fails. An old-parameter hash is replaced on success.
   * Throttling and auditing are the caller's (see rate-limit.ts and audit/).
   */
  async checkPassword(name: string, password: string): Promise<PasswordCheck> {
    const row = USER_NAME_PATTERN.test(name)
      ? await this.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst()
      : undefined;
    if (!row) {
      await verifyDummyPassword(password);
      return { ok: false, reason: 'unknown-user', user: null };
    }
    const user = await this.fromRow(this.db, row);
    if (!(await verifyPassword(row.password_hash, password)))
      return { ok: false, reason: 'wrong-password', user };
    if (user.disabled) return { ok: false, reason: 'disabled', user };
    if (needsRehash(row.password_hash)) {
      const rehashed = await hashPassword(password);
      await this.db.updateTable('users').set({ password_hash: rehashed }).where('id', '=', row.id).execute();
    }
    return { ok: true, user, totpRequired: user.totpEnabled };
  }

  // ---- second factor ----

  /**
   * Turns TOTP on once the user proves their app has the secret (a right code for it). The
   * secret is stored sealed; the code's step counts as used.
   */
  async enableTotp(userId: number, secretBase32: string, code: string): Promise<TotpVerification> {
    const result = verifyTotp(secretBase32, code, this.clock.nowMs());
    if (!result.ok) return result;
    await this.db
      .updateTable('users')
      .set({
        totp_secret: this.secrets.seal(secretBase32, totpContext(userId)),
        totp_last_step: result.step,
        updated_at_ms: this.clock.nowMs(),
      })
      .where('id', '=', userId)
      .execute();
    return result;
  }

  async disableTotp(userId: number): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ totp_secret: null, totp_last_step: null, updated_at_ms: this.clock.nowMs() })
      .where('id', '=', userId)
      .execute();
  }

  /**
   * Checks a one-time code and marks its step used. The step is recorded with a conditional
   * UPDATE, so two requests racing with the same code cannot both succeed.
   */
  async checkTotp(userId: number, code: string): Promise<TotpCheck> {
    const row = await this.db
      .selectFrom('users')
      .select(['totp_secret', 'totp_last_step'])
      .where('id', '=', userId)
      .executeTakeFirst();
    if (!row?.totp_secret) return { ok: false, reason: 'not-enabled' };
    const secret = this.secrets.open(row.totp_secret, totpContext(userId));
    const result = verifyTotp(secret, code, this.clock.nowMs(), { lastUsedStep: row.totp_last_step });
    if (!result.ok) return result;
    const claimed = await this.db
      .updateTable('users')
      .set({ totp_last_step: result.step })
      .where('id', '=', userId)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', result.step)]))
      .executeTakeFirst();
    return Number(claimed.numUpdatedRows) === 1 ? result : { ok: false, reason: 'replayed' };
  }

  // ---- login sessions ----

  /**
   * Starts a login session after a complete sign-in. The id goes into the cookie and is shown
   * nowhere else; the database keeps its hash. The CSRF token goes to the UI in the response body.
   */
  async createSession(
    userId: number,
    client: ClientInfo = {},
  ): Promise<{ sessionId: string; csrfToken: string; session: LoginSessionRecord }> {
    const sessionId = generateSessionId();
    const nowMs = this.clock.nowMs();
    const row = {
      id_hash: hashSecret(sessionId),
      user_id: userId,
      created_at_ms: nowMs,
      last_seen_at_ms: nowMs,
      expires_at_ms: nowMs + this.sessionLifetimeMs,
      ip: client.ip ?? null,
      user_agent: client.userAgent?.slice(0, 512) ?? null,
    };
    await this.db.insertInto('login_sessions').values(row).execute();
    return { sessionId, csrfToken: csrfTokenFor(sessionId), session: sessionFromRow(row) };
  }

  /**
   * The live session of a cookie value, its user and principal; null when unknown, expired
   * (absolute or idle), or the user is disabled. Expired sessions are deleted on sight.
   */
  async resolveSession(
    sessionId: string,
    options: ResolveOptions = {},
  ): Promise<{
    session: LoginSessionRecord;
    user: UserRecord;
    principal: Principal;
    csrfToken: string;
  } | null> {
    if (!looksLikeSessionId(sessionId)) return null;
    const idHash = hashSecret(sessionId);
    const row = await this.db
      .selectFrom('login_sessions')
      .selectAll()
      .where('id_hash', '=', idHash)
      .executeTakeFirst();
    if (!row) return null;
    const nowMs = this.clock.nowMs();
    if (nowMs >= row.expires_at_ms || nowMs - row.last_seen_at_ms >= this.sessionIdleMs) {
      await this.db.deleteFrom('login_sessions').where('id_hash', '=', idHash).execute();
      return null;
    }
    const user = await this.getUser(row.user_id);
    if (!user || user.disabled) return null;
    if (options.touch !== false && nowMs - row.last_seen_at_ms >= TOUCH_INTERVAL_MS) {
      await this.db
        .updateTable('login_sessions')
        .set({ last_seen_at_ms: nowMs })
        .where('id_hash', '=', idHash)
        .execute();
      row.last_seen_at_ms = nowMs;
    }
    return {
      session: sessionFromRow(row),
      user,
      principal: principalFor(user),
      csrfToken: csrfTokenFor(sessionId),
    };
  }

  /** Sign-out of one browser. */
  async endSession(sessionId: string): Promise<boolean> {
    return this.endSessionByHash(hashSecret(sessionId));
  }

  /** Ends a session picked from listSessions(); with userId, only if it is that user's. */
  async endSessionByHash(idHash: string, userId?: number): Promise<boolean> {
    let query = this.db.deleteFrom('login_sessions').where('id_hash', '=', idHash);
    if (userId !== undefined) query = query.where('user_id', '=', userId);
    const result = await query.executeTakeFirst();
    const ended = Number(result.numDeletedRows) > 0;
    if (ended) this.notify({ kind: 'session', idHash });
    return ended;
  }

  /** The user's live sessions, newest first. */
  async listSessions(userId: number): Promise<LoginSessionRecord[]> {
    const nowMs = this.clock.nowMs();
    const rows = await this.db
      .selectFrom('login_sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('expires_at_ms', '>', nowMs)
      .where('last_seen_at_ms', '>', nowMs - this.sessionIdleMs)
      .orderBy('created_at_ms', 'desc')
      .execute();
    return rows.map(sessionFromRow);
  }

  /** "Sign out everywhere": ends all the user's sessions but `except` (the caller's own). Returns how many ended. */
  async logoutEverywhere(userId: number, options: { except?: string } = {}): Promise<number> {
    let query = this.db.deleteFrom('login_sessions').where('user_id', '=', userId);
    if (options.except !== undefined) query = query.where('id_hash', '!=', hashSecret(options.except));
    const result = await query.executeTakeFirst();
    this.notify({ kind: 'user', userId });
    return Number(result.numDeletedRows);
  }

  /** Housekeeping: forgets expired and idle sessions. */
  async deleteExpiredSessions(): Promise<number> {
    const nowMs = this.clock.nowMs();
    const result = await this.db
      .deleteFrom('login_sessions')
      .where((eb) =>
        eb.or([eb('expires_at_ms', '<=', nowMs), eb('last_seen_at_ms', '<=', nowMs - this.sessionIdleMs)]),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  // ---- API tokens ----

  /**
   * A new API token for a user, shown to the caller once and stored only as a hash. Scopes
   * default to the role's permissions; asking for more than the role has is REQUEST_INVALID.
   */
  async createToken(
    userId: number,
    input: { label: string; scopes?: Permission[]; expiresAtMs?: number | null },
  ): Promise<{ token: string; record: ApiTokenRecord }> {
    const user = await this.getUser(userId);
    if (!user) throw new VigilError('USER_NOT_FOUND', `no user with id ${userId}`);
    const label = input.label.trim();
    if (label === '' || label.length > 100) {
      throw new VigilError(
        'REQUEST_INVALID',
        'a token needs a label of 1 to 100 characters saying what uses it',
        {
          parameter: 'label',
        },
      );
    }
    const role = ROLE_PERMISSIONS[user.role];
    const scopes = input.scopes ?? [...role];
    const beyond = scopes.filter((s) => !role.has(s));
    if (beyond.length > 0 || scopes.length === 0) {
      throw new VigilError(
        'REQUEST_INVALID',
        beyond.length > 0
          ? `the role '${user.role}' does not include ${beyond.join(', ')}; a token cannot have more than its user`
          : 'a token needs at least one scope',
        { parameter: 'scopes' },
      );
    }
    const token = generateApiToken();
    const nowMs = this.clock.nowMs();
    const row = await this.db
      .insertInto('api_tokens')
      .values({
        token_hash: hashSecret(token),
        user_id: userId,
        label,
        scopes_json: JSON.stringify([...new Set(scopes)].sort()),
        created_at_ms: nowMs,
        last_used_at_ms: null,
        expires_at_ms: input.expiresAtMs ?? null,
        revoked_at_ms: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { token, record: tokenFromRow(row) };
  }

  /**
   * The live token of a Bearer value, its user and principal; null when unknown, revoked,
   * expired, or the user is disabled.
   */
  async resolveToken(
    token: string,
    options: ResolveOptions = {},
  ): Promise<{ token: ApiTokenRecord; user: UserRecord; principal: Principal } | null> {
    if (!looksLikeApiToken(token)) return null;
    const row = await this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('token_hash', '=', hashSecret(token))
      .executeTakeFirst();
    const nowMs = this.clock.nowMs();
    if (!row || row.revoked_at_ms !== null || (row.expires_at_ms !== null && nowMs >= row.expires_at_ms))
      return null;
    const user = await this.getUser(row.user_id);
    if (!user || user.disabled) return null;
    if (
      options.touch !== false &&
      (row.last_used_at_ms === null || nowMs - row.last_used_at_ms >= TOUCH_INTERVAL_MS)
    ) {
      await this.db
        .updateTable('api_tokens')
        .set({ last_used_at_ms: nowMs })
        .where('id', '=', row.id)
        .execute();
      row.last_used_at_ms = nowMs;
    }
    const record = tokenFromRow(row);
    return { token: record, user, principal: principalFor(user, record) };
  }

  /** Tokens, revoked ones included (they show when they were revoked); one user's or everyone's. */
  async listTokens(userId?: number): Promise<ApiTokenRecord[]> {
    let query = this.db.selectFrom('api_tokens').selectAll();
    if (userId !== undefined) query = query.where('user_id', '=', userId);
    const rows = await query.orderBy('id').execute();
    return rows.map(tokenFromRow);
  }

  /** Revokes a token (with userId: only if it is that user's); TOKEN_NOT_FOUND otherwise. Idempotent. */
  async revokeToken(tokenId: number, userId?: number): Promise<ApiTokenRecord> {
    let select = this.db.selectFrom('api_tokens').selectAll().where('id', '=', tokenId);
    if (userId !== undefined) select = select.where('user_id', '=', userId);
    const row = await select.executeTakeFirst();
    if (!row) throw new VigilError('TOKEN_NOT_FOUND', `no API token ${tokenId}; vigil token list shows them`);
    if (row.revoked_at_ms === null) {
      row.revoked_at_ms = this.clock.nowMs();
      await this.db
        .updateTable('api_tokens')
        .set({ revoked_at_ms: row.revoked_at_ms })
        .where('id', '=', tokenId)
        .execute();
      this.notify({ kind: 'token', tokenId });
    }
    return tokenFromRow(row);
  }

  /** Revokes every live token of a user; returns how many. */
  async revokeAllTokens(userId: number): Promise<number> {
    const result = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at_ms: this.clock.nowMs() })
      .where('user_id', '=', userId)
      .where('revoked_at_ms', 'is', null)
      .executeTakeFirst();
    this.notify({ kind: 'user', userId });
    return Number(result.numUpdatedRows);
  }

  // ---- helpers ----

  private async getUserIn(db: Db, id: number): Promise<UserRecord | undefined> {
    const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? this.fromRow(db, row) : undefined;
  }

  private async fromRow(db: Db, row: UserRow): Promise<UserRecord> {
    let cameras: string[] | null = null;
    if (row.all_cameras === 0) {
      const grants = await db
        .selectFrom('user_cameras')
        .select('camera_id')
        .where('user_id', '=', row.id)
        .orderBy('camera_id')
        .execute();
      cameras = grants.map((g) => g.camera_id);
    }
    return {
      id: row.id,
      name: row.name,
      role: row.role,
      cameras,
      disabled: row.disabled === 1,
      totpEnabled: row.totp_secret !== null,
      passwordChangedAtMs: row.password_changed_at_ms,
      createdAtMs: row.created_at_ms,
      updatedAtMs: row.updated_at_ms,
    };
  }

  private async writeGrants(db: Db, userId: number, cameras: string[]): Promise<void> {
    const unique = [...new Set(cameras)];
    if (unique.length === 0) return;
    await db
      .insertInto('user_cameras')
      .values(unique.map((cameraId) => ({ user_id: userId, camera_id: cameraId })))
      .execute();
  }

  private async assertAnotherAdmin(db: Db, exceptUserId: number): Promise<void> {
    const other = await db
      .selectFrom('users')
      .select('id')
      .where('role', '=', 'admin')
      .where('disabled', '=', 0)
      .where('id', '!=', exceptUserId)
      .limit(1)
      .executeTakeFirst();
    if (!other) {
      throw new VigilError(
        'LAST_ADMIN',
        'this is the last enabled administrator: give another user the admin role first, so Vigil stays manageable',
      );
    }
  }
}

/** The sealing context of a user's TOTP secret: a sealed secret moved to another user's row does not open. */
function totpContext(userId: number): string {
  return `totp:user:${userId}`;
}
