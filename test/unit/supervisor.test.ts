import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import pino from 'pino';
import type { IngestFragment } from '../../src/ingest/fragment.js';
import type { IngestProcess, Spawner } from '../../src/ingest/process.js';
import type { StreamState } from '../../src/contract/cameras.js';
import { StreamSupervisor } from '../../src/ingest/supervisor.js';
import { ManualClock } from '../../src/time/clock.js';
import { ManualTimers } from '../../src/time/timers.js';
import { makeRecording, splitStream, tempDir, type SplitStream } from '../helpers/fixtures-mp4.js';

/** Lets stream 'data' events and other already-queued callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** An ffmpeg that does what the test says: write media or stderr, exit, ignore SIGTERM. */
class FakeProcess extends EventEmitter implements IngestProcess {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly signals: NodeJS.Signals[] = [];

  constructor(
    readonly command: string,
    readonly args: readonly string[],
    private readonly ignoresSigterm: boolean,
  ) {
    super();
  }

  kill(signal: NodeJS.Signals): boolean {
    this.signals.push(signal);
    if (!(signal === 'SIGTERM' && this.ignoresSigterm)) setImmediate(() => this.end(null, signal));
    return true;
  }

  async media(bytes: Buffer): Promise<void> {
    this.stdout.write(bytes);
    await settle();
  }

  /** Writes its last words to stderr, then exits with code. */
  async exit(code: number, stderr = ''): Promise<void> {
    if (stderr) this.stderr.write(stderr);
    await settle();
    this.end(code, null);
    await settle();
  }

  private end(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exitCode !== null || this.signalCode !== null) return;
    this.exitCode = code;
    this.signalCode = signal;
    this.stdout.end();
    this.stderr.end();
    this.emit('exit', code, signal);
    this.emit('close', code, signal);
  }
}

const REFUSED = '[tcp @ 0x1] Connection to tcp://192.0.2.1:554 failed: Connection refused\n';
const UNAUTHORIZED = '[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized\n';

/** A supervisor on a manual clock whose ffmpeg is a FakeProcess; records when each one started. */
function harness(options: { ignoresSigterm?: boolean } = {}) {
  const clock = new ManualClock(1_700_000_000_000);
  const timers = new ManualTimers(clock);
  const startMs = clock.nowMs();
  const processes: FakeProcess[] = [];
  const startedAtMs: number[] = [];
  const spawn: Spawner = (command, args) => {
    const child = new FakeProcess(command, args, options.ignoresSigterm ?? false);
    processes.push(child);
    startedAtMs.push(clock.nowMs() - startMs);
    return child;
  };
  const supervisor = new StreamSupervisor({
    cameraId: 'cam',
    stream: 'main',
    plan: { ffmpegPath: 'ffmpeg', args: () => ['-i', 'rtsp://192.0.2.1/main'] },
    clock,
    timers,
    spawn,
    log: pino({ level: 'silent' }),
    retryInitialMs: 1000,
    retryMaxMs: 5000,
    stallTimeoutMs: 10_000,
  });
  const states: StreamState[] = [];
  supervisor.on('status', (status) => states.push(status.state));
  const current = () => {
    const child = processes.at(-1);
    assert.ok(child, 'an ffmpeg was started');
    return child;
  };
  return { clock, timers, supervisor, processes, startedAtMs, states, current };
}

test('a refused connection is retried with doubling backoff, capped at retryMaxMs', async () => {
  const h = harness();
  h.supervisor.start();
  const waits = [1000, 2000, 4000, 5000, 5000];
  for (const waitMs of waits) {
    await h.current().exit(1, REFUSED);
    assert.equal(h.supervisor.status().state, 'offline');
    // Nothing restarts before the backoff has passed, and it restarts as soon as it has.
    h.timers.advance(waitMs - 1);
    const before = h.processes.length;
    h.timers.advance(1);
    assert.equal(h.processes.length, before + 1, `a new ffmpeg ${waitMs} ms after the failure`);
  }
  assert.deepEqual(h.startedAtMs, [0, 1000, 3000, 7000, 12000, 17000]);
  const status = h.supervisor.status();
  assert.equal(status.reconnectCount, 5);
  assert.equal(status.lastError?.kind, 'connection_refused');
  // The command line is ffmpeg's (behind setpriv where it exists, so it dies with Vigil).
  assert.ok(h.current().args.includes('rtsp://192.0.2.1/main'));
  await h.supervisor.stop();
});

test('a failure retrying will not fix is an error, retried at the slowest rate', async () => {
  const h = harness();
  h.supervisor.start();
  for (let i = 0; i < 3; i++) {
    await h.current().exit(1, UNAUTHORIZED);
    assert.equal(h.supervisor.status().state, 'error');
    h.timers.advance(5000);
  }
  assert.deepEqual(h.startedAtMs, [0, 5000, 10000, 15000]);
  assert.match(h.supervisor.status().lastError?.message ?? '', /401 Unauthorized/);
  assert.deepEqual(h.states, [
    'connecting',
    'error',
    'connecting',
    'error',
    'connecting',
    'error',
    'connecting',
  ]);
  await h.supervisor.stop();
});

