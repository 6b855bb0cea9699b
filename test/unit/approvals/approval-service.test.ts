import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { ApprovalService, type Caller } from '../../../src/approvals/approval-service.js';
import type { AuditInput } from '../../../src/audit/entry.js';
import { principalFor } from '../../../src/auth/store.js';
import { VigilError } from '../../../src/errors/catalogue.js';
import { authFixture, GOOD_PASSWORD, HOUR_MS, type AuthFixture } from '../auth/helpers.js';

/**
 * The approval service over a real index database and a manual clock: what waits, who may
 * decide, what is re-checked at the moment of deciding, and expiry.
 */
describe('ApprovalService', () => {
  let f: AuthFixture;
  let service: ApprovalService;
  const audit: AuditInput[] = [];
  const executed: Array<{ params: { target: string }; by: string }> = [];
  const callers: Record<string, Caller> = {};

  const caller = async (name: string) => {
    const user = await f.store.findUser(name);
    return { principal: principalFor(user!), ip: '127.0.0.1' };
  };

  before(async () => {
    f = await authFixture();
    service = new ApprovalService({
      db: f.db,
      clock: f.clock,
      log: pino({ level: 'silent' }),
      config: { require: ['evidence.unlock'], expiryMs: HOUR_MS },
      record: (input) => audit.push(input),
      getUser: (id) => f.store.getUser(id),
    });
    // Two kinds with the same plain action: one waits for approval (configured), one does not.
    for (const kind of ['evidence.unlock', 'events.delete'] as const) {
      service.register<{ target: string }>(kind, {
        permission: kind === 'evidence.unlock' ? 'evidence.lock' : 'events.delete',
        describe: async (params) => {
          if (params.target === 'missing') throw new VigilError('EVENT_NOT_FOUND', 'no such thing');
          return { cameraId: 'yard', summary: `act on ${params.target}` };
        },
        execute: async (params, by) => {
          executed.push({ params, by: by.name });
          return { done: params.target };
        },
      });
    }
    for (const [name, role, cameras] of [
      ['alice', 'operator', null],
      ['bob', 'operator', null],
      ['carol', 'operator', ['gate']],
      ['vera', 'viewer', null],
    ] as const) {
      await f.store.createUser({
        name,
        role,
        password: GOOD_PASSWORD,
        cameras: cameras ? [...cameras] : null,
      });
      callers[name] = await caller(name);
    }
  });

  after(async () => {
    await f.close();
  });

  test('a kind that needs no approval runs at once as the caller; permission comes first', async () => {
    const outcome = await service.perform(callers['alice']!, 'events.delete', { target: 'e1' }, '');
    assert.deepEqual(outcome, { status: 'done', result: { done: 'e1' } });
    assert.deepEqual(executed.at(-1), { params: { target: 'e1' }, by: 'alice' });
    await assert.rejects(
      service.perform(callers['vera']!, 'events.delete', { target: 'e2' }, ''),
      /does not include/,
    );
    await assert.rejects(
      service.perform(callers['carol']!, 'events.delete', { target: 'e2' }, ''),
      /not among the cameras/,
    );
    assert.equal(executed.length, 1);
  });

  test('a kind that needs approval waits; the requester cannot approve; another user runs it as the requester', async () => {
    await assert.rejects(
      service.perform(callers['alice']!, 'evidence.unlock', { target: 'l1' }, ' '),
      /reason/,
    );
    const outcome = await service.perform(
      callers['alice']!,
      'evidence.unlock',
      { target: 'l1' },
      'case closed',
    );
    assert.equal(outcome.status, 'pending');
    const id = outcome.status === 'pending' ? outcome.request.id : 0;
    assert.equal(executed.length, 1, 'nothing ran yet');
    await assert.rejects(
      service.approve(callers['alice']!, id),
      (err: unknown) => (err as VigilError).code === 'APPROVAL_SELF',
    );
    await assert.rejects(
      service.approve(callers['vera']!, id),
      (err: unknown) => (err as VigilError).code === 'APPROVAL_NOT_FOUND',
    );
    await assert.rejects(
      service.approve(callers['carol']!, id),
      (err: unknown) => (err as VigilError).code === 'APPROVAL_NOT_FOUND',
    );
    const approved = await service.approve(callers['bob']!, id);
    assert.equal(approved.state, 'approved');
    assert.deepEqual(approved.result, { done: 'l1' });
    assert.deepEqual(executed.at(-1), { params: { target: 'l1' }, by: 'alice' });
    await assert.rejects(
      service.approve(callers['bob']!, id),
      (err: unknown) => (err as VigilError).code === 'APPROVAL_NOT_PENDING',
    );
    assert.deepEqual(
      audit.filter((a) => a.action.startsWith('approval.')).map((a) => a.action),
      ['approval.request', 'approval.approve'],
    );
  });

  test('the requester losing the permission before approval fails the request; nothing runs', async () => {
    const outcome = await service.perform(callers['alice']!, 'evidence.unlock', { target: 'l2' }, 'why not');
    const id = outcome.status === 'pending' ? outcome.request.id : 0;
    const alice = await f.store.findUser('alice');
    await f.store.updateUser(alice!.id, { role: 'viewer' });
    const before = executed.length;
    await assert.rejects(service.approve(callers['bob']!, id), /no longer holds/);
    assert.equal(executed.length, before);
    assert.equal((await service.get(callers['bob']!.principal, id)).state, 'failed');
    await f.store.updateUser(alice!.id, { role: 'operator' });
  });

  test('requests expire; refusals and cancellations are final', async () => {
    const a = await service.perform(callers['alice']!, 'evidence.unlock', { target: 'l3' }, 'one');
    const b = await service.perform(callers['alice']!, 'evidence.unlock', { target: 'l4' }, 'two');
    const c = await service.perform(callers['alice']!, 'evidence.unlock', { target: 'l5' }, 'three');
    const [idA, idB, idC] = [a, b, c].map((o) => (o.status === 'pending' ? o.request.id : 0));
    assert.equal((await service.refuse(callers['bob']!, idA!, 'not yet')).state, 'refused');
    await assert.rejects(service.cancel(callers['bob']!, idB!), /only 'alice'/);
    assert.equal((await service.cancel(callers['alice']!, idB!)).state, 'cancelled');
    f.clock.advance(HOUR_MS + 1);
    assert.equal(await service.expireDue(), 1);
    assert.equal((await service.get(callers['alice']!.principal, idC!)).state, 'expired');
    await assert.rejects(
      service.approve(callers['bob']!, idC!),
      (err: unknown) => (err as VigilError).code === 'APPROVAL_NOT_PENDING',
    );
    assert.ok(audit.some((x) => x.action === 'approval.expire'));
    // Carol (gate only) sees none of the yard requests; Bob sees them all.
    assert.equal((await service.list(callers['carol']!.principal)).length, 0);
    assert.ok(
      (await service.list(callers['bob']!.principal, { state: 'expired' })).some((r) => r.id === idC),
    );
  });
});
