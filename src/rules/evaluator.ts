import type { AlertKind } from '../contract/alerts.js';
import type { RuleCondition, RuleDefinition, RuleObjectFilter } from '../contract/rules.js';
import type { CameraHealthState, LineDirection, SceneFact, SceneObject } from '../contract/scene.js';

/** A presence whose zone-left never came (the analyser restarted) is forgotten after this. */
export const PRESENCE_FORGET_MS = 6 * 3_600_000;
/** The same object crossing the same line the same way again within this is the same crossing. */
export const LINE_REPEAT_MS = 10 * 60_000;

/** A condition of a rule that held: what the alert is made from. */
export interface Firing {
  rule: RuleDefinition;
  /** The condition of the rule that held. */
  condition: RuleCondition;
  cameraId: string;
  kind: AlertKind;
  /** When the condition became true (for timed conditions: entry or crowding start + the time asked). */
  timeMs: number;
  /** The object it is about; null for crowding and camera health. */
  object: SceneObject | null;
  zoneId?: string;
  lineId?: string;
  direction?: LineDirection;
  /** Crowding: how many objects were counted. */
  count?: number;
  /** Camera health: the state and its detail in words. */
  health?: { state: CameraHealthState; detail: string };
}

interface Presence {
  enteredAtMs: number;
  object: SceneObject;
  fired: boolean;
  /**
   * The tracks of the object inside: a re-identified object has a new track while the old one
   * may still coast inside for a moment. The stay ends when the last of them has left.
   */
  trackIds: Set<number>;
}

interface Crowd {
  count: number;
  aboveSinceMs: number | null;
  fired: boolean;
}

/** One condition of one rule and what it remembers between facts. */
interface ConditionState {
  rule: RuleDefinition;
  condition: RuleCondition;
  /** By camera|zone|event: objects inside the zone now. */
  presences: Map<string, Presence>;
  /** By camera|line|event|direction: when that crossing last fired. */
  crossings: Map<string, number>;
  /** By camera: the zone's count. */
  crowds: Map<string, Crowd>;
}

export function objectMatches(filter: RuleObjectFilter, object: SceneObject): boolean {
  if (filter.labels && filter.labels.length > 0 && !filter.labels.includes(object.label)) return false;
  if (filter.minAreaFraction !== undefined && object.areaFraction < filter.minAreaFraction) return false;
  if (filter.maxAreaFraction !== undefined && object.areaFraction > filter.maxAreaFraction) return false;
  return filter.minScore === undefined || object.score >= filter.minScore;
}

function watches(rule: RuleDefinition, cameraId: string): boolean {
  return rule.enabled && (rule.cameras === 'all' || rule.cameras.includes(cameraId));
}

/**
 * Turns scene facts into firings, rule by rule. Pure: no clock, no I/O. Timed conditions
 * (intrusion, loitering, crowding) fire from `tick(nowMs)` or from the next fact, whichever comes
 * first; each object fires a condition at most once per presence in a zone (per crossing of a
 * line), so one person makes one alert, not one per frame.
 */
export class RuleEvaluator {
  private states: ConditionState[] = [];

  constructor(rules: readonly RuleDefinition[] = []) {
    this.setRules(rules);
  }

  /** Replaces the rules; conditions of rules that did not change keep what they remember. */
  setRules(rules: readonly RuleDefinition[]): void {
    const old = new Map(
      this.states.map((s) => [`${JSON.stringify(s.rule)}#${JSON.stringify(s.condition)}`, s]),
    );
    this.states = rules.flatMap((rule) =>
      rule.conditions.map((condition) => {
        const kept = old.get(`${JSON.stringify(rule)}#${JSON.stringify(condition)}`);
        return kept ?? { rule, condition, presences: new Map(), crossings: new Map(), crowds: new Map() };
      }),
    );
  }

  onFact(fact: SceneFact): Firing[] {
    const firings: Firing[] = [];
    for (const state of this.states) {
      if (!watches(state.rule, fact.cameraId)) continue;
      firings.push(...this.apply(state, fact));
    }
    return firings;
  }

  /** Fires timed conditions that have become true by nowMs, and forgets stale presences. */
  tick(nowMs: number): Firing[] {
    const firings: Firing[] = [];
    for (const state of this.states) {
      firings.push(...this.timed(state, nowMs));
      for (const [key, presence] of state.presences) {
        if (nowMs - presence.enteredAtMs > PRESENCE_FORGET_MS) state.presences.delete(key);
      }
      for (const [key, atMs] of state.crossings) {
        if (nowMs - atMs > LINE_REPEAT_MS) state.crossings.delete(key);
      }
    }
    return firings;
  }

