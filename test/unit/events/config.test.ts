import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  detectConfigFor,
  parseConfigText,
  validateCamera,
  type ConfigProblem,
  type LoadedConfig,
} from '../../../src/config/index.js';
import { VigilError } from '../../../src/errors/catalogue.js';

function parse(text: string): LoadedConfig {
  return parseConfigText(text, { baseDir: '/etc/vigil', env: {}, sourceName: 'vigil.yaml' });
}

function problems(text: string): ConfigProblem[] {
  try {
    parse(text);
  } catch (err) {
    assert.ok(err instanceof VigilError);
    return err.details?.['problems'] as ConfigProblem[];
  }
  return assert.fail('expected problems');
}

const camera = (detect: string) => `
cameras:
  - id: yard
    streams: { main: { url: "rtsp://h/main" }, sub: { url: "rtsp://h/sub" } }
    detect: ${detect}
`;

test('detect defaults: on with a sub stream, people, vehicles and pets, 5 s before and after', () => {
  const { config } = parse(camera('{}'));
  assert.deepEqual(config.cameras[0]!.detect, {
    enabled: true,
    fps: 5,
    labels: ['person', 'bicycle', 'car', 'motorcycle', 'bus', 'truck', 'dog', 'cat'],
    minScore: 0.5,
    filters: {},
    masks: [],
    preCaptureMs: 5000,
    postCaptureMs: 5000,
  });
  assert.equal(config.retention.eventsDays, 14);
  assert.equal(config.mqtt, undefined, 'MQTT is off without its section');
  // Cameras stored through the API before detection existed have no detect: defaults apply.
  const stored = {
    id: 'old',
    name: 'old',
    enabled: true,
    streams: { main: { url: 'rtsp://h/x', transport: 'tcp', audio: 'auto', ingest: 'ffmpeg' } },
  } as const;
  assert.equal(detectConfigFor(stored).enabled, false);
  assert.equal(detectConfigFor(stored).labels.length, 8);
});

test('detect settings are read and checked', () => {
  const { config } = parse(
    camera(`{ enabled: false, fps: 2, labels: [person, dog], minScore: 0.6, preCaptureMs: 1000, postCaptureMs: 0,
      filters: { person: { minScore: 0.7, maxAspect: 2 } }, masks: [[[0, 0], [0.5, 0], [0.5, 0.5]]] }`),
  );
  const detect = config.cameras[0]!.detect!;
  assert.deepEqual(detect.labels, ['person', 'dog']);
  assert.deepEqual(detect.filters, { person: { minScore: 0.7, maxAspect: 2 } });
  assert.deepEqual(detect.masks, [
    [
      [0, 0],
      [0.5, 0],
      [0.5, 0.5],
    ],
  ]);
  const found = problems(
    camera(`{ fps: 30, labels: [person, gender, persn], filters: { face: {} }, masks: [[[0, 0], [2, 0]]] }`),
  );
  const at = (path: string) => found.find((p) => p.path === path)?.message ?? '';
  assert.match(at('cameras[0].detect.fps'), /at most 15/);
  assert.match(at('cameras[0].detect.labels[1]'), /attribute of people.*refused by design/);
  assert.match(at('cameras[0].detect.labels[2]'), /did you mean 'person'/);
  assert.match(at('cameras[0].detect.filters.face'), /refused by design/);
  assert.match(at('cameras[0].detect.masks[0]'), /three or more points/);
  assert.match(at('cameras[0].detect.masks[0][1][0]'), /at most 1/);
  const api = validateCamera(
    { id: 'x', streams: { main: { url: 'rtsp://h/x' } }, detect: { labels: ['emotion'] } },
    'body',
  );
  assert.equal(api.ok, false);
});

test('mqtt: credentials move out of the URL, never echoed in problems', () => {
  const { config } = parse('mqtt: { url: "mqtt://vigil:s%40cret@broker.lan:1883" }');
  assert.deepEqual(config.mqtt, {
    url: 'mqtt://broker.lan:1883',
    topicPrefix: 'vigil',
    discoveryPrefix: 'homeassistant',
    user: 'vigil',
    password: 's@cret',
  });
  const found = problems(
    'mqtt: { url: "http://u:hunter2@broker", topicPrefix: "a b", discoveryPrefix: "#" }',
  );
  assert.deepEqual(
    found.map((p) => p.path),
    ['mqtt.url', 'mqtt.topicPrefix', 'mqtt.discoveryPrefix'],
  );
  assert.ok(found.every((p) => !p.message.includes('hunter2')));
  assert.match(found[0]!.message, /mqtt:\/\/127\.0\.0\.1:1883/);
  assert.match(problems('mqtt: { topicPrefix: x }')[0]!.message, /required/);
  assert.match(
    problems('mqtt: { url: "mqtt://a:b@h", password: "c" }')
      .map((p) => p.message)
      .join(),
    /not both/,
  );
});
