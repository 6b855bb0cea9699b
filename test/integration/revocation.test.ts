import assert from 'node:assert/strict';
import http from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { WS_CLOSE_ACCESS_REVOKED } from '../../src/contract/close-codes.js';
import type { Role } from '../../src/auth/permissions.js';
import {
  runCli,
  startTestVigil,
  TEST_ADMIN,
  tempDir,
  waitFor,
  writeConfig,
  type TestVigil,
} from '../helpers/vigil.js';

/**
 * Revocation takes effect at once: whatever ends a credential or narrows it (sign-out, sign out
 * everywhere, password change, user disabled or deleted, token revoked by the API or by the CLI
 * in another process, camera grants changed) closes the affected live and push WebSockets and
 * cuts downloads still being sent, within a second, while everyone else's stay open. Every case
 * also tries to come back with the ended credential.
 */

const PASSWORD = 'a long enough passphrase 7';
/** The feature's contract is one second; the bound leaves room for a loaded test machine. */
const BOUND_MS = 1500;
/**
 * Exports the tests cut are at least this big: more than the socket buffers between Vigil and a
 * reader that stopped reading hold (about 4 MB on Linux's loopback), so Vigil is still sending.
 */
const EXPORT_MIN_BYTES = 6_000_000;
/** How long "stays open" is watched. */
const STAYS_OPEN_MS = 1200;

let vigil: TestVigil;
let configPath: string;
let admin: Credentials;
/** Vigil's end of each connection, by the client's port: to see when Vigil closes it. */
const serverSockets = new Map<number, Socket>();
/** Delays measured, reported at the end: what each test saw between the change and the close. */
const measured: Array<{ what: string; delayMs: number }> = [];

type Credentials = { cookie: string; csrf: string } | { token: string };

function authHeaders(credentials: Credentials): Record<string, string> {
  return 'token' in credentials
    ? { authorization: `Bearer ${credentials.token}` }
    : { cookie: credentials.cookie, origin: vigil.url };
}

async function signIn(name: string, password = PASSWORD): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${vigil.url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: vigil.url },
    body: JSON.stringify({ name, password }),
  });
  assert.equal(res.status, 200, `sign-in of ${name}: ${await res.clone().text()}`);
  const body = (await res.json()) as { csrfToken: string };
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  assert.ok(cookie);
  return { cookie, csrf: body.csrfToken };
}

/** A state-changing API call as a browser session (CSRF token and Origin) or with a token. */
async function change(credentials: Credentials, method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = { ...authHeaders(credentials) };
  if ('csrf' in credentials) headers['x-csrf-token'] = credentials.csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${vigil.url}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${text}`);
}

/** An open WebSocket and when (and how) it closed. */
interface OpenSocket {
  socket: WebSocket;
  messages: string[];
  closed: Promise<{ code: number; atMs: number }>;
  isOpen(): boolean;
}

function wsUrl(path: string): string {
  return `${vigil.url.replace(/^http/, 'ws')}${path}`;
}

async function openSocket(path: string, credentials: Credentials): Promise<OpenSocket> {
  const socket = new WebSocket(wsUrl(path), { headers: authHeaders(credentials) });
  const messages: string[] = [];
  let open = false;
  const closed = new Promise<{ code: number; atMs: number }>((resolveClosed) => {
    socket.on('close', (code) => {
      open = false;
      resolveClosed({ code, atMs: performance.now() });
    });
  });
  socket.on('message', (data, isBinary) => {
    if (!isBinary) messages.push(data.toString());
  });
  await new Promise<void>((resolveOpen, reject) => {
    socket.once('open', () => {
      open = true;
      resolveOpen();
    });
    socket.once('unexpected-response', (_req, res) =>
      reject(new Error(`upgrade refused: ${res.statusCode}`)),
    );
    socket.once('error', reject);
  });
  // The first message proves the handler runs (live: the stream's status; /api/ws: hello).
  await waitFor(`the first message on ${path}`, () => messages.length > 0, 10_000, 20);
  return { socket, messages, closed, isOpen: () => open && socket.readyState === WebSocket.OPEN };
}

/** The HTTP status an upgrade with these credentials gets (101 when it opens). */
async function upgradeStatus(path: string, credentials: Credentials): Promise<number> {
  const socket = new WebSocket(wsUrl(path), { headers: authHeaders(credentials) });
  return new Promise<number>((resolveStatus) => {
    socket.once('open', () => {
      socket.close();
      resolveStatus(101);
    });
    socket.once('unexpected-response', (_req, res) => {
      resolveStatus(res.statusCode ?? 0);
      res.resume();
      socket.terminate();
    });
    socket.once('error', () => resolveStatus(0));
  });
}

/** Waits for the close, asserts its code and bound, records the delay. */
async function assertClosed(what: string, open: OpenSocket, sinceMs: number): Promise<number> {
  const timeout = new Promise<null>((r) => setTimeout(() => r(null), BOUND_MS * 2).unref());
  const closed = await Promise.race([open.closed, timeout]);
  assert.ok(closed, `${what}: still open ${BOUND_MS * 2} ms after the change`);
  const delayMs = Math.round(closed.atMs - sinceMs);
  measured.push({ what, delayMs });
  assert.equal(closed.code, WS_CLOSE_ACCESS_REVOKED, `${what}: close code`);
  assert.ok(delayMs <= BOUND_MS, `${what}: closed after ${delayMs} ms`);
  return delayMs;
}

async function assertStaysOpen(what: string, ...sockets: OpenSocket[]): Promise<void> {
  await new Promise((r) => setTimeout(r, STAYS_OPEN_MS));
  for (const [i, open] of sockets.entries()) assert.ok(open.isOpen(), `${what} #${i + 1} stays open`);
}

