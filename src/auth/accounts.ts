import { auditTarget, type AuditInput, type AuditRequester } from '../audit/entry.js';
import type { CreatedToken, NewUser, TokenView, UserChanges, UserView } from '../contract/auth.js';
import { VigilError } from '../errors/catalogue.js';
import type { Permission, Principal } from './permissions.js';
import type { ApiTokenRecord, AuthStore, UserRecord } from './store.js';

export function userView(user: UserRecord): UserView {
  return {
    id: user.id,
    name: user.name,
    role: user.role,
    cameras: user.cameras,
    disabled: user.disabled,
    totpEnabled: user.totpEnabled,
    createdAtMs: user.createdAtMs,
    updatedAtMs: user.updatedAtMs,
  };
}

function tokenView(token: ApiTokenRecord, userName: string): TokenView {
  return {
    id: token.id,
    userName,
    label: token.label,
    scopes: token.scopes,
    createdAtMs: token.createdAtMs,
    lastUsedAtMs: token.lastUsedAtMs,
    expiresAtMs: token.expiresAtMs,
    revokedAtMs: token.revokedAtMs,
  };
}

export interface NewToken {
  label: string;
  scopes?: Permission[];
  expiresAtMs?: number;
}

/**
 * Accounts and API tokens as administrators and users manage them over the API: each change
 * with its audit entry. Permission checks stay with the caller (the API's access hook);
 * ownership (a user revokes only their own tokens) is decided here.
 */
export class AccountService {
  constructor(
    private readonly deps: {
      store: Pick<
        AuthStore,
        | 'listUsers'
        | 'createUser'
        | 'getUser'
        | 'updateUser'
        | 'deleteUser'
        | 'listTokens'
        | 'createToken'
        | 'revokeToken'
      >;
      record(input: AuditInput): void;
    },
  ) {}

  async listUsers(): Promise<UserView[]> {
    return (await this.deps.store.listUsers()).map(userView);
  }

  async createUser(input: NewUser, by: AuditRequester): Promise<UserView> {
    const user = await this.deps.store.createUser(input);
    this.deps.record({
      ...by,
      action: 'user.create',
      target: auditTarget.user(user.name),
      details: { role: user.role, cameras: user.cameras },
    });
    return userView(user);
  }

  async updateUser(id: number, changes: UserChanges, by: AuditRequester): Promise<UserView> {
    const before = await this.requireUser(id);
    const after = await this.deps.store.updateUser(id, changes);
    this.deps.record({
      ...by,
      action: 'user.update',
      target: auditTarget.user(after.name),
      details: {
        before: { role: before.role, disabled: before.disabled, cameras: before.cameras },
        after: { role: after.role, disabled: after.disabled, cameras: after.cameras },
      },
    });
    return userView(after);
  }

  async deleteUser(id: number, by: AuditRequester): Promise<void> {
    const user = await this.requireUser(id);
    await this.deps.store.deleteUser(user.id);
    this.deps.record({ ...by, action: 'user.delete', target: auditTarget.user(user.name) });
  }

  /** Administrators see every token; everyone else their own. */
  async listTokens(caller: Principal): Promise<TokenView[]> {
    const users = new Map((await this.deps.store.listUsers()).map((u) => [u.id, u.name]));
    const tokens = await this.deps.store.listTokens(caller.role === 'admin' ? undefined : caller.userId);
    return tokens.map((t) => tokenView(t, users.get(t.userId) ?? '?'));
  }

  /** The token itself is in this answer only; the store keeps its hash. */
  async createToken(caller: Principal, input: NewToken, by: AuditRequester): Promise<CreatedToken> {
    const created = await this.deps.store.createToken(caller.userId, input);
    this.deps.record({
      ...by,
      action: 'token.create',
      target: auditTarget.token(created.record.id),
      details: { label: created.record.label, scopes: created.record.scopes },
    });
    return { token: created.token, ...tokenView(created.record, caller.name) };
  }

  /** Administrators revoke any token; everyone else only their own (others are "not found"). */
  async revokeToken(caller: Principal, tokenId: number, by: AuditRequester): Promise<void> {
    const revoked = await this.deps.store.revokeToken(
      tokenId,
      caller.role === 'admin' ? undefined : caller.userId,
    );
    this.deps.record({ ...by, action: 'token.revoke', target: auditTarget.token(revoked.id) });
  }

  private async requireUser(id: number): Promise<UserRecord> {
    const user = await this.deps.store.getUser(id);
    if (!user) throw new VigilError('USER_NOT_FOUND', `no user ${id}`);
    return user;
  }
}
