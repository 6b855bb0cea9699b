import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  parseConfigText,
  tamperConfigFor,
  validateCamera,
  type ConfigProblem,
  type LoadedConfig,
} from '../../../src/config/index.js';
import { VigilError } from '../../../src/errors/catalogue.js';

function parse(text: string): LoadedConfig {
  return parseConfigText(text, { baseDir: '/etc/vigil', env: {}, sourceName: 'vigil.yaml' });
}

const camera = (detect: string) => `
cameras:
  - id: yard
    streams: { main: { url: "rtsp://h/main" }, sub: { url: "rtsp://h/sub" } }
    detect: ${detect}
`;

test('detect.tamper: on by default with 10 s and sensitivity 0.5; keys left out take their defaults', () => {
  const plain = parse(camera('{}')).config.cameras[0]!.detect!;
  assert.equal(plain.tamper, undefined);
  assert.deepEqual(tamperConfigFor(plain), { enabled: true, minDurationMs: 10_000, sensitivity: 0.5 });
  const set = parse(camera('{ tamper: { minDurationMs: 30000 } }')).config.cameras[0]!.detect!;
  assert.deepEqual(tamperConfigFor(set), { enabled: true, minDurationMs: 30_000, sensitivity: 0.5 });
  const off = parse(camera('{ tamper: { enabled: false } }')).config.cameras[0]!.detect!;
  assert.equal(tamperConfigFor(off).enabled, false);
});

test('detect.tamper: out-of-range values and unknown keys are refused, in the file and through the API', () => {
  let problems: ConfigProblem[] = [];
  try {
    parse(camera('{ tamper: { minDurationMs: 10, sensitivity: 2, alarm: true } }'));
  } catch (err) {
    assert.ok(err instanceof VigilError);
    problems = err.details?.['problems'] as ConfigProblem[];
  }
  const paths = problems.map((p) => p.path).sort();
  assert.deepEqual(paths, [
    'cameras[0].detect.tamper.alarm',
    'cameras[0].detect.tamper.minDurationMs',
    'cameras[0].detect.tamper.sensitivity',
  ]);
  const api = validateCamera(
    { id: 'x', streams: { main: { url: 'rtsp://h/x' } }, detect: { tamper: { sensitivity: -1 } } },
    'body',
  );
  assert.equal(api.ok, false);
});