/**
 * An export download read slowly (16 KiB per 100 ms), so the server is still sending it, held
 * back by the socket, when access ends.
 */
interface SlowDownload {
  /** Bytes announced (content-length). */
  lengthBytes: number;
  receivedBytes(): number;
  /** When Vigil's end of the connection closed. */
  serverClosed: Promise<number>;
  /** Reads the rest at full speed: a cut download ends short. */
  drain(): Promise<{ complete: boolean; receivedBytes: number; atMs: number }>;
  /** Whether it ended (cut or complete) already. */
  ended(): boolean;
  abort(): void;
}

function exportPath(camera: string): string {
  // A range longer than what is recorded: the export is everything since the test started.
  const toMs = Date.now() + 60_000;
  return `/api/cameras/${camera}/export.mp4?from=${toMs - 3_600_000}&to=${toMs}`;
}

async function startSlowDownload(path: string, credentials: Credentials): Promise<SlowDownload> {
  const url = new URL(path, vigil.url);
  const download = await new Promise<SlowDownload>((resolveDownload, reject) => {
    const req = http.get(url, { headers: authHeaders(credentials) }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`export answered ${res.statusCode}`));
        res.resume();
        return;
      }
      const lengthBytes = Number(res.headers['content-length']);
      const serverSocket = serverSockets.get(res.socket.localPort ?? -1);
      assert.ok(serverSocket, "Vigil's end of the download's connection");
      const serverClosed = new Promise<number>((resolveClosed) => {
        if (serverSocket.destroyed) resolveClosed(performance.now());
        else serverSocket.once('close', () => resolveClosed(performance.now()));
      });
      let received = 0;
      let endedAt: { complete: boolean; atMs: number } | null = null;
      const endings: Array<() => void> = [];
      const done = () => {
        clearInterval(timer);
        endedAt ??= { complete: res.complete && received === lengthBytes, atMs: performance.now() };
        for (const f of endings) f();
      };
      res.once('end', done);
      res.once('error', done);
      res.once('close', done);
      res.pause();
      const timer = setInterval(() => {
        const chunk = res.read(16 * 1024) as Buffer | null;
        if (chunk) received += chunk.length;
      }, 100);
      resolveDownload({
        lengthBytes,
        receivedBytes: () => received,
        serverClosed,
        ended: () => endedAt !== null,
        abort: () => req.destroy(),
        drain: () => {
          clearInterval(timer);
          const readAll = () => {
            let chunk: Buffer | null;
            while ((chunk = res.read() as Buffer | null) !== null) received += chunk.length;
          };
          res.on('readable', readAll);
          readAll();
          return new Promise((resolveDrained) => {
            const report = () => resolveDrained({ ...endedAt!, receivedBytes: received });
            if (endedAt) report();
            else endings.push(report);
          });
        },
      });
    });
    req.once('error', reject);
  });
  // Started and held back: the first bytes arrived and most are still to come.
  await waitFor('the first bytes of the export', () => download.receivedBytes() > 0, 5_000, 20);
  assert.ok(
    download.lengthBytes > EXPORT_MIN_BYTES,
    `the export must be big enough to still be sending (${download.lengthBytes} bytes)`,
  );
  return download;
}