test('a camera that sends nothing is killed by the watchdog and retried', async () => {
  const h = harness();
  h.supervisor.start();
  // Before the first fragment the watchdog allows stallTimeoutMs plus 10 s of connecting.
  h.timers.advance(19_999);
  assert.deepEqual(h.current().signals, []);
  h.timers.advance(1);
  assert.deepEqual(h.current().signals, ['SIGKILL']);
  await settle();
  const status = h.supervisor.status();
  assert.equal(status.lastError?.kind, 'timeout');
  assert.equal(status.lastError?.message, 'no media within 20 s of connecting: retrying');
  h.timers.advance(1000);
  assert.deepEqual(h.startedAtMs, [0, 21_000]);
  await h.supervisor.stop();
});

test('stop() ends ffmpeg with SIGTERM, then SIGKILL when it does not go, and restarts nothing', async () => {
  const h = harness({ ignoresSigterm: true });
  h.supervisor.start();
  const stopping = h.supervisor.stop();
  assert.deepEqual(h.current().signals, ['SIGTERM']);
  h.timers.advance(2999);
  assert.deepEqual(h.current().signals, ['SIGTERM']);
  h.timers.advance(1);
  assert.deepEqual(h.current().signals, ['SIGTERM', 'SIGKILL']);
  await stopping;
  assert.equal(h.supervisor.status().state, 'offline');
  h.timers.advance(60_000);
  assert.equal(h.processes.length, 1);
  assert.equal(h.timers.size, 0, 'no timer left behind');
});

let media: SplitStream | null = null;
const dir = tempDir('vigil-supervisor-');
before(async () => {
  const path = await makeRecording(join(dir.path, 'clip.mp4'), { codec: 'h264', durationS: 3 });
  media = splitStream(readFileSync(path));
});
after(() => dir.remove());

test('media that stops: the watchdog fires stallTimeoutMs after the last fragment, not before', async () => {
  assert.ok(media);
  const h = harness();
  h.supervisor.start();
  await h.current().media(Buffer.concat([media.init, media.fragments[0]!]));
  for (const fragment of media.fragments.slice(1, 6)) {
    h.timers.advance(3000);
    await h.current().media(fragment);
  }
  // A fragment every 3 s for 15 s: never 10 s of silence, though 15 s passed since the first.
  assert.deepEqual(h.current().signals, []);
  h.timers.advance(9999);
  assert.deepEqual(h.current().signals, []);
  h.timers.advance(1);
  assert.deepEqual(h.current().signals, ['SIGKILL']);
  await settle();
  assert.equal(h.supervisor.status().lastError?.kind, 'stalled');
  await h.supervisor.stop();
});

test('media brings the stream online, resets the backoff, and a new connection gets a new connection id', async () => {
  assert.ok(media);
  const h = harness();
  const fragments: IngestFragment[] = [];
  h.supervisor.on('fragment', (fragment) => fragments.push(fragment));
  h.supervisor.start();
  await h.current().exit(1, REFUSED);
  h.timers.advance(1000);
  await h.current().exit(1, REFUSED);
  h.timers.advance(2000);
  // The third attempt delivers media: online, and the next failure waits retryInitialMs again.
  await h.current().media(Buffer.concat([media.init, ...media.fragments.slice(0, 3)]));
  assert.equal(h.supervisor.status().state, 'online');
  assert.equal(fragments.length, 3);
  assert.equal(fragments[0]?.parsed.startsWithKeyframe, true);
  assert.equal(fragments[0]?.arrivedAtMs, h.clock.nowMs());
  await h.current().exit(0);
  assert.equal(h.supervisor.status().lastError?.kind, 'ended');
  h.timers.advance(1000);
  assert.deepEqual(h.startedAtMs, [0, 1000, 3000, 4000]);
  await h.current().media(Buffer.concat([media.init, ...media.fragments.slice(0, 1)]));
  assert.equal(fragments.length, 4);
  assert.notEqual(fragments[3]?.connectionId, fragments[0]?.connectionId);
  // The /metrics totals run on across reconnections: every fragment's bytes and frames.
  assert.deepEqual(h.supervisor.counters(), {
    receivedBytes: fragments.reduce((sum, f) => sum + f.bytes.length, 0),
    receivedFrames: fragments.reduce((sum, f) => sum + (f.parsed.tracks[0]?.samples.length ?? 0), 0),
  });
  assert.ok(h.supervisor.counters().receivedFrames >= 4);
  assert.deepEqual(h.states, [
    'connecting',
    'offline',
    'connecting',
    'offline',
    'connecting',
    'online',
    'offline',
    'connecting',
    'online',
  ]);
  await h.supervisor.stop();
});
