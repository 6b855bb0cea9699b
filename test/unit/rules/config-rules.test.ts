import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  normaliseRule,
  parseConfigText,
  ruleProblems,
  type ConfigProblem,
} from '../../../src/config/index.js';
import { VigilError } from '../../../src/errors/catalogue.js';

const CAMERAS = `
cameras:
  - id: gate
    streams:
      main: { url: "rtsp://192.168.1.20:554/main" }
    scene:
      zones: [{ id: door, name: Door, points: [[0.1, 0.1], [0.4, 0.1], [0.4, 0.4]] }]
      lines: [{ id: path, name: Path, a: [0.35, 0], b: [0.35, 1] }]
`;

function parse(text: string) {
  return parseConfigText(CAMERAS + text, { baseDir: '/etc/vigil', env: {}, sourceName: 'vigil.yaml' });
}

function problems(text: string): ConfigProblem[] {
  try {
    parse(text);
  } catch (err) {
    assert.ok(err instanceof VigilError);
    assert.equal(err.code, 'CONFIG_INVALID');
    return err.details?.['problems'] as ConfigProblem[];
  }
  assert.fail('expected the config to be rejected');
}

test('config rules: defaults filled in', () => {
  const { config } = parse(`
rules:
  - id: path-crossing
    name: People crossing the path
    conditions: [{ type: line-crossed, lineId: path, direction: a-to-b, labels: [person] }]
    schedule: { days: [mon, tue, wed, thu, fri], times: ["08:00-20:00"] }
    actions: [{ type: push }, { type: webhook, webhookId: office }]
`);
  assert.deepEqual(config.rules, [
    {
      id: 'path-crossing',
      name: 'People crossing the path',
      enabled: true,
      cameras: 'all',
      conditions: [{ type: 'line-crossed', lineId: 'path', direction: 'a-to-b', labels: ['person'] }],
      schedule: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], times: ['08:00-20:00'] },
      actions: [{ type: 'push' }, { type: 'webhook', webhookId: 'office' }],
      limit: { maxAlerts: 10, windowMs: 600_000, cooldownMs: 0 },
    },
  ]);
});

test('config rules: unknown cameras, duplicate ids, empty ranges and bad filters are named by path', () => {
  const found = problems(`
rules:
  - id: one
    name: One
    cameras: [gate, garage]
    conditions: [{ type: zone-entered, zoneId: yard, minAreaFraction: 0.5, maxAreaFraction: 0.1 }]
    schedule: { days: [sat], times: ["10:00-10:00"] }
  - id: one
    name: Again
    conditions: [{ type: camera-health, states: [stream-lost] }]
  - id: bad
    name: Bad
    conditions: [{ type: line-crossed, lineId: l, direction: sideways }]
`);
  const paths = found.map((p) => p.path);
  assert.ok(paths.includes('rules[0].cameras[1]'), JSON.stringify(found));
  assert.ok(paths.includes('rules[0].conditions[0].minAreaFraction'), JSON.stringify(found));
  assert.ok(paths.includes('rules[0].schedule.times[0]'), JSON.stringify(found));
  assert.ok(paths.includes('rules[1].id'), JSON.stringify(found));
  assert.ok(
    paths.some((p) => p.startsWith('rules[2].conditions[0]')),
    JSON.stringify(found),
  );
  assert.match(found.find((p) => p.path === 'rules[0].cameras[1]')?.message ?? '', /unknown camera 'garage'/);
});

test('zones and lines a rule names must exist on one of its cameras, when the scenes are known', () => {
  const rule = normaliseRule({
    id: 'r',
    name: 'R',
    cameras: ['gate', 'yard'],
    conditions: [
      { type: 'zone-entered', zoneId: 'door' },
      { type: 'line-crossed', lineId: 'path', direction: 'both' },
      { type: 'crowding', zoneId: 'lobby', moreThan: 3, forMs: 0 },
    ],
  });
  const scenes = new Map([
    ['gate', { zones: ['door'], lines: [] }],
    ['yard', { zones: [], lines: ['path'] }],
  ]);
  const cameras = new Set(['gate', 'yard']);
  assert.deepEqual(
    ruleProblems(rule, 'rules[0]', cameras, (id) => scenes.get(id)).map((p) => p.path),
    ['rules[0].conditions[2].zoneId'],
  );
  assert.deepEqual(ruleProblems(rule, 'rules[0]', cameras), [], 'scenes unknown: not checked');
  const onlyGate = { ...rule, cameras: ['gate'] };
  assert.deepEqual(
    ruleProblems(onlyGate, 'body', cameras, (id) => scenes.get(id)).map((p) => p.message),
    [
      "unknown line 'path': no line of cameras gate has this id (cameras[].scene.lines)",
      "unknown zone 'lobby': no zone of cameras gate has this id (cameras[].scene.zones)",
    ],
  );
});
