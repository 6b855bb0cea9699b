/**
 * Native RTSP ingest (`ingest: native`) against the camera emulator with digest authentication:
 * recording, export and decoding compared with the ffmpeg path on the same camera; and servers
 * that misbehave give a clear error and are retried.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import pino from 'pino';
import { locateFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { planSource } from '../../src/ingest/sources.js';
import { StreamSupervisor, type StreamStatus } from '../../src/ingest/supervisor.js';
import { MonotonicWallClock } from '../../src/time/clock.js';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { footagePaths } from '../helpers/footage.js';
import { FFMPEG, FFPROBE } from '../helpers/media-tools.js';
import { apiFetch, getJson, startTestVigil, type TestVigil, waitFor } from '../helpers/vigil.js';

const execFileAsync = promisify(execFile);

interface Span {
  startTimeMs: number;
  endTimeMs: number;
}

async function probeFrames(file: string): Promise<{ frames: number; durationS: number }> {
  const { stdout } = await execFileAsync(
    FFPROBE,
    [
      '-v',
      'error',
      '-count_frames',
      '-show_entries',
      'stream=nb_read_frames:format=duration',
      '-of',
      'json',
      file,
    ],
    { timeout: 60_000 },
  );
  const json = JSON.parse(stdout) as {
    streams: Array<{ nb_read_frames: string }>;
    format: { duration: string };
  };
  return { frames: Number(json.streams[0]?.nb_read_frames), durationS: Number(json.format.duration) };
}

/** Width and height of a video file's first stream. */
async function probeSize(file: string): Promise<{ width: number; height: number }> {
  const { stdout } = await execFileAsync(
    FFPROBE,
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'json', file],
    { timeout: 30_000 },
  );
  const stream = (JSON.parse(stdout) as { streams: Array<{ width: number; height: number }> }).streams[0];
  return { width: Number(stream?.width), height: Number(stream?.height) };
}

describe('native ingest against emulated cameras with digest auth', { timeout: 180_000 }, () => {
  let cameras: TestCameras;
  let vigil: TestVigil;
  /** What the cameras serve: the real footage where it is, else generated test patterns. */
  let cameraSize: { width: number; height: number };

  before(async () => {
    cameraSize = await probeSize((await footagePaths()).main);
    cameras = await startCameras({ count: 1, user: 'viewer', password: 'secret1', udp: true });
    const url = cameras.urls(1).main;
    vigil = await startTestVigil(`
storage: { path: ./data, minFreeBytes: 1MB }
recording: { segmentDurationMs: 6000 }
ingest: { stallTimeoutMs: 4000 }
cameras:
  - id: native
    streams:
      main: { url: "${url}", ingest: native }
  - id: ffmpeg
    streams:
      main: { url: "${url}", ingest: ffmpeg }
  - id: udp
    streams:
      main: { url: "${url}", transport: udp }
`);
  });

  after(async () => {
    await vigil?.close();
    await cameras?.stop();
  });

  const spans = async (camera: string) =>
    (await getJson<{ recordings: Span[] }>(`${vigil.url}/api/cameras/${camera}/recordings`)).body.recordings;

  test('the stream goes online with the codec and size of the camera', async () => {
    const status = await waitFor(
      'native online at 10 fps',
      async () => {
        const { body } = await getJson<{ streams: Record<string, Record<string, unknown>> }>(
          `${vigil.url}/api/cameras/native/status`,
        );
        const main = body.streams.main;
        return main?.state === 'online' && Math.abs(Number(main.fps) - 10) < 1.5 ? main : undefined;
      },
      30_000,
    );
    assert.equal(status.codec, 'h264');
    assert.deepEqual({ width: status.width, height: status.height }, cameraSize);
  });

  test('an export of native recording decodes cleanly and matches the ffmpeg path', async () => {
    // Both cameras record the same emulated camera: the same window must hold the same frames.
    const fromMs = await waitFor(
      '15 s recorded by both',
      async () => {
        const [a, b] = [(await spans('native')).at(-1), (await spans('ffmpeg')).at(-1)];
        if (!a || !b) return undefined;
        const start = Math.max(a.startTimeMs, b.startTimeMs) + 1000;
        return Math.min(a.endTimeMs, b.endTimeMs) - start >= 14_000 ? start : undefined;
      },
      60_000,
    );
    const toMs = fromMs + 12_000;
    const results: Record<string, { frames: number; durationS: number }> = {};
    for (const camera of ['native', 'ffmpeg']) {
      const res = await apiFetch(`${vigil.url}/api/cameras/${camera}/export.mp4?from=${fromMs}&to=${toMs}`);
      assert.equal(res.status, 200);
      const file = join(vigil.dir, `${camera}.mp4`);
      writeFileSync(file, Buffer.from(await res.arrayBuffer()));
      const { stderr } = await execFileAsync(FFMPEG, ['-v', 'error', '-i', file, '-f', 'null', '-'], {
        timeout: 60_000,
      });
      assert.equal(stderr.trim(), '', `${camera}: ffmpeg reports errors decoding the export`);
      results[camera] = await probeFrames(file);
    }
    const native = results.native!;
    const ffmpeg = results.ffmpeg!;
    assert.ok(Math.abs(native.durationS - 12) <= 2, `native export lasts ${native.durationS} s`);
    // Exports start at a keyframe (GOP 2 s here), so the two may differ by up to a GOP.
    assert.ok(Math.abs(native.durationS - ffmpeg.durationS) <= 2.1, JSON.stringify(results));
    assert.ok(Math.abs(native.frames - ffmpeg.frames) <= 21, JSON.stringify(results));
    assert.ok(Math.abs(native.frames / native.durationS - 10) < 1, JSON.stringify(results));
  });

  test('over UDP, ingest: auto stays native and records whole frames at the camera rate', async () => {
    const span = await waitFor(
      '10 s recorded over UDP',
      async () => {
        const last = (await spans('udp')).at(-1);
        return last && last.endTimeMs - last.startTimeMs >= 10_000 ? last : undefined;
      },
      60_000,
    );
    const { body } = await getJson<{ streams: Record<string, Record<string, unknown>> }>(
      `${vigil.url}/api/cameras/udp/status`,
    );
    assert.deepEqual(
      [body.streams.main?.state, body.streams.main?.ingest, body.streams.main?.ingestFallbackReason],
      ['online', 'native', null],
    );
    const fromMs = span.startTimeMs + 1000;
    const res = await apiFetch(`${vigil.url}/api/cameras/udp/export.mp4?from=${fromMs}&to=${fromMs + 8000}`);
    assert.equal(res.status, 200);
    const file = join(vigil.dir, 'udp.mp4');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const { stderr } = await execFileAsync(FFMPEG, ['-v', 'error', '-i', file, '-f', 'null', '-'], {
      timeout: 60_000,
    });
    assert.equal(stderr.trim(), '', 'ffmpeg reports errors decoding the UDP recording');
    const probe = await probeFrames(file);
    assert.ok(Math.abs(probe.frames / probe.durationS - 10) < 1, JSON.stringify(probe));
  });

  test('a wrong password is reported as 401 Unauthorized', async () => {
    const bad = new URL(cameras.urls(1).main);
    bad.password = 'wrong';
    const status = await superviseUntilError(bad.toString());
    assert.equal(status.lastError?.kind, 'unauthorized');
    assert.match(status.lastError?.message ?? '', /401 Unauthorized/);
  });
});

