import type { RuleLimit, RuleStatus } from '../contract/rules.js';

interface RuleCounters {
  /** Times of the alerts inside the current window, oldest first. */
  recentMs: number[];
  /** By camera: the last alert's time, for the cool-down. */
  lastByCameraMs: Map<string, number>;
  alertCount: number;
  suppressedCount: number;
  lastAlertMs: number | null;
}

/**
 * Rate limit per rule (at most maxAlerts in any windowMs) and cool-down per rule and camera
 * (cooldownMs after an alert, the same rule on the same camera stays quiet). What it holds back
 * is counted, so a storm shows in the rule's status instead of vanishing.
 */
export class AlertLimiter {
  private readonly rules = new Map<string, RuleCounters>();

  /** Whether an alert at timeMs may go out; counts it either way. */
  admit(ruleId: string, cameraId: string, timeMs: number, limit: RuleLimit): boolean {
    const counters = this.counters(ruleId);
    counters.recentMs = counters.recentMs.filter((t) => t > timeMs - limit.windowMs);
    const lastMs = counters.lastByCameraMs.get(cameraId);
    const coolingDown = lastMs !== undefined && timeMs - lastMs < limit.cooldownMs;
    if (coolingDown || counters.recentMs.length >= limit.maxAlerts) {
      counters.suppressedCount += 1;
      return false;
    }
    counters.recentMs.push(timeMs);
    counters.lastByCameraMs.set(cameraId, timeMs);
    counters.alertCount += 1;
    counters.lastAlertMs = timeMs;
    return true;
  }

  status(ruleId: string): RuleStatus {
    const counters = this.rules.get(ruleId);
    return {
      alertCount: counters?.alertCount ?? 0,
      suppressedCount: counters?.suppressedCount ?? 0,
      lastAlertMs: counters?.lastAlertMs ?? null,
    };
  }

  /** A rule deleted or changed starts again from nothing. */
  forget(ruleId: string): void {
    this.rules.delete(ruleId);
  }

  private counters(ruleId: string): RuleCounters {
    let counters = this.rules.get(ruleId);
    if (!counters) {
      counters = {
        recentMs: [],
        lastByCameraMs: new Map(),
        alertCount: 0,
        suppressedCount: 0,
        lastAlertMs: null,
      };
      this.rules.set(ruleId, counters);
    }
    return counters;
  }
}
