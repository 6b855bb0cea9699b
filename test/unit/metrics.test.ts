import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { EventView } from '../../src/contract/events.js';
import { EventBus } from '../../src/events/bus.js';
import { VigilMetrics } from '../../src/metrics/vigil-metrics.js';
import { ManualClock } from '../../src/time/clock.js';
import { REPO_ROOT } from '../helpers/vigil.js';

/** A Vigil's metrics with nothing running: no camera, an empty index, no detector. */
function idleMetrics(bus = new EventBus()): VigilMetrics {
  return new VigilMetrics({
    version: '9.9.9',
    storageRoot: tmpdir(),
    clock: new ManualClock(1_700_000_000_000),
    index: { usageByCamera: async () => new Map(), get: async () => undefined },
    retention: {
      status: () => ({
        lastRunAtMs: null,
        deletedSegmentCount: 0,
        shortfallBytes: 0,
        freeBytes: null,
        usedBytes: null,
        evidenceOnlyCameras: [],
      }),
    },
    cameras: { list: () => [] },
    analytics: { onInference: () => () => true, queueDepth: () => 0, counters: () => [] },
    bus,
  });
}

/** Metric families a scrape declares (# TYPE lines), by name. */
function families(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]));
}

/** A sample's family: histograms write name_bucket, name_sum and name_count. */
function familyName(name: string, declared: Map<string, string>): string {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return declared.get(base) === 'histogram' ? base : name;
}

test('docs/ref/api.md lists exactly the metrics Vigil exports', async () => {
  const metrics = idleMetrics();
  const declared = families((await metrics.render()).text);
  const exported = [...declared.keys()].filter((name) => name.startsWith('vigil_')).sort();
  const api = readFileSync(join(REPO_ROOT, 'docs', 'ref', 'api.md'), 'utf8');
  const documented = [...api.matchAll(/^\| `(vigil_[a-z_]+)` \| (\w+) \|/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(documented.map(([name]) => name).sort(), exported);
  for (const [name, type] of documented) assert.equal(type, declared.get(name as string), `${name}'s type`);
  metrics.stop();
});

test('the Grafana dashboard queries only metrics that exist', async () => {
  const metrics = idleMetrics();
  const declared = families((await metrics.render()).text);
  const dashboard = JSON.parse(
    readFileSync(join(REPO_ROOT, 'examples', 'grafana', 'vigil-dashboard.json'), 'utf8'),
  ) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }>; templating: unknown };
  const queried = new Set<string>();
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) {
      assert.match(target.expr, /instance=~"\$instance"/, `${panel.title} follows the chosen Vigil`);
      for (const [name] of target.expr.matchAll(/\b(?:vigil|process|nodejs)_[a-z0-9_]+/g)) queried.add(name);
    }
  }
  for (const [name] of JSON.stringify(dashboard.templating).matchAll(/\bvigil_[a-z_]+/g)) queried.add(name);
  const unknown = [...queried].filter((name) => !declared.has(familyName(name, declared)));
  assert.deepEqual(unknown, []);
  const shown = new Set([...queried].map((name) => familyName(name, declared)));
  const missing = [...declared.keys()].filter((name) => name.startsWith('vigil_') && !shown.has(name));
  assert.deepEqual(missing, [], 'every Vigil metric has a panel');
  metrics.stop();
});

test('HTTP labels: methods outside the usual set and missing routes fold into one series each', async () => {
  const metrics = idleMetrics();
  metrics.observeHttpRequest({ method: 'PROPFIND', route: null, statusCode: 404, durationMs: 3 });
  metrics.observeHttpRequest({ method: 'MKCOL', route: null, statusCode: 405, durationMs: 7 });
  metrics.observeHttpRequest({ method: 'GET', route: '/api/cameras/:id', statusCode: 200, durationMs: 12 });
  metrics.observeHttpRequest({ method: 'GET', route: '/api/cameras/:id', statusCode: 503, durationMs: 2000 });
  const { text } = await metrics.render();
  const counts = [...text.matchAll(/^vigil_http_request_duration_seconds_count\{(.*)\} (\d+)$/gm)].map(
    (m) => `${m[1]} ${m[2]}`,
  );
  assert.deepEqual(counts.sort(), [
    'method="GET",route="/api/cameras/:id",status_class="2xx" 1',
    'method="GET",route="/api/cameras/:id",status_class="5xx" 1',
    'method="other",route="unmatched",status_class="4xx" 2',
  ]);
  assert.match(
    text,
    /^vigil_http_request_duration_seconds_sum\{method="GET",route="\/api\/cameras\/:id",status_class="5xx"\} 2$/m,
  );
  metrics.stop();
});

test('events are counted as they open, by camera and label; stop() stops listening', async () => {
  const bus = new EventBus();
  const metrics = idleMetrics(bus);
  const view = (id: number, label: string): EventView => ({
    id,
    cameraId: 'door',
    label,
    trackId: id,
    startTimeMs: 1,
    endTimeMs: null,
    maxScore: 0.9,
    box: { x: 0, y: 0, width: 0.1, height: 0.2 },
    path: [],
    zones: [],
    snapshot: null,
    clip: { startTimeMs: 0, endTimeMs: 2, url: `/api/events/${id}/clip.mp4` },
    createdAtMs: 1,
    updatedAtMs: 1,
  });
  bus.publish('event', { type: 'new', before: null, after: view(1, 'person') });
  bus.publish('event', { type: 'update', before: view(1, 'person'), after: view(1, 'person') });
  bus.publish('event', { type: 'end', before: view(1, 'person'), after: view(1, 'person') });
  bus.publish('event', { type: 'new', before: null, after: view(2, 'person') });
  bus.publish('event', { type: 'new', before: null, after: view(3, 'car') });
  const { text } = await metrics.render();
  assert.match(text, /^vigil_events_total\{camera="door",label="person"\} 2$/m);
  assert.match(text, /^vigil_events_total\{camera="door",label="car"\} 1$/m);
  metrics.stop();
  assert.equal(bus.listenerCount('event'), 0);
});
