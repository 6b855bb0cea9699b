import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RuleCondition, RuleDefinition } from '../../../src/contract/rules.js';
import type { SceneFact, SceneObject } from '../../../src/contract/scene.js';
import { EventBus } from '../../../src/events/bus.js';
import { RuleEvaluator, type Firing } from '../../../src/rules/evaluator.js';
import { AlertLimiter } from '../../../src/rules/limiter.js';
import { summarise } from '../../../src/rules/summary.js';

const T0 = Date.parse('2026-06-01T10:00:00Z');

function rule(condition: RuleCondition, extra: Partial<RuleDefinition> = {}): RuleDefinition {
  return {
    id: 'r1',
    name: 'Rule one',
    enabled: true,
    cameras: 'all',
    conditions: [condition],
    schedule: null,
    actions: [],
    limit: { maxAlerts: 100, windowMs: 60_000, cooldownMs: 0 },
    ...extra,
  };
}

function person(eventId: number, extra: Partial<SceneObject> = {}): SceneObject {
  return { eventId, trackId: eventId, label: 'person', score: 0.9, areaFraction: 0.05, ...extra };
}

const entered = (eventId: number, timeMs: number, object = person(eventId)): SceneFact => ({
  type: 'zone-entered',
  cameraId: 'cam',
  zoneId: 'yard',
  object,
  timeMs,
});
const left = (eventId: number, timeMs: number, insideMs: number, object = person(eventId)): SceneFact => ({
  type: 'zone-left',
  cameraId: 'cam',
  zoneId: 'yard',
  object,
  insideMs,
  timeMs,
});

/** Facts go through a real EventBus, as the rule service receives them. */
function harness(rules: RuleDefinition[]) {
  const bus = new EventBus();
  const evaluator = new RuleEvaluator(rules);
  const firings: Firing[] = [];
  bus.on('scene', (fact) => firings.push(...evaluator.onFact(fact)));
  return {
    firings,
    publish: (fact: SceneFact) => bus.publish('scene', fact),
    tick: (nowMs: number) => firings.push(...evaluator.tick(nowMs)),
    evaluator,
  };
}