/**
 * Asserts the download is cut: Vigil closes its end of the connection within the bound while
 * the reader still reads slowly; then the rest arrives at full speed and ends short.
 */
async function assertCut(what: string, download: SlowDownload, sinceMs: number): Promise<void> {
  const closedAtMs = await Promise.race([
    download.serverClosed,
    new Promise<null>((r) => setTimeout(() => r(null), BOUND_MS * 2).unref()),
  ]);
  assert.ok(closedAtMs, `${what}: Vigil still sends the download ${BOUND_MS * 2} ms after the change`);
  const delayMs = Math.round(closedAtMs - sinceMs);
  measured.push({ what, delayMs });
  assert.ok(delayMs <= BOUND_MS, `${what}: cut after ${delayMs} ms`);
  const result = await Promise.race([
    download.drain(),
    new Promise<null>((r) => setTimeout(() => r(null), 5_000).unref()),
  ]);
  assert.ok(result, `${what}: the download did not end after its access did`);
  assert.equal(result.complete, false, `${what}: the download was sent in full`);
  assert.ok(result.receivedBytes < download.lengthBytes);
}

/** The bystander's download is still going: not ended, and bytes keep coming. */
async function assertStillDownloading(what: string, download: SlowDownload): Promise<void> {
  const before = download.receivedBytes();
  await waitFor(`${what} to keep coming`, () => download.receivedBytes() > before, 3_000, 50);
  assert.equal(download.ended(), false, `${what} was cut`);
  download.abort();
}

/** A user with all their ways in: two browser sessions and two tokens. */
interface TestUser {
  id: number;
  name: string;
  session: { cookie: string; csrf: string };
  session2: { cookie: string; csrf: string };
  token: { token: string };
  tokenId: number;
  token2: { token: string };
  token2Id: number;
}

async function newUser(
  name: string,
  options: { role?: Role; cameras?: string[] | null } = {},
): Promise<TestUser> {
  const user = await vigil.auth.store.createUser({
    name,
    role: options.role ?? 'operator',
    password: PASSWORD,
    cameras: options.cameras ?? null,
  });
  const t1 = await vigil.auth.store.createToken(user.id, { label: 'revocation test' });
  const t2 = await vigil.auth.store.createToken(user.id, { label: 'revocation test 2' });
  return {
    id: user.id,
    name,
    session: await signIn(name),
    session2: await signIn(name),
    token: { token: t1.token },
    tokenId: t1.record.id,
    token2: { token: t2.token },
    token2Id: t2.record.id,
  };
}

const LIVE = '/api/cameras/cam/live';
const PUSH = '/api/ws';

/** Someone else, watching the whole time: nothing done to another user reaches them. */
async function bystander(name: string) {
  const user = await newUser(name);
  return {
    user,
    live: await openSocket(LIVE, user.session),
    push: await openSocket(PUSH, user.token),
    download: await startSlowDownload(exportPath('big'), user.token),
  };
}

async function assertBystanderUntouched(b: Awaited<ReturnType<typeof bystander>>): Promise<void> {
  await assertStaysOpen(`${b.user.name}'s sockets`, b.live, b.push);
  await assertStillDownloading(`${b.user.name}'s export`, b.download);
  b.live.socket.close();
  b.push.socket.close();
}