/** Runs a native supervisor until it reports an error and has retried at least once. */
async function superviseUntilError(url: string, transport: 'tcp' | 'udp' = 'tcp'): Promise<StreamStatus> {
  const supervisor = new StreamSupervisor({
    cameraId: 'cam',
    stream: 'main',
    plan: { ffmpegPath: 'unused', args: () => [], native: { url, transport, ioTimeoutMs: 3000 } },
    clock: new MonotonicWallClock(),
    log: pino({ level: 'silent' }),
    retryInitialMs: 100,
    retryMaxMs: 200,
    stallTimeoutMs: 3000,
  });
  supervisor.start();
  try {
    return await waitFor(
      'an error and a retry',
      async () => {
        const status = supervisor.status();
        return status.lastError && status.reconnectCount >= 2 ? status : undefined;
      },
      30_000,
    );
  } finally {
    await supervisor.stop();
  }
}

describe('native ingest against misbehaving RTSP servers', { timeout: 60_000 }, () => {
  let server: Server;
  let port = 0;
  let behaviour: (socket: Socket, request: string, cseq: string) => void = () => undefined;
  const sockets = new Set<Socket>();

  before(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString('latin1');
        let end = text.indexOf('\r\n\r\n');
        while (end >= 0) {
          const request = text.slice(0, end);
          text = text.slice(end + 4);
          const cseq = /CSeq: (\d+)/i.exec(request)?.[1] ?? '0';
          behaviour(socket, request, cseq);
          end = text.indexOf('\r\n\r\n');
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.address() as { port: number }).port;
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((done) => server.close(() => done()));
  });

  const ok = (cseq: string, extra = '') => `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\n${extra}\r\n`;

  test('an answer with the wrong CSeq', async () => {
    behaviour = (socket, _request, cseq) => socket.write(ok(String(Number(cseq) + 7)));
    const status = await superviseUntilError(`rtsp://127.0.0.1:${port}/x`);
    assert.equal(status.lastError?.kind, 'invalid_data');
    assert.match(status.lastError?.message ?? '', /answered CSeq \d+ while Vigil waited for OPTIONS 1/);
  });

  test('garbage instead of RTSP', async () => {
    behaviour = (socket) => socket.write(Buffer.alloc(70_000, 0x01));
    const status = await superviseUntilError(`rtsp://127.0.0.1:${port}/x`);
    assert.equal(status.lastError?.kind, 'invalid_data');
    assert.match(status.lastError?.message ?? '', /neither RTSP nor interleaved RTP/);
  });

  test('a huge SDP description', async () => {
    behaviour = (socket, request, cseq) => {
      if (!request.startsWith('DESCRIBE')) return void socket.write(ok(cseq));
      socket.write(
        `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Type: application/sdp\r\nContent-Length: 10000000\r\n\r\n`,
      );
      socket.write(Buffer.alloc(100_000, 0x61));
    };
    const status = await superviseUntilError(`rtsp://127.0.0.1:${port}/x`);
    assert.equal(status.lastError?.kind, 'invalid_data');
    assert.match(status.lastError?.message ?? '', /RTSP body of 10000000 bytes, more than the 65536 allowed/);
  });

  test('a stream without H.264 video names the codec and the way out', async () => {
    const sdp = 'v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n';
    behaviour = (socket, request, cseq) => {
      if (!request.startsWith('DESCRIBE')) return void socket.write(ok(cseq));
      socket.write(ok(cseq, `Content-Length: ${sdp.length}\r\n`) + sdp);
    };
    const status = await superviseUntilError(`rtsp://127.0.0.1:${port}/x`);
    assert.match(
      status.lastError?.message ?? '',
      /this stream is VP8: set the stream to `ingest: auto` or `ffmpeg`/,
    );
  });

  test('a camera that refuses RTP over UDP (461) says so and names TCP', async () => {
    const sdp = 'v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n';
    behaviour = (socket, request, cseq) => {
      if (request.startsWith('SETUP')) {
        assert.match(request, /Transport: RTP\/AVP;unicast;client_port=(\d+)-(\d+)/);
        return void socket.write(`RTSP/1.0 461 Unsupported Transport\r\nCSeq: ${cseq}\r\n\r\n`);
      }
      if (!request.startsWith('DESCRIBE')) return void socket.write(ok(cseq));
      socket.write(ok(cseq, `Content-Length: ${sdp.length}\r\n`) + sdp);
    };
    const status = await superviseUntilError(`rtsp://127.0.0.1:${port}/x`, 'udp');
    assert.match(
      status.lastError?.message ?? '',
      /refuses RTP over UDP \(461 Unsupported Transport\): set the stream to `transport: tcp`/,
    );
  });

  test('ingest: auto hands a camera with audio to ffmpeg at once, and one without audio keeps native', async () => {
    const describeWith = (audio: boolean) => {
      const sdp =
        'v=0\r\na=control:*\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=0\r\n' +
        (audio ? 'm=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=control:trackID=1\r\n' : '');
      // A camera that hangs up after PLAY: a failure that is not the protocol's, retried natively.
      return (socket: Socket, request: string, cseq: string) => {
        if (request.startsWith('SETUP')) return void socket.write(ok(cseq, 'Session: 12345678\r\n'));
        if (request.startsWith('PLAY')) return void socket.end(ok(cseq, 'Session: 12345678\r\n'));
        if (!request.startsWith('DESCRIBE')) return void socket.write(ok(cseq));
        socket.write(
          ok(cseq, `Content-Base: rtsp://127.0.0.1:${port}/x/\r\nContent-Length: ${sdp.length}\r\n`) + sdp,
        );
      };
    };
    const ffmpeg = await locateFfmpeg();
    const supervise = async (audio: 'auto' | 'off') =>
      new StreamSupervisor({
        cameraId: 'cam',
        stream: 'main',
        plan: await planSource(
          { url: `rtsp://127.0.0.1:${port}/x`, transport: 'tcp', audio, ingest: 'auto' },
          ffmpeg,
          3000,
        ),
        clock: new MonotonicWallClock(),
        log: pino({ level: 'silent' }),
        retryInitialMs: 100,
        retryMaxMs: 200,
        stallTimeoutMs: 3000,
      });

    behaviour = describeWith(true);
    const withAudio = await supervise('auto');
    withAudio.start();
    try {
      const status = await waitFor(
        'the move to ffmpeg',
        async () => (withAudio.status().ingest === 'ffmpeg' ? withAudio.status() : undefined),
        15_000,
      );
      assert.equal(
        status.ingestFallbackReason,
        'the camera sends audio (PCMA) and native ingest records video only',
      );
    } finally {
      await withAudio.stop();
    }

    // The same camera with audio: off, and a camera without audio, stay on native ingest.
    for (const [audioOn, audioMode] of [
      [true, 'off'],
      [false, 'auto'],
    ] as const) {
      behaviour = describeWith(audioOn);
      const supervisor = await supervise(audioMode);
      supervisor.start();
      try {
        await waitFor(
          'two native attempts',
          async () => supervisor.status().reconnectCount >= 2 || undefined,
          30_000,
        );
        assert.deepEqual(
          [supervisor.status().ingest, supervisor.status().ingestFallbackReason],
          ['native', null],
        );
      } finally {
        await supervisor.stop();
      }
    }
  });
});
