import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDatabase } from '../../src/storage/db.js';
import { SegmentIndex } from '../../src/storage/segment-index.js';
import { freePort, startCameras, type TestCameras } from '../helpers/cameras.js';
import { connectionsTo } from '../helpers/connections.js';
import { getJson, spawnVigil, tempDir, writeConfig, type VigilProcess } from '../helpers/vigil.js';
import {
  assertOrderedWithoutOverlap,
  faultScale,
  sampleProcess,
  segmentsOf,
  type ProcessSample,
} from './fault-helpers.js';

/**
 * Vigil recording many cameras for a long time, as its own process: memory flat, file
 * descriptors and threads steady, one ingest process per stream, and no recording lost. Short in
 * `npm test` (4 cameras, 90 s); `npm run test:faults` runs 16 cameras for an hour. The 24-hour run
 * is the same with VIGIL_SOAK_MINUTES=1440.
 */

const CAMERAS = faultScale(4, 16);
const RUN_MS = Number(process.env.VIGIL_SOAK_MINUTES ?? faultScale(1.5, 60)) * 60_000;
const SAMPLE_EVERY_MS = faultScale(5_000, 30_000);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const num = xs.reduce((sum, x, i) => sum + (x - mx) * (ys[i]! - my), 0);
  const den = xs.reduce((sum, x) => sum + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

describe(`soak: ${CAMERAS} cameras for ${RUN_MS / 60_000} min`, { timeout: RUN_MS + 300_000 }, () => {
  let cameras: TestCameras;
  let vigil: VigilProcess;
  const dir = tempDir('vigil-fault-soak-');

  before(async () => {
    cameras = await startCameras({ count: CAMERAS });
    const list = Array.from(
      { length: CAMERAS },
      (_, i) => `  - id: cam${i + 1}\n    streams: { main: { url: "${cameras.urls(i + 1).main}" } }`,
    ).join('\n');
    const config = writeConfig(
      dir,
      `storage: { path: ./data, minFreeBytes: 1MB }\nrecording: { segmentDurationMs: 10000 }\ncameras:\n${list}\n`,
    );
    vigil = await spawnVigil(config, await freePort());
  });

  after(async () => {
    if (vigil && vigil.child.exitCode === null) {
      vigil.child.kill('SIGTERM');
      await new Promise((r) => vigil.child.once('exit', r));
    }
    await cameras?.stop();
  });

  test('memory flat, fds and threads steady, one ingest per stream, nothing lost', async (t) => {
    const pid = vigil.child.pid!;
    const ids = Array.from({ length: CAMERAS }, (_, i) => `cam${i + 1}`);
    for (const id of ids) {
      for (let i = 0; ; i += 1) {
        const { body } = await getJson<{ streams: { main: { state: string } } }>(
          `${vigil.url}/api/cameras/${id}/status`,
        );
        if (body.streams.main.state === 'online') break;
        assert.ok(i < 60, `${id} online`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    // Warm-up: caches, the JIT and the first segments settle before the baseline.
    await new Promise((r) => setTimeout(r, Math.min(30_000, RUN_MS / 3)));
    const fromMs = Date.now();
    const samples: (ProcessSample & { atMs: number; ingests: number })[] = [];
    while (Date.now() - fromMs < RUN_MS) {
      // A client keeps asking, as a UI would.
      await getJson(`${vigil.url}/api/system`);
      const ingests = connectionsTo(pid, cameras.port);
      samples.push({ ...sampleProcess(pid), atMs: Date.now(), ingests });
      await new Promise((r) => setTimeout(r, SAMPLE_EVERY_MS));
    }
    const toMs = Date.now();
    vigil.child.kill('SIGTERM');
    await new Promise((r) => vigil.child.once('exit', r));

    const late = samples.slice(Math.floor(samples.length / 2));
    const rssMiB = samples.map((s) => s.rssBytes / 2 ** 20);
    const mibPerHour = slope(
      late.map((s) => s.atMs / 3_600_000),
      late.map((s) => s.rssBytes / 2 ** 20),
    );
    const fds = samples.map((s) => s.fds);
    const threads = samples.map((s) => s.threads);
    t.diagnostic(
      `${samples.length} samples: RSS ${Math.min(...rssMiB).toFixed(0)}–${Math.max(...rssMiB).toFixed(0)} MiB ` +
        `(second half ${mibPerHour.toFixed(1)} MiB/h), fds ${Math.min(...fds)}–${Math.max(...fds)}, ` +
        `threads ${Math.min(...threads)}–${Math.max(...threads)}, ingests ${[...new Set(samples.map((s) => s.ingests))].join('/')}`,
    );
    for (const s of samples) assert.equal(s.ingests, CAMERAS, 'one camera connection per stream');
    assert.ok(Math.max(...fds) - median(fds) <= 2 * CAMERAS + 10, `fds steady: ${fds.join(' ')}`);
    assert.ok(Math.max(...threads) - median(threads) <= 8, `threads steady: ${threads.join(' ')}`);
    // Flat: less than 5 MiB per hour in the second half, or under 10% of the median over the run.
    const growthMiB = (mibPerHour * (toMs - fromMs)) / 3_600_000;
    assert.ok(
      mibPerHour < 5 || growthMiB < 0.1 * median(rssMiB),
      `memory grows ${mibPerHour.toFixed(1)} MiB/h (${growthMiB.toFixed(1)} MiB over the run)`,
    );

    // Nothing lost: each camera's recording covers the run, segments in order without overlap.
    const db = await openDatabase(join(dir, 'data', 'index.sqlite'));
    try {
      const index = new SegmentIndex(db);
      for (const id of ids) {
        const segments = await segmentsOf(index, id, 'main');
        assertOrderedWithoutOverlap(segments, id);
        const coveredMs = segments.reduce(
          (sum, s) => sum + Math.max(0, Math.min(s.endTimeMs, toMs) - Math.max(s.startTimeMs, fromMs)),
          0,
        );
        assert.ok(
          coveredMs / (toMs - fromMs) >= 0.98,
          `${id} recorded ${((100 * coveredMs) / (toMs - fromMs)).toFixed(1)}%`,
        );
      }
    } finally {
      await db.destroy();
    }
  });
});
