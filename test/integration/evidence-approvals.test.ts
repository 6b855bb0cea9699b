import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { ApprovalOutcome, ApprovalView } from '../../src/contract/approvals.js';
import type { EvidenceLockList, EvidenceLockView } from '../../src/contract/evidence.js';
import type { WsServerMessage } from '../../src/contract/push.js';
import type { Role } from '../../src/auth/permissions.js';
import { startTestVigil, tempDir, waitFor, type TestVigil } from '../helpers/vigil.js';

/**
 * Evidence locks and four-eyes approval through the HTTP API, as people with browser sessions:
 * one user locks and asks to unlock, the same user cannot approve, a user without the camera
 * cannot see or decide the request, a second user approves and the lock is lifted.
 */

const PASSWORD = 'a long enough passphrase 7';

interface Session {
  name: string;
  cookie: string;
  csrf: string;
}

interface Answer<T> {
  status: number;
  body: T;
}

describe('evidence locks and four-eyes approval over the API', { timeout: 120_000 }, () => {
  let vigil: TestVigil;
  const people: Record<string, Session> = {};

  async function signIn(name: string): Promise<Session> {
    const res = await fetch(`${vigil.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: vigil.url },
      body: JSON.stringify({ name, password: PASSWORD }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { csrfToken: string };
    const cookie = res.headers.get('set-cookie')?.split(';')[0];
    assert.ok(cookie);
    return { name, cookie, csrf: body.csrfToken };
  }

  async function addUser(name: string, role: Role, cameras: string[] | null = null): Promise<void> {
    await vigil.auth.store.createUser({ name, role, password: PASSWORD, cameras });
    people[name] = await signIn(name);
  }

  async function as<T>(who: string, method: string, path: string, body?: unknown): Promise<Answer<T>> {
    const session = people[who]!;
    const res = await fetch(`${vigil.url}${path}`, {
      method,
      headers: {
        cookie: session.cookie,
        origin: vigil.url,
        'x-csrf-token': session.csrf,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as T };
  }

  async function pushClient(who: string): Promise<{ messages: WsServerMessage[]; close(): void }> {
    const session = people[who]!;
    const socket = new WebSocket(`${vigil.url.replace(/^http/, 'ws')}/api/ws`, {
      headers: { cookie: session.cookie, origin: vigil.url },
    });
    const messages: WsServerMessage[] = [];
    socket.on('message', (data) => messages.push(JSON.parse(data.toString()) as WsServerMessage));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return { messages, close: () => socket.close() };
  }

  async function auditActions(): Promise<string[]> {
    return (await vigil.auth.audit.query({ limit: 1000 })).entries.map(
      (e) =>
        `${e.action} ${e.actor.kind === 'user' || e.actor.kind === 'token' ? e.actor.name : e.actor.kind}`,
    );
  }

  before(async () => {
    vigil = await startTestVigil(
      `
storage: { path: ./data, minFreeBytes: 1MB }
recording: { segmentDurationMs: 2000 }
approvals: { require: [evidence.unlock, events.delete, recordings.delete, mask.lift] }
cameras:
  - id: yard
    streams: { main: { url: "testsrc:?size=320x240&fps=5" } }
    privacy:
      masks: [{ id: door, kind: liftable, polygon: [[0.1, 0.1], [0.4, 0.1], [0.4, 0.4], [0.1, 0.4]] }]
  - id: gate
    streams: { main: { url: "testsrc:?size=320x240&fps=5" } }
`,
      tempDir(),
    );
    await addUser('alice', 'operator');
    await addUser('bob', 'operator');
    await addUser('carol', 'operator', ['gate']);
    await addUser('dave', 'viewer');
    await vigil.auth.store.createUser({ name: 'root2', role: 'admin', password: PASSWORD, cameras: null });
    people['root2'] = await signIn('root2');
    await vigil.auth.store.createUser({ name: 'root4', role: 'admin', password: PASSWORD, cameras: null });
    people['root4'] = await signIn('root4');
  });

  after(async () => {
    await vigil?.close();
  });

  test('an event locked as evidence is kept from deletion and event retention', async () => {
    const nowMs = Date.now();
    const event = await vigil.events.store.insert({
      cameraId: 'yard',
      label: 'person',
      trackId: 1,
      startTimeMs: nowMs - 60_000,
      endTimeMs: nowMs - 50_000,
      maxScore: 0.8,
      box: { x: 0.1, y: 0.1, width: 0.2, height: 0.4 },
      path: [],
      zones: [],
      snapshotPath: null,
      cropPath: null,
      snapshotTimeMs: null,
      clipStartMs: nowMs - 65_000,
      clipEndMs: nowMs - 45_000,
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    });
    // A viewer may not lock; a reason is required.
    assert.equal((await as('dave', 'POST', '/api/evidence', { eventId: event.id, reason: 'x' })).status, 403);
    assert.equal((await as('alice', 'POST', '/api/evidence', { eventId: event.id, reason: '' })).status, 400);
    const locked = await as<EvidenceLockView>('alice', 'POST', '/api/evidence', {
      eventId: event.id,
      reason: 'break-in, police case 2026-118',
    });
    assert.equal(locked.status, 201, JSON.stringify(locked.body));
    assert.equal(locked.body.state, 'locked');
    assert.equal(locked.body.startTimeMs, event.clipStartMs);
    assert.equal(locked.body.createdBy, 'alice');

    // Deleting it needs approval (configured), and even an approved deletion is refused.
    const del = await as<{ error: { code: string } }>(
      'root2',
      'DELETE',
      `/api/events/${event.id}?reason=cleanup`,
    );
    assert.equal(del.status, 409, JSON.stringify(del.body));
    assert.equal(del.body.error.code, 'EVIDENCE_LOCKED');
    // Event retention far in the future leaves it alone.
    await vigil.events.store.deleteExpired(nowMs + 365 * 86_400_000);
    assert.ok(await vigil.events.store.get(event.id), 'the locked event outlives event retention');

    // The lock shows in the list for the camera and time range, and per event.
    const list = await as<EvidenceLockList>(
      'bob',
      'GET',
      `/api/evidence?camera=yard&from=${nowMs - 70_000}&to=${nowMs}`,
    );
    assert.deepEqual(
      list.body.locks.map((l) => l.id),
      [locked.body.id],
    );
    const byEvent = await as<EvidenceLockList>('bob', 'GET', `/api/evidence?event=${event.id}`);
    assert.equal(byEvent.body.locks.length, 1);
    // carol has only the gate camera: she sees none of it.
    assert.equal((await as<EvidenceLockList>('carol', 'GET', '/api/evidence')).body.locks.length, 0);
    assert.equal((await as('carol', 'GET', `/api/evidence/${locked.body.id}`)).status, 403);
  });

  test('unlocking takes two people: request, self-approval refused, approval by a second user', async () => {
    const startMs = Date.now() - 30_000;
    const lock = await as<EvidenceLockView>('alice', 'POST', '/api/evidence', {
      cameraId: 'yard',
      startTimeMs: startMs,
      endTimeMs: startMs + 10_000,
      reason: 'window smashed',
    });
    assert.equal(lock.status, 201, JSON.stringify(lock.body));
    const bobPush = await pushClient('bob');
    const carolPush = await pushClient('carol');

    const asked = await as<ApprovalOutcome>('alice', 'POST', `/api/evidence/${lock.body.id}/unlock`, {
      reason: 'case closed',
    });
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    assert.equal(asked.body.status, 'pending');
    const request = (asked.body as { request: ApprovalView }).request;
    assert.equal(request.kind, 'evidence.unlock');
    assert.equal(request.cameraId, 'yard');
    assert.equal(
      (await as<EvidenceLockView>('alice', 'GET', `/api/evidence/${lock.body.id}`)).body.state,
      'locked',
    );

    // Who could approve hears of it; carol (no yard camera) does not.
    await waitFor(
      'bob told',
      () => bobPush.messages.some((m) => m.type === 'approval' && m.request.id === request.id),
      5000,
    );
    assert.ok(!carolPush.messages.some((m) => m.type === 'approval'), 'carol is not told');

    const self = await as<{ error: { code: string } }>(
      'alice',
      'POST',
      `/api/approvals/${request.id}/approve`,
    );
    assert.equal(self.status, 403);
    assert.equal(self.body.error.code, 'APPROVAL_SELF');
    assert.equal((await as('carol', 'POST', `/api/approvals/${request.id}/approve`)).status, 404);
    assert.equal((await as('dave', 'POST', `/api/approvals/${request.id}/approve`)).status, 404);
    assert.equal(
      (await as<EvidenceLockView>('alice', 'GET', `/api/evidence/${lock.body.id}`)).body.state,
      'locked',
    );

    const pending = await as<{ requests: ApprovalView[] }>('bob', 'GET', '/api/approvals?state=pending');
    assert.ok(pending.body.requests.some((r) => r.id === request.id));
    const approved = await as<ApprovalView>('bob', 'POST', `/api/approvals/${request.id}/approve`);
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.state, 'approved');
    assert.equal(approved.body.decidedBy, 'bob');
    const after = await as<EvidenceLockView>('alice', 'GET', `/api/evidence/${lock.body.id}`);
    assert.equal(after.body.state, 'unlocked');
    assert.equal(after.body.unlockedBy, 'alice', 'the action ran as the requester');
    // Approving again changes nothing.
    assert.equal((await as('root2', 'POST', `/api/approvals/${request.id}/approve`)).status, 409);
    await waitFor(
      'bob told of the approval',
      () => bobPush.messages.some((m) => m.type === 'approval' && m.change === 'approved'),
      5000,
    );
    bobPush.close();
    carolPush.close();

    const actions = await auditActions();
    for (const expected of [
      'evidence.lock alice',
      'approval.request alice',
      'approval.approve bob',
      'evidence.unlock alice',
    ]) {
      assert.ok(actions.includes(expected), `audit has ${expected}: ${actions.join(', ')}`);
    }
  });

  test('a refusal keeps the lock; the approver permission is checked again when deciding', async () => {
    const startMs = Date.now() - 20_000;
    const lock = (
      await as<EvidenceLockView>('alice', 'POST', '/api/evidence', {
        cameraId: 'gate',
        startTimeMs: startMs,
        endTimeMs: startMs + 5000,
        reason: 'parcel theft',
      })
    ).body;
    const first = (
      await as<{ request: ApprovalView }>('alice', 'POST', `/api/evidence/${lock.id}/unlock`, {
        reason: 'done',
      })
    ).body.request;
    const refused = await as<ApprovalView>('carol', 'POST', `/api/approvals/${first.id}/refuse`, {
      reason: 'the insurer still needs it',
    });
    assert.equal(refused.status, 200, JSON.stringify(refused.body));
    assert.equal(refused.body.state, 'refused');
    assert.equal(
      (await as<EvidenceLockView>('alice', 'GET', `/api/evidence/${lock.id}`)).body.state,
      'locked',
    );

    // Carol could decide when asked, but loses the camera before deciding: refused.
    const second = (
      await as<{ request: ApprovalView }>('alice', 'POST', `/api/evidence/${lock.id}/unlock`, {
        reason: 'again',
      })
    ).body.request;
    const carol = await vigil.auth.store.findUser('carol');
    await vigil.auth.store.updateUser(carol!.id, { cameras: ['yard'] });
    assert.equal((await as('carol', 'POST', `/api/approvals/${second.id}/approve`)).status, 404);
    // Bob is made a viewer: he no longer holds evidence.lock.
    const bob = await vigil.auth.store.findUser('bob');
    await vigil.auth.store.updateUser(bob!.id, { role: 'viewer' });
    assert.equal((await as('bob', 'POST', `/api/approvals/${second.id}/approve`)).status, 404);
    assert.equal(
      (await as<EvidenceLockView>('alice', 'GET', `/api/evidence/${lock.id}`)).body.state,
      'locked',
    );
    await vigil.auth.store.updateUser(bob!.id, { role: 'operator' });
    // The requester cancels; a token cannot approve at all.
    assert.equal(
      (await as<ApprovalView>('alice', 'POST', `/api/approvals/${second.id}/cancel`)).body.state,
      'cancelled',
    );
    const byToken = await fetch(`${vigil.url}/api/approvals/${second.id}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${vigil.token}` },
    });
    assert.equal(byToken.status, 403);
  });

  test('deleting recordings waits for approval and never deletes locked ones', async () => {
    await waitFor(
      '2 closed segments on gate',
      async () =>
        (await vigil.index.all()).filter((s) => s.camera_id === 'gate' && s.state === 'closed').length >= 2 ||
        undefined,
      90_000,
    );
    const segments = (await vigil.index.all()).filter((s) => s.camera_id === 'gate' && s.state === 'closed');
    const first = segments[0]!;
    const lock = await as<EvidenceLockView>('root2', 'POST', '/api/evidence', {
      cameraId: 'gate',
      startTimeMs: first.start_time_ms,
      endTimeMs: first.end_time_ms,
      reason: 'keep the first minute',
    });
    assert.equal(lock.status, 201);
    const fromMs = first.start_time_ms - 1000;
    const toMs = segments.at(-1)!.end_time_ms;
    // Operators lack recordings.delete.
    assert.equal(
      (await as('alice', 'DELETE', `/api/cameras/gate/recordings?from=${fromMs}&to=${toMs}&reason=x`)).status,
      403,
    );
    const asked = await as<{ request: ApprovalView }>(
      'root2',
      'DELETE',
      `/api/cameras/gate/recordings?from=${fromMs}&to=${toMs}&reason=privacy%20request`,
    );
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    assert.equal(
      (await vigil.index.all()).filter((s) => s.id === segments.at(-1)!.id).length,
      1,
      'nothing deleted yet',
    );
    await vigil.auth.store.createUser({ name: 'root3', role: 'admin', password: PASSWORD, cameras: null });
    people['root3'] = await signIn('root3');
    const done = await as<ApprovalView>('root3', 'POST', `/api/approvals/${asked.body.request.id}/approve`);
    assert.equal(done.status, 200, JSON.stringify(done.body));
    const result = done.body.result as { segmentCount: number; keptLockedCount: number };
    assert.ok(result.segmentCount >= 1, JSON.stringify(result));
    assert.ok(result.keptLockedCount >= 1);
    const left = (await vigil.index.all()).filter((s) => s.camera_id === 'gate' && s.state === 'closed');
    assert.ok(
      left.some((s) => s.id === first.id),
      'the locked segment stays',
    );
    assert.ok(!left.some((s) => s.id === segments.at(-1)!.id), 'an unlocked one went');
  });

  test('lifting privacy masks waits for a second user with unmask, then starts for the requester', async () => {
    const asked = await as<ApprovalOutcome>('root2', 'POST', '/api/cameras/yard/privacy/lifts', {
      reason: 'police request 88',
      durationMs: 600_000,
    });
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    assert.equal(asked.body.status, 'pending');
    const id = asked.body.request!.id;
    const lifts = async (who: string) =>
      (await as<{ lifts: unknown[] }>(who, 'GET', '/api/cameras/yard/privacy/lifts')).body.lifts.length;
    assert.equal(await lifts('root2'), 0, 'nothing is lifted before approval');
    assert.equal((await as('root2', 'POST', `/api/approvals/${id}/approve`)).status, 403, 'not by oneself');
    assert.equal(
      (await as('alice', 'POST', `/api/approvals/${id}/approve`)).status,
      404,
      'not without unmask: the request is not even shown to her',
    );
    assert.equal(await lifts('root2'), 0);
    const approved = await as<ApprovalView>('root4', 'POST', `/api/approvals/${id}/approve`);
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.state, 'approved');
    assert.equal(await lifts('root2'), 1, 'the lift is the requester’s, started at approval');
    assert.ok(
      (await vigil.auth.audit.query({ action: 'privacy.lift.start', limit: 10 })).entries.some(
        (e) => 'name' in e.actor && e.actor.name === 'root2',
      ),
    );
  });
});
