import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import pino from 'pino';
import type { AuditInput } from '../../../src/audit/entry.js';
import type { Principal, Role } from '../../../src/auth/permissions.js';
import { validateCamera, type CameraConfig } from '../../../src/config/index.js';
import { VigilError } from '../../../src/errors/catalogue.js';
import { LiftStore } from '../../../src/privacy/lift-store.js';
import { MaskService } from '../../../src/privacy/mask-service.js';
import { openDatabase, type Db } from '../../../src/storage/db.js';
import { ManualClock } from '../../../src/time/clock.js';
import { ManualTimers } from '../../../src/time/timers.js';

const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);
const PERMANENT: Array<[number, number]> = [
  [0, 0],
  [0.2, 0],
  [0.2, 0.2],
];
const LIFTABLE: Array<[number, number]> = [
  [0.5, 0.5],
  [0.9, 0.5],
  [0.9, 0.9],
];

function cameraWithMasks(id: string, liftable = true): CameraConfig {
  const result = validateCamera({
    id,
    streams: { main: { url: 'testsrc:' } },
    privacy: {
      masks: [
        { id: 'p', kind: 'permanent', polygon: PERMANENT },
        ...(liftable ? [{ id: 'l', kind: 'liftable', polygon: LIFTABLE }] : []),
      ],
    },
  });
  assert.ok(result.ok);
  return result.camera;
}

function principal(userId: number, role: Role, extra: Partial<Principal> = {}): Principal {
  return {
    userId,
    name: `user${userId}`,
    role,
    cameras: null,
    scopes: null,
    via: 'session',
    tokenId: null,
    ...extra,
  };
}

const admin = principal(1, 'admin');
const otherAdmin = principal(2, 'admin');
const operator = principal(3, 'operator');

