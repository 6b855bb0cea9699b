import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { startTestVigil, waitFor } from '../helpers/vigil.js';
import type { RunningVigil } from '../../src/app/vigil.js';

let cameras: TestCameras | undefined;
let vigil: RunningVigil | undefined;

after(async () => {
  await vigil?.close();
  await cameras?.stop();
});

test(
  'retention by quota deletes the oldest segments first and spares held ones',
  { timeout: 120_000 },
  async () => {
    cameras = await startCameras({ count: 1 });
    // The sub stream (~0.6 Mbit/s) in 2 s segments: a 1 MB budget holds a handful of them.
    vigil = await startTestVigil(`
storage: { path: ./data, maxBytes: 1MB, minFreeBytes: 1MB }
recording: { segmentDurationMs: 2000 }
retention: { checkIntervalMs: 1000 }
cameras:
  - id: cam1
    streams:
      main: { url: "${cameras.urls(1).sub}" }
`);
    const index = vigil.index;
    const first = await waitFor(
      'the first closed segment',
      async () => (await index.all()).find((s) => s.state === 'closed'),
      20_000,
    );
    await index.addHold({
      cameraId: 'cam1',
      startTimeMs: first.start_time_ms,
      endTimeMs: first.end_time_ms,
      untilMs: null,
      kind: 'evidence',
      reason: 'test: evidence lock',
      createdAtMs: Date.now(),
    });
    const seenIds = new Set<number>();
    await waitFor(
      'retention to delete segments',
      async () => {
        const rows = await index.all();
        rows.forEach((r) => seenIds.add(r.id));
        return seenIds.size - rows.length >= 4;
      },
      60_000,
    );
    // The open segment counts as kept: retention only ever considers closed ones.
    const rows = await index.all();
    const ids = rows.map((r) => r.id);
    assert.ok(ids.includes(first.id), 'the held segment survives');
    const unheld = ids.filter((id) => id !== first.id);
    const deleted = [...seenIds].filter((id) => !ids.includes(id) && id !== first.id);
    assert.ok(deleted.length >= 4);
    assert.ok(
      Math.max(...deleted) < Math.min(...unheld),
      `deleted ${deleted} must all be older than kept ${unheld}`,
    );
    const usedBytes = await index.usedBytes();
    const largest = Math.max(...rows.map((r) => r.byte_length));
    assert.ok(usedBytes <= 1_000_000 + 2 * largest, `${usedBytes} bytes used`);
  },
);