describe('rule evaluator', () => {
  test('zone-entered fires once per presence, with label, size and score filters', () => {
    const h = harness([
      rule({
        type: 'zone-entered',
        zoneId: 'yard',
        labels: ['person'],
        minAreaFraction: 0.01,
        minScore: 0.5,
      }),
    ]);
    h.publish(entered(1, T0));
    h.publish(entered(1, T0 + 100)); // the same presence reported again
    h.publish(entered(2, T0 + 200, person(2, { label: 'dog' })));
    h.publish(entered(3, T0 + 300, person(3, { areaFraction: 0.001 })));
    h.publish(entered(4, T0 + 400, person(4, { score: 0.3 })));
    h.publish({
      type: 'zone-entered',
      cameraId: 'cam',
      zoneId: 'street',
      object: person(5),
      timeMs: T0 + 500,
    });
    h.publish(left(1, T0 + 1000, 1000));
    h.publish(entered(1, T0 + 2000)); // back again: a new presence
    assert.deepEqual(
      h.firings.map((f) => [f.kind, f.object?.eventId, f.timeMs]),
      [
        ['zone-entered', 1, T0],
        ['zone-entered', 1, T0 + 2000],
      ],
    );
  });

  test('zone-left fires on leaving; disabled rules and other cameras do nothing', () => {
    const h = harness([
      rule({ type: 'zone-left', zoneId: 'yard' }),
      rule({ type: 'zone-left', zoneId: 'yard' }, { id: 'off', enabled: false }),
      rule({ type: 'zone-left', zoneId: 'yard' }, { id: 'elsewhere', cameras: ['other'] }),
    ]);
    h.publish(entered(1, T0));
    h.publish(left(1, T0 + 5000, 5000));
    assert.deepEqual(
      h.firings.map((f) => [f.rule.id, f.kind, f.timeMs]),
      [['r1', 'zone-left', T0 + 5000]],
    );
  });

  test('intrusion: fires by tick once the object has been inside minInsideMs, once per presence', () => {
    const h = harness([rule({ type: 'intrusion', zoneId: 'yard', minInsideMs: 10_000 })]);
    h.publish(entered(1, T0));
    h.tick(T0 + 9_999);
    assert.equal(h.firings.length, 0);
    h.tick(T0 + 10_000);
    h.tick(T0 + 20_000);
    h.publish(left(1, T0 + 30_000, 30_000));
    assert.deepEqual(
      h.firings.map((f) => [f.kind, f.object?.eventId, f.timeMs]),
      [['intrusion', 1, T0 + 10_000]],
    );
  });

  test('loitering: a leave before any tick still fires when insideMs says it stayed long enough', () => {
    const h = harness([rule({ type: 'loitering', zoneId: 'yard', minInsideMs: 60_000 })]);
    h.publish(entered(1, T0));
    h.publish(left(1, T0 + 90_000, 90_000));
    h.publish(entered(2, T0));
    h.publish(left(2, T0 + 30_000, 30_000)); // too short
    h.tick(T0 + 200_000);
    assert.deepEqual(
      h.firings.map((f) => [f.kind, f.object?.eventId, f.timeMs]),
      [['loitering', 1, T0 + 60_000]],
    );
  });

  test('loitering: a re-identified object is one stay until its last track has left', () => {
    const h = harness([rule({ type: 'loitering', zoneId: 'yard', minInsideMs: 8_000 })]);
    const oldTrack = person(1, { trackId: 10 });
    const newTrack = person(1, { trackId: 11 });
    h.publish(entered(1, T0, oldTrack));
    h.publish(entered(1, T0 + 2_000, newTrack));
    // The old track coasts out of the zone and ends: the object is still inside on its new track.
    h.publish(left(1, T0 + 3_000, 3_000, oldTrack));
    h.tick(T0 + 7_999);
    assert.equal(h.firings.length, 0);
    h.tick(T0 + 8_000);
    h.publish(left(1, T0 + 12_000, 10_000, newTrack));
    assert.deepEqual(
      h.firings.map((f) => [f.kind, f.object?.eventId, f.timeMs]),
      [['loitering', 1, T0 + 8_000]],
    );
    // Two short stays of two tracks, one after the other, each below the time: nothing.
    h.publish(entered(2, T0, person(2, { trackId: 20 })));
    h.publish(left(2, T0 + 3_000, 3_000, person(2, { trackId: 20 })));
    h.publish(entered(2, T0 + 60_000, person(2, { trackId: 21 })));
    h.publish(left(2, T0 + 63_000, 3_000, person(2, { trackId: 21 })));
    h.tick(T0 + 100_000);
    assert.equal(h.firings.length, 1);
  });

  test('intrusion with minInsideMs 0 fires on entry', () => {
    const h = harness([rule({ type: 'intrusion', zoneId: 'yard', minInsideMs: 0 })]);
    h.publish(entered(7, T0));
    assert.deepEqual(
      h.firings.map((f) => [f.kind, f.timeMs]),
      [['intrusion', T0]],
    );
  });

  test('line-crossed: direction filter, one alert per crossing person', () => {
    const h = harness([rule({ type: 'line-crossed', lineId: 'path', direction: 'a-to-b' })]);
    const crossed = (eventId: number, direction: 'a-to-b' | 'b-to-a', timeMs: number): SceneFact => ({
      type: 'line-crossed',
      cameraId: 'cam',
      lineId: 'path',
      direction,
      object: person(eventId),
      timeMs,
    });
    h.publish(crossed(1, 'a-to-b', T0));
    h.publish(crossed(1, 'b-to-a', T0 + 500)); // jitter at the line
    h.publish(crossed(1, 'a-to-b', T0 + 1000)); // and back: still the same crossing
    h.publish(crossed(2, 'a-to-b', T0 + 2000));
    h.publish(crossed(3, 'b-to-a', T0 + 3000));
    assert.deepEqual(
      h.firings.map((f) => [f.object?.eventId, f.direction]),
      [
        [1, 'a-to-b'],
        [2, 'a-to-b'],
      ],
    );
    const summary = summarise(h.firings[0] as Firing, {
      zone: () => undefined,
      line: (_camera, id) => (id === 'path' ? 'Path' : undefined),
    });
    assert.equal(summary, 'person crossed Path (A→B)');
  });

  test('crowding: more than N of a label in the zone for T, again only after it dropped', () => {
    const h = harness([
      rule({ type: 'crowding', zoneId: 'yard', labels: ['person'], moreThan: 3, forMs: 30_000 }),
    ]);
    const occupancy = (count: number, timeMs: number): SceneFact => ({
      type: 'zone-occupancy',
      cameraId: 'cam',
      zoneId: 'yard',
      counts: { person: count, car: 10 },
      timeMs,
    });
    h.publish(occupancy(4, T0));
    h.tick(T0 + 20_000);
    h.publish(occupancy(3, T0 + 25_000)); // dropped to N: the clock starts again
    h.publish(occupancy(5, T0 + 26_000));
    h.tick(T0 + 50_000);
    assert.equal(h.firings.length, 0);
    h.tick(T0 + 56_000);
    h.publish(occupancy(6, T0 + 60_000));
    h.tick(T0 + 120_000);
    assert.deepEqual(
      h.firings.map((f) => [f.kind, f.timeMs, f.count]),
      [['crowding', T0 + 56_000, 5]],
    );
    h.publish(occupancy(1, T0 + 130_000));
    h.publish(occupancy(4, T0 + 140_000));
    h.tick(T0 + 170_000);
    assert.equal(h.firings.length, 2);
  });

  test('camera-health: only the states asked for', () => {
    const h = harness([rule({ type: 'camera-health', states: ['stream-lost', 'tamper-covered'] })]);
    for (const state of ['stream-lost', 'stream-restored', 'tamper-covered', 'tamper-cleared'] as const) {
      h.publish({ type: 'camera-health', cameraId: 'cam', state, detail: 'seen', timeMs: T0 });
    }
    assert.deepEqual(
      h.firings.map((f) => f.health?.state),
      ['stream-lost', 'tamper-covered'],
    );
  });

  test('setRules keeps the state of unchanged rules and drops that of changed ones', () => {
    const intrusion = rule({ type: 'intrusion', zoneId: 'yard', minInsideMs: 10_000 });
    const h = harness([intrusion]);
    h.publish(entered(1, T0));
    h.evaluator.setRules([intrusion, rule({ type: 'zone-left', zoneId: 'yard' }, { id: 'r2' })]);
    h.tick(T0 + 10_000);
    assert.equal(h.firings.length, 1, 'the presence survived');
    h.evaluator.setRules([{ ...intrusion, name: 'renamed' }]);
    h.tick(T0 + 20_000);
    assert.equal(h.firings.length, 1);
  });
});

