import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { parseConfigText, type ConfigProblem } from '../../src/config/index.js';
import { VigilError } from '../../src/errors/catalogue.js';
import { hlsArgs, mjpegArgs, snapshotStdinArgs } from '../../src/ingest/ffmpeg-args.js';
import {
  httpError,
  isPlaylistUrl,
  kindFromContentType,
  transportError,
} from '../../src/ingest/http-source.js';
import type { IngestProcess, Spawner } from '../../src/ingest/process.js';
import { isJpeg, type StdinFeeder } from '../../src/ingest/snapshot-feed.js';
import { StreamSupervisor } from '../../src/ingest/supervisor.js';
import { ManualClock } from '../../src/time/clock.js';
import { ManualTimers } from '../../src/time/timers.js';

const GLOBAL = '-hide_banner -nostdin -loglevel level+warning';
const OUT =
  '-f mp4 -movflags +frag_keyframe+empty_moov+default_base_moof -frag_duration 100000 -flush_packets 1 pipe:1';
const H264 =
  '-c:v libx264 -preset veryfast -tune zerolatency -force_key_frames expr:gte(t,n_forced*2) ' +
  '-crf 23 -maxrate 2000k -bufsize 4000k -pix_fmt yuv420p -fps_mode passthrough';
const OPTS = { ffmpegMajor: 5, ioTimeoutMs: 10_000, audioNeedsTranscode: false };

test('MJPEG frames are stamped on arrival and encoded to H.264 with a keyframe every 2 s', () => {
  const args = mjpegArgs({ url: 'http://u:p@cam/video.mjpg', transport: 'tcp', audio: 'auto' }, OPTS);
  assert.equal(
    args.join(' '),
    `${GLOBAL} -use_wallclock_as_timestamps 1 -rw_timeout 10000000 ` +
      `-protocol_whitelist http,https,tcp,tls,crypto -i http://u:p@cam/video.mjpg -map 0:v:0 ${H264} ${OUT}`,
  );
});

test('snapshots come on stdin, probed from the first image only', () => {
  assert.equal(
    snapshotStdinArgs({ ffmpegMajor: 4 }).join(' '),
    `${GLOBAL} -use_wallclock_as_timestamps 1 -probesize 32 -analyzeduration 0 -f image2pipe -c:v mjpeg ` +
      `-protocol_whitelist pipe -i pipe:0 -map 0:v:0 ${H264.replace('-fps_mode', '-vsync')} ${OUT}`,
  );
});

test('HLS copies H.264 and its ADTS AAC; other video is encoded and G.711 transcoded', () => {
  const source = { url: 'https://cdn/live.m3u8', transport: 'tcp' as const, audio: 'auto' as const };
  assert.equal(
    hlsArgs(source, { ...OPTS, copyVideo: true }).join(' '),
    `${GLOBAL} -re -rw_timeout 10000000 -protocol_whitelist http,https,tcp,tls,crypto -i https://cdn/live.m3u8 ` +
      `-map 0:v:0 -map 0:a:0? -c:v copy -c:a copy -bsf:a aac_adtstoasc ` +
      OUT.replace('default_base_moof', 'default_base_moof+delay_moov'),
  );
  const transcoded = hlsArgs(source, { ...OPTS, copyVideo: false, audioNeedsTranscode: true }).join(' ');
  assert.ok(transcoded.includes(`-map 0:a:0? ${H264} -c:a aac -b:a 64k ${OUT}`), transcoded);
  const silent = hlsArgs({ ...source, audio: 'off' }, { ...OPTS, copyVideo: true }).join(' ');
  assert.ok(silent.endsWith(`-map 0:v:0 -c:v copy ${OUT}`), silent);
});

test('the Content-Type or the path tells what an http URL serves', () => {
  assert.equal(kindFromContentType('multipart/x-mixed-replace; boundary=--myboundary'), 'mjpeg');
  assert.equal(kindFromContentType('image/jpeg'), 'snapshot');
  assert.equal(kindFromContentType('application/vnd.apple.mpegURL'), 'hls');
  assert.equal(kindFromContentType('video/x-flv'), null);
  assert.equal(kindFromContentType(null), null);
  assert.equal(isPlaylistUrl('http://cam/live/index.M3U8?token=1'), true);
  assert.equal(isPlaylistUrl('http://cam/m3u8/video.cgi'), false);
});

