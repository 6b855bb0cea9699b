import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import {
  appendPathPoint,
  type TrackObservation,
  type EventManager,
} from '../../../src/events/event-manager.js';
import type { EventPathPoint } from '../../../src/contract/events.js';
import { T0, DAY_MS, collect, eventFixture, manager, testFrame, type EventFixture } from './helpers.js';

function track(trackId: number, x: number, overrides: Partial<TrackObservation> = {}): TrackObservation {
  return {
    trackId,
    label: 'person',
    score: 0.7,
    box: { x, y: 60, width: 40, height: 100 },
    confirmed: true,
    stationary: false,
    ...overrides,
  };
}

/** Feeds frames 200 ms apart (5 fps) from startMs, one track per frame built by `at`. */
function walk(
  events: EventManager,
  startMs: number,
  frames: number,
  at: (i: number) => TrackObservation[],
): number {
  let timeMs = startMs;
  for (let i = 0; i < frames; i += 1) {
    timeMs = startMs + i * 200;
    events.observe('yard', testFrame(timeMs), at(i));
  }
  return timeMs;
}

describe('event manager', () => {
  let f: EventFixture;
  before(async () => {
    f = await eventFixture();
  });
  after(async () => {
    await f.close();
  });

  test('a confirmed track opens one event that follows it and ends after the cool-down', async () => {
    const changes = collect(f.bus, 'event');
    const events = manager(f);
    const lastMs = walk(events, T0, 20, (i) => [track(1, 20 + i * 5, { score: 0.6 + i * 0.01 })]);
    await events.idle();
    const opened = changes.filter((c) => c.type === 'new');
    assert.equal(opened.length, 1);
    const first = opened[0]!.after;
    assert.equal(opened[0]!.before, null);
    assert.equal(first.cameraId, 'yard');
    assert.equal(first.label, 'person');
    assert.equal(first.trackId, 1);
    assert.equal(first.startTimeMs, T0);
    assert.equal(first.endTimeMs, null);
    assert.ok(first.snapshot, 'the first snapshot comes with the new event');
    // Updates are throttled: 4 s of frames give a handful, not 20.
    const updates = changes.filter((c) => c.type === 'update');
    assert.ok(updates.length >= 2 && updates.length <= 6, `${updates.length} updates`);
    assert.deepEqual(updates[0]!.before, first);
    events.trackEnded('yard', 1, lastMs + 1000);
    // Still cooling down 2.9 s later.
    events.observe('yard', testFrame(lastMs + 3900), []);
    await events.idle();
    assert.equal(changes.filter((c) => c.type === 'end').length, 0);
    events.observe('yard', testFrame(lastMs + 4000), []);
    await events.idle();
    const ended = changes.filter((c) => c.type === 'end');
    assert.equal(ended.length, 1);
    const end = ended[0]!.after;
    assert.equal(end.id, first.id);
    assert.equal(end.endTimeMs, lastMs, 'the event ends at the last sighting');
    assert.equal(end.clip.startTimeMs, T0 - 5000);
    assert.equal(end.clip.endTimeMs, lastMs + 5000);
    assert.ok(Math.abs(end.maxScore - 0.79) < 1e-9);
    assert.equal(end.path.length, 20);
    assert.ok(end.path.every((p) => p.x > 0 && p.x < 1 && p.y > 0 && p.y < 1));
    const stored = await f.store.get(end.id);
    assert.equal(stored?.endTimeMs, lastMs);
    const holds = await f.db
      .selectFrom('retention_holds')
      .selectAll()
      .where('reason', '=', `event:${end.id}`)
      .execute();
    assert.deepEqual(
      holds.map((h) => [h.camera_id, h.start_time_ms, h.end_time_ms, h.until_ms]),
      [['yard', T0 - 5000, lastMs + 5000, lastMs + 5000 + 14 * DAY_MS]],
    );
    await events.close();
  });

  test('snapshots are real JPEGs: the frame at full size and a crop around the box', async () => {
    const page = await f.store.query({ cameraId: 'yard', limit: 1 });
    const event = page.events[0]!;
    assert.ok(event.snapshotPath && event.cropPath);
    assert.match(event.snapshotPath, /^events\/yard\/2026-11-26\/\d+-frame\.jpg$/);
    const frame = await sharp(join(f.dir, event.snapshotPath)).metadata();
    assert.deepEqual([frame.format, frame.width, frame.height], ['jpeg', 320, 240]);
    const crop = await sharp(join(f.dir, event.cropPath)).metadata();
    assert.equal(crop.format, 'jpeg');
    // The box is 40×100 px: the crop adds a quarter on each side (60×150), the 64 px floor wins for width.
    assert.deepEqual([crop.width, crop.height], [64, 150]);
    // The box is drawn in red on the blue-grey frame.
    const { data, info } = await sharp(join(f.dir, event.snapshotPath))
      .raw()
      .toBuffer({ resolveWithObject: true });
    const box = event.box;
    const px = Math.round(box.x * info.width) + 1;
    const py = Math.round((box.y + box.height / 2) * info.height);
    const offset = (py * info.width + px) * info.channels;
    assert.ok(data[offset]! > 180 && data[offset + 2]! < 120, `pixel ${data[offset]},${data[offset + 2]}`);
  });

  test('unconfirmed, unwatched and stationary tracks open no event; unknown cameras are ignored', async () => {
    const changes = collect(f.bus, 'event');
    const events = manager(f);
    walk(events, T0 + DAY_MS, 10, () => [
      track(1, 20, { confirmed: false }),
      track(2, 100, { label: 'dog' }),
      track(3, 200, { label: 'car', stationary: true }),
    ]);
    events.observe('nowhere', testFrame(T0), [track(4, 10)]);
    await events.idle();
    assert.deepEqual(changes, []);
    await events.close();
  });

  test('a new track of the same label at the same place during the cool-down continues the event', async () => {
    const changes = collect(f.bus, 'event');
    const events = manager(f);
    const start = T0 + 2 * DAY_MS;
    const lastMs = walk(events, start, 10, (i) => [track(7, 50 + i * 2)]);
    events.trackEnded('yard', 7, lastMs + 1000);
    // Lost behind a tree for 2 s, then picked up again as track 8 nearby…
    walk(events, lastMs + 2000, 10, (i) => [track(8, 80 + i * 2)]);
    // …while a person elsewhere and a car at the same place open their own events.
    walk(events, lastMs + 4000, 5, () => [track(8, 100), track(9, 260), track(10, 100, { label: 'car' })]);
    events.trackEnded('yard', 8, lastMs + 6000);
    events.trackEnded('yard', 9, lastMs + 6000);
    events.trackEnded('yard', 10, lastMs + 6000);
    events.observe('yard', testFrame(lastMs + 20_000), []);
    await events.idle();
    const opened = changes
      .filter((c) => c.type === 'new')
      .map((c) => c.after)
      .sort((a, b) => a.trackId - b.trackId);
    assert.deepEqual(
      opened.map((e) => [e.trackId, e.label]),
      [
        [7, 'person'],
        [9, 'person'],
        [10, 'car'],
      ],
    );
    const ended = changes.filter((c) => c.type === 'end').map((c) => c.after);
    assert.equal(ended.length, 3);
    const merged = ended.find((e) => e.trackId === 7)!;
    assert.equal(merged.startTimeMs, start);
    assert.equal(merged.endTimeMs, lastMs + 4800, 'the merged event lasts until track 8 was last seen');
    await events.close();
  });

  test('re-identification: a new track taking over a coasting one, or a lost one, continues its event; other clothes do not', async () => {
    const changes = collect(f.bus, 'event');
    const events = manager(f);
    const start = T0 + 8 * DAY_MS;
    const RED = [200, 30, 30];
    const BLACK = [20, 20, 25];
    /** A frame with each track's box painted in its clothes' colour. */
    const frame = (timeMs: number, people: Array<[TrackObservation, number[]]>) => {
      const image = testFrame(timeMs);
      for (const [t, rgb] of people)
        for (let y = t.box.y; y < t.box.y + t.box.height; y++)
          for (let x = t.box.x; x < t.box.x + t.box.width; x++)
            image.data.set(rgb, (y * image.width + x) * 3);
      return image;
    };
    const walking = { velocity: { x: 0.02, y: 0 } };
    let timeMs = start;
    for (let i = 0; i < 10; i++, timeMs += 200) {
      const t = track(1, 20 + i * 4, walking);
      events.observe('yard', frame(timeMs, [[t, RED]]), [t]);
    }
    const lastSeenOne = timeMs - 200;
    // Track 1 loses the person and coasts; the tracker starts track 2 on them further on.
    for (let i = 0; i < 5; i++, timeMs += 200) {
      const coasting = track(1, 60 + i * 4, { ...walking, predicted: true });
      const taking = track(2, 64 + i * 4, walking);
      events.observe('yard', frame(timeMs, [[taking, RED]]), [coasting, taking]);
    }
    assert.equal(events.eventTrackIdOf('yard', 2), 1, 'track 2 feeds the event track 1 opened');
    assert.equal(events.eventTrackIdOf('yard', 1), null, 'the coasting track feeds nothing');
    events.trackEnded('yard', 1, timeMs);
    const lastSeenTwo = timeMs - 200;
    events.trackEnded('yard', 2, lastSeenTwo + 400);
    // 1 s later, someone in black where the red person would be: a person of their own.
    timeMs = lastSeenTwo + 1000;
    for (let i = 0; i < 5; i++, timeMs += 200) {
      const t = track(3, 104 + i * 4, walking);
      events.observe('yard', frame(timeMs, [[t, BLACK]]), [t]);
    }
    events.trackEnded('yard', 3, timeMs);
    events.observe('yard', testFrame(timeMs + 10_000), []);
    await events.idle();
    const opened = changes.filter((c) => c.type === 'new').map((c) => c.after.trackId);
    assert.deepEqual(
      opened.sort((x, y) => x - y),
      [1, 3],
    );
    const first = changes.find((c) => c.type === 'end' && c.after.trackId === 1)!.after;
    assert.ok(lastSeenTwo > lastSeenOne);
    assert.equal(first.endTimeMs, lastSeenTwo, 'ends at the last detection, not after coasting');
    await events.close();
  });

  test('re-identification: a lost person picked up again after a break, ahead on their way, is one event', async () => {
    // Re-id on, then the merge before it (boxes must touch), on the same walk.
    for (const [day, reid, expected] of [
      [9, undefined, [1]],
      [10, false as const, [1, 2]],
    ] as const) {
      const changes = collect(f.bus, 'event');
      const events = manager(f, { reid });
      const lastMs = walk(events, T0 + day * DAY_MS, 10, (i) => [
        track(1, 20 + i * 4, { velocity: { x: 0.02, y: 0 } }),
      ]);
      events.trackEnded('yard', 1, lastMs + 2000);
      // 3 s later, 60 px further on: more than a box away from where it was lost, on its way.
      walk(events, lastMs + 3000, 5, (i) => [track(2, 116 + i * 4)]);
      events.trackEnded('yard', 2, lastMs + 4000);
      events.observe('yard', testFrame(lastMs + 20_000), []);
      await events.idle();
      assert.deepEqual(
        changes
          .filter((c) => c.type === 'new')
          .map((c) => c.after.trackId)
          .sort((x, y) => x - y),
        expected,
        `reid ${String(reid)}`,
      );
      await events.close();
    }
  });

  test('an event whose object stops moving ends; it does not reopen while the object stands', async () => {
    const changes = collect(f.bus, 'event');
    const events = manager(f);
    const start = T0 + 3 * DAY_MS;
    const movedUntil = walk(events, start, 10, (i) => [track(1, 50 + i * 3, { label: 'car' })]);
    walk(events, movedUntil + 200, 40, () => [track(1, 80, { label: 'car', stationary: true })]);
    await events.idle();
    const ended = changes.filter((c) => c.type === 'end');
    assert.equal(ended.length, 1);
    assert.equal(ended[0]!.after.endTimeMs, movedUntil);
    assert.equal(changes.filter((c) => c.type === 'new').length, 1);
    // It drives off: a new event.
    walk(events, movedUntil + 9000, 5, (i) => [track(1, 80 + i * 10, { label: 'car' })]);
    await events.idle();
    assert.equal(changes.filter((c) => c.type === 'new').length, 2);
    await events.close();
  });

  test('without frames (camera offline) the wall clock ends events and clears counts', async () => {
    const changes = collect(f.bus, 'event');
    const counts = collect(f.bus, 'objects');
    const events = manager(f);
    const start = T0 + 4 * DAY_MS;
    walk(events, start, 5, () => [track(1, 50), track(2, 150)]);
    assert.deepEqual(counts.at(-1)?.counts, { person: 2, car: 0 });
    f.clock.advance(11_000);
    events.tick(); // the tracks are stale: their event cools down
    f.clock.advance(3_000);
    events.tick();
    await events.idle();
    assert.equal(changes.filter((c) => c.type === 'end').length, 2);
    assert.deepEqual(counts.at(-1)?.counts, { person: 0, car: 0 });
    await events.close();
  });

  test('counts and motion are published only when they change', async () => {
    const counts = collect(f.bus, 'objects');
    const motion = collect(f.bus, 'motion');
    const events = manager(f);
    const start = T0 + 5 * DAY_MS;
    walk(events, start, 3, () => [track(1, 50)]);
    walk(events, start + 1000, 3, () => [track(1, 50), track(2, 200, { label: 'car', stationary: true })]);
    events.trackEnded('yard', 1, start + 2000);
    assert.deepEqual(
      counts.map((c) => c.counts),
      [
        { person: 1, car: 0 },
        { person: 1, car: 1 },
        { person: 0, car: 1 },
      ],
    );
    events.motion('yard', true, start);
    events.motion('yard', true, start + 200);
    events.motion('yard', false, start + 400);
    assert.deepEqual(
      motion.map((m) => [m.active, m.timeMs]),
      [
        [true, start],
        [false, start + 400],
      ],
    );
    await events.close();
  });

  test('bad input is logged and ignored, never thrown', async () => {
    const events = manager(f);
    const bad: unknown[] = [
      null,
      { data: null, width: 10, height: 10, timeMs: 1 },
      { data: new Uint8Array(10), width: 10, height: 10, timeMs: 1 },
      { data: new Uint8Array(300), width: 10, height: 10, timeMs: Number.NaN },
    ];
    for (const frame of bad) {
      assert.doesNotThrow(() => events.observe('yard', frame as never, [track(1, 1)]));
    }
    assert.doesNotThrow(() =>
      events.observe('yard', testFrame(T0), [
        null as never,
        track(1, 1, { box: { x: Number.NaN, y: 0, width: 1, height: 1 } }),
        track(2, 1, { box: { x: 0, y: 0, width: 0, height: 1 } }),
      ]),
    );
    assert.doesNotThrow(() => events.observe('yard', testFrame(T0), 'nope' as never));
    assert.doesNotThrow(() => events.trackEnded('nowhere', 1, 0));
    await events.close();
  });

  test('deleting an ongoing event stops it', async () => {
    const changes = collect(f.bus, 'event');
    const events = manager(f);
    const start = T0 + 6 * DAY_MS;
    walk(events, start, 3, () => [track(1, 50)]);
    await events.idle();
    const id = changes.find((c) => c.type === 'new')!.after.id;
    assert.equal(await events.deleteEvent(id), true);
    walk(events, start + 1000, 20, () => [track(1, 50 + Math.random())]);
    events.trackEnded('yard', 1, start + 6000);
    await events.close();
    assert.equal(await f.store.get(id), undefined);
    assert.equal(changes.filter((c) => c.after.id === id && c.type !== 'new').length, 0);
  });

  test('a crash leaves events open; recover() ends them at their last sighting', async () => {
    const events = manager(f);
    const start = T0 + 7 * DAY_MS;
    const last = walk(events, start, 6, () => [track(1, 50)]);
    await events.idle();
    // No close(): the process "dies" here.
    const recovered = manager(f);
    assert.ok((await recovered.recover()) >= 1);
    const event = (await f.store.query({ fromMs: start, toMs: start + 1, limit: 1 })).events[0]!;
    assert.ok(event.endTimeMs !== null && event.endTimeMs <= last && event.endTimeMs >= start);
    await recovered.close();
    await events.close();
  });

  test('paths keep their first and newest points within the cap', () => {
    const path: EventPathPoint[] = [];
    for (let i = 0; i < 1000; i += 1) appendPathPoint(path, { timeMs: i, x: 0, y: 0 }, 100);
    assert.ok(path.length <= 100);
    assert.equal(path[0]!.timeMs, 0);
    assert.equal(path.at(-1)!.timeMs, 999);
    assert.ok(path.every((p, i) => i === 0 || p.timeMs > path[i - 1]!.timeMs));
  });
});
