import type { Selectable } from 'kysely';
import { VigilError } from '../errors/catalogue.js';
import type { Db } from '../storage/db.js';
import type { ApiTokenTable } from '../storage/schema.js';
import type { Clock } from '../time/clock.js';
import type { CredentialChanges, ResolveOptions } from './credential-changes.js';
import { ROLE_PERMISSIONS, isPermission, type Permission, type Principal } from './permissions.js';
import { generateApiToken, hashSecret, looksLikeApiToken, TOUCH_INTERVAL_MS } from './tokens.js';
import { principalFor, type UserRecord } from './user-store.js';

export interface ApiTokenRecord {
  id: number;
  userId: number;
  label: string;
  /** Null: the whole of the owner's role, whatever it holds when the token is used. */
  scopes: Permission[] | null;
  createdAtMs: number;
  lastUsedAtMs: number | null;
  expiresAtMs: number | null;
  revokedAtMs: number | null;
}

export interface TokenStoreOptions {
  clock: Clock;
  changes: CredentialChanges;
  /** The user a token belongs to (a disabled or deleted user's tokens resolve to nothing). */
  getUser(id: number): Promise<UserRecord | undefined>;
}

function tokenFromRow(row: Selectable<ApiTokenTable>): ApiTokenRecord {
  const stored = JSON.parse(row.scopes_json) as string[] | null;
  const scopes = stored === null ? null : stored.filter(isPermission);
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

/** API tokens (Authorization: Bearer), scoped, optionally expiring, stored only as a hash. */
export class TokenStore {
  private readonly clock: Clock;
  private readonly changes: CredentialChanges;
  private readonly getUser: (id: number) => Promise<UserRecord | undefined>;

  constructor(
    private readonly db: Db,
    options: TokenStoreOptions,
  ) {
    this.clock = options.clock;
    this.changes = options.changes;
    this.getUser = options.getUser;
  }

  /**
   * A new API token for a user, shown to the caller once and stored only as a hash. Without
   * scopes it holds the whole role, including what the role gains in later versions; asking for
   * more than the role has is REQUEST_INVALID.
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
    const scopes = input.scopes ?? null;
    const beyond = (scopes ?? []).filter((s) => !role.has(s));
    if (beyond.length > 0 || scopes?.length === 0) {
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
        scopes_json: JSON.stringify(scopes === null ? null : [...new Set(scopes)].sort()),
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
      this.changes.notify({ kind: 'token', tokenId });
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
    this.changes.notify({ kind: 'user', userId });
    return Number(result.numUpdatedRows);
  }
}