async function waitForAudit(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('MaskService: who sees through which masks', () => {
  const dbs: Db[] = [];
  let db: Db;
  let clock: ManualClock;
  let timers: ManualTimers;
  let audit: AuditInput[];
  let cameras: Map<string, CameraConfig>;

  async function service(exportsNeedApproval = false): Promise<MaskService> {
    return MaskService.start({
      exportsNeedApproval,
      cameraConfig: (id) => cameras.get(id),
      lifts: new LiftStore(db),
      record: (input) => audit.push(input),
      clock,
      timers,
      log: pino({ level: 'silent' }),
    });
  }

  const caller = (p: Principal) => ({ principal: p, ip: '192.0.2.7' });

  beforeEach(async () => {
    db = await openDatabase(join(mkdtempSync(join(tmpdir(), 'vigil-masks-')), 'index.sqlite'));
    dbs.push(db);
    clock = new ManualClock(T0);
    timers = new ManualTimers(clock);
    audit = [];
    cameras = new Map([
      ['yard', cameraWithMasks('yard')],
      ['door', cameraWithMasks('door', false)],
    ]);
  });

  after(async () => {
    for (const d of dbs) await d.destroy();
  });

  test('without a lift everyone gets every mask; permanentMasks() gives the permanent ones', async () => {
    const masks = await service();
    assert.deepEqual(masks.masksFor(admin, 'yard'), [PERMANENT, LIFTABLE]);
    assert.deepEqual(masks.masksFor(operator, 'yard'), [PERMANENT, LIFTABLE]);
    assert.deepEqual(masks.permanentMasks('yard'), [PERMANENT]);
    assert.deepEqual(masks.masksFor(admin, 'nowhere'), []);
  });

  test('a lift shows the liftable masks to its owner only, until it expires, and is audited', async () => {
    const masks = await service();
    const changes: string[] = [];
    masks.onChange((id) => changes.push(id));
    const lift = await masks.lift(caller(admin), 'yard', '  police request 4411 ', 10 * 60_000);
    assert.equal(lift.reason, 'police request 4411');
    assert.equal(lift.expiresAtMs, T0 + 10 * 60_000);
    assert.deepEqual(masks.masksFor(admin, 'yard'), [PERMANENT], 'the permanent mask stays');
    assert.deepEqual(masks.masksFor(otherAdmin, 'yard'), [PERMANENT, LIFTABLE], 'not for another user');
    assert.deepEqual(masks.masksFor(admin, 'door'), [PERMANENT], 'not for another camera');
    // The same user through a token without `unmask` does not see through.
    const narrowToken = principal(1, 'admin', { via: 'token', tokenId: 9, scopes: new Set(['live.view']) });
    assert.deepEqual(masks.masksFor(narrowToken, 'yard'), [PERMANENT, LIFTABLE]);
    assert.deepEqual(changes, ['yard']);

    timers.advance(10 * 60_000 - 1);
    assert.deepEqual(masks.masksFor(admin, 'yard'), [PERMANENT]);
    timers.advance(1);
    assert.deepEqual(masks.masksFor(admin, 'yard'), [PERMANENT, LIFTABLE], 'hidden again at expiry');
    // The expiry's row update and audit entry follow the timer asynchronously.
    await waitForAudit(() => audit.length === 2);
    assert.deepEqual(
      audit.map((a) => [a.action, a.actor.kind, a.target]),
      [
        ['privacy.lift.start', 'user', 'camera:yard'],
        ['privacy.lift.expire', 'system', 'camera:yard'],
      ],
    );
    assert.equal(audit[0]!.details?.['reason'], 'police request 4411');
    assert.equal(audit[0]!.ip, '192.0.2.7');
    assert.deepEqual(changes, ['yard', 'yard']);
    const row = await db.selectFrom('privacy_lifts').selectAll().executeTakeFirstOrThrow();
    assert.equal(row.ended_at_ms, T0 + 10 * 60_000);
    assert.equal(row.ended_by, null);
  });

  test('exports follow the lift, unless exporting under masks needs approval: then every mask', async () => {
    for (const needApproval of [false, true]) {
      const masks = await service(needApproval);
      await masks.lift(caller(admin), 'yard', 'police request 4412', 60_000);
      assert.deepEqual(masks.masksFor(admin, 'yard'), [PERMANENT], 'watching follows the lift');
      assert.deepEqual(
        masks.exportMasksFor(admin, 'yard'),
        needApproval ? [PERMANENT, LIFTABLE] : [PERMANENT],
        `exporting, approval ${needApproval ? '' : 'not '}required`,
      );
      assert.deepEqual(masks.exportMasksFor(operator, 'yard'), [PERMANENT, LIFTABLE]);
      await masks.endLift(caller(admin), 'yard', masks.lifts(admin, 'yard')[0]!.id);
    }
  });

  test('the clock, not the timer, bounds a lift', async () => {
    const masks = await service();
    await masks.lift(caller(admin), 'yard', 'check', 60_000);
    // The clock moves past the end without the timer having run (a busy event loop).
    clock.advance(60_000);
    assert.deepEqual(masks.masksFor(admin, 'yard'), [PERMANENT, LIFTABLE]);
    assert.deepEqual(masks.lifts(admin, 'yard'), []);
  });

  test('ending early: by its owner or a user manager, audited; then hidden again', async () => {
    const masks = await service();
    const lift = await masks.lift(caller(admin), 'yard', 'check', 60_000);
    const operatorLift = await masks.lift(caller(otherAdmin), 'yard', 'second look', 60_000);
    clock.advance(15_000);
    await masks.endLift(caller(admin), 'yard', lift.id);
    assert.deepEqual(masks.masksFor(admin, 'yard'), [PERMANENT, LIFTABLE]);
    await assert.rejects(masks.endLift(caller(admin), 'yard', lift.id), { code: 'LIFT_NOT_FOUND' });
    await assert.rejects(masks.endLift(caller(admin), 'door', operatorLift.id), { code: 'LIFT_NOT_FOUND' });
    // An administrator (users.manage) ends another's lift.
    await masks.endLift(caller(admin), 'yard', operatorLift.id);
    assert.deepEqual(
      audit
        .filter((a) => a.action === 'privacy.lift.end')
        .map((a) => [a.details?.['user'], a.details?.['remainingMs']]),
      [
        ['user1', 45_000],
        ['user2', 45_000],
      ],
    );
    timers.advance(120_000);
    assert.equal(
      audit.filter((a) => a.action === 'privacy.lift.expire').length,
      0,
      'an ended lift does not expire',
    );
  });

  test('refusals: no unmask, no liftable mask, a second lift, bad reason or duration', async () => {
    const masks = await service();
    const refused = async (p: Promise<unknown>, code: string) => {
      await assert.rejects(p, (err: unknown) => err instanceof VigilError && err.code === code);
    };
    await refused(masks.lift(caller(operator), 'yard', 'curious', 60_000), 'FORBIDDEN');
    const granted = principal(5, 'admin', { via: 'token', tokenId: 3, scopes: new Set(['live.view']) });
    await refused(masks.lift(caller(granted), 'yard', 'curious', 60_000), 'FORBIDDEN');
    await refused(masks.lift(caller(admin), 'door', 'nothing to lift', 60_000), 'NO_LIFTABLE_MASKS');
    await refused(masks.lift(caller(admin), 'nowhere', 'x', 60_000), 'CAMERA_NOT_FOUND');
    await refused(masks.lift(caller(admin), 'yard', '   ', 60_000), 'REQUEST_INVALID');
    await refused(masks.lift(caller(admin), 'yard', 'long', 3_600_001), 'REQUEST_INVALID');
    await refused(masks.lift(caller(admin), 'yard', 'short', 999), 'REQUEST_INVALID');
    await masks.lift(caller(admin), 'yard', 'first', 60_000);
    await refused(masks.lift(caller(admin), 'yard', 'again', 60_000), 'LIFT_ACTIVE');
    assert.deepEqual(
      audit.map((a) => a.action),
      ['privacy.lift.start'],
      'refusals change nothing',
    );
  });

  test('lifts survive a restart; one that ran out meanwhile is closed and audited at start', async () => {
    const first = await service();
    await first.lift(caller(admin), 'yard', 'long look', 30 * 60_000);
    await first.lift(caller(otherAdmin), 'yard', 'short look', 60_000);
    first.stop();
    clock.advance(5 * 60_000);
    audit = [];
    const second = await service();
    assert.deepEqual(second.masksFor(admin, 'yard'), [PERMANENT]);
    assert.deepEqual(second.masksFor(otherAdmin, 'yard'), [PERMANENT, LIFTABLE]);
    assert.deepEqual(
      audit.map((a) => [a.action, a.details?.['user']]),
      [['privacy.lift.expire', 'user2']],
    );
    assert.deepEqual(
      second.lifts(otherAdmin, 'yard').map((l) => [l.userName, l.mine]),
      [['user1', false]],
    );
  });

  test('a change of the masks in the config is told; a change of something else is not', async () => {
    const masks = await service();
    const changes: string[] = [];
    masks.onChange((id) => changes.push(id));
    masks.cameraChanged('yard');
    masks.cameraChanged('yard');
    cameras.set('yard', { ...cameraWithMasks('yard'), name: 'Yard' });
    masks.cameraChanged('yard');
    cameras.set('yard', cameraWithMasks('yard', false));
    masks.cameraChanged('yard');
    assert.deepEqual(changes, ['yard', 'yard']);
    assert.deepEqual(masks.masksFor(admin, 'yard'), [PERMANENT]);
  });

  test("a camera being replaced or deleted keeps its masks for its events' pictures", async () => {
    const masks = await service();
    masks.cameraChanged('yard');
    cameras.delete('yard');
    masks.cameraChanged('yard');
    assert.deepEqual(masks.masksFor(admin, 'yard'), [PERMANENT, LIFTABLE]);
    assert.deepEqual(masks.allMasks('yard'), [PERMANENT, LIFTABLE]);
  });
});
