import type { Selectable } from 'kysely';
import { VigilError } from '../errors/catalogue.js';
import type { Db } from '../storage/db.js';
import type { UserTable } from '../storage/schema.js';
import type { NewUser, UserChanges } from '../contract/auth.js';
import type { Clock } from '../time/clock.js';
import type { CredentialChanges } from './credential-changes.js';
import {
  assertPasswordPolicy,
  hashPassword,
  needsRehash,
  verifyDummyPassword,
  verifyPassword,
} from './passwords.js';
import type { Permission, Principal, Role } from './permissions.js';

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

// A new user and changes to one are what the API's bodies carry; cameras null or absent = all.
export type { NewUser, UserChanges } from '../contract/auth.js';

export type PasswordCheck =
  | { ok: true; user: UserRecord; totpRequired: boolean }
  | { ok: false; reason: 'unknown-user' | 'wrong-password' | 'disabled'; user: UserRecord | null };

type UserRow = Selectable<UserTable>;

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
export function principalFor(
  user: UserRecord,
  token: { id: number; scopes: readonly Permission[] | null } | null = null,
): Principal {
  return {
    userId: user.id,
    name: user.name,
    role: user.role,
    cameras: user.cameras === null ? null : new Set(user.cameras),
    scopes: token?.scopes ? new Set(token.scopes) : null,
    via: token ? 'token' : 'session',
    tokenId: token ? token.id : null,
  };
}

export interface UserStoreOptions {
  clock: Clock;
  changes: CredentialChanges;
  /** Ends the user's login sessions but `exceptSessionId`: a password change signs out the others. */
  endOtherSessions(userId: number, exceptSessionId?: string): Promise<unknown>;
}

/**
 * Users, their camera grants and passwords in the index database. Passwords are checked against
 * the policy and hashed here, so no caller can store a weak or plain one.
 */
export class UserStore {
  private readonly clock: Clock;
  private readonly changes: CredentialChanges;

  constructor(
    private readonly db: Db,
    private readonly options: UserStoreOptions,
  ) {
    this.clock = options.clock;
    this.changes = options.changes;
  }

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
    this.changes.notify({ kind: 'user', userId: id });
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
    this.changes.notify({ kind: 'user', userId: id });
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
    await this.options.endOtherSessions(id, options.keepSessionId);
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
