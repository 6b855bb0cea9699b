import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { getJson, startTestVigil, waitFor, type TestVigil } from '../helpers/vigil.js';
import { assertOrderedWithoutOverlap, faultScale, segmentsOf } from './fault-helpers.js';
import { startImpairedLink, type ImpairedLink } from './impaired-link.js';

/**
 * A camera behind a bad link: 150 ms latency with ±100 ms jitter and 2% of chunks stalled for
 * 400 ms as TCP waits out a lost packet, then 300 ± 200 ms with 3% stalled for 0.8 s. Recording
 * must go on without overlaps, and cover nearly all of the time.
 */

const RUN_MS = faultScale(40_000, 600_000);
const MODERATE = { latencyMs: 150, jitterMs: 100, stallChance: 0.02, stallMs: 400 };
/** The second half: a link at its worst (a camera on failing Wi-Fi). */
const HEAVY = { latencyMs: 300, jitterMs: 200, stallChance: 0.03, stallMs: 800 };

describe('a camera on a lossy, jittery link', { timeout: 120_000 + RUN_MS }, () => {
  let cameras: TestCameras;
  let link: ImpairedLink;
  let vigil: TestVigil;

  before(async () => {
    cameras = await startCameras({ count: 1 });
    link = await startImpairedLink(cameras.port, MODERATE);
    const url = cameras.urls(1).main.replace(`:${cameras.port}/`, `:${link.port}/`);
    vigil = await startTestVigil(`
storage: { path: ./data, minFreeBytes: 1MB }
recording: { segmentDurationMs: 2000 }
cameras:
  - id: cam1
    streams: { main: { url: "${url}", transport: tcp } }
`);
  });

  after(async () => {
    await vigil?.close();
    await link?.close();
    await cameras?.stop();
  });

  test('recording covers the time without overlaps; the stream stays up or comes back', async (t) => {
    await waitFor(
      'online',
      async () => {
        const { body } = await getJson<{ streams: { main: { state: string } } }>(
          `${vigil.url}/api/cameras/cam1/status`,
        );
        return body.streams.main.state === 'online';
      },
      60_000,
    );
    const fromMs = Date.now();
    await new Promise((r) => setTimeout(r, RUN_MS / 2));
    link.impairment = HEAVY;
    await new Promise((r) => setTimeout(r, RUN_MS / 2));
    const segments = await segmentsOf(vigil.index, 'cam1', 'main');
    assertOrderedWithoutOverlap(segments, 'cam1');
    const closed = segments.filter((s) => s.state === 'closed');
    // Up to the end of the last closed segment: the open one is still being written.
    const toMs = closed.at(-1)!.endTimeMs;
    const coveredMs = segments.reduce(
      (sum, s) =>
        sum + Math.max(0, Math.min(s.endTimeMs ?? Date.now(), toMs) - Math.max(s.startTimeMs, fromMs)),
      0,
    );
    const coverage = coveredMs / (toMs - fromMs);
    t.diagnostic(
      `${(coverage * 100).toFixed(1)}% of ${toMs - fromMs} ms recorded; ${link.connections()} connections through the link`,
    );
    assert.ok(coverage >= 0.9, `recorded ${(coverage * 100).toFixed(1)}% of the time`);
  });
});
