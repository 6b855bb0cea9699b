/**
 * The supervisor running native ingest: a session that emits the init and fragments muxed from
 * RTP captured from the camera emulator (test/fixtures/rtp), then fails, is supervised like ffmpeg.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import type { IngestFragment } from '../../src/ingest/fragment.js';
import { H264_CODEC, VideoFragmenter, type FragmenterOutput } from '../../src/ingest/rtsp/fragmenter.js';
import { H264Depacketiser, parseSpropParameterSets } from '../../src/ingest/rtsp/h264.js';
import { parseSdp } from '../../src/ingest/rtsp/sdp.js';
import type { NativeIngest, NativeIngestEvents, NativeSource } from '../../src/ingest/rtsp/session.js';
import { NATIVE_FAILURES_BEFORE_FALLBACK, StreamSupervisor } from '../../src/ingest/supervisor.js';
import type { Spawner } from '../../src/ingest/process.js';
import { capturedPackets, RTP_FIXTURES } from '../helpers/rtp-fixtures.js';
import { ManualClock } from '../../src/time/clock.js';
import { ManualTimers } from '../../src/time/timers.js';

function muxedFixture(): FragmenterOutput[] {
  const sdp = parseSdp(readFileSync(join(RTP_FIXTURES, 'vtest-sub-h264.sdp'), 'utf8')).media[0]!;
  const fragmenter = new VideoFragmenter(
    H264_CODEC,
    90000,
    parseSpropParameterSets(sdp.fmtp.get('sprop-parameter-sets')),
  );
  const depacketiser = new H264Depacketiser();
  const out: FragmenterOutput[] = [];
  for (const packet of capturedPackets('vtest-sub-h264')) {
    for (const unit of depacketiser.push(packet, packet.timestamp)) out.push(...fragmenter.push(unit));
  }
  return out;
}

class FakeSession extends EventEmitter<NativeIngestEvents> implements NativeIngest {
  stopped = false;
  constructor(readonly source: NativeSource) {
    super();
  }
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.emit('close', null);
  }
}

test('native sessions are supervised like ffmpeg: fragments out, failures reported and retried', async () => {
  const clock = new ManualClock(1_000_000);
  const timers = new ManualTimers(clock);
  const sessions: FakeSession[] = [];
  const source: NativeSource = { url: 'rtsp://u:p@cam/main', transport: 'tcp', ioTimeoutMs: 5000 };
  const supervisor = new StreamSupervisor({
    cameraId: 'cam1',
    stream: 'main',
    plan: {
      ffmpegPath: 'ffmpeg-not-used',
      args: () => assert.fail('no ffmpeg for a native plan'),
      native: source,
    },
    clock,
    timers,
    log: pino({ level: 'silent' }),
    retryInitialMs: 1000,
    retryMaxMs: 8000,
    stallTimeoutMs: 5000,
    startNative: (s) => {
      const session = new FakeSession(s);
      sessions.push(session);
      return session;
    },
  });
  const fragments: IngestFragment[] = [];
  supervisor.on('fragment', (f) => fragments.push(f));
  supervisor.start();
  assert.equal(sessions.length, 1);
  assert.deepEqual(sessions[0]!.source, source);
  assert.equal(supervisor.status().state, 'connecting');

  const outputs = muxedFixture();
  for (const output of outputs) {
    if (output.type === 'init') sessions[0]!.emit('init', output.bytes);
    else if (output.type === 'fragment') sessions[0]!.emit('fragment', output.bytes, output.fragment);
    clock.advance(100);
  }
  const status = supervisor.status();
  assert.deepEqual([status.state, status.codec, status.width, status.height], ['online', 'h264', 640, 480]);
  assert.equal(fragments.length, outputs.filter((o) => o.type === 'fragment').length);
  assert.ok(fragments.length >= 8);
  assert.equal(fragments[0]!.parsed.startsWithKeyframe, true);
  assert.equal(fragments[0]!.parsed.tracks[0]!.baseDecodeTime, 0);
  assert.ok(fragments.every((f) => f.connectionId === fragments[0]!.connectionId));
  assert.equal(fragments[0]!.bytes.length, fragments[0]!.parsed.byteLength);

  sessions[0]!.emit('close', { kind: 'ended', message: 'the camera closed the connection: reconnecting' });
  assert.equal(supervisor.status().state, 'offline');
  assert.match(supervisor.status().lastError?.message ?? '', /camera closed the connection/);
  timers.advance(1000);
  assert.equal(sessions.length, 2, 'a new session after the retry delay');

  // A stall: no media within the connect allowance ends the session and retries.
  timers.advance(5000 + 10_000);
  assert.equal(sessions[1]!.stopped, true);
  assert.equal(supervisor.status().lastError?.kind, 'timeout');

  await supervisor.stop();
  assert.equal(supervisor.status().state, 'offline');
  assert.ok(sessions.every((s) => s.stopped || s === sessions[0]));
});

/** A supervisor over fake native sessions and a fake ffmpeg spawner, counting what each started. */
function autoSupervisor(fallbackToFfmpeg: boolean) {
  const clock = new ManualClock(1_000_000);
  const timers = new ManualTimers(clock);
  const sessions: FakeSession[] = [];
  const spawned: string[][] = [];
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
  const supervisor = new StreamSupervisor({
    cameraId: 'cam1',
    stream: 'main',
    plan: {
      ffmpegPath: 'ffmpeg',
      args: () => ['-i', 'rtsp://cam/main'],
      native: { url: 'rtsp://cam/main', transport: 'tcp', ioTimeoutMs: 5000, audioRequired: true },
      fallbackToFfmpeg,
    },
    clock,
    timers,
    log,
    retryInitialMs: 1000,
    retryMaxMs: 8000,
    stallTimeoutMs: 5000,
    startNative: (s) => {
      const session = new FakeSession(s);
      sessions.push(session);
      return session;
    },
    spawn: (command, args) => {
      spawned.push([command, ...args]);
      return new FakeChild() as unknown as ReturnType<Spawner>;
    },
  });
  return { supervisor, sessions, spawned, warnings, timers };
}

