import type { Logger } from 'pino';
import { AUDIT_CHECKPOINT_KEY_PURPOSE, AuditLog } from '../audit/log.js';
import type { AuditInput } from '../audit/entry.js';
import { MediaViewWindow } from '../audit/media-views.js';
import type { Db } from '../storage/db.js';
import type { Clock } from '../time/clock.js';
import { AccountService } from './accounts.js';
import { LoginThrottle } from './rate-limit.js';
import { loadOrCreateSecretKey, SecretBox, secretKeyPath } from './secrets.js';
import { SignInService } from './sign-in.js';
import { loadOrCreateSigningKey, signingKeyPath, type SigningKey } from './signing-key.js';
import { AuthStore } from './store.js';

const HOUR_MS = 3_600_000;

export interface AuthServices {
  store: AuthStore;
  audit: AuditLog;
  throttle: LoginThrottle;
  secrets: SecretBox;
  /** The installation's Ed25519 key that signs export bundles. */
  signingKey: SigningKey;
  /** Accounts and API tokens, changed with their audit entries. */
  accounts: AccountService;
  /** Sign-in and out, first-run setup, password changes. */
  signIn: SignInService;
  /** Appends to the audit log without failing the request that caused it (the failure is logged). */
  record(input: AuditInput): void;
  /**
   * record(), merged: repeats of `mergeKey` within a few minutes of its entry write none
   * (media views: a player's part requests, a download's Range requests; see media-views.ts).
   */
  recordMerged(input: AuditInput, mergeKey: string): void;
  close(): Promise<void>;
}

/**
 * Users, sessions, tokens, the audit log and the secret key, with their housekeeping: expired
 * sessions and throttle entries are dropped and audit retention runs every hour.
 */
export async function startAuth(options: {
  db: Db;
  storageRoot: string;
  clock: Clock;
  log: Logger;
  auditRetentionDays: number;
}): Promise<AuthServices> {
  const { db, clock, log } = options;
  const keyFile = await loadOrCreateSecretKey(secretKeyPath(options.storageRoot));
  if (keyFile.created) log.info('created the secret key for camera passwords and second factors');
  if (keyFile.permissionsTightened) log.warn('the secret key file was readable by others; it is now 0600');
  const secrets = new SecretBox(keyFile.key);
  const signing = await loadOrCreateSigningKey(signingKeyPath(options.storageRoot));
  if (signing.created) {
    log.info(
      { fingerprint: signing.key.view.fingerprint },
      'created the signing key for export bundles: back it up (vigil backup) with the secret key',
    );
  }
  if (signing.permissionsTightened) log.warn('the signing key file was readable by others; it is now 0600');
  const store = new AuthStore(db, { clock, secrets });
  const audit = new AuditLog(db, { clock, checkpointKey: secrets.deriveKey(AUDIT_CHECKPOINT_KEY_PURPOSE) });
  const throttle = new LoginThrottle();
  let pending: Promise<unknown> = Promise.resolve();
  const record = (input: AuditInput) => {
    pending = audit
      .append(input)
      .catch((err: unknown) => log.error({ err, action: input.action }, 'audit append failed'));
  };
  const mediaViews = new MediaViewWindow();
  const recordMerged = (input: AuditInput, mergeKey: string) => {
    if (mediaViews.shouldRecord(mergeKey, clock.nowMs())) record(input);
  };
  const housekeeping = async () => {
    try {
      await store.deleteExpiredSessions();
      throttle.prune(clock.nowMs());
      await audit.applyRetention(options.auditRetentionDays);
    } catch (err) {
      log.error({ err }, 'auth housekeeping failed');
    }
  };
  void housekeeping();
  const timer = setInterval(() => void housekeeping(), HOUR_MS);
  timer.unref();
  return {
    store,
    audit,
    throttle,
    secrets,
    signingKey: signing.key,
    accounts: new AccountService({ store, record }),
    signIn: new SignInService({ store, throttle, record, clock }),
    record,
    recordMerged,
    close: async () => {
      clearInterval(timer);
      await pending;
    },
  };
}
