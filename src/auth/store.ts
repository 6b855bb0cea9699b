import type { Db } from '../storage/db.js';
import type { Clock } from '../time/clock.js';
import { CredentialChanges } from './credential-changes.js';
import type { SecretBox } from './secrets.js';
import { SessionStore } from './session-store.js';
import { TokenStore } from './token-store.js';
import { TotpStore } from './totp-store.js';
import { UserStore, type UserRecord } from './user-store.js';

export type { CredentialChange, ResolveOptions } from './credential-changes.js';
export {
  DEFAULT_SESSION_IDLE_MS,
  DEFAULT_SESSION_LIFETIME_MS,
  type ClientInfo,
  type LoginSessionRecord,
} from './session-store.js';
export type { ApiTokenRecord } from './token-store.js';
export type { TotpCheck } from './totp-store.js';
export {
  assertUserName,
  principalFor,
  type NewUser,
  type PasswordCheck,
  type UserChanges,
  type UserRecord,
} from './user-store.js';

export interface AuthStoreOptions {
  clock: Clock;
  /** Seals TOTP secrets. */
  secrets: SecretBox;
  sessionIdleMs?: number;
  sessionLifetimeMs?: number;
}

/**
 * Users, their camera grants, login sessions, API tokens and second factors in the index
 * database: one store per concern (user-store.ts, session-store.ts, token-store.ts,
 * totp-store.ts) sharing one change notifier (credential-changes.ts). This facade gives callers
 * one object with every method, as before the split.
 */
export class AuthStore {
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly tokens: TokenStore;
  readonly totp: TotpStore;
  readonly changes: CredentialChanges;
  readonly sessionIdleMs: number;
  readonly sessionLifetimeMs: number;

  // Changes
  readonly onCredentialChange: CredentialChanges['onCredentialChange'];
  readonly changeGeneration: CredentialChanges['changeGeneration'];
  // Users
  readonly countUsers: UserStore['countUsers'];
  readonly createUser: UserStore['createUser'];
  readonly createFirstAdmin: UserStore['createFirstAdmin'];
  readonly getUser: UserStore['getUser'];
  readonly findUser: UserStore['findUser'];
  readonly requireUser: UserStore['requireUser'];
  readonly listUsers: UserStore['listUsers'];
  readonly updateUser: UserStore['updateUser'];
  readonly deleteUser: UserStore['deleteUser'];
  readonly setPassword: UserStore['setPassword'];
  readonly checkPassword: UserStore['checkPassword'];
  // Second factor
  readonly enableTotp: TotpStore['enableTotp'];
  readonly disableTotp: TotpStore['disableTotp'];
  readonly checkTotp: TotpStore['checkTotp'];
  // Login sessions
  readonly createSession: SessionStore['createSession'];
  readonly resolveSession: SessionStore['resolveSession'];
  readonly endSession: SessionStore['endSession'];
  readonly endSessionByHash: SessionStore['endSessionByHash'];
  readonly listSessions: SessionStore['listSessions'];
  readonly logoutEverywhere: SessionStore['logoutEverywhere'];
  readonly deleteExpiredSessions: SessionStore['deleteExpiredSessions'];
  // API tokens
  readonly createToken: TokenStore['createToken'];
  readonly resolveToken: TokenStore['resolveToken'];
  readonly listTokens: TokenStore['listTokens'];
  readonly revokeToken: TokenStore['revokeToken'];
  readonly revokeAllTokens: TokenStore['revokeAllTokens'];

  constructor(db: Db, options: AuthStoreOptions) {
    const { clock } = options;
    const changes = new CredentialChanges(db);
    const getUser = (id: number): Promise<UserRecord | undefined> => users.getUser(id);
    const sessions: SessionStore = new SessionStore(db, {
      clock,
      changes,
      getUser,
      ...(options.sessionIdleMs !== undefined ? { sessionIdleMs: options.sessionIdleMs } : {}),
      ...(options.sessionLifetimeMs !== undefined ? { sessionLifetimeMs: options.sessionLifetimeMs } : {}),
    });
    const users: UserStore = new UserStore(db, {
      clock,
      changes,
      endOtherSessions: (userId, exceptSessionId) =>
        sessions.logoutEverywhere(userId, exceptSessionId !== undefined ? { except: exceptSessionId } : {}),
    });
    const tokens = new TokenStore(db, { clock, changes, getUser });
    const totp = new TotpStore(db, { clock, secrets: options.secrets });
    this.changes = changes;
    this.users = users;
    this.sessions = sessions;
    this.tokens = tokens;
    this.totp = totp;
    this.sessionIdleMs = sessions.sessionIdleMs;
    this.sessionLifetimeMs = sessions.sessionLifetimeMs;

    this.onCredentialChange = changes.onCredentialChange.bind(changes);
    this.changeGeneration = changes.changeGeneration.bind(changes);
    this.countUsers = users.countUsers.bind(users);
    this.createUser = users.createUser.bind(users);
    this.createFirstAdmin = users.createFirstAdmin.bind(users);
    this.getUser = users.getUser.bind(users);
    this.findUser = users.findUser.bind(users);
    this.requireUser = users.requireUser.bind(users);
    this.listUsers = users.listUsers.bind(users);
    this.updateUser = users.updateUser.bind(users);
    this.deleteUser = users.deleteUser.bind(users);
    this.setPassword = users.setPassword.bind(users);
    this.checkPassword = users.checkPassword.bind(users);
    this.enableTotp = totp.enableTotp.bind(totp);
    this.disableTotp = totp.disableTotp.bind(totp);
    this.checkTotp = totp.checkTotp.bind(totp);
    this.createSession = sessions.createSession.bind(sessions);
    this.resolveSession = sessions.resolveSession.bind(sessions);
    this.endSession = sessions.endSession.bind(sessions);
    this.endSessionByHash = sessions.endSessionByHash.bind(sessions);
    this.listSessions = sessions.listSessions.bind(sessions);
    this.logoutEverywhere = sessions.logoutEverywhere.bind(sessions);
    this.deleteExpiredSessions = sessions.deleteExpiredSessions.bind(sessions);
    this.createToken = tokens.createToken.bind(tokens);
    this.resolveToken = tokens.resolveToken.bind(tokens);
    this.listTokens = tokens.listTokens.bind(tokens);
    this.revokeToken = tokens.revokeToken.bind(tokens);
    this.revokeAllTokens = tokens.revokeAllTokens.bind(tokens);
  }
}
