import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { VigilError } from '../../../src/errors/catalogue.js';
import { decodeCursor, eventView, snapshotPaths } from '../../../src/events/store.js';
import { EventRetention } from '../../../src/events/retention.js';
import { DAY_MS, T0, eventFixture, newEvent, type EventFixture } from './helpers.js';
import pino from 'pino';

describe('event store', () => {
  let f: EventFixture;
  before(async () => {
    f = await eventFixture();
  });
  after(async () => {
    await f.close();
  });

  test('insert, get and the API view', async () => {
    const stored = await f.store.insert(newEvent({ startTimeMs: T0 - 100 * DAY_MS }));
    const got = await f.store.get(stored.id);
    assert.deepEqual(got, stored);
    const view = eventView(stored);
    assert.equal(view.snapshot, null);
    assert.equal(view.clip.url, `/api/events/${stored.id}/clip.mp4`);
    assert.equal(view.clip.startTimeMs, stored.startTimeMs - 5000);
    await assert.rejects(f.store.require(999_999), (err: unknown) => {
      assert.ok(err instanceof VigilError);
      assert.equal(err.code, 'EVENT_NOT_FOUND');
      return true;
    });
    assert.equal(await f.store.delete(stored.id), true);
  });

  test('pages are newest first, filtered, and stable while events arrive', async () => {
    const ids: number[] = [];
    // 25 events a minute apart, two cameras and two labels; two share a start time.
    for (let i = 0; i < 25; i += 1) {
      const event = await f.store.insert(
        newEvent({
          startTimeMs: T0 + Math.min(i, 23) * 60_000,
          cameraId: i % 2 === 0 ? 'yard' : 'gate',
          label: i % 3 === 0 ? 'car' : 'person',
        }),
      );
      ids.push(event.id);
    }
    const first = await f.store.query({ limit: 10 });
    assert.equal(first.events.length, 10);
    assert.ok(first.nextCursor);
    // Same start for the last two: the higher id comes first.
    assert.deepEqual(
      first.events.slice(0, 2).map((e) => e.id),
      [ids[24], ids[23]],
    );
    // An event arriving between pages (newer than all) does not shift the next page.
    await f.store.insert(newEvent({ startTimeMs: T0 + 3_600_000 }));
    const second = await f.store.query({ limit: 10, cursor: first.nextCursor! });
    const third = await f.store.query({ limit: 10, cursor: second.nextCursor! });
    assert.equal(third.nextCursor, null);
    const all = [...first.events, ...second.events, ...third.events].map((e) => e.id);
    assert.deepEqual(all, [...ids].reverse());

    const yardCars = await f.store.query({ cameraId: 'yard', label: 'car', limit: 500 });
    assert.ok(yardCars.events.length > 0);
    assert.ok(yardCars.events.every((e) => e.cameraId === 'yard' && e.label === 'car'));
    // Overlap: an event [start, start+4 s] overlaps [from, to) when start < to and end >= from.
    const window = await f.store.query({ fromMs: T0 + 60_000 + 4000, toMs: T0 + 3 * 60_000, limit: 500 });
    assert.deepEqual(
      window.events.map((e) => e.startTimeMs),
      [T0 + 2 * 60_000, T0 + 60_000],
    );
    assert.equal((await f.store.query({ limit: 100_000 })).events.length, 26, 'limit is capped at 500');
    assert.throws(() => decodeCursor('bm9wZQ'), /cursor/);
    await assert.rejects(f.store.query({ cursor: '!!' }), /cursor/);
  });

  test('an ongoing event overlaps every range after its start', async () => {
    const ongoing = await f.store.insert(
      newEvent({ cameraId: 'lane', startTimeMs: T0 - DAY_MS, endTimeMs: null }),
    );
    const page = await f.store.query({ cameraId: 'lane', fromMs: T0, toMs: T0 + 1000 });
    assert.deepEqual(
      page.events.map((e) => e.id),
      [ongoing.id],
    );
    assert.deepEqual(
      (await f.store.ongoing()).map((e) => e.id),
      [ongoing.id],
    );
    await f.store.delete(ongoing.id);
  });

  test('a long event that began well before a window is found in it, a short one is not', async () => {
    const parked = await f.store.insert(
      newEvent({ cameraId: 'dock', startTimeMs: T0 - 5 * 3_600_000, endTimeMs: T0 + 60_000 }),
    );
    const passing = await f.store.insert(
      newEvent({ cameraId: 'dock', startTimeMs: T0 - 3_600_000, endTimeMs: T0 - 3_590_000 }),
    );
    const page = await f.store.query({ cameraId: 'dock', fromMs: T0, toMs: T0 + 1000 });
    assert.deepEqual(
      page.events.map((e) => e.id),
      [parked.id],
      'the five-hour event overlaps; the ten-second one an hour earlier does not',
    );
    await f.store.delete(parked.id);
    await f.store.delete(passing.id);
  });

  test('each event holds its clip range until clipEnd + eventsDays; save moves it, delete removes it', async () => {
    const event = await f.store.insert(newEvent({ cameraId: 'held', startTimeMs: T0, endTimeMs: null }));
    const holdsOf = async () =>
      (
        await f.db
          .selectFrom('retention_holds')
          .selectAll()
          .where('reason', '=', `event:${event.id}`)
          .execute()
      ).map((h) => [h.camera_id, h.kind, h.start_time_ms, h.end_time_ms, h.until_ms]);
    assert.deepEqual(await holdsOf(), [['held', 'event', T0 - 5000, T0 + 5000, T0 + 5000 + 14 * DAY_MS]]);
    await f.store.save({ ...event, endTimeMs: T0 + 20_000, clipEndMs: T0 + 25_000 });
    assert.deepEqual(await holdsOf(), [['held', 'event', T0 - 5000, T0 + 25_000, T0 + 25_000 + 14 * DAY_MS]]);
    const paths = snapshotPaths(event);
    for (const path of [paths.frame, paths.crop]) {
      mkdirSync(dirname(join(f.dir, path)), { recursive: true });
      writeFileSync(join(f.dir, path), 'jpeg');
    }
    assert.equal(await f.store.delete(event.id), true);
    assert.deepEqual(await holdsOf(), []);
    assert.equal(existsSync(join(f.dir, paths.frame)), false);
    assert.equal(existsSync(dirname(join(f.dir, paths.frame))), false, 'the empty day folder goes too');
    assert.equal(await f.store.delete(event.id), false);
    assert.equal(await f.store.save({ ...event }), false, 'saving a deleted event reports it');
  });

  test('retention deletes events that ended more than eventsDays ago, with files and holds', async () => {
    const g = await eventFixture(2);
    try {
      const old = await g.store.insert(newEvent({ startTimeMs: T0 - 3 * DAY_MS }));
      const recent = await g.store.insert(newEvent({ startTimeMs: T0 - DAY_MS }));
      const ongoing = await g.store.insert(newEvent({ startTimeMs: T0 - 5 * DAY_MS, endTimeMs: null }));
      const oldFile = join(g.dir, snapshotPaths(old).frame);
      mkdirSync(dirname(oldFile), { recursive: true });
      writeFileSync(oldFile, 'jpeg');
      g.clock.set(T0);
      const retention = new EventRetention(g.store, g.clock, pino({ level: 'silent' }), 60_000);
      assert.equal(await retention.runNow(), 1);
      assert.equal(await g.store.get(old.id), undefined);
      assert.ok(await g.store.get(recent.id));
      assert.ok(await g.store.get(ongoing.id), 'an ongoing event is never expired');
      assert.equal(existsSync(oldFile), false);
      const holds = await g.index.holds();
      assert.equal(holds.length, 2);
      assert.equal(await retention.runNow(), 0);
      assert.equal(retention.deletedEventCount, 1);
    } finally {
      await g.close();
    }
  });
});
