/**
 * Camera URLs cannot reach what they should not, proven with real parts: real ffmpeg (both the
 * system one and the npm-shipped one when present), the RTSP camera emulator (or the mini RTSP
 * server), TCP listeners that record whatever arrives, and a real Vigil.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ingestArgs } from '../../src/ingest/ffmpeg-args.js';
import { locateFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { connectionsTo } from '../helpers/connections.js';
import { freePort, startCameras, type TestCameras } from '../helpers/cameras.js';
import {
  apiFetch,
  CLI_FROM_SOURCE,
  REPO_ROOT,
  startTestVigil,
  tempDir,
  waitFor,
  writeConfig,
  type TestVigil,
} from '../helpers/vigil.js';
import { closeServer, listenLocal } from '../helpers/local-server.js';

const execFileAsync = promisify(execFile);
const PASSWORD = 'stored-camera-secret-7319';
const QUERY_SECRET = 'query-secret-5521';

/** A TCP server that keeps every byte it receives and answers RTSP requests with a Basic challenge. */
interface Trap {
  port: number;
  received(): string;
  close(): Promise<void>;
}

/**
 * Answers every request 401 with `WWW-Authenticate: Basic`, so a client holding a password sends
 * it (base64) in its next request: whatever password reaches this host is in received().
 */
async function startTrap(): Promise<Trap> {
  let received = '';
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      pending += chunk.toString('latin1');
      let end;
      while ((end = pending.indexOf('\r\n\r\n')) >= 0) {
        const request = pending.slice(0, end);
        pending = pending.slice(end + 4);
        const cseq = /^CSeq:\s*(\d+)/im.exec(request)?.[1] ?? '1';
        socket.write(
          `RTSP/1.0 401 Unauthorized\r\nCSeq: ${cseq}\r\nWWW-Authenticate: Basic realm="trap"\r\n\r\n`,
        );
      }
    });
  });
  const port = await listenLocal(server);
  return { port, received: () => received, close: () => closeServer(server, sockets) };
}

/** Accepts connections and never answers: a camera that hangs. */
async function startBlackHole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  const port = await listenLocal(server);
  return { port, close: () => closeServer(server, sockets) };
}

/** An HTTP "camera" that fails every request with 500, so ffmpeg's last words quote the URL. */
async function startHttp500(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createHttpServer((_request, response) => {
    response.writeHead(500, { 'content-type': 'text/plain' }).end('broken');
  });
  server.on('connection', (socket) => sockets.add(socket));
  const port = await listenLocal(server);
  return { port, close: () => closeServer(server, sockets) };
}

function basicOf(user: string, password: string): string {
  return Buffer.from(`${user}:${password}`).toString('base64');
}

/** Every ffmpeg this machine has that Vigil could run: the system's and the npm-shipped one. */
async function ffmpegBinaries(): Promise<string[]> {
  const found = [(await locateFfmpeg()).path];
  try {
    const shipped = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    if (!found.includes(shipped)) found.push(shipped);
  } catch {
    // Not installed: the system ffmpeg alone.
  }
  return found;
}

