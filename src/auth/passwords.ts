import { readFileSync } from 'node:fs';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { VigilError } from '../errors/catalogue.js';

/**
 * OWASP's first argon2id choice (Password Storage Cheat Sheet): 19 MiB, 2 passes, 1 lane. About
 * 0.1 s on one core of the 2-core reference machine: slow for an attacker with a stolen database,
 * fast enough for people signing in.
 */
export const ARGON2_PARAMS = { memoryCostKiB: 19_456, timeCost: 2, parallelism: 1 } as const;
export const MIN_PASSWORD_LENGTH = 10;
/** Long enough for any passphrase or password manager; bounded so a request cannot make hashing costly. */
export const MAX_PASSWORD_LENGTH = 1024;
/**
 * Hashes running at once. Each takes 19 MiB and a core for 0.1 s; a burst of sign-ins (or an
 * attack on the login route) waits its turn instead of starving recording.
 */
export const MAX_CONCURRENT_HASHES = 2;
/**
 * Hashes waiting for a turn. Beyond this the work is refused at once (AUTH_BUSY, 503 with
 * Retry-After) instead of queueing: 16 waiting is under a second of work at 0.1 s per hash on
 * two cores, so a person never sees it, while a flood from many addresses (each within its own
 * throttle) cannot pile up requests, memory and waiting time without bound.
 */
export const MAX_WAITING_HASHES = 16;
/** What a refused caller is told to wait: about the time the full queue takes to drain. */
const BUSY_RETRY_AFTER_MS = 1000;

export type PasswordProblemCode =
  'too-short' | 'too-long' | 'user-name' | 'common' | 'one-character' | 'sequence' | 'repeated-pattern';

export interface PasswordProblem {
  code: PasswordProblemCode;
  message: string;
}

/**
 * The list ships in src/auth/ and is read from there also when running from dist/ (the build
 * copies TypeScript output only): both folders sit two levels below the package root.
 */
const COMMON_PASSWORDS_URL = new URL('../../src/auth/common-passwords.txt', import.meta.url);

let commonPasswords: ReadonlySet<string> | undefined;

/** The common-password list, read once. */
export function commonPasswordList(): ReadonlySet<string> {
  if (!commonPasswords) {
    const lines = readFileSync(COMMON_PASSWORDS_URL, 'utf8').split('\n');
    commonPasswords = new Set(
      lines.map((line) => line.trim().toLowerCase()).filter((line) => line !== '' && !line.startsWith('#')),
    );
  }
  return commonPasswords;
}

/**
 * NIST SP 800-63B asks for Unicode normalisation before hashing, so the same password typed on
 * two keyboards (composed 'é' or 'e' + combining accent) is the same password.
 */
function normalise(password: string): string {
  return password.normalize('NFKC');
}

/**
 * A bounded semaphore: at most `concurrent` jobs run, at most `maxWaiting` wait; one more is
 * refused with AUTH_BUSY at once (nothing is queued, nothing runs).
 */
export class HashQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly concurrent: number,
    readonly maxWaiting: number,
  ) {}

  /** Jobs running and waiting now. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrent) {
      if (this.waiting.length >= this.maxWaiting) {
        throw new VigilError(
          'AUTH_BUSY',
          'too many sign-ins are being checked at this moment; try again in a few seconds',
          { retryAfterMs: BUSY_RETRY_AFTER_MS },
        );
      }
      // The finishing job hands its place over (running is not decremented), so no newcomer
      // can slip in between and the count never exceeds `concurrent`.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}

/** The one queue every argon2 computation of this process goes through. */
export const passwordHashQueue = new HashQueue(MAX_CONCURRENT_HASHES, MAX_WAITING_HASHES);

function limited<T>(work: () => Promise<T>): Promise<T> {
  return passwordHashQueue.run(work);
}

/** An argon2id PHC string: $argon2id$v=19$m=19456,t=2,p=1$salt$hash (random 16-byte salt). */
export async function hashPassword(password: string): Promise<string> {
  return limited(() =>
    hash(normalise(password), {
      algorithm: Algorithm.Argon2id,
      memoryCost: ARGON2_PARAMS.memoryCostKiB,
      timeCost: ARGON2_PARAMS.timeCost,
      parallelism: ARGON2_PARAMS.parallelism,
    }),
  );
}

/**
 * True when the password matches; false also for a hash that cannot be parsed (never throws on
 * input). Throws AUTH_BUSY when the hash queue is full: nothing was checked.
 */
