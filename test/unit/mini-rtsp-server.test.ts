import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { camerasKind, startCameras } from '../helpers/cameras.js';
import { GENERATED_FOOTAGE, generatedFootage } from '../helpers/footage.js';
import { startMiniRtspServer, startsKeyframeNal, type MiniRtspServer } from '../helpers/mini-rtsp-server.js';
import { FFMPEG, FFPROBE } from '../helpers/media-tools.js';

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; a failing exit is a result to assert on, not an exception. */
function run(command: string, args: string[], timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

interface ProbedStream {
  codec_name: string;
  width: number;
  height: number;
}

/** ffprobe's view of the first video stream, or its stderr when it could not open the URL. */
async function probe(url: string, transport: 'tcp' | 'default' = 'tcp'): Promise<ProbedStream | string> {
  const result = await run(FFPROBE, [
    '-v',
    'error',
    ...(transport === 'tcp' ? ['-rtsp_transport', 'tcp'] : []),
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=codec_name,width,height',
    '-of',
    'json',
    url,
  ]);
  if (result.code !== 0) return result.stderr;
  const parsed = JSON.parse(result.stdout) as { streams: ProbedStream[] };
  return parsed.streams[0] ?? `no video stream in ${result.stdout}`;
}

/** Records `seconds` of the stream and returns how many frames the file decodes to. */
async function recordFrames(url: string, seconds: number, file: string): Promise<number> {
  const recorded = await run(FFMPEG, [
    '-hide_banner',
    '-nostdin',
    '-v',
    'error',
    '-rtsp_transport',
    'tcp',
    '-i',
    url,
    '-t',
    String(seconds),
    '-c',
    'copy',
    '-y',
    file,
  ]);
  assert.equal(recorded.code, 0, recorded.stderr);
  const counted = await run(FFPROBE, [
    '-v',
    'error',
    '-count_frames',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=nb_read_frames',
    '-of',
    'csv=p=0',
    file,
  ]);
  assert.equal(counted.code, 0, counted.stderr);
  return Number(counted.stdout.trim());
}

/** The server's ffmpeg children: each has a file in the server's work dir on its command line. */
async function childrenOf(server: MiniRtspServer): Promise<number[]> {
  const found = await run('pgrep', ['-f', server.workDir]);
  return found.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(Number);
}

async function describeStatus(port: number, path: string): Promise<number> {
  const client = await RawRtspClient.connect(port);
  try {
    return (await client.request('DESCRIBE', `rtsp://127.0.0.1:${port}/${path}`)).status;
  } finally {
    client.close();
  }
}

interface RtspReply {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** A hand-driven RTSP client, to check the protocol itself rather than what ffmpeg tolerates. */
class RawRtspClient {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly replies: RtspReply[] = [];
  private readonly frames: Array<{ channel: number; packet: Buffer }> = [];
  private wake: (() => void) | null = null;
  private cseq = 0;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.parse();
      this.wake?.();
    });
  }

  static async connect(port: number): Promise<RawRtspClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawRtspClient(socket);
  }

  async request(method: string, url: string, headers: Record<string, string> = {}): Promise<RtspReply> {
    this.cseq += 1;
    const lines = [`${method} ${url} RTSP/1.0`, `CSeq: ${this.cseq}`];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    this.socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    const reply = await this.next(() => this.replies.shift());
    assert.equal(reply.headers.get('cseq'), String(this.cseq), 'replies echo the CSeq');
    return reply;
  }

  frame(): Promise<{ channel: number; packet: Buffer }> {
    return this.next(() => this.frames.shift());
  }

  close(): void {
    this.socket.destroy();
  }

  private async next<T>(take: () => T | undefined): Promise<T> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const item = take();
      if (item !== undefined) return item;
      if (Date.now() > deadline) throw new Error('no reply from the server in 10 s');
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 200);
      });
    }
  }

  private parse(): void {
    for (;;) {
      if (this.buffer.length === 0) return;
      if (this.buffer[0] === 0x24) {
        if (this.buffer.length < 4) return;
        const end = 4 + this.buffer.readUInt16BE(2);
        if (this.buffer.length < end) return;
        this.frames.push({ channel: this.buffer[1], packet: this.buffer.subarray(4, end) });
        this.buffer = this.buffer.subarray(end);
        continue;
      }
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const lines = this.buffer.subarray(0, headerEnd).toString('utf8').split('\r\n');
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      const length = Number(headers.get('content-length') ?? '0');
      if (this.buffer.length < headerEnd + 4 + length) return;
      const body = this.buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8');
      this.buffer = this.buffer.subarray(headerEnd + 4 + length);
      this.replies.push({ status: Number(lines[0].split(' ')[1]), headers, body });
    }
  }
}

