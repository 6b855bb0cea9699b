import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../../src/config/index.js';
import { privacyNotice } from '../../../src/system/privacy-notice.js';

const config = parseConfigText(
  `
site:
  name: Town hall
  controller: Town of Exampleton, 1 Market Square
  purpose: protection of the building against vandalism
retention: { continuousDays: 2, eventsDays: 30, justification: 'vandalism is often found weeks later' }
cameras:
  - id: door
    name: Main door
    streams: { main: { url: rtsp://10.0.0.5/main } }
    detect: { enabled: true, labels: [person, car] }
  - id: yard
    streams: { main: { url: rtsp://10.0.0.6/main } }
    detect: { enabled: false }
    retention: { continuousDays: 7, justification: 'the yard is checked on the weekly round only' }
  - id: old
    enabled: false
    streams: { main: { url: rtsp://10.0.0.7/main } }
`,
  { baseDir: '/etc/vigil', env: {}, sourceName: 'vigil.yaml' },
).config;

test('the notice says who records, why and how long, per camera, from the settings', () => {
  const notice = privacyNotice(config.site, config.retention, config.cameras, 1_000);
  assert.deepEqual(notice.site, {
    name: 'Town hall',
    controller: 'Town of Exampleton, 1 Market Square',
    purpose: 'protection of the building against vandalism',
    contact: null,
  });
  assert.deepEqual(notice.missing, ['site.contact'], 'whom to ask is missing, and the notice says so');
  assert.deepEqual(
    notice.cameras.map((c) => [c.id, c.name, c.continuousDays, c.justification, c.detects]),
    [
      ['door', 'Main door', 2, null, ['person', 'car']],
      ['yard', 'yard', 7, 'the yard is checked on the weekly round only', []],
    ],
    'disabled cameras record nothing and are not on the notice; a justification shows only beyond 72 h',
  );
  assert.equal(notice.eventsDays, 30);
  assert.equal(notice.justification, 'vandalism is often found weeks later');
  assert.equal(notice.generatedAtMs, 1_000);
});
