import type { Selectable } from 'kysely';
import type { Db } from '../storage/db.js';
import type { LoginSessionTable } from '../storage/schema.js';
import type { Clock } from '../time/clock.js';
import type { CredentialChanges, ResolveOptions } from './credential-changes.js';
import type { Principal } from './permissions.js';
import {
  csrfTokenFor,
  generateSessionId,
  hashSecret,
  looksLikeSessionId,
  TOUCH_INTERVAL_MS,
} from './tokens.js';
import { principalFor, type UserRecord } from './user-store.js';

const DAY_MS = 86_400_000;
/** A signed-in browser unused this long must sign in again. */
export const DEFAULT_SESSION_IDLE_MS = DAY_MS;
/** …and every 30 days whatever its use. */
export const DEFAULT_SESSION_LIFETIME_MS = 30 * DAY_MS;

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

export interface ClientInfo {
  ip?: string | null;
  userAgent?: string | null;
}

export interface SessionStoreOptions {
  clock: Clock;
  changes: CredentialChanges;
  /** The user a session belongs to (a disabled or deleted user's sessions resolve to nothing). */
  getUser(id: number): Promise<UserRecord | undefined>;
  sessionIdleMs?: number;
  sessionLifetimeMs?: number;
}

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

/**
 * Login sessions (table `login_sessions`): a browser signed in with a cookie. The database keeps
 * only the hash of each session id.
 */
export class SessionStore {
  private readonly clock: Clock;
  private readonly changes: CredentialChanges;
  private readonly getUser: (id: number) => Promise<UserRecord | undefined>;
  readonly sessionIdleMs: number;
  readonly sessionLifetimeMs: number;

  constructor(
    private readonly db: Db,
    options: SessionStoreOptions,
  ) {
    this.clock = options.clock;
    this.changes = options.changes;
    this.getUser = options.getUser;
    this.sessionIdleMs = options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS;
    this.sessionLifetimeMs = options.sessionLifetimeMs ?? DEFAULT_SESSION_LIFETIME_MS;
  }

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
    if (ended) this.changes.notify({ kind: 'session', idHash });
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
    this.changes.notify({ kind: 'user', userId });
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
}