async function post(url: string, body: unknown, method = 'POST', token?: string): Promise<Response> {
  return apiFetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

let cameras: TestCameras;

before(async () => {
  cameras = await startCameras({ count: 1, user: 'admin', password: PASSWORD });
});

after(async () => {
  await cameras?.stop();
});

describe('real ffmpeg with the protocol whitelist', () => {
  test('records the RTSP camera with every ffmpeg Vigil may run', async () => {
    for (const ffmpeg of await ffmpegBinaries()) {
      const major = (await locateFfmpeg(ffmpeg)).major;
      const args = ingestArgs(
        { url: cameras.urls(1).main, transport: 'tcp', audio: 'auto' },
        { ffmpegMajor: major, ioTimeoutMs: 10_000, audioNeedsTranscode: false },
      );
      assert.ok(args.includes('-protocol_whitelist'));
      const child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const sawFragment = await new Promise<boolean>((done) => {
        let bytes = Buffer.alloc(0);
        const timer = setTimeout(() => done(false), 20_000);
        child.stdout.on('data', (chunk: Buffer) => {
          bytes = Buffer.concat([bytes, chunk]);
          if (bytes.includes('moof')) {
            clearTimeout(timer);
            done(true);
          }
        });
        child.on('close', () => {
          clearTimeout(timer);
          done(false);
        });
      });
      child.kill('SIGKILL');
      assert.ok(sawFragment, `${ffmpeg} recorded nothing:\n${stderr}`);
    }
  });

  test('refuses file, concat and subfile inputs in place of the camera URL', async () => {
    for (const ffmpeg of await ffmpegBinaries()) {
      for (const scheme of ['rtsp', 'http'] as const) {
        const args = ingestArgs(
          { url: `${scheme}://127.0.0.1:9/x`, transport: 'tcp', audio: 'auto' },
          { ffmpegMajor: (await locateFfmpeg(ffmpeg)).major, ioTimeoutMs: 2000, audioNeedsTranscode: false },
        );
        const input = args.indexOf('-i') + 1;
        for (const smuggled of [
          'file:/etc/passwd',
          '/etc/passwd',
          'concat:/etc/passwd|/etc/hostname',
          'subfile,,start,0,end,0,,:/etc/passwd',
        ]) {
          const attempt = [...args];
          attempt[input] = smuggled;
          const failure = await execFileAsync(ffmpeg, attempt, { timeout: 10_000, encoding: 'buffer' }).then(
            () => null,
            (err: { code?: number; stderr?: Buffer; stdout?: Buffer }) => err,
          );
          assert.ok(failure, `${ffmpeg} opened ${smuggled}`);
          assert.match(failure.stderr?.toString() ?? '', /not on whitelist/, `${ffmpeg} ${smuggled}`);
          assert.equal(failure.stdout?.includes('root:'), false);
        }
      }
    }
  });
});

describe('the camera API', () => {
  let vigil: TestVigil;
  let trap: Trap;
  let emulatorPort: number;
  let viewerToken: string;

  before(async () => {
    vigil = await startTestVigil('cameras: []\n');
    trap = await startTrap();
    emulatorPort = cameras.port;
    const viewer = await vigil.auth.store.createUser({
      name: 'viewer1',
      role: 'viewer',
      password: 'green teapot under the stairs 9',
    });
    viewerToken = (await vigil.auth.store.createToken(viewer.id, { label: 't' })).token;
    const created = await post(`${vigil.url}/api/cameras`, {
      id: 'door',
      streams: {
        main: { url: `rtsp://127.0.0.1:${emulatorPort}/cam1/main`, user: 'admin', password: PASSWORD },
      },
    });
    assert.equal(created.status, 201, await created.text());
  });

  after(async () => {
    await vigil?.close();
    await trap?.close();
  });

  test('file: URLs are refused by POST, PUT and the probe, in every spelling', async () => {
    for (const url of [
      'file:///etc/passwd',
      'FILE:///etc/passwd',
      ' file:///etc/passwd',
      'file:/etc/passwd',
    ]) {
      const created = await post(`${vigil.url}/api/cameras`, { id: 'evil', streams: { main: { url } } });
      assert.equal(created.status, 400);
      const createdError = await errorOf(created);
      assert.equal(createdError.code, 'REQUEST_INVALID');
      assert.match(
        createdError.message,
        /body\.streams\.main\.url: .*rtsp:\/\/, rtsps:\/\/, http:\/\/, https:\/\/ or testsrc:/,
      );

      const changed = await post(`${vigil.url}/api/cameras/door`, { streams: { main: { url } } }, 'PUT');
      assert.equal(changed.status, 400);
      assert.match((await errorOf(changed)).message, /body\.streams\.main\.url/);

      const probed = await post(`${vigil.url}/api/cameras/probe`, { url });
      assert.equal(probed.status, 400);
      const probeError = await errorOf(probed);
      assert.equal(probeError.code, 'REQUEST_INVALID');
      assert.match(probeError.message, /^body\.url: /);
    }
    const listed = (await (await apiFetch(`${vigil.url}/api/cameras`)).json()) as {
      cameras: Array<{ id: string }>;
    };
    assert.deepEqual(
      listed.cameras.map((c) => c.id),
      ['door'],
    );
  });

  test('a stored password is never sent to another host, port or scheme', async () => {
    const other = [
      `rtsp://127.0.0.1:${trap.port}/cam1/main`,
      `rtsp://admin@127.0.0.1:${trap.port}/cam1/main`,
      `RTSP://127.0.0.1:${trap.port}/cam1/main`,
      `rtsp://localhost:${emulatorPort}/cam1/main`,
      `rtsps://127.0.0.1:${emulatorPort}/cam1/main`,
      // The same machine spelt another way is another host: the rule compares, it does not resolve.
      `rtsp://127.0.0.1.:${emulatorPort}/cam1/main`,
      `rtsp://[::ffff:127.0.0.1]:${emulatorPort}/cam1/main`,
      `rtsp://door@127.0.0.1:${trap.port}/cam1/main`,
    ];
    for (const url of other) {
      const user = url.includes('@') ? {} : { user: 'admin' };
      const probed = await post(`${vigil.url}/api/cameras/probe`, {
        url,
        ...user,
        camera: 'door',
        stream: 'main',
      });
      assert.equal(probed.status, 400, url);
      const error = await errorOf(probed);
      assert.equal(error.code, 'CAMERA_PASSWORD_REQUIRED', url);
      assert.match(
        error.message,
        new RegExp(`^body\\.password: .*only sent to rtsp://127\\.0\\.0\\.1:${emulatorPort}`),
      );
      assert.doesNotMatch(error.message, new RegExp(PASSWORD));
    }
    const changed = await post(
      `${vigil.url}/api/cameras/door`,
      { streams: { main: { url: `rtsp://127.0.0.1:${trap.port}/cam1/main`, user: 'admin' } } },
      'PUT',
    );
    assert.equal(changed.status, 400);
    const changeError = await errorOf(changed);
    assert.equal(changeError.code, 'CAMERA_PASSWORD_REQUIRED');
    assert.match(changeError.message, /^body\.streams\.main\.password: /);
    // The camera was not changed, and the trap saw no password at all.
    const door = (await (await apiFetch(`${vigil.url}/api/cameras/door`)).json()) as {
      streams: { main: { url: string } };
    };
    assert.equal(door.streams.main.url, `rtsp://127.0.0.1:${emulatorPort}/cam1/main`);
    await new Promise((r) => setTimeout(r, 500));
    assert.doesNotMatch(
      trap.received(),
      new RegExp(`${PASSWORD}|${basicOf('admin', PASSWORD)}|Authorization`, 'i'),
    );

    // The trap does see a password when one is sent with the request: the check above means something.
    const control = await post(`${vigil.url}/api/cameras/probe`, {
      url: `rtsp://127.0.0.1:${trap.port}/cam1/main`,
      user: 'admin',
      password: 'typed-in-form',
      camera: 'door',
      stream: 'main',
    });
    assert.equal(control.status, 200);
    assert.equal(((await control.json()) as { ok: boolean }).ok, false);
    assert.match(trap.received(), new RegExp(basicOf('admin', 'typed-in-form')));
    assert.doesNotMatch(trap.received(), new RegExp(`${PASSWORD}|${basicOf('admin', PASSWORD)}`));
  });

  test('the same scheme, host and port reuse the stored password: the probe passes and the camera records', async () => {
    for (const url of [
      `rtsp://127.0.0.1:${emulatorPort}/cam1/sub`,
      `rtsp://admin@127.0.0.1:${emulatorPort}/cam1/sub`,
    ]) {
      const probed = await post(`${vigil.url}/api/cameras/probe`, {
        url,
        ...(url.includes('admin@') ? {} : { user: 'admin' }),
        camera: 'door',
        stream: 'main',
      });
      assert.equal(probed.status, 200);
      const result = (await probed.json()) as { ok: boolean; message?: string };
      assert.equal(result.ok, true, result.message);
    }
    const changed = await post(
      `${vigil.url}/api/cameras/door`,
      { streams: { main: { url: `rtsp://127.0.0.1:${emulatorPort}/cam1/sub`, user: 'admin' } } },
      'PUT',
    );
    assert.equal(changed.status, 200, await changed.text());
    await waitFor(
      'the changed camera online',
      () => (vigil.cameras.liveSegment('door', 'main') ? true : undefined),
      30_000,
    );
  });

  test('camera user names are shown to camera managers only', async () => {
    const asViewer = (path: string) =>
      fetch(`${vigil.url}${path}`, { headers: { authorization: `Bearer ${viewerToken}` } }).then(
        async (r) => (await r.json()) as unknown,
      );
    const list = JSON.stringify(await asViewer('/api/cameras'));
    const one = (await asViewer('/api/cameras/door')) as { streams: { main: { user: string | null } } };
    assert.match(list, /"door"/);
    assert.doesNotMatch(list, /"user":"admin"/);
    assert.equal(one.streams.main.user, null);
    const admin = (await (await apiFetch(`${vigil.url}/api/cameras/door`)).json()) as {
      streams: { main: { user: string | null } };
    };
    assert.equal(admin.streams.main.user, 'admin');
  });

  test('passwords in URL queries stay out of answers, statuses and the audit log', async () => {
    const http = await startHttp500();
    try {
      const url = `http://127.0.0.1:${http.port}/videostream.cgi?user=admin&pwd=${QUERY_SECRET}&res=1`;
      const created = await post(`${vigil.url}/api/cameras`, { id: 'cgi', streams: { main: { url } } });
      assert.equal(created.status, 201);
      const status = await waitFor(
        'the failing camera to report why',
        async () => {
          const body = (await (await apiFetch(`${vigil.url}/api/cameras/cgi/status`)).json()) as {
            streams: { main: { lastError: { message: string } | null } };
          };
          return body.streams.main.lastError ? body : undefined;
        },
        30_000,
      );
      const probed = await (await post(`${vigil.url}/api/cameras/probe`, { url })).text();
      const answers = [
        JSON.stringify(status),
        await created.text(),
        await (await apiFetch(`${vigil.url}/api/cameras`)).text(),
        await (await apiFetch(`${vigil.url}/api/cameras/cgi`)).text(),
        probed,
        await (await apiFetch(`${vigil.url}/api/audit?limit=500`)).text(),
      ];
      for (const answer of answers) {
        assert.doesNotMatch(answer, new RegExp(QUERY_SECRET));
        assert.doesNotMatch(answer, /user=admin/);
      }
      assert.match(answers[3] ?? '', /pwd=\*\*\*/);
      assert.match(await (await apiFetch(`${vigil.url}/api/audit?limit=500`)).text(), /camera\.create/);
    } finally {
      await http.close();
    }
  });

  test('a third probe at once is refused with 429 and Retry-After; probes end at the limit and hang up', async () => {
    const hole = await startBlackHole();
    try {
      const url = `rtsp://127.0.0.1:${hole.port}/hangs`;
      const startedMs = Date.now();
      const running = [1, 2].map(() => post(`${vigil.url}/api/cameras/probe`, { url }));
      // Whatever pulls the probe (Vigil's RTSP client or ffmpeg), it holds a connection to the camera.
      await waitFor(
        'two probes connected',
        async () => connectionsTo(process.pid, hole.port) >= 2 || undefined,
        10_000,
      );
      const third = await post(`${vigil.url}/api/cameras/probe`, {
        url: `rtsp://127.0.0.1:${emulatorPort}/cam1/sub`,
      });
      assert.equal(third.status, 429);
      assert.equal((await errorOf(third)).code, 'PROBE_BUSY');
      const retryAfterS = Number(third.headers.get('retry-after'));
      assert.ok(retryAfterS >= 1 && retryAfterS <= 18, `Retry-After ${retryAfterS}`);
      for (const response of await Promise.all(running)) {
        assert.equal(response.status, 200);
        const result = (await response.json()) as { ok: boolean; kind: string };
        assert.equal(result.ok, false);
        assert.equal(result.kind, 'timeout');
      }
      const tookMs = Date.now() - startedMs;
      assert.ok(tookMs >= 14_000 && tookMs < 20_000, `probes took ${tookMs} ms`);
      assert.equal(connectionsTo(process.pid, hole.port), 0, 'the probes hung up');
      // With the slots free again, a probe runs.
      const again = await post(`${vigil.url}/api/cameras/probe`, {
        url: `rtsp://127.0.0.1:${hole.port}/x`,
        user: 'a',
        password: 'b',
      });
      assert.notEqual(again.status, 429);
    } finally {
      await hole.close();
    }
  });
});

describe('security.cameraNetworks', () => {
  test('127.0.0.0/8 allowed: a camera on 127.0.0.1 records; ::1 and other networks are refused', async () => {
    const vigil = await startTestVigil(`security: { cameraNetworks: ["127.0.0.0/8"] }\ncameras: []\n`);
    try {
      const inside = await post(`${vigil.url}/api/cameras`, {
        id: 'inside',
        streams: {
          main: { url: `rtsp://127.0.0.1:${cameras.port}/cam1/sub`, user: 'admin', password: PASSWORD },
        },
      });
      assert.equal(inside.status, 201, await inside.text());
      await waitFor(
        'a recording inside the network',
        () => (vigil.cameras.liveSegment('inside', 'main') ? true : undefined),
        30_000,
      );
      for (const [url, address] of [
        [`rtsp://[::1]:${cameras.port}/cam1/sub`, '::1'],
        [`rtsp://admin:x@10.255.255.1/cam1/sub`, '10.255.255.1'],
        [`RTSP://192.168.1.1:554/x`, '192.168.1.1'],
        [`http://[::ffff:10.0.0.1]/video.mjpg`, '::ffff:a00:1'],
      ] as const) {
        const created = await post(`${vigil.url}/api/cameras`, { id: 'outside', streams: { main: { url } } });
        assert.equal(created.status, 400, url);
        const error = await errorOf(created);
        assert.equal(error.code, 'CAMERA_NETWORK_REFUSED');
        assert.ok(error.message.includes(address), error.message);
        assert.match(error.message, /^body\.streams\.main\.url: .*security\.cameraNetworks: 127\.0\.0\.0\/8/);
        assert.doesNotMatch(error.message, /admin:x/);
        const probed = await post(`${vigil.url}/api/cameras/probe`, { url });
        assert.equal((await errorOf(probed)).code, 'CAMERA_NETWORK_REFUSED');
      }
      // Other spellings of 127.0.0.1 pass the check (they are inside).
      for (const url of [
        `rtsp://127.1:${cameras.port}/cam1/sub`,
        `rtsp://[::ffff:127.0.0.1]:${cameras.port}/cam1/sub`,
      ]) {
        const probed = await post(`${vigil.url}/api/cameras/probe`, {
          url,
          user: 'admin',
          password: PASSWORD,
        });
        assert.equal(probed.status, 200, `${url}: ${await probed.clone().text()}`);
      }
    } finally {
      await vigil.close();
    }
  });

  test('10.0.0.0/8 allowed: a config camera on 127.0.0.1 is never connected to, and the API refuses it', async () => {
    const vigil = await startTestVigil(`
security: { cameraNetworks: ["10.0.0.0/8", "fd00::/8"] }
cameras:
  - id: local
    streams:
      main: { url: "rtsp://127.0.0.1:${cameras.port}/cam1/sub", user: admin, password: "${PASSWORD}" }
`);
    try {
      const status = await waitFor(
        'the camera refused',
        async () => {
          const body = (await (await apiFetch(`${vigil.url}/api/cameras/local/status`)).json()) as {
            streams: { main: { state: string; lastError: { kind: string; message: string } | null } };
          };
          return body.streams.main.lastError ? body.streams.main : undefined;
        },
        10_000,
      );
      assert.equal(status.state, 'error');
      assert.equal(status.lastError?.kind, 'network_refused');
      assert.match(status.lastError?.message ?? '', /127\.0\.0\.1 is outside .*10\.0\.0\.0\/8, fd00::\/8/);
      assert.equal(vigil.cameras.liveSegment('local', 'main'), null);
      for (const url of [
        `rtsp://127.0.0.1:${cameras.port}/cam1/sub`,
        `rtsp://localhost:${cameras.port}/cam1/sub`,
      ]) {
        const probed = await post(`${vigil.url}/api/cameras/probe`, {
          url,
          user: 'admin',
          password: PASSWORD,
        });
        assert.equal(probed.status, 400);
        const error = await errorOf(probed);
        assert.equal(error.code, 'CAMERA_NETWORK_REFUSED');
        assert.match(error.message, /^body\.url: .*127\.0\.0\.1/);
      }
    } finally {
      await vigil.close();
    }
  });
});

describe('logs', () => {
  test('neither ffmpeg stderr nor stream states put a query password into the log', async () => {
    const http = await startHttp500();
    const dir = tempDir();
    const configPath = writeConfig(
      dir,
      `storage: { path: ${join(dir, 'data')} }
cameras:
  - id: cgi
    streams:
      main: { url: "http://127.0.0.1:${http.port}/videostream.cgi?usr=admin&pwd=${QUERY_SECRET}" }
`,
    );
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [...CLI_FROM_SOURCE, 'start', '--config', configPath, '--listen', `127.0.0.1:${port}`],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, VIGIL_LOG_LEVEL: 'debug' },
      },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await waitFor(
        'ffmpeg to fail twice',
        () => (output.split('stream failed').length > 2 ? true : undefined),
        40_000,
      );
      assert.match(output, /"ffmpeg":/, 'ffmpeg stderr lines are in the debug log');
      assert.match(output, /pwd=\*\*\*/);
      assert.doesNotMatch(output, new RegExp(QUERY_SECRET));
    } finally {
      child.kill('SIGTERM');
      await new Promise((done) => child.once('close', done));
      await http.close();
    }
  });
});