/** An ffmpeg child that stays up and says nothing. */
class FakeChild extends EventEmitter {
  readonly pid = 4242;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  exitCode: number | null = null;
  signalCode: string | null = null;
  kill(): boolean {
    this.exitCode = 0;
    this.emit('exit', 0);
    this.emit('close', 0);
    return true;
  }
}

test('ingest: auto moves a stream native ingest cannot take to ffmpeg at once, saying why', async () => {
  const { supervisor, sessions, spawned, warnings } = autoSupervisor(true);
  supervisor.start();
  assert.equal(supervisor.status().ingest, 'native');
  const reason = 'the camera sends audio (PCMA/8000) and native ingest records video only';
  sessions[0]!.emit('unsupported', reason);
  sessions[0]!.emit('close', { kind: 'invalid_data', message: reason });
  assert.equal(spawned.length, 1, 'ffmpeg starts without waiting for a retry delay');
  assert.equal(sessions.length, 1, 'no second native attempt');
  const status = supervisor.status();
  assert.equal(status.ingest, 'ffmpeg');
  assert.equal(status.ingestFallbackReason, reason);
  assert.equal(status.lastError, null, 'a fallback is not an error of the camera');
  assert.ok(warnings.some((w) => w.includes('ingest: auto uses ffmpeg') && w.includes('PCMA/8000')));
  await supervisor.stop();
});

test('ingest: auto tries ffmpeg after 3 RTSP protocol failures in a row, not after network failures', async () => {
  const { supervisor, sessions, spawned, timers } = autoSupervisor(true);
  supervisor.start();
  // Network and password failures: ffmpeg would meet them too, so native keeps trying.
  for (const kind of ['connection_refused', 'timeout', 'unauthorized', 'connection_refused'] as const) {
    sessions.at(-1)!.emit('close', { kind, message: kind });
    timers.advance(8000);
  }
  assert.equal(spawned.length, 0);
  assert.equal(sessions.length, 5);
  for (let i = 1; i <= NATIVE_FAILURES_BEFORE_FALLBACK; i += 1) {
    sessions.at(-1)!.emit('close', { kind: 'invalid_data', message: 'RTSP: the camera answered CSeq 9' });
    if (i < NATIVE_FAILURES_BEFORE_FALLBACK) {
      assert.equal(supervisor.status().ingest, 'native', `still native after ${i}`);
      timers.advance(8000);
    }
  }
  assert.equal(spawned.length, 1);
  assert.equal(supervisor.status().ingest, 'ffmpeg');
  assert.match(
    supervisor.status().ingestFallbackReason ?? '',
    /failed 3 times in a row \(RTSP: the camera answered CSeq 9\)/,
  );
  await supervisor.stop();
});

test('explicit ingest: native never falls back: the reason is the stream error', async () => {
  const { supervisor, sessions, spawned, timers } = autoSupervisor(false);
  supervisor.start();
  for (let i = 0; i < 5; i += 1) {
    sessions.at(-1)!.emit('unsupported', 'native ingest handles H.264 video; this stream is H265');
    sessions
      .at(-1)!
      .emit('close', { kind: 'invalid_data', message: 'H265: set the stream to `ingest: auto`' });
    timers.advance(8000);
  }
  assert.equal(spawned.length, 0);
  assert.equal(sessions.length, 6);
  assert.equal(supervisor.status().ingest, 'native');
  assert.equal(supervisor.status().ingestFallbackReason, null);
  assert.match(supervisor.status().lastError?.message ?? '', /ingest: auto/);
  await supervisor.stop();
});
