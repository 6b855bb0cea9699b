import { isIPv4, isIPv6 } from 'node:net';
import { VigilError } from '../errors/catalogue.js';

/**
 * Sign-in throttling, per account and per client address, with time passed in (no clock reads):
 * a few free failures, then an exponentially growing wait before the next attempt is even
 * checked, up to a cap. At the cap the key is "locked out" (the caller audits the moment it
 * starts). Failures are forgotten after a quiet period; a success clears its account. An attempt
 * counts from the moment it starts (begin() reserves its place), not only once its slow password
 * check has failed: otherwise a burst of parallel guesses would all pass the check first.
 *
 * Per account, it stops guessing one user's password from many addresses; per address, it stops
 * one address from trying many accounts (credential stuffing). The account limit also lets an
 * attacker delay a known user's sign-in; the cap (15 min, not a permanent lock) bounds that harm,
 * and API tokens are not affected. State is in memory: a restart forgets it, which costs an
 * attacker a restart they cannot cause.
 */
export interface ThrottlePolicy {
  /** Failures that cost nothing (typos). */
  freeFailures: number;
  /** Wait after the first failure past the free ones; doubles with each further failure. */
  baseDelayMs: number;
  /** The wait never grows past this; reaching it is a lockout. */
  maxDelayMs: number;
  /** Failures are forgotten this long after the last one. */
  forgetAfterMs: number;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

export const ACCOUNT_THROTTLE: ThrottlePolicy = {
  freeFailures: 5,
  baseDelayMs: 1000,
  maxDelayMs: 15 * MINUTE_MS,
  forgetAfterMs: 24 * HOUR_MS,
};

/** Looser: one address may be a whole office behind NAT. */
export const ADDRESS_THROTTLE: ThrottlePolicy = {
  freeFailures: 20,
  baseDelayMs: 1000,
  maxDelayMs: 15 * MINUTE_MS,
  forgetAfterMs: 24 * HOUR_MS,
};

export interface FailureRecord {
  failures: number;
  lastFailureAtMs: number;
  /** No attempt is checked before this. */
  blockedUntilMs: number;
}

/** The wait imposed after the n-th consecutive failure: 0 for the free ones, then base, 2·base, 4·base… capped. */
export function delayAfterFailures(failures: number, policy: ThrottlePolicy): number {
  const paid = failures - policy.freeFailures;
  if (paid <= 0) return 0;
  // Exponent bounded so 2 ** n stays finite; the cap is reached long before.
  return Math.min(policy.baseDelayMs * 2 ** Math.min(paid - 1, 40), policy.maxDelayMs);
}

function current(
  record: FailureRecord | undefined,
  nowMs: number,
  policy: ThrottlePolicy,
): FailureRecord | undefined {
  if (!record || nowMs - record.lastFailureAtMs >= policy.forgetAfterMs) return undefined;
  return record;
}

/** The record after one more failure at nowMs. */
export function withFailure(
  record: FailureRecord | undefined,
  nowMs: number,
  policy: ThrottlePolicy,
): FailureRecord {
  const failures = (current(record, nowMs, policy)?.failures ?? 0) + 1;
  return { failures, lastFailureAtMs: nowMs, blockedUntilMs: nowMs + delayAfterFailures(failures, policy) };
}

/** How long until the next attempt may be checked; 0 = now. */
export function retryAfterMs(
  record: FailureRecord | undefined,
  nowMs: number,
  policy: ThrottlePolicy,
): number {
  const live = current(record, nowMs, policy);
  return live ? Math.max(0, live.blockedUntilMs - nowMs) : 0;
}

/** Sign-ins started but not yet answered, for one key. */
export interface PendingAttempts {
  count: number;
  /** When the newest of them started. */
  latestStartMs: number;
}

/**
 * The record as if every attempt still in flight had already failed when it started. The next
 * attempt is judged by this, so a burst of parallel guesses (each waiting its turn for argon2)
 * gets no more checks than the same guesses sent one after another.
 */
export function withPending(
  record: FailureRecord | undefined,
  pending: PendingAttempts | undefined,
  nowMs: number,
  policy: ThrottlePolicy,
): FailureRecord | undefined {
  if (!pending || pending.count === 0) return record;
  const live = current(record, nowMs, policy);
  const failures = (live?.failures ?? 0) + pending.count;
  const lastFailureAtMs = Math.max(live?.lastFailureAtMs ?? pending.latestStartMs, pending.latestStartMs);
  return {
    failures,
    lastFailureAtMs,
    blockedUntilMs: Math.max(
      live?.blockedUntilMs ?? 0,
      lastFailureAtMs + delayAfterFailures(failures, policy),
    ),
  };
}

/** True when the record's wait has reached the cap. */
export function isLockedOut(
  record: FailureRecord | undefined,
  nowMs: number,
  policy: ThrottlePolicy,
): boolean {
  const live = current(record, nowMs, policy);
  return live !== undefined && delayAfterFailures(live.failures, policy) >= policy.maxDelayMs;
}

/**
 * The key of a client address. IPv4-mapped IPv6 is the IPv4 address; other IPv6 addresses count
 * per /64, since one client usually holds a whole /64 and could otherwise rotate through 2^64
 * addresses.
 */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  if (isIPv4(ip)) return ip;
  const withoutZone = ip.split('%')[0]!;
  if (!isIPv6(withoutZone)) return ip;
  return `${expandIpv6(withoutZone).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, lower-case hex without leading zeros. */
function expandIpv6(ip: string): string[] {
  let text = ip.toLowerCase();
  // A trailing dotted IPv4 part stands for two groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, dotted.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => parseInt(group, 16).toString(16));
}

/** The key of an account: user names are case-insensitive. */
export function accountKey(name: string): string {
  return name.normalize('NFKC').toLowerCase();
}

export type ThrottleCheck =
  { allowed: true } | { allowed: false; retryAfterMs: number; limitedBy: 'account' | 'address' };

/**
 * A sign-in attempt that counts against both limits from the moment it starts, until it is
 * settled: failure() turns it into a failure, success() clears the account, release() (also
 * safe after the others, e.g. in a finally) lets it go uncounted — for answers that checked
 * nothing or proved nothing (the hash queue was full, a second factor is still to come).
 */
export interface LoginReservation {
  failure(nowMs: number): FailureOutcome;
  success(): void;
  release(): void;
}

export type ThrottleStart =
  | { allowed: true; reservation: LoginReservation }
  | { allowed: false; retryAfterMs: number; limitedBy: 'account' | 'address' };

export interface FailureOutcome {
  /** Wait before the next attempt, the larger of the two keys'. */
  retryAfterMs: number;
  /** Keys that reached the cap with this failure: audit a lockout for each. */
  lockoutStarted: { account: boolean; address: boolean };
}

export interface LoginAttempt {
  /** The user name as typed (unknown names are throttled the same, so throttling tells nothing about which exist). */
  account: string;
  /** The client address. */
  ip: string;
}

/** The in-memory state of sign-in throttling. Every method takes the time; nothing reads a clock. */
export class LoginThrottle {
  private readonly accounts = new Map<string, FailureRecord>();
  private readonly addresses = new Map<string, FailureRecord>();
  // Attempts in flight, by key; an entry goes when its count drops to 0, so these hold no more
  // entries than there are sign-ins being answered.
  private readonly accountsPending = new Map<string, PendingAttempts>();
  private readonly addressesPending = new Map<string, PendingAttempts>();
  private readonly accountPolicy: ThrottlePolicy;
  private readonly addressPolicy: ThrottlePolicy;
  private readonly maxEntries: number;

  constructor(options: { account?: ThrottlePolicy; address?: ThrottlePolicy; maxEntries?: number } = {}) {
    this.accountPolicy = options.account ?? ACCOUNT_THROTTLE;
    this.addressPolicy = options.address ?? ADDRESS_THROTTLE;
    // Bounds memory when an attacker sprays names or addresses; the oldest entries go first.
    this.maxEntries = options.maxEntries ?? 100_000;
  }

  /**
   * May an attempt proceed now? Attempts in flight count as failures (see withPending). A refused
   * attempt is not a failure. To go ahead, use begin(), which also reserves the attempt's place.
   */
  check(attempt: LoginAttempt, nowMs: number): ThrottleCheck {
    const accountId = accountKey(attempt.account);
    const addressId = addressKey(attempt.ip);
    const account = retryAfterMs(
      withPending(
        this.accounts.get(accountId),
        this.accountsPending.get(accountId),
        nowMs,
        this.accountPolicy,
      ),
      nowMs,
      this.accountPolicy,
    );
    const address = retryAfterMs(
      withPending(
        this.addresses.get(addressId),
        this.addressesPending.get(addressId),
        nowMs,
        this.addressPolicy,
      ),
      nowMs,
      this.addressPolicy,
    );
    if (account === 0 && address === 0) return { allowed: true };
    return account >= address
      ? { allowed: false, retryAfterMs: account, limitedBy: 'account' }
      : { allowed: false, retryAfterMs: address, limitedBy: 'address' };
  }

  /**
   * Before checking a password: check, and if allowed, count the attempt as in flight at once,
   * per account and per address, so the guesses of a parallel burst cannot all pass the check
   * before the first of them has failed. The caller must settle the reservation.
   */
  begin(attempt: LoginAttempt, nowMs: number): ThrottleStart {
    const check = this.check(attempt, nowMs);
    if (!check.allowed) return check;
    const accountId = accountKey(attempt.account);
    const addressId = addressKey(attempt.ip);
    reserve(this.accountsPending, accountId, nowMs);
    reserve(this.addressesPending, addressId, nowMs);
    let settled = false;
    const settle = (how: string) => {
      if (settled) throw new Error(`sign-in reservation settled twice (${how})`);
      settled = true;
      unreserve(this.accountsPending, accountId);
      unreserve(this.addressesPending, addressId);
    };
    return {
      allowed: true,
      reservation: {
        failure: (atMs) => {
          settle('failure');
          return this.failure(attempt, atMs);
        },
        success: () => {
          settle('success');
          this.success(attempt);
        },
        release: () => {
          if (!settled) settle('release');
        },
      },
    };
  }

  /** Sign-ins in flight (begun, not settled), for tests and a status page. */
  get pendingCount(): number {
    let count = 0;
    for (const entry of this.accountsPending.values()) count += entry.count;
    return count;
  }

  /** A wrong password, unknown user, wrong one-time code or disabled account. */
  failure(attempt: LoginAttempt, nowMs: number): FailureOutcome {
    const account = this.bump(this.accounts, accountKey(attempt.account), nowMs, this.accountPolicy);
    const address = this.bump(this.addresses, addressKey(attempt.ip), nowMs, this.addressPolicy);
    return {
      retryAfterMs: Math.max(account.retryAfterMs, address.retryAfterMs),
      lockoutStarted: { account: account.lockoutStarted, address: address.lockoutStarted },
    };
  }

  /**
   * A complete sign-in (password and second factor). Clears the account; the address keeps its
   * failures until they are forgotten, or an attacker could reset their address's count by
   * signing in to an account of their own between guesses.
   */
  success(attempt: LoginAttempt): void {
    this.accounts.delete(accountKey(attempt.account));
  }

  /** Whether a key is at the cap now (for a status page). */
  lockedOut(attempt: LoginAttempt, nowMs: number): { account: boolean; address: boolean } {
    return {
      account: isLockedOut(this.accounts.get(accountKey(attempt.account)), nowMs, this.accountPolicy),
      address: isLockedOut(this.addresses.get(addressKey(attempt.ip)), nowMs, this.addressPolicy),
    };
  }

  /** Drops forgotten records; call now and then (e.g. hourly). */
  prune(nowMs: number): void {
    for (const [map, policy] of [
      [this.accounts, this.accountPolicy],
      [this.addresses, this.addressPolicy],
    ] as const) {
      for (const [key, record] of map) if (!current(record, nowMs, policy)) map.delete(key);
    }
  }

  get size(): number {
    return this.accounts.size + this.addresses.size;
  }

  private bump(
    map: Map<string, FailureRecord>,
    key: string,
    nowMs: number,
    policy: ThrottlePolicy,
  ): { retryAfterMs: number; lockoutStarted: boolean } {
    const before = map.get(key);
    const wasLocked = isLockedOut(before, nowMs, policy);
    const after = withFailure(before, nowMs, policy);
    // Re-inserting moves the key to the end: Map order is then least recently failed first.
    map.delete(key);
    map.set(key, after);
    while (map.size > this.maxEntries) map.delete(map.keys().next().value!);
    return {
      retryAfterMs: retryAfterMs(after, nowMs, policy),
      lockoutStarted: !wasLocked && isLockedOut(after, nowMs, policy),
    };
  }
}

function reserve(map: Map<string, PendingAttempts>, key: string, nowMs: number): void {
  const entry = map.get(key);
  if (entry) {
    entry.count += 1;
    entry.latestStartMs = Math.max(entry.latestStartMs, nowMs);
  } else map.set(key, { count: 1, latestStartMs: nowMs });
}

function unreserve(map: Map<string, PendingAttempts>, key: string): void {
  const entry = map.get(key);
  if (!entry) return;
  entry.count -= 1;
  if (entry.count <= 0) map.delete(key);
}

/** LOGIN_THROTTLED with the wait in words and in details.retryAfterMs (also for a Retry-After header). */
export function throttledError(retryAfterMsValue: number): VigilError {
  const seconds = Math.max(1, Math.ceil(retryAfterMsValue / 1000));
  const wait = seconds < 120 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`;
  return new VigilError(
    'LOGIN_THROTTLED',
    `too many failed sign-ins from this address or for this user; try again in ${wait}`,
    { retryAfterMs: retryAfterMsValue },
  );
}
