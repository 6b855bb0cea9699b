import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { nodeSegmentFiles, type SegmentFiles } from '../../src/recording/segment-files.js';
import { fsck } from '../../src/storage/fsck.js';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { getJson, startTestVigil, waitFor, type TestVigil } from '../helpers/vigil.js';
import { assertOrderedWithoutOverlap, faultScale, segmentsOf } from './fault-helpers.js';

/**
 * A disk that becomes slow, then stalls outright (a dying drive, an NFS server gone away), through
 * the recorder's file layer: every segment write waits until the test lets it go. The API and live
 * view must keep answering meanwhile, and recording must catch up or say what it lost.
 */

/** node:fs with writes held back while `stalled`, and each write slowed by `delayMs`. */
class FaultyDisk implements SegmentFiles {
  delayMs = 0;
  private stall: { promise: Promise<void>; release(): void } | null = null;
  heldWrites = 0;

  stallNow(): void {
    let release = () => {};
    const promise = new Promise<void>((resolve) => (release = resolve));
    this.stall = { promise, release };
  }

  recover(): void {
    this.stall?.release();
    this.stall = null;
    this.delayMs = 0;
  }

  create = (path: string) => nodeSegmentFiles.create(path);
  truncate = (fd: number, byteLength: number) => nodeSegmentFiles.truncate(fd, byteLength);
  close = (fd: number) => nodeSegmentFiles.close(fd);
  sync = async (fd: number) => {
    await this.wait();
    await nodeSegmentFiles.sync(fd);
  };
  write = async (fd: number, chunks: readonly Buffer[], position: number) => {
    await this.wait();
    await nodeSegmentFiles.write(fd, chunks, position);
  };

  private async wait(): Promise<void> {
    if (this.stall) {
      this.heldWrites += 1;
      await this.stall.promise;
    }
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
  }
}

interface StreamStatus {
  state: string;
  recording: { lastError: { message: string } | null; droppedFragmentCount: number };
}

const STALL_MS = faultScale(40_000, 300_000);

describe('a slow, then stalled disk', { timeout: 180_000 + STALL_MS }, () => {
  let cameras: TestCameras;
  let vigil: TestVigil;
  const disk = new FaultyDisk();

  before(async () => {
    cameras = await startCameras({ count: 1 });
    vigil = await startTestVigil(
      `
storage: { path: ./data, minFreeBytes: 1MB }
recording: { segmentDurationMs: 2000 }
cameras:
  - id: cam1
    streams: { main: { url: "${cameras.urls(1).main}" } }
`,
      undefined,
      { vigil: { segmentFiles: disk } },
    );
  });

  after(async () => {
    disk.recover();
    await vigil?.close();
    await cameras?.stop();
  });

  const status = async () =>
    (await getJson<{ streams: { main: StreamStatus } }>(`${vigil.url}/api/cameras/cam1/status`)).body.streams
      .main;

  test('the API and live view answer throughout; recording resumes and reports what it dropped', async (t) => {
    await waitFor(
      '3 closed segments',
      async () => {
        const segments = await segmentsOf(vigil.index, 'cam1', 'main');
        return segments.filter((s) => s.state === 'closed').length >= 3;
      },
      60_000,
    );

    // Live view: a WebSocket viewer counts the bytes it gets while the disk misbehaves.
    const socket = new WebSocket(`${vigil.url.replace('http', 'ws')}/api/cameras/cam1/live`, {
      headers: { authorization: `Bearer ${vigil.token}` },
    });
    let liveBytes = 0;
    socket.on('message', (data: Buffer) => (liveBytes += data.length));
    await new Promise((resolve, reject) => {
      socket.once('message', resolve);
      socket.once('error', reject);
    });

    disk.delayMs = 1500; // slow: each write takes longer than a fragment lasts
    await new Promise((r) => setTimeout(r, 5000));
    disk.stallNow(); // then nothing gets through
    const stalledAtMs = Date.now();
    const apiLatenciesMs: number[] = [];
    const liveAtStall = liveBytes;
    while (Date.now() - stalledAtMs < STALL_MS) {
      const started = performance.now();
      const health = await getJson(`${vigil.url}/api/health`);
      apiLatenciesMs.push(performance.now() - started);
      const snapshot = await fetch(`${vigil.url}/api/cameras/cam1/snapshot.jpg`, {
        headers: { authorization: `Bearer ${vigil.token}` },
      });
      assert.ok(health.status < 500, `health answers during the stall (${health.status})`);
      assert.equal(snapshot.status, 200, 'a live snapshot during the stall');
      await snapshot.arrayBuffer();
      await new Promise((r) => setTimeout(r, 1000));
    }
    const liveDuringStall = liveBytes - liveAtStall;
    const during = await status();
    assert.match(during.recording.lastError?.message ?? '', /disk is too slow/);
    assert.ok(during.recording.droppedFragmentCount > 0, 'the loss is counted');
    assert.ok(liveDuringStall > 50_000, `live view went on during the stall (${liveDuringStall} bytes)`);
    const sorted = [...apiLatenciesMs].sort((a, b) => a - b);
    const worstMs = sorted.at(-1)!;
    assert.ok(
      worstMs < 2000,
      `the API answered within 2 s during the stall (worst ${worstMs.toFixed(0)} ms)`,
    );

    disk.recover();
    const recoveredAtMs = Date.now();
    await waitFor(
      'recording after the disk recovers',
      async () => {
        const segments = await segmentsOf(vigil.index, 'cam1', 'main');
        return segments.some((s) => s.state === 'closed' && s.startTimeMs >= recoveredAtMs);
      },
      60_000,
    );
    socket.close();
    const segments = await segmentsOf(vigil.index, 'cam1', 'main');
    assertOrderedWithoutOverlap(segments, 'cam1');
    const report = await fsck(vigil.index, join(vigil.dir, 'data'), { repair: false, nowMs: Date.now() });
    assert.deepEqual(
      report.problems.filter((p) => p.kind !== 'open-segment'),
      [],
    );
    t.diagnostic(
      `stall ${STALL_MS} ms: ${disk.heldWrites} writes held, ${during.recording.droppedFragmentCount} fragments dropped; ` +
        `/api/health median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, worst ${worstMs.toFixed(0)} ms; ` +
        `live ${liveDuringStall} bytes during the stall`,
    );
  });
});