  private apply(state: ConditionState, fact: SceneFact): Firing[] {
    const { condition, rule } = state;
    switch (condition.type) {
      case 'zone-entered':
      case 'zone-left':
      case 'intrusion':
      case 'loitering':
        if (fact.type !== 'zone-entered' && fact.type !== 'zone-left') return [];
        if (fact.zoneId !== condition.zoneId || !objectMatches(condition, fact.object)) return [];
        return this.zoneFact(state, fact);
      case 'line-crossed': {
        if (fact.type !== 'line-crossed' || fact.lineId !== condition.lineId) return [];
        if (condition.direction !== 'both' && condition.direction !== fact.direction) return [];
        if (!objectMatches(condition, fact.object)) return [];
        const key = `${fact.cameraId}|${fact.lineId}|${fact.object.eventId}|${fact.direction}`;
        const last = state.crossings.get(key);
        state.crossings.set(key, fact.timeMs);
        if (last !== undefined && fact.timeMs - last <= LINE_REPEAT_MS) return [];
        return [
          {
            rule,
            condition,
            cameraId: fact.cameraId,
            kind: 'line-crossed',
            timeMs: fact.timeMs,
            object: fact.object,
            lineId: fact.lineId,
            direction: fact.direction,
          },
        ];
      }
      case 'crowding':
        if (fact.type !== 'zone-occupancy' || fact.zoneId !== condition.zoneId) return [];
        this.updateCrowd(state, fact.cameraId, fact.counts, fact.timeMs);
        return this.timed(state, fact.timeMs);
      case 'camera-health':
        if (fact.type !== 'camera-health' || !condition.states.includes(fact.state)) return [];
        return [
          {
            rule,
            condition,
            cameraId: fact.cameraId,
            kind: 'camera-health',
            timeMs: fact.timeMs,
            object: null,
            health: { state: fact.state, detail: fact.detail },
          },
        ];
    }
  }

  private zoneFact(
    state: ConditionState,
    fact: Extract<SceneFact, { type: 'zone-entered' | 'zone-left' }>,
  ): Firing[] {
    const { condition, rule } = state;
    const key = `${fact.cameraId}|${fact.zoneId}|${fact.object.eventId}`;
    const firing: Firing = {
      rule,
      condition,
      cameraId: fact.cameraId,
      kind: condition.type as AlertKind,
      timeMs: fact.timeMs,
      object: fact.object,
      zoneId: fact.zoneId,
    };
    const presence = state.presences.get(key);
    if (fact.type === 'zone-entered') {
      // Another track of an object already inside (re-identified) continues its stay.
      if (presence) {
        presence.trackIds.add(fact.object.trackId);
        return [];
      }
      state.presences.set(key, {
        enteredAtMs: fact.timeMs,
        object: fact.object,
        fired: false,
        trackIds: new Set([fact.object.trackId]),
      });
      return condition.type === 'zone-entered' ? [firing] : this.timed(state, fact.timeMs);
    }
    presence?.trackIds.delete(fact.object.trackId);
    if (presence && presence.trackIds.size > 0) return [];
    state.presences.delete(key);
    if (condition.type === 'zone-left') return [firing];
    if (condition.type !== 'intrusion' && condition.type !== 'loitering') return [];
    // Left before a tick saw it: judged by the whole stay, or by what the analyser says.
    const insideMs = presence ? fact.timeMs - presence.enteredAtMs : fact.insideMs;
    if (presence?.fired || insideMs < condition.minInsideMs) return [];
    return [{ ...firing, timeMs: fact.timeMs - insideMs + condition.minInsideMs }];
  }

  private updateCrowd(
    state: ConditionState,
    cameraId: string,
    counts: Record<string, number>,
    timeMs: number,
  ) {
    const condition = state.condition;
    if (condition.type !== 'crowding') return;
    const labels = condition.labels && condition.labels.length > 0 ? condition.labels : Object.keys(counts);
    const count = labels.reduce((sum, label) => sum + (counts[label] ?? 0), 0);
    const crowd = state.crowds.get(cameraId) ?? { count: 0, aboveSinceMs: null, fired: false };
    crowd.count = count;
    if (count > condition.moreThan) crowd.aboveSinceMs ??= timeMs;
    else {
      crowd.aboveSinceMs = null;
      crowd.fired = false;
    }
    state.crowds.set(cameraId, crowd);
  }

  /** Timed conditions of one rule that hold by nowMs and have not fired yet. */
  private timed(state: ConditionState, nowMs: number): Firing[] {
    const { condition, rule } = state;
    const firings: Firing[] = [];
    if (condition.type === 'intrusion' || condition.type === 'loitering') {
      for (const [key, presence] of state.presences) {
        if (presence.fired || nowMs - presence.enteredAtMs < condition.minInsideMs) continue;
        presence.fired = true;
        const cameraId = key.split('|')[0] as string;
        if (!watches(rule, cameraId)) continue;
        firings.push({
          rule,
          condition,
          cameraId,
          kind: condition.type,
          timeMs: presence.enteredAtMs + condition.minInsideMs,
          object: presence.object,
          zoneId: condition.zoneId,
        });
      }
    }
    if (condition.type === 'crowding') {
      for (const [cameraId, crowd] of state.crowds) {
        if (crowd.fired || crowd.aboveSinceMs === null || nowMs - crowd.aboveSinceMs < condition.forMs)
          continue;
        crowd.fired = true;
        if (!watches(rule, cameraId)) continue;
        firings.push({
          rule,
          condition,
          cameraId,
          kind: 'crowding',
          timeMs: crowd.aboveSinceMs + condition.forMs,
          object: null,
          zoneId: condition.zoneId,
          count: crowd.count,
        });
      }
    }
    return firings;
  }
}
