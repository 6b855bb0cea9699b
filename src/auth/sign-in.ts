import {
  ANONYMOUS_ACTOR,
  actorOf,
  auditTarget,
  type AuditInput,
  type AuditRequester,
} from '../audit/entry.js';
import type { SessionResponse } from '../contract/auth.js';
import { VigilError } from '../errors/catalogue.js';
import type { Clock } from '../time/clock.js';
import { permissionsOf, type Principal } from './permissions.js';
import { throttledError, type LoginThrottle } from './rate-limit.js';
import { principalFor, type AuthStore, type ClientInfo, type UserRecord } from './store.js';
import { csrfTokenFor } from './tokens.js';

export interface SignInAttempt {
  name: string;
  password: string;
  /** The 6-digit code, for accounts with two-step sign-in. */
  totp?: string;
}

/** A sign-in session just started: the cookie value and the answer for the UI. */
export interface StartedSession {
  sessionId: string;
  response: SessionResponse;
}

type SessionUser = NonNullable<SessionResponse['user']>;

function sessionUser(user: UserRecord, principal: Principal): SessionUser {
  return {
    name: user.name,
    role: user.role,
    cameras: user.cameras,
    totpEnabled: user.totpEnabled,
    permissions: [...permissionsOf(principal)],
  };
}

/**
 * Signing in and out, first-run setup and password changes, each with its audit entries and the
 * login throttle. The HTTP side (cookies, which host and address may ask) stays in the routes.
 */
export class SignInService {
  constructor(
    private readonly deps: {
      store: Pick<
        AuthStore,
        | 'countUsers'
        | 'getUser'
        | 'createFirstAdmin'
        | 'checkPassword'
        | 'checkTotp'
        | 'createSession'
        | 'endSession'
        | 'logoutEverywhere'
        | 'revokeAllTokens'
        | 'setPassword'
      >;
      throttle: LoginThrottle;
      record(input: AuditInput): void;
      clock: Clock;
    },
  ) {}

  /** Who is signed in, and whether first-run setup is still to be done. */
  async current(principal: Principal | null, sessionId: string | null): Promise<SessionResponse> {
    const setupRequired = (await this.deps.store.countUsers()) === 0;
    const user = principal ? await this.deps.store.getUser(principal.userId) : undefined;
    if (!principal || !user) return { setupRequired, user: null, csrfToken: null };
    return {
      setupRequired,
      user: sessionUser(user, principal),
      csrfToken: sessionId ? csrfTokenFor(sessionId) : null,
    };
  }

  /** The first administrator, signed in at once. Fails once any account exists. */
  async setupFirstAdmin(name: string, password: string, client: ClientInfo): Promise<StartedSession> {
    const user = await this.deps.store.createFirstAdmin(name, password);
    this.deps.record({
      actor: { kind: 'user', name: user.name },
      action: 'setup.first-admin',
      target: auditTarget.user(user.name),
      ip: client.ip,
    });
    return this.start(user, client);
  }

  /**
   * Password (and second factor) checked under the login throttle. Every failure is audited
   * and counted; an unknown name is audited as anonymous, since people type passwords there.
   */
  async signIn(attempt: SignInAttempt, client: ClientInfo & { ip: string }): Promise<StartedSession> {
    const { store, throttle, clock } = this.deps;
    const ip = client.ip;
    // The attempt counts against both limits from here, before the slow hash: parallel
    // guesses cannot all pass the check before the first of them has failed.
    const started = throttle.begin({ account: attempt.name, ip }, clock.nowMs());
    if (!started.allowed) throw throttledError(started.retryAfterMs);
    const { reservation } = started;
    const fail = (reason: string, actorName: string | null) => {
      // The wait counts from the answer, not from the start of the (queued) hash.
      const outcome = reservation.failure(clock.nowMs());
      const actor = actorName ? { kind: 'user' as const, name: actorName } : ANONYMOUS_ACTOR;
      this.deps.record({ actor, action: 'login.failure', details: { reason }, ip });
      if (outcome.lockoutStarted.account || outcome.lockoutStarted.address) {
        this.deps.record({ actor, action: 'login.lockout', details: { ...outcome.lockoutStarted }, ip });
      }
      return new VigilError('AUTH_FAILED', 'wrong user name or password');
    };
    try {
      // AUTH_BUSY (hash queue full) passes through: nothing was checked, nothing is counted.
      const checked = await store.checkPassword(attempt.name, attempt.password);
      if (!checked.ok) throw fail(checked.reason, checked.user?.name ?? null);
      if (checked.totpRequired) {
        if (!attempt.totp) {
          throw new VigilError('TOTP_REQUIRED', 'enter the 6-digit code from your authenticator app');
        }
        const totp = await store.checkTotp(checked.user.id, attempt.totp);
        if (!totp.ok) throw fail(`totp-${totp.reason}`, checked.user.name);
      }
      reservation.success();
      this.deps.record({ actor: { kind: 'user', name: checked.user.name }, action: 'login.success', ip });
      return await this.start(checked.user, client);
    } finally {
      // Answers that settled nothing (busy, second factor still to come, an error) free the place.
      reservation.release();
    }
  }

  async signOut(principal: Principal, sessionId: string | null, ip: string): Promise<void> {
    if (sessionId) await this.deps.store.endSession(sessionId);
    this.deps.record({ actor: actorOf(principal), action: 'logout', ip });
  }

  /** Ends every session of the caller and revokes their API tokens. */
  async signOutEverywhere(principal: Principal, ip: string): Promise<void> {
    const ended = await this.deps.store.logoutEverywhere(principal.userId);
    await this.deps.store.revokeAllTokens(principal.userId);
    this.deps.record({
      actor: actorOf(principal),
      action: 'logout.everywhere',
      details: { sessions: ended },
      ip,
    });
  }

  /** Other sessions of the caller end; the one that asked (keepSessionId) stays signed in. */
  async changePassword(
    principal: Principal,
    passwords: { currentPassword: string; newPassword: string },
    keepSessionId: string | null,
    by: AuditRequester,
  ): Promise<void> {
    const checked = await this.deps.store.checkPassword(principal.name, passwords.currentPassword);
    if (!checked.ok) throw new VigilError('AUTH_FAILED', 'the current password is wrong');
    await this.deps.store.setPassword(principal.userId, passwords.newPassword, {
      ...(keepSessionId ? { keepSessionId } : {}),
    });
    this.deps.record({ ...by, action: 'user.password', target: auditTarget.user(principal.name) });
  }

  private async start(user: UserRecord, client: ClientInfo): Promise<StartedSession> {
    const created = await this.deps.store.createSession(user.id, client);
    return {
      sessionId: created.sessionId,
      response: {
        setupRequired: false,
        user: sessionUser(user, principalFor(user)),
        csrfToken: created.csrfToken,
      },
    };
  }
}