export async function verifyPassword(phcHash: string, password: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  return limited(async () => {
    try {
      return await verify(phcHash, normalise(password));
    } catch {
      return false;
    }
  });
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the time of one verification and returns false. Called when a sign-in names an
 * unknown user, so the answer takes as long as for a known one and timing does not tell which
 * user names exist.
 */
export async function verifyDummyPassword(password: string): Promise<false> {
  if (!dummyHash) {
    const made = hashPassword('vigil-dummy-password-for-unknown-users');
    dummyHash = made;
    // A refused hash (queue full) must not stay cached: the next unknown name tries again.
    made.catch(() => {
      if (dummyHash === made) dummyHash = undefined;
    });
  }
  await verifyPassword(await dummyHash, password);
  return false;
}

/** The parameters of a PHC string, or null when it is not one of argon2's. */
export function parsePhc(phcHash: string): {
  algorithm: string;
  version: number;
  memoryCostKiB: number;
  timeCost: number;
  parallelism: number;
} | null {
  const match =
    /^\$(argon2(?:id|i|d))\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.exec(phcHash);
  if (!match) return null;
  return {
    algorithm: match[1]!,
    version: Number(match[2]),
    memoryCostKiB: Number(match[3]),
    timeCost: Number(match[4]),
    parallelism: Number(match[5]),
  };
}

/**
 * True when a stored hash was made with other parameters (older defaults, another argon2
 * variant): after a successful sign-in the caller hashes the password again and stores that.
 */
export function needsRehash(phcHash: string): boolean {
  const params = parsePhc(phcHash);
  return (
    params === null ||
    params.algorithm !== 'argon2id' ||
    params.version !== 19 ||
    params.memoryCostKiB !== ARGON2_PARAMS.memoryCostKiB ||
    params.timeCost !== ARGON2_PARAMS.timeCost ||
    params.parallelism !== ARGON2_PARAMS.parallelism
  );
}

const LEET: Record<string, string> = {
  '@': 'a',
  '4': 'a',
  '8': 'b',
  '(': 'c',
  '3': 'e',
  '6': 'g',
  '1': 'i',
  '!': 'i',
  '0': 'o',
  $: 's',
  '5': 's',
  '7': 't',
  '+': 't',
  '2': 'z',
};

function unLeet(text: string): string {
  return [...text].map((c) => LEET[c] ?? c).join('');
}

/** True when every character's code is one more (or one less) than the previous one: 'abcdef', '98765'. */
export function isSequence(text: string): boolean {
  const codes = [...text].map((c) => c.codePointAt(0)!);
  if (codes.length < 3) return false;
  const step = codes[1]! - codes[0]!;
  if (step !== 1 && step !== -1) return false;
  return codes.every((code, i) => i === 0 || code - codes[i - 1]! === step);
}

const KEYBOARD_ROWS = ['1234567890', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm', 'qwertzuiop', 'azertyuiop'];

function isKeyboardRun(text: string): boolean {
  if (text.length < 4) return false;
  return KEYBOARD_ROWS.some((row) => {
    const twice = row + row;
    const reversed = [...twice].reverse().join('');
    return twice.includes(text) || reversed.includes(text);
  });
}

/** True when the text is a unit of at most 4 characters repeated (a last partial copy allowed): 'abcabcabca'. */
export function isRepeatedPattern(text: string): boolean {
  const chars = [...text];
  for (let unit = 1; unit <= 4 && unit * 2 <= chars.length; unit += 1) {
    if (chars.every((c, i) => c === chars[i % unit])) return true;
  }
  return false;
}

/** A suffix or prefix so predictable that adding it to a listed word does not help: '1', '123!', '2024', '!!!!'. */
function isSimpleAffix(affix: string): boolean {
  return (
    affix.length <= 4 ||
    isSequence(affix) ||
    isRepeatedPattern(affix) ||
    /^(19|20)\d\d[\W_]*$/.test(affix) ||
    isKeyboardRun(affix)
  );
}

/** The listed word the password is built on, or null: the word itself, or with simple affixes, or in leetspeak. */
function commonBase(password: string, list: ReadonlySet<string>): { word: string; exact: boolean } | null {
  const lower = password.toLowerCase();
  if (list.has(lower)) return { word: lower, exact: true };
  if (list.has(unLeet(lower))) return { word: unLeet(lower), exact: false };
  const match = /^([\d\W_]*)(.*?)([\d\W_]*)$/u.exec(lower);
  const [, prefix = '', core = '', suffix = ''] = match ?? [];
  if (!isSimpleAffix(prefix) || !isSimpleAffix(suffix)) return null;
  for (const word of [core, unLeet(core)]) {
    if (word.length >= 4 && list.has(word)) return { word, exact: false };
  }
  return null;
}

/**
 * What is wrong with a password, in words for the person choosing it; empty when it is fine.
 * Follows NIST SP 800-63B: a minimum length and a check against known and predictable passwords,
 * no composition rules (they make passwords harder to remember, not harder to guess).
 */
export function checkPasswordPolicy(
  password: string,
  context: { username?: string } = {},
): PasswordProblem[] {
  const problems: PasswordProblem[] = [];
  const text = normalise(password);
  const length = [...text].length;
  if (length < MIN_PASSWORD_LENGTH) {
    problems.push({
      code: 'too-short',
      message: `is ${length} characters long; use at least ${MIN_PASSWORD_LENGTH} (a few unrelated words make a good one)`,
    });
  }
  if (length > MAX_PASSWORD_LENGTH) {
    problems.push({ code: 'too-long', message: `is longer than ${MAX_PASSWORD_LENGTH} characters` });
  }
  if (length === 0) return problems;
  const lower = text.toLowerCase();
  const username = context.username?.normalize('NFKC').toLowerCase();
  if (username && username.length >= 3 && lower.includes(username)) {
    problems.push({
      code: 'user-name',
      message: lower === username ? 'is the user name' : 'contains the user name',
    });
  }
  if (isRepeatedPattern(lower)) {
    problems.push(
      new Set(lower).size === 1
        ? { code: 'one-character', message: 'is one character repeated' }
        : { code: 'repeated-pattern', message: 'repeats a short pattern' },
    );
  } else if (isSequence(lower) || isKeyboardRun(lower)) {
    problems.push({ code: 'sequence', message: 'is a simple sequence of letters, digits or keyboard keys' });
  }
  const base = commonBase(text, commonPasswordList());
  if (base) {
    problems.push({
      code: 'common',
      message: base.exact
        ? 'is one of the most common passwords'
        : `is a common password ('${base.word}') with small changes`,
    });
  }
  return problems;
}

/** Throws PASSWORD_WEAK listing every problem, so the person can fix them all at once. */
export function assertPasswordPolicy(password: string, context: { username?: string } = {}): void {
  const problems = checkPasswordPolicy(password, context);
  if (problems.length === 0) return;
  throw new VigilError(
    'PASSWORD_WEAK',
    `choose another password: it ${problems.map((p) => p.message).join('; it ')}`,
    { problems },
  );
}