before(async () => {
  const dir = tempDir();
  const yaml = `
storage: { path: ./data, minFreeBytes: 1MB }
cameras:
  - id: cam
    streams:
      main: { url: "testsrc:?size=320x240&fps=5" }
  - id: other
    streams:
      main: { url: "testsrc:?size=320x240&fps=5" }
  # Exports of 'big' grow by about 0.8 MB/s: soon bigger than what the sockets between Vigil
  # and a slow reader buffer (about 4 MB here), so Vigil is still sending them when access ends.
  - id: big
    streams:
      main: { url: "testsrc:?size=1280x720&fps=25" }
`;
  configPath = writeConfig(dir, yaml);
  vigil = await startTestVigil(yaml, dir);
  vigil.server.server.on('connection', (socket: Socket) => {
    const port = socket.remotePort;
    if (port === undefined) return;
    serverSockets.set(port, socket);
    socket.once('close', () => {
      if (serverSockets.get(port) === socket) serverSockets.delete(port);
    });
  });
  admin = await signIn(TEST_ADMIN.name, TEST_ADMIN.password);
  await waitFor('a recording', () => (vigil.cameras.liveSegment('cam', 'main') ? true : undefined), 20_000);
  await waitFor(
    `an export of more than ${EXPORT_MIN_BYTES} bytes`,
    async () => {
      const res = await fetch(`${vigil.url}${exportPath('big')}`, {
        headers: { authorization: `Bearer ${vigil.token}` },
      });
      await res.body?.cancel();
      return Number(res.headers.get('content-length')) > EXPORT_MIN_BYTES;
    },
    60_000,
    500,
  );
});

after(async () => {
  await vigil?.close();
  if (measured.length > 0) {
    console.log('revocation delays (change made → connection closed):');
    for (const m of measured) console.log(`  ${String(m.delayMs).padStart(5)} ms  ${m.what}`);
  }
});

