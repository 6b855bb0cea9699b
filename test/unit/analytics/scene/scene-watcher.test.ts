import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SceneWatcher } from '../../../../src/analytics/scene/scene-watcher.js';
import type { SceneConfig } from '../../../../src/config/index.js';
import type { SceneFact } from '../../../../src/contract/scene.js';
import type { EventManager, TrackObservation } from '../../../../src/events/event-manager.js';
import { eventFixture, manager, T0, testFrame, type EventFixture } from '../../events/helpers.js';

const FRAME = { width: 320, height: 240 };

const scene: SceneConfig = {
  zones: [
    {
      id: 'door',
      name: 'Door',
      points: [
        [0.5, 0.5],
        [1, 0.5],
        [1, 1],
        [0.5, 1],
      ],
      labels: [],
    },
  ],
  lines: [{ id: 'walk', name: 'Walk', a: [0.4, 0], b: [0.4, 1], direction: 'both', labels: [] }],
  referencePoint: 'bottom-centre',
  objectMasks: [
    [
      [0, 0],
      [0.2, 0],
      [0.2, 0.3],
      [0, 0.3],
    ],
  ],
};

let fixture: EventFixture;
let events: EventManager;

before(async () => {
  fixture = await eventFixture();
  events = manager(fixture);
});

after(async () => {
  await events.close();
  await fixture.close();
});

/** A person whose feet stand at (x, y), normalised, as a track in pixels of FRAME. */
function person(trackId: number, x: number, y: number): TrackObservation {
  const box = { x: x * FRAME.width - 10, y: y * FRAME.height - 40, width: 20, height: 40 };
  return { trackId, label: 'person', score: 0.9, box, confirmed: true, stationary: false };
}

test('facts carry the event of their track, in order; the zone joins the event', async () => {
  const facts: SceneFact[] = [];
  const watcher = new SceneWatcher({
    cameraId: 'yard',
    scene,
    events,
    onFact: (fact) => facts.push(fact),
    onError: (err) => assert.fail(String(err)),
  });
  // Walking right, across the line at x = 0.4, into the door zone.
  const xs = [0.2, 0.3, 0.45, 0.55, 0.7];
  xs.forEach((x, i) => {
    const timeMs = T0 + i * 200;
    const tracks = [person(7, x, 0.8)];
    events.observe('yard', testFrame(timeMs), tracks);
    watcher.frame(timeMs, tracks, FRAME);
  });
  await watcher.settled();
  assert.deepEqual(
    facts.map((f) => f.type),
    ['line-crossed', 'zone-entered', 'zone-occupancy'],
  );
  const crossed = facts[0]!;
  assert.ok(crossed.type === 'line-crossed');
  assert.equal(crossed.direction, 'a-to-b');
  assert.equal(crossed.cameraId, 'yard');
  assert.ok(crossed.object.eventId > 0);
  const entered = facts[1]!;
  assert.ok(entered.type === 'zone-entered');
  assert.equal(entered.object.eventId, crossed.object.eventId, 'one object, one event');
  await events.idle();
  const stored = await fixture.store.get(crossed.object.eventId);
  assert.deepEqual(stored?.zones, ['Door']);
});

test('a detection standing in an object mask is masked; one outside is not', () => {
  const watcher = new SceneWatcher({ cameraId: 'yard', scene, events, onFact: () => {}, onError: () => {} });
  assert.equal(watcher.masked(person(1, 0.1, 0.2).box, FRAME), true);
  assert.equal(watcher.masked(person(1, 0.1, 0.5).box, FRAME), false);
});

test('a track whose event was taken over by a re-identified track still leaves its zone under that event', async () => {
  const facts: SceneFact[] = [];
  // What the event manager maps: track 7's event moves to track 8 when 8 re-identifies it.
  const byTrack = new Map<number, number>([[7, 41]]);
  const watcher = new SceneWatcher({
    cameraId: 'yard',
    scene,
    events: {
      eventIdOf: (_camera: string, trackId: number) => Promise.resolve(byTrack.get(trackId) ?? null),
      touchZone: () => {},
    },
    onFact: (fact) => facts.push(fact),
    onError: (err) => assert.fail(String(err)),
  });
  watcher.frame(T0, [person(7, 0.7, 0.8)], FRAME);
  byTrack.delete(7);
  byTrack.set(8, 41);
  watcher.frame(T0 + 200, [person(7, 0.7, 0.8), person(8, 0.72, 0.8)], FRAME);
  // Track 7 stops coasting and ends inside the zone; later track 8 walks out.
  watcher.frame(T0 + 400, [person(8, 0.72, 0.8)], FRAME);
  watcher.frame(T0 + 600, [person(8, 0.1, 0.2)], FRAME);
  await watcher.settled();
  const zoneFacts = facts.flatMap((f) =>
    f.type === 'zone-entered' || f.type === 'zone-left' ? [[f.type, f.object.trackId, f.object.eventId]] : [],
  );
  assert.deepEqual(zoneFacts, [
    ['zone-entered', 7, 41],
    ['zone-entered', 8, 41],
    ['zone-left', 7, 41],
    ['zone-left', 8, 41],
  ]);
});
