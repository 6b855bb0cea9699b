/**
 * When to try a webhook again, and what an answer means: pure, so the schedule is unit-tested.
 * Five attempts spread over about ten minutes ride out a receiver's restart or a short outage
 * without piling up requests on one that is down.
 */

export const MAX_ATTEMPTS = 5;
/** The wait after the first failure; each later one is three times longer (15 s, 45 s, 135 s, 405 s). */
export const DEFAULT_RETRY_BASE_MS = 15_000;
/** A Retry-After longer than this is cut to it: the delivery must not wait for hours. */
export const MAX_RETRY_AFTER_MS = 15 * 60_000;

/**
 * The wait before attempt `attempt + 1`, after `attempt` attempts failed: exponential, with ±20 %
 * jitter (random in [0, 1)) so that receivers that failed together are not retried together.
 */
export function retryDelayMs(attempt: number, random: number, baseMs = DEFAULT_RETRY_BASE_MS): number {
  const exponential = baseMs * 3 ** Math.max(0, attempt - 1);
  return Math.round(exponential * (0.8 + 0.4 * random));
}

/** Retry-After as seconds or an HTTP date, in ms from now; null when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs: number): number | null {
  if (header === null || header.trim() === '') return null;
  const text = header.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - nowMs;
  if (!Number.isFinite(ms)) return null;
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/** What one attempt came to. */
export type AttemptResult =
  { kind: 'answer'; status: number; retryAfter: string | null } | { kind: 'error'; message: string };

export type AttemptOutcome =
  | { state: 'delivered' }
  | { state: 'failed'; error: string }
  | { state: 'retry'; error: string; delayMs: number };

/**
 * 2xx: delivered. 408, 429 and 5xx, timeouts and network errors: retried, until the last attempt.
 * 3xx: failed (redirects are not followed: a receiver that moved must be configured anew). Other
 * 4xx: failed at once, retrying cannot change the receiver's mind.
 */
export function classifyAttempt(
  result: AttemptResult,
  attempt: number,
  opts: { nowMs: number; random: number; baseMs?: number },
): AttemptOutcome {
  let error: string;
  let waitMs: number | null = null;
  if (result.kind === 'error') {
    error = result.message;
  } else {
    const { status } = result;
    if (status >= 200 && status < 300) return { state: 'delivered' };
    if (status >= 300 && status < 400) {
      return {
        state: 'failed',
        error: `HTTP ${status}: redirects are not followed; configure the final URL`,
      };
    }
    error = `HTTP ${status}`;
    const retryable = status === 408 || status === 429 || status >= 500;
    if (!retryable) return { state: 'failed', error: `${error}: the receiver refused the alert` };
    if (status === 429) waitMs = retryAfterMs(result.retryAfter, opts.nowMs);
  }
  if (attempt >= MAX_ATTEMPTS) return { state: 'failed', error: `${error} (after ${attempt} attempts)` };
  return { state: 'retry', error, delayMs: waitMs ?? retryDelayMs(attempt, opts.random, opts.baseMs) };
}
