/**
 * The supervisor running native ingest: a session that emits the init and fragments muxed from
 * RTP captured from the camera emulator (test/fixtures/rtp), then fails, is supervised like ffmpeg.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import type { IngestFragment } from '../../src/ingest/fragment.js';
import { H264Fragmenter, type FragmenterOutput } from '../../src/ingest/rtsp/fragmenter.js';
import { H264Depacketiser, parseSpropParameterSets } from '../../src/ingest/rtsp/h264.js';
import { parseRtp } from '../../src/ingest/rtsp/rtp.js';
import { parseSdp } from '../../src/ingest/rtsp/sdp.js';
import type { NativeIngest, NativeIngestEvents, NativeSource } from '../../src/ingest/rtsp/session.js';
import { StreamSupervisor } from '../../src/ingest/supervisor.js';
import { ManualClock } from '../../src/time/clock.js';
import { ManualTimers } from '../../src/time/timers.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'rtp');

function muxedFixture(): FragmenterOutput[] {
  const sdp = parseSdp(readFileSync(join(FIXTURES, 'vtest-sub-h264.sdp'), 'utf8')).media[0]!;
  const fragmenter = new H264Fragmenter(90000, parseSpropParameterSets(sdp.fmtp.get('sprop-parameter-sets')));
  const depacketiser = new H264Depacketiser();
  const buf = readFileSync(join(FIXTURES, 'vtest-sub-h264.rtp'));
  const out: FragmenterOutput[] = [];
  for (let offset = 0; offset < buf.length;) {
    const length = buf.readUInt16BE(offset);
    const packet = parseRtp(buf.subarray(offset + 2, offset + 2 + length));
    offset += 2 + length;
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
    else if (output.type === 'fragment') sessions[0]!.emit('fragment', output.bytes, output.moofByteLength);
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
