/**
 * GET /api/cameras/:id/heatmap through a running Vigil: stored events' paths counted on the grid,
 * the label and time filters, and camera grants (a user without the camera gets 403, and no
 * other way round it: the camera id is the only input that names a camera).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HeatMap } from '../../src/contract/scene.js';
import type { NewEvent } from '../../src/events/store.js';
import { startTestVigil, tempDir, type TestVigil } from '../helpers/vigil.js';

const HOUR_MS = 3_600_000;

describe('the heat map of event paths', { timeout: 60_000 }, () => {
  let vigil: TestVigil;
  let guardToken: string;
  const nowMs = Date.now();

  function event(
    cameraId: string,
    label: string,
    startTimeMs: number,
    path: Array<[number, number]>,
  ): NewEvent {
    return {
      cameraId,
      label,
      trackId: 1,
      startTimeMs,
      endTimeMs: startTimeMs + 10_000,
      maxScore: 0.8,
      box: { x: 0.1, y: 0.1, width: 0.1, height: 0.2 },
      path: path.map(([x, y], i) => ({ timeMs: startTimeMs + i * 1000, x, y })),
      zones: [],
      snapshotPath: null,
      cropPath: null,
      snapshotTimeMs: null,
      clipStartMs: startTimeMs - 5000,
      clipEndMs: startTimeMs + 15_000,
      createdAtMs: startTimeMs,
      updatedAtMs: startTimeMs,
    };
  }

  async function heatmap(camera: string, query: string, token = vigil.token) {
    const res = await vigil.server.inject({
      method: 'GET',
      url: `/api/cameras/${camera}/heatmap${query}`,
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: res.statusCode, body: JSON.parse(res.body) as HeatMap & { error?: { code: string } } };
  }

  before(async () => {
    vigil = await startTestVigil(
      `
storage: { path: ./data, minFreeBytes: 1MB }
cameras:
  - id: yard
    streams:
      main: { url: "testsrc:?size=320x240&fps=5" }
  - id: gate
    streams:
      main: { url: "testsrc:?size=320x240&fps=5" }
`,
      tempDir(),
    );
    const store = vigil.events.store;
    // Two people cross the middle row left to right in two points each; a car stands at the top left.
    await store.insert(
      event('yard', 'person', nowMs - HOUR_MS, [
        [0.01, 0.5],
        [0.99, 0.5],
      ]),
    );
    await store.insert(
      event('yard', 'person', nowMs - 2 * HOUR_MS, [
        [0.99, 0.51],
        [0.01, 0.51],
      ]),
    );
    await store.insert(
      event('yard', 'car', nowMs - 3 * HOUR_MS, [
        [0.05, 0.05],
        [0.06, 0.05],
        [0.05, 0.05],
      ]),
    );
    // Long ago, and on another camera: not in the answers below.
    await store.insert(event('yard', 'person', nowMs - 30 * 24 * HOUR_MS, [[0.5, 0.9]]));
    await store.insert(event('gate', 'person', nowMs - HOUR_MS, [[0.5, 0.1]]));
    const guard = await vigil.auth.store.createUser({
      name: 'guard',
      role: 'viewer',
      password: 'a long enough passphrase 7',
      cameras: ['gate'],
    });
    guardToken = (await vigil.auth.store.createToken(guard.id, { label: 't' })).token;
  });

  after(async () => {
    await vigil?.close();
  });

  test('the last 7 days by default: every path on the grid, each event once per cell', async () => {
    const { status, body } = await heatmap('yard', '');
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.columns, 48);
    assert.equal(body.rows, 36);
    assert.equal(body.cells.length, 48 * 36);
    assert.equal(body.eventCount, 3);
    assert.equal(body.label, null);
    // Row 18 (y 0.5 and 0.51): both people crossed every cell of it.
    assert.deepEqual(body.cells.slice(18 * 48, 19 * 48), new Array(48).fill(2));
    // The car stood in one cell: counted once.
    assert.equal(body.cells[1 * 48 + 2], 1);
    assert.equal(
      body.cells.reduce((a, b) => a + b, 0),
      2 * 48 + 1,
    );
  });

  test('label and time range narrow it', async () => {
    const cars = await heatmap('yard', '?label=car');
    assert.equal(cars.body.eventCount, 1);
    assert.equal(cars.body.label, 'car');
    const older = await heatmap('yard', `?from=${nowMs - 40 * 24 * HOUR_MS}&to=${nowMs - 20 * 24 * HOUR_MS}`);
    assert.equal(older.body.eventCount, 1);
    assert.equal(older.body.cells[32 * 48 + 24], 1);
    const wrong = await heatmap('yard', `?from=${nowMs}&to=${nowMs - HOUR_MS}`);
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error?.code, 'RANGE_INVALID');
    const long = await heatmap('yard', `?from=${nowMs - 200 * 24 * HOUR_MS}&to=${nowMs}`);
    assert.equal(long.status, 400);
  });

  test('camera grants: a user with only the gate camera gets its map, and 403 for the yard', async () => {
    const gate = await heatmap('gate', '', guardToken);
    assert.equal(gate.status, 200);
    assert.equal(gate.body.eventCount, 1);
    const yard = await heatmap('yard', '', guardToken);
    assert.equal(yard.status, 403);
    // Other spellings of the camera do not reach it either.
    for (const camera of ['YARD', 'yard%2F', '..%2Fyard', 'gate%2F..%2Fyard']) {
      const res = await heatmap(camera, '', guardToken);
      assert.ok(res.status === 403 || res.status === 404 || res.status === 400, `${camera}: ${res.status}`);
      assert.notEqual(res.body.eventCount, 3);
    }
    const missing = await heatmap('nowhere', '');
    assert.equal(missing.status, 404);
  });
});