describe('revocation takes effect at once', { timeout: 300_000 }, () => {
  test('signing out everywhere closes every session and token of the user, and only theirs', async () => {
    const alice = await newUser('alice-everywhere');
    const other = await bystander('bob-everywhere');
    const live1 = await openSocket(LIVE, alice.session);
    const push2 = await openSocket(PUSH, alice.session2);
    const liveToken = await openSocket(LIVE, alice.token);
    const download = await startSlowDownload(exportPath('big'), alice.session);
    const sinceMs = performance.now();
    await change(alice.session, 'POST', '/api/session/logout-everywhere');
    await assertClosed('sign out everywhere: live, the same session', live1, sinceMs);
    await assertClosed('sign out everywhere: /api/ws, another session', push2, sinceMs);
    await assertClosed('sign out everywhere: live, an API token', liveToken, sinceMs);
    await assertCut('sign out everywhere: export', download, sinceMs);
    await assertBystanderUntouched(other);
    // No way back in with anything the user had.
    assert.equal(await upgradeStatus(LIVE, alice.session2), 401);
    assert.equal(await upgradeStatus(PUSH, alice.session), 401);
    assert.equal(await upgradeStatus(PUSH, alice.token2), 401);
  });

  test("signing out ends that session's connections; the same user's other session stays", async () => {
    const alice = await newUser('alice-signout');
    const live1 = await openSocket(LIVE, alice.session);
    const push1 = await openSocket(PUSH, alice.session);
    const live2 = await openSocket(LIVE, alice.session2);
    const liveToken = await openSocket(LIVE, alice.token);
    const sinceMs = performance.now();
    await change(alice.session, 'DELETE', '/api/session');
    await assertClosed('sign-out: live', live1, sinceMs);
    await assertClosed('sign-out: /api/ws', push1, sinceMs);
    await assertStaysOpen("the user's other session and token", live2, liveToken);
    assert.equal(await upgradeStatus(LIVE, alice.session), 401);
    live2.socket.close();
    liveToken.socket.close();
  });

  test('a password change ends the other sessions, not the one that made it', async () => {
    const alice = await newUser('alice-password');
    const live1 = await openSocket(LIVE, alice.session);
    const live2 = await openSocket(LIVE, alice.session2);
    const push2 = await openSocket(PUSH, alice.session2);
    const sinceMs = performance.now();
    await change(alice.session, 'POST', '/api/session/password', {
      currentPassword: PASSWORD,
      newPassword: 'another long passphrase 8',
    });
    await assertClosed('password change: live, another session', live2, sinceMs);
    await assertClosed('password change: /api/ws, another session', push2, sinceMs);
    await assertStaysOpen('the session that changed the password', live1);
    assert.equal(await upgradeStatus(LIVE, alice.session2), 401);
    live1.socket.close();
  });

  test('disabling a user closes all their connections; they cannot come back', async () => {
    const alice = await newUser('alice-disabled');
    const other = await bystander('bob-disabled');
    const live = await openSocket(LIVE, alice.session);
    const push = await openSocket(PUSH, alice.token);
    const download = await startSlowDownload(exportPath('big'), alice.token);
    const sinceMs = performance.now();
    await change(admin, 'PUT', `/api/users/${alice.id}`, { disabled: true });
    await assertClosed('user disabled: live, session', live, sinceMs);
    await assertClosed('user disabled: /api/ws, token', push, sinceMs);
    await assertCut('user disabled: export, token', download, sinceMs);
    await assertBystanderUntouched(other);
    assert.equal(await upgradeStatus(LIVE, alice.token), 401);
    assert.equal(await upgradeStatus(PUSH, alice.session2), 401);
    const again = await fetch(`${vigil.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: alice.name, password: PASSWORD }),
    });
    assert.equal(again.status, 401, 'a disabled user cannot sign in again');
  });

  test('deleting a user closes all their connections', async () => {
    const alice = await newUser('alice-deleted');
    const other = await bystander('bob-deleted');
    const live = await openSocket(LIVE, alice.token);
    const push = await openSocket(PUSH, alice.session);
    const download = await startSlowDownload(exportPath('big'), alice.session2);
    const sinceMs = performance.now();
    await change(admin, 'DELETE', `/api/users/${alice.id}`);
    await assertClosed('user deleted: live, token', live, sinceMs);
    await assertClosed('user deleted: /api/ws, session', push, sinceMs);
    await assertCut('user deleted: export, session', download, sinceMs);
    await assertBystanderUntouched(other);
    assert.equal(await upgradeStatus(LIVE, alice.token), 401);
  });

  test("revoking a token closes that token's connections only", async () => {
    const alice = await newUser('alice-token');
    const live = await openSocket(LIVE, alice.token);
    const push = await openSocket(PUSH, alice.token);
    const download = await startSlowDownload(exportPath('big'), alice.token);
    const otherToken = await openSocket(LIVE, alice.token2);
    const session = await openSocket(PUSH, alice.session);
    const sinceMs = performance.now();
    await change(admin, 'DELETE', `/api/tokens/${alice.tokenId}`);
    await assertClosed('token revoked (API): live', live, sinceMs);
    await assertClosed('token revoked (API): /api/ws', push, sinceMs);
    await assertCut('token revoked (API): export', download, sinceMs);
    await assertStaysOpen("the user's other token and session", otherToken, session);
    assert.equal(await upgradeStatus(LIVE, alice.token), 401);
    assert.equal(await upgradeStatus(PUSH, alice.token), 401);
    otherToken.socket.close();
    session.socket.close();
  });

  test('a token revoked by the vigil CLI in another process closes its connections too', async () => {
    const alice = await newUser('alice-cli');
    const live = await openSocket(LIVE, alice.token);
    const push = await openSocket(PUSH, alice.token);
    const download = await startSlowDownload(exportPath('big'), alice.token);
    const otherToken = await openSocket(PUSH, alice.token2);
    // When the CLI's change is committed: seen by polling the same database from here.
    let committedAtMs = 0;
    const poller = setInterval(() => {
      void vigil.auth.store.listTokens(alice.id).then((tokens) => {
        if (committedAtMs === 0 && tokens.some((t) => t.id === alice.tokenId && t.revokedAtMs !== null)) {
          committedAtMs = performance.now();
        }
      });
    }, 10);
    const cli = runCli(['token', 'revoke', String(alice.tokenId), '--config', configPath]);
    try {
      await waitFor('the CLI to commit the revocation', () => committedAtMs > 0, 60_000, 10);
    } finally {
      clearInterval(poller);
    }
    const result = await cli;
    assert.equal(result.code, 0, result.stdout + result.stderr);
    await assertClosed('token revoked (CLI, other process): live', live, committedAtMs);
    await assertClosed('token revoked (CLI, other process): /api/ws', push, committedAtMs);
    await assertCut('token revoked (CLI, other process): export', download, committedAtMs);
    await assertStaysOpen("the user's other token", otherToken);
    assert.equal(await upgradeStatus(LIVE, alice.token), 401);
    otherToken.socket.close();
  });

  test('a user disabled by the vigil CLI loses their connections too', async () => {
    const alice = await newUser('alice-cli-disabled');
    const live = await openSocket(LIVE, alice.session);
    const push = await openSocket(PUSH, alice.token);
    let committedAtMs = 0;
    const poller = setInterval(() => {
      void vigil.auth.store.getUser(alice.id).then((user) => {
        if (committedAtMs === 0 && user?.disabled) committedAtMs = performance.now();
      });
    }, 10);
    const cli = runCli(['user', 'disable', alice.name, '--config', configPath]);
    try {
      await waitFor('the CLI to disable the user', () => committedAtMs > 0, 60_000, 10);
    } finally {
      clearInterval(poller);
    }
    assert.equal((await cli).code, 0);
    await assertClosed('user disabled (CLI, other process): live, session', live, committedAtMs);
    await assertClosed('user disabled (CLI, other process): /api/ws, token', push, committedAtMs);
    assert.equal(await upgradeStatus(PUSH, alice.token), 401);
  });

  test('withdrawn camera grants close what shows those cameras; /api/ws narrows its filter', async () => {
    const alice = await newUser('alice-grants');
    const liveKept = await openSocket(LIVE, alice.session);
    const liveGone = await openSocket('/api/cameras/other/live', alice.session);
    const liveGoneToken = await openSocket('/api/cameras/other/live', alice.token);
    const push = await openSocket(PUSH, alice.session2);
    const download = await startSlowDownload(exportPath('big'), alice.token);
    const sinceMs = performance.now();
    await change(admin, 'PUT', `/api/users/${alice.id}`, { cameras: ['cam'] });
    await assertClosed('grant withdrawn: live of that camera, session', liveGone, sinceMs);
    await assertClosed('grant withdrawn: live of that camera, token', liveGoneToken, sinceMs);
    await assertCut('grant withdrawn: export of that camera', download, sinceMs);
    await assertStaysOpen('live of a camera still granted, and /api/ws', liveKept, push);
    // The push socket now leaves out the withdrawn cameras.
    const seen = push.messages.length;
    const timeMs = Date.now();
    vigil.events.bus.cameraStatus({
      cameraId: 'other',
      stream: 'main',
      state: 'offline',
      reason: 'x',
      timeMs,
    });
    vigil.events.bus.cameraStatus({ cameraId: 'cam', stream: 'main', state: 'offline', reason: 'x', timeMs });
    await waitFor('the status of the granted camera', () => push.messages.length > seen, 5_000, 20);
    const cameras = push.messages
      .slice(seen)
      .map((m) => JSON.parse(m) as { type: string; cameraId?: string })
      .filter((m) => m.type === 'camera')
      .map((m) => m.cameraId);
    assert.deepEqual(cameras, ['cam']);
    assert.equal(await upgradeStatus('/api/cameras/other/live', alice.session), 403);
    assert.equal(await upgradeStatus(LIVE, alice.session), 101);
    liveKept.socket.close();
    push.socket.close();
  });

  test('a role without export ends exports in progress; live view goes on', async () => {
    const alice = await newUser('alice-role');
    const live = await openSocket(LIVE, alice.session);
    const download = await startSlowDownload(exportPath('big'), alice.session);
    const sinceMs = performance.now();
    await change(admin, 'PUT', `/api/users/${alice.id}`, { role: 'viewer' });
    await assertCut('role changed to viewer: export', download, sinceMs);
    await assertStaysOpen('live view (viewers may watch)', live);
    live.socket.close();
  });

  test('taking away every camera closes /api/ws too', async () => {
    const alice = await newUser('alice-no-cameras', { role: 'viewer' });
    const push = await openSocket(PUSH, alice.token);
    const sinceMs = performance.now();
    await change(admin, 'PUT', `/api/users/${alice.id}`, { cameras: [] });
    await assertClosed('every grant withdrawn: /api/ws', push, sinceMs);
  });
});