describe('alert limiter', () => {
  test('at most maxAlerts per window per rule; what is held back is counted', () => {
    const limiter = new AlertLimiter();
    const limit = { maxAlerts: 3, windowMs: 60_000, cooldownMs: 0 };
    const admitted = [0, 1, 2, 3, 4].map((i) => limiter.admit('r', `cam${i}`, T0 + i * 1000, limit));
    assert.deepEqual(admitted, [true, true, true, false, false]);
    assert.ok(limiter.admit('r', 'cam', T0 + 60_001, limit), 'the window moved on');
    assert.deepEqual(limiter.status('r'), { alertCount: 4, suppressedCount: 2, lastAlertMs: T0 + 60_001 });
    assert.deepEqual(limiter.status('unknown'), { alertCount: 0, suppressedCount: 0, lastAlertMs: null });
  });

  test('cool-down per rule and camera', () => {
    const limiter = new AlertLimiter();
    const limit = { maxAlerts: 100, windowMs: 60_000, cooldownMs: 30_000 };
    assert.ok(limiter.admit('r', 'a', T0, limit));
    assert.ok(!limiter.admit('r', 'a', T0 + 29_999, limit));
    assert.ok(limiter.admit('r', 'b', T0 + 1000, limit), 'another camera');
    assert.ok(limiter.admit('q', 'a', T0 + 1000, limit), 'another rule');
    assert.ok(limiter.admit('r', 'a', T0 + 30_000, limit));
    assert.equal(limiter.status('r').suppressedCount, 1);
    limiter.forget('r');
    assert.equal(limiter.status('r').alertCount, 0);
  });
});