test('HTTP and network failures read like the RTSP ones, saying what to check', () => {
  assert.equal(httpError(401).kind, 'unauthorized');
  assert.match(httpError(401).message, /user name and password/);
  assert.equal(httpError(404).kind, 'not_found');
  assert.equal(httpError(500).kind, 'exited');
  assert.match(httpError(500).message, /HTTP 500/);
  const refused = transportError(
    Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }),
  );
  assert.equal(refused.kind, 'connection_refused');
  assert.equal(transportError(Object.assign(new Error('x'), { name: 'TimeoutError' })).kind, 'timeout');
  assert.equal(
    transportError(Object.assign(new TypeError('x'), { cause: { code: 'ENOTFOUND' } })).kind,
    'dns',
  );
});

test('a JPEG is known by its first bytes, whatever the camera calls it', () => {
  assert.equal(isJpeg(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00])), true);
  assert.equal(isJpeg(Buffer.from('<html>login</html>')), false);
  assert.equal(isJpeg(Buffer.alloc(0)), false);
});

function problems(yaml: string): ConfigProblem[] {
  try {
    parseConfigText(yaml, { baseDir: '/etc/vigil', env: {}, sourceName: 'vigil.yaml' });
  } catch (err) {
    assert.ok(err instanceof VigilError);
    return err.details?.['problems'] as ConfigProblem[];
  }
  return [];
}

test('kind and snapshotIntervalMs: http(s) only, snapshots only, and within bounds', () => {
  const camera = (stream: string) => `cameras:\n  - id: c\n    streams:\n      main: ${stream}\n`;
  assert.deepEqual(
    problems(camera('{ url: "http://cam/snap.jpg", kind: snapshot, snapshotIntervalMs: 250 }')),
    [],
  );
  assert.deepEqual(problems(camera('{ url: "https://cam/live.m3u8" }')), []);
  const onRtsp = problems(camera('{ url: "rtsp://cam/main", kind: mjpeg }'));
  assert.match(
    onRtsp.find((p) => p.path.endsWith('.kind'))?.message ?? '',
    /http:\/\/ or https:\/\/ URLs, not rtsp/,
  );
  const onMjpeg = problems(camera('{ url: "http://cam/v.mjpg", kind: mjpeg, snapshotIntervalMs: 500 }'));
  assert.match(onMjpeg.find((p) => p.path.endsWith('.snapshotIntervalMs'))?.message ?? '', /snapshot only/);
  assert.ok(
    problems(camera('{ url: "http://cam/s.jpg", kind: snapshot, snapshotIntervalMs: 10 }')).length > 0,
  );
});

/** An ffmpeg stand-in with a stdin: it exits when killed. */
class FedProcess extends EventEmitter implements IngestProcess {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;

  kill(signal: NodeJS.Signals): boolean {
    setImmediate(() => {
      this.signalCode = signal;
      this.stdout.end();
      this.stderr.end();
      this.emit('exit');
      this.emit('close', null);
    });
    return true;
  }
}

test('a feed that fails ends ffmpeg, and its reason is the stream error', async () => {
  const clock = new ManualClock(1_700_000_000_000);
  const spawned: Array<{ process: FedProcess; stdin: boolean }> = [];
  const spawn: Spawner = (_command, _args, options) => {
    const process = new FedProcess();
    spawned.push({ process, stdin: options?.stdin === true });
    return process;
  };
  let written = '';
  const feeder: StdinFeeder = (stdin, onError) => {
    stdin.write('jpeg');
    setImmediate(() => onError({ kind: 'invalid_data', message: 'the snapshot URL answered text/html' }));
    return { stop: () => undefined };
  };
  const supervisor = new StreamSupervisor({
    cameraId: 'c',
    stream: 'main',
    plan: { ffmpegPath: 'ffmpeg', args: () => [], feed: () => feeder },
    clock,
    timers: new ManualTimers(clock),
    log: pino({ level: 'silent' }),
    retryInitialMs: 1000,
    retryMaxMs: 5000,
    stallTimeoutMs: 10_000,
    spawn,
  });
  supervisor.start();
  const first = spawned[0];
  assert.ok(first?.stdin, 'ffmpeg gets a piped stdin');
  first.process.stdin.on('data', (chunk: Buffer) => (written += chunk.toString()));
  // The feed's error, the kill and the close each take a turn of the event loop.
  for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(written, 'jpeg');
  assert.equal(first.process.signalCode, 'SIGKILL');
  assert.deepEqual(
    [supervisor.status().state, supervisor.status().lastError?.message],
    ['offline', 'the snapshot URL answered text/html'],
  );
  await supervisor.stop();
});
