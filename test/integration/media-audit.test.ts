import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { AuditEntry } from '../../src/audit/entry.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startTestVigil, tempDir, waitFor, type TestVigil } from '../helpers/vigil.js';

/**
 * Every way media leaves Vigil is in the audit log, once per person, camera and stretch of
 * recorded time: a player's many part requests and a download's Range requests merge into one
 * entry, and no Range header, spelling or credential avoids it.
 */

const PASSWORD = 'a long enough passphrase 7';

describe('every view of media is audited, merged, and no request avoids it', { timeout: 120_000 }, () => {
  let vigil: TestVigil;
  let port: number;
  let operatorToken: string;
  let operatorTokenId: number;
  let viewerToken: string;
  let recordedFromMs: number;

  async function entries(action: string, tokenId?: number): Promise<AuditEntry[]> {
    const page = await vigil.auth.audit.query({ action, limit: 1000 });
    return page.entries.filter(
      (e) => tokenId === undefined || (e.actor.kind === 'token' && e.actor.tokenId === tokenId),
    );
  }

  /** Audit appends are queued; a request's entry is in the log a moment after its answer. */
  async function settled(): Promise<void> {
    await vigil.auth.audit.append({
      actor: { kind: 'system' },
      action: 'config.change',
      target: 'test:marker',
    });
  }

  function get(path: string, token: string, headers: Record<string, string> = {}) {
    return rawRequest(port, 'GET', path, { authorization: `Bearer ${token}`, ...headers });
  }

  before(async () => {
    vigil = await startTestVigil(
      `
storage: { path: ./data, minFreeBytes: 1MB }
recording: { segmentDurationMs: 4000 }
cameras:
  - id: cam
    streams:
      main: { url: "testsrc:?size=320x240&fps=5" }
`,
      tempDir(),
    );
    port = Number(new URL(vigil.url).port);
    const operator = await vigil.auth.store.createUser({ name: 'op', role: 'operator', password: PASSWORD });
    const created = await vigil.auth.store.createToken(operator.id, { label: 'player' });
    operatorToken = created.token;
    operatorTokenId = created.record.id;
    const viewer = await vigil.auth.store.createUser({ name: 'watcher', role: 'viewer', password: PASSWORD });
    viewerToken = (await vigil.auth.store.createToken(viewer.id, { label: 'wall' })).token;
    // Two closed segments, so playback has parts to fetch.
    await waitFor(
      'two closed segments',
      async () => {
        const segments = await vigil.index.inRange('cam', 'main', 0, Date.now() + 60_000);
        return segments.filter((s) => s.state !== 'open').length >= 2 ? true : undefined;
      },
      30_000,
    );
    recordedFromMs = (await vigil.index.inRange('cam', 'main', 0, Date.now()))[0]!.start_time_ms;
  });

  after(async () => {
    await vigil?.close();
  });

  test('a playlist and all its parts are one playback entry; a player that skips the playlist is still audited', async () => {
    const from = recordedFromMs;
    const to = Date.now();
    const playlist = await get(`/api/cameras/cam/vod.m3u8?from=${from}&to=${to}`, operatorToken);
    assert.equal(playlist.statusCode, 200, playlist.body);
    const uris = playlist.body.split('\n').filter((l) => l.startsWith('segments/'));
    const inits = [...playlist.body.matchAll(/URI="(segments\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(uris.length >= 2, `${uris.length} parts`);
    for (const uri of [...inits, ...uris]) {
      const res = await get(`/api/cameras/cam/${uri}`, operatorToken);
      assert.equal(res.statusCode, 200, `${uri}: ${res.body.slice(0, 100)}`);
    }
    await settled();
    const views = await entries('playback.view', operatorTokenId);
    const hours = new Set(views.map((e) => e.details?.['fromMs']));
    // One entry per hour of recorded time touched (the playlist's carries the asked range).
    assert.ok(
      views.length >= 1 && views.length <= 2,
      `${views.length} entries for ${uris.length + 1} requests`,
    );
    assert.ok(hours.size === views.length);

    // Another token of another user fetches a part straight away, without a playlist.
    const other = await vigil.auth.store.createUser({ name: 'direct', role: 'operator', password: PASSWORD });
    const direct = await vigil.auth.store.createToken(other.id, { label: 'curl' });
    const part = await get(`/api/cameras/cam/${uris[0]!}`, direct.token);
    assert.equal(part.statusCode, 200);
    await settled();
    const directViews = await entries('playback.view', direct.record.id);
    assert.equal(directViews.length, 1, 'a part without its playlist is audited');
    assert.equal(directViews[0]!.target, 'camera:cam');
    assert.equal(directViews[0]!.details?.['via'], 'segment');
  });

  test('an export downloaded only with Range requests is audited once', async () => {
    const from = recordedFromMs;
    const to = from + 3000;
    const path = `/api/cameras/cam/export.mp4?from=${from}&to=${to}`;
    const before = (await entries('export.create', operatorTokenId)).length;
    for (const range of ['bytes=100-199', 'bytes=500-', 'bytes=0-99', 'bytes=-50']) {
      const res = await get(path, operatorToken, { range });
      assert.equal(res.statusCode, 206, `${range}: ${res.statusCode}`);
    }
    await settled();
    const exports = await entries('export.create', operatorTokenId);
    assert.equal(exports.length - before, 1, 'four Range requests, one entry');
    assert.deepEqual(
      { fromMs: exports[0]!.details?.['fromMs'], toMs: exports[0]!.details?.['toMs'] },
      { fromMs: from, toMs: to },
    );
    // Another range is another export.
    const res = await get(`/api/cameras/cam/export.mp4?from=${from}&to=${to + 500}`, operatorToken, {
      range: 'bytes=10-20',
    });
    assert.equal(res.statusCode, 206);
    await settled();
    assert.equal((await entries('export.create', operatorTokenId)).length - before, 2);
  });

  test('live pictures: snapshots (merged), live HLS (merged) and each live WebSocket', async () => {
    const tokenId = (await vigil.auth.store.listTokens()).find((t) => t.label === 'wall')!.id;
    for (let i = 0; i < 3; i += 1) {
      const res = await get('/api/cameras/cam/snapshot.jpg', viewerToken);
      assert.equal(res.statusCode, 200, res.body.slice(0, 200));
    }
    for (let i = 0; i < 3; i += 1) {
      const res = await get('/api/cameras/cam/live.m3u8', viewerToken);
      assert.equal(res.statusCode, 200, res.body.slice(0, 200));
    }
    const socket = new WebSocket(`ws://127.0.0.1:${port}/api/cameras/cam/live`, {
      headers: { authorization: `Bearer ${viewerToken}` },
    });
    await new Promise((resolve, reject) => {
      socket.once('message', resolve);
      socket.once('error', reject);
    });
    socket.close();
    await new Promise((resolve) => socket.once('close', resolve));
    await waitFor(
      'live.stop',
      async () => ((await entries('live.stop', tokenId)).length ? true : undefined),
      5000,
    );
    await settled();
    assert.equal((await entries('snapshot.view', tokenId)).length, 1, 'three snapshots, one entry');
    const starts = await entries('live.start', tokenId);
    assert.deepEqual(starts.map((e) => e.details?.['via']).sort(), ['hls', 'mse']);
  });

  test('live HLS reaches back only a minute without playback.view', async () => {
    const longAgo = Date.now() - 10 * 60_000;
    const viewer = await get(`/api/cameras/cam/live.m3u8?from=${longAgo}`, viewerToken);
    assert.equal(viewer.statusCode, 403, viewer.body);
    assert.match(viewer.body, /playback\.view/);
    const operator = await get(`/api/cameras/cam/live.m3u8?from=${recordedFromMs}`, operatorToken);
    assert.equal(operator.statusCode, 200, operator.body.slice(0, 200));
  });

  test("an event's snapshot and clip are audited, once per event", async () => {
    const storage = join(vigil.dir, 'data');
    const snapshot = await get('/api/cameras/cam/snapshot.jpg', operatorToken);
    await mkdir(join(storage, 'events'), { recursive: true });
    await writeFile(join(storage, 'events', 'audit-test.jpg'), Buffer.from(snapshot.body, 'latin1'));
    const nowMs = Date.now();
    const event = await vigil.events.store.insert({
      cameraId: 'cam',
      label: 'person',
      trackId: 1,
      startTimeMs: recordedFromMs + 500,
      endTimeMs: recordedFromMs + 2500,
      maxScore: 0.8,
      box: { x: 0.1, y: 0.1, width: 0.2, height: 0.4 },
      path: [],
      zones: [],
      snapshotPath: 'events/audit-test.jpg',
      cropPath: null,
      snapshotTimeMs: recordedFromMs + 1000,
      clipStartMs: recordedFromMs,
      clipEndMs: recordedFromMs + 3000,
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    });
    for (let i = 0; i < 2; i += 1) {
      assert.equal((await get(`/api/events/${event.id}/snapshot.jpg`, operatorToken)).statusCode, 200);
      assert.equal(
        (await get(`/api/events/${event.id}/clip.mp4`, operatorToken, { range: 'bytes=0-10' })).statusCode,
        206,
      );
    }
    await settled();
    const snapshots = (await entries('snapshot.view', operatorTokenId)).filter(
      (e) => e.details?.['eventId'] === event.id,
    );
    const clips = (await entries('export.create', operatorTokenId)).filter(
      (e) => e.details?.['eventId'] === event.id,
    );
    assert.equal(snapshots.length, 1);
    assert.equal(clips.length, 1);
  });
});