describe('mini RTSP server', () => {
  let server: MiniRtspServer;
  let scratch: string;

  before(async () => {
    // Generated footage, whatever this machine has: this is the path a user's machine takes.
    const footage = await generatedFootage();
    server = await startMiniRtspServer({ ...footage, count: 2 });
    scratch = await mkdtemp(join(tmpdir(), 'vigil-mini-rtsp-test-'));
  });

  after(async () => {
    await server?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('ffprobe sees H.264 at the footage’s resolution, also with its default transport (UDP first)', async () => {
    const [main, sub] = await Promise.all([probe(server.urls(1).main), probe(server.urls(1).sub, 'default')]);
    assert.deepEqual(main, { codec_name: 'h264', ...GENERATED_FOOTAGE.main });
    assert.deepEqual(sub, { codec_name: 'h264', ...GENERATED_FOOTAGE.sub });
  });

  test('two simultaneous clients each receive about 3 s of video', async () => {
    const url = server.urls(2).main;
    const frames = await Promise.all([
      recordFrames(url, 3, join(scratch, 'a.mp4')),
      recordFrames(url, 3, join(scratch, 'b.mp4')),
    ]);
    for (const count of frames)
      assert.ok(count > 20, `${count} frames in 3 s at ${GENERATED_FOOTAGE.fps} fps`);
  });

  test('speaks RTSP: DESCRIBE with controls, 461 for UDP, RTP interleaved after PLAY, 404', async () => {
    const client = await RawRtspClient.connect(server.port);
    try {
      const base = `rtsp://127.0.0.1:${server.port}`;
      const options = await client.request('OPTIONS', `${base}/cam1/sub`);
      assert.equal(options.status, 200);
      assert.match(options.headers.get('public') ?? '', /GET_PARAMETER/);

      assert.equal((await client.request('DESCRIBE', `${base}/cam3/main`)).status, 404);
      assert.equal((await client.request('DESCRIBE', `${base}/nothing`)).status, 404);

      const describe = await client.request('DESCRIBE', `${base}/cam1/sub`, { Accept: 'application/sdp' });
      assert.equal(describe.status, 200);
      assert.equal(describe.headers.get('content-base'), `${base}/cam1/sub/`);
      assert.match(describe.body, /^m=video 0 RTP\/AVP 96$/m);
      assert.match(describe.body, /^a=rtpmap:96 H264\/90000$/m);
      assert.match(describe.body, /^a=control:trackID=0$/m);

      const track = `${base}/cam1/sub/trackID=0`;
      const udp = await client.request('SETUP', track, {
        Transport: 'RTP/AVP;unicast;client_port=5000-5001',
      });
      assert.equal(udp.status, 461);

      const setup = await client.request('SETUP', track, {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=4-5',
      });
      assert.equal(setup.status, 200);
      assert.match(setup.headers.get('transport') ?? '', /interleaved=4-5/);
      const rtspSession = (setup.headers.get('session') ?? '').split(';')[0];
      assert.ok(rtspSession);

      assert.equal((await client.request('PLAY', `${base}/cam1/sub/`, { Session: 'wrong' })).status, 454);
      const play = await client.request('PLAY', `${base}/cam1/sub/`, { Session: rtspSession });
      assert.equal(play.status, 200);
      const { channel, packet } = await client.frame();
      assert.equal(channel, 4);
      assert.equal(packet[0] >> 6, 2, 'RTP version 2');
      assert.equal(packet[1] & 0x7f, 96, 'payload type 96');
      assert.ok(startsKeyframeNal(packet, 'H264'), 'a client starts at a keyframe');

      assert.equal(
        (await client.request('GET_PARAMETER', `${base}/cam1/sub/`, { Session: rtspSession })).status,
        200,
      );
      assert.equal(
        (await client.request('TEARDOWN', `${base}/cam1/sub/`, { Session: rtspSession })).status,
        200,
      );
    } finally {
      client.close();
    }
  });

  test('ffmpeg reports 404 Not Found for an unknown path', async () => {
    const result = await probe(`rtsp://127.0.0.1:${server.port}/cam9/main`);
    assert.equal(typeof result, 'string');
    assert.match(String(result), /404 Not Found/);
  });
});

describe('mini RTSP server with digest authentication', () => {
  let server: MiniRtspServer;

  before(async () => {
    server = await startMiniRtspServer({
      ...(await generatedFootage()),
      count: 1,
      user: 'admin',
      password: 's3cr:t',
    });
  });

  after(async () => {
    await server?.stop();
  });

  test('the right password plays; a wrong or missing one gets 401 Unauthorized', async () => {
    const good = server.urls(1).sub;
    assert.match(good, /^rtsp:\/\/admin:s3cr%3At@127\.0\.0\.1:\d+\/cam1\/sub$/);
    const wrong = good.replace('s3cr%3At', 'nope');
    const none = good.replace('admin:s3cr%3At@', '');
    const [right, bad, missing] = await Promise.all([probe(good), probe(wrong), probe(none)]);
    assert.deepEqual(right, { codec_name: 'h264', ...GENERATED_FOOTAGE.sub });
    assert.match(String(bad), /401 Unauthorized/);
    assert.match(String(missing), /401 Unauthorized/);
  });

  test('a request without credentials is challenged with a Digest realm and nonce', async () => {
    const client = await RawRtspClient.connect(server.port);
    try {
      const reply = await client.request('DESCRIBE', `rtsp://127.0.0.1:${server.port}/cam1/main`);
      assert.equal(reply.status, 401);
      assert.equal(reply.headers.get('www-authenticate')?.startsWith('Digest '), true);
      assert.match(reply.headers.get('www-authenticate') ?? '', /^Digest realm="[^"]+", nonce="[0-9a-f]+"/);
    } finally {
      client.close();
    }
  });
});

test('stop() ends every ffmpeg child the server started', async () => {
  const server = await startMiniRtspServer({ ...(await generatedFootage()), count: 2 });
  try {
    const client = await RawRtspClient.connect(server.port);
    for (const path of ['cam1/main', 'cam2/sub']) {
      assert.equal((await client.request('DESCRIBE', `rtsp://127.0.0.1:${server.port}/${path}`)).status, 200);
    }
    client.close();
    assert.equal((await childrenOf(server)).length, 2, 'one ffmpeg per described path');
  } finally {
    await server.stop();
  }
  assert.deepEqual(await childrenOf(server), []);
});

describe('startCameras', () => {
  test('runs the cameras this machine selects, and ffprobe sees H.264', async (t) => {
    const expected = await camerasKind();
    const cameras = await startCameras({ count: 1 });
    try {
      t.diagnostic(`cameras: ${cameras.kind}`);
      assert.equal(cameras.kind, expected);
      const main = await probe(cameras.urls(1).main);
      assert.equal(typeof main === 'string' ? main : main.codec_name, 'h264');
    } finally {
      await cameras.stop();
    }
  });

  test('VIGIL_TEST_CAMERAS=mini selects the mini server', async () => {
    const saved = process.env.VIGIL_TEST_CAMERAS;
    process.env.VIGIL_TEST_CAMERAS = 'mini';
    try {
      assert.equal(await camerasKind(), 'mini');
    } finally {
      if (saved === undefined) delete process.env.VIGIL_TEST_CAMERAS;
      else process.env.VIGIL_TEST_CAMERAS = saved;
    }
  });

  test('kind "mini" forces the mini server, and restart() brings it back on the same port', async () => {
    const cameras = await startCameras({ count: 1, kind: 'mini', user: 'viewer', password: 'pw' });
    try {
      assert.equal(cameras.kind, 'mini');
      const port = cameras.port;
      assert.equal(await describeStatus(port, 'cam1/sub'), 401, 'credentials are required');
      await cameras.restart();
      assert.equal(cameras.port, port);
      const after = await probe(cameras.urls(1).sub);
      assert.equal(typeof after === 'string' ? after : after.codec_name, 'h264');
    } finally {
      await cameras.stop();
    }
  });
});
