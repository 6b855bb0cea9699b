import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  SceneAnalyser,
  type SceneFinding,
  type SceneLayout,
} from '../../../../src/analytics/scene/analyser.js';

const layout: SceneLayout = {
  zones: [
    {
      id: 'door',
      name: 'Door',
      points: [
        [0.6, 0.6],
        [0.9, 0.6],
        [0.9, 0.9],
        [0.6, 0.9],
      ],
      labels: [],
    },
  ],
  // Across the picture at half height, from left to right: walking up is A→B, down is B→A.
  lines: [
    { id: 'path', name: 'Path', a: [0.05, 0.5], b: [0.95, 0.5], direction: 'both', labels: ['person'] },
  ],
  referencePoint: 'bottom-centre',
};

/** A person's box whose feet (bottom centre) stand at x, y. */
function person(trackId: number, x: number, y: number, label = 'person') {
  return { trackId, label, score: 0.8, box: { x: x - 0.03, y: y - 0.2, width: 0.06, height: 0.2 } };
}

function types(findings: SceneFinding[]): string[] {
  return findings.map((f) =>
    f.type === 'line-crossed'
      ? `${f.type}:${f.direction}`
      : f.type === 'zone-occupancy'
        ? `${f.type}:${JSON.stringify(f.counts)}`
        : `${f.type}:${f.object.trackId}`,
  );
}

test('an object entering and leaving a zone: entered, occupancy, left with the time inside', () => {
  const analyser = new SceneAnalyser(layout);
  assert.deepEqual(analyser.update(0, [person(1, 0.3, 0.8)]), []);
  assert.deepEqual(types(analyser.update(200, [person(1, 0.7, 0.8)])), [
    'zone-entered:1',
    'zone-occupancy:{"person":1}',
  ]);
  assert.deepEqual(analyser.update(400, [person(1, 0.75, 0.8)]), []);
  const left = analyser.update(1400, [person(1, 0.3, 0.8)]);
  assert.deepEqual(types(left), ['zone-left:1', 'zone-occupancy:{"person":0}']);
  assert.equal(left[0]?.type === 'zone-left' && left[0].insideMs, 1200);
});

test('a track that ends inside leaves the zone', () => {
  const analyser = new SceneAnalyser(layout);
  analyser.update(0, [person(1, 0.7, 0.8), person(2, 0.8, 0.7, 'dog')]);
  assert.deepEqual(analyser.currentOccupancy().get('door'), { person: 1, dog: 1 });
  const findings = analyser.update(500, [person(2, 0.8, 0.7, 'dog')]);
  assert.deepEqual(types(findings), ['zone-left:1', 'zone-occupancy:{"person":0,"dog":1}']);
  assert.deepEqual(types(analyser.flush(900)), ['zone-left:2', 'zone-occupancy:{"person":0,"dog":0}']);
});

test('jitter on a zone edge is one entry, not many', () => {
  const analyser = new SceneAnalyser(layout);
  const xs = [0.59, 0.601, 0.598, 0.603, 0.597, 0.602, 0.596, 0.605];
  const all = xs.flatMap((x, i) => analyser.update(i * 200, [person(1, x, 0.8)]));
  assert.equal(all.filter((f) => f.type === 'zone-entered').length, 1);
  assert.equal(all.filter((f) => f.type === 'zone-left').length, 0);
});

test('every crossing counts once: up, down and up again are three', () => {
  const analyser = new SceneAnalyser(layout);
  const ys = [0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.4, 0.5, 0.6, 0.7, 0.6, 0.5, 0.4, 0.3];
  const crossings = ys.flatMap((y, i) => analyser.update(i * 200, [person(1, 0.3, y)]));
  assert.deepEqual(types(crossings.filter((f) => f.type === 'line-crossed')), [
    'line-crossed:a-to-b',
    'line-crossed:b-to-a',
    'line-crossed:a-to-b',
  ]);
});

test('two people crossing are two crossings; a box jittering on the line is none', () => {
  const analyser = new SceneAnalyser(layout);
  const findings: SceneFinding[] = [];
  const jitter = [0.505, 0.495, 0.51, 0.49, 0.507, 0.493, 0.5, 0.512, 0.488, 0.5];
  jitter.forEach((y, i) => {
    const down = 0.3 + i * 0.05;
    findings.push(
      ...analyser.update(i * 200, [person(1, 0.2, down), person(2, 0.5, y), person(3, 0.4, 0.8 - i * 0.05)]),
    );
  });
  const crossed = findings.filter((f) => f.type === 'line-crossed');
  assert.deepEqual(
    crossed.map((f) => (f.type === 'line-crossed' ? `${f.object.trackId}:${f.direction}` : '')),
    ['1:b-to-a', '3:a-to-b'],
  );
});

test('labels and the direction filter decide what counts', () => {
  const oneWay: SceneLayout = {
    ...layout,
    lines: [{ ...layout.lines[0]!, direction: 'b-to-a', labels: [] }],
    zones: [{ ...layout.zones[0]!, labels: ['car'] }],
  };
  const analyser = new SceneAnalyser(oneWay);
  const up = [0.8, 0.6, 0.4].flatMap((y, i) => analyser.update(i * 200, [person(1, 0.7, y)]));
  assert.deepEqual(up, [], 'A→B does not count on a B→A line, and a person does not count in a car zone');
  const down = [0.4, 0.6, 0.8].flatMap((y, i) => analyser.update(1000 + i * 200, [person(1, 0.7, y)]));
  assert.deepEqual(types(down), ['line-crossed:b-to-a']);
});

test('a new layout: objects leave the old zones, and count afresh on the new lines', () => {
  const analyser = new SceneAnalyser(layout);
  analyser.update(0, [person(1, 0.7, 0.8)]);
  const changed = analyser.setLayout({ ...layout, zones: [] }, 100);
  assert.deepEqual(types(changed), ['zone-left:1']);
  assert.equal(analyser.currentOccupancy().size, 0);
  assert.equal(analyser.watching, true);
  assert.equal(new SceneAnalyser({ zones: [], lines: [], referencePoint: 'centre' }).watching, false);
});

test('the centre as reference point', () => {
  const analyser = new SceneAnalyser({ ...layout, referencePoint: 'centre' });
  // Feet at 0.75 inside the zone's band, centre at 0.65: inside by either.
  assert.deepEqual(types(analyser.update(0, [person(1, 0.7, 0.75)])).slice(0, 1), ['zone-entered:1']);
  // Feet at 0.95 (outside the zone), centre at 0.85 (inside): the centre decides.
  const other = new SceneAnalyser({ ...layout, referencePoint: 'centre' });
  assert.deepEqual(types(other.update(0, [person(2, 0.7, 0.95)])).slice(0, 1), ['zone-entered:2']);
});
