import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { EventBus, type BusChannel, type BusMessages } from '../../../src/events/bus.js';
import { EventManager, type EventManagerOptions, type RgbFrame } from '../../../src/events/event-manager.js';
import { EventStore, type NewEvent } from '../../../src/events/store.js';
import { openDatabase, type Db } from '../../../src/storage/db.js';
import { SegmentIndex } from '../../../src/storage/segment-index.js';
import { ManualClock } from '../../../src/time/clock.js';

export const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);
export const DAY_MS = 86_400_000;

export interface EventFixture {
  dir: string;
  db: Db;
  index: SegmentIndex;
  store: EventStore;
  bus: EventBus;
  clock: ManualClock;
  close(): Promise<void>;
}

export async function eventFixture(eventsDays = 14): Promise<EventFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-events-'));
  const db = await openDatabase(join(dir, 'index.sqlite'));
  const index = new SegmentIndex(db);
  const store = new EventStore(db, { storageRoot: dir, index, eventsDays });
  return {
    dir,
    db,
    index,
    store,
    bus: new EventBus(),
    clock: new ManualClock(T0),
    close: () => db.destroy(),
  };
}

export function newEvent(overrides: Partial<NewEvent> = {}): NewEvent {
  const startTimeMs = overrides.startTimeMs ?? T0;
  const endTimeMs = overrides.endTimeMs === undefined ? startTimeMs + 4000 : overrides.endTimeMs;
  return {
    cameraId: 'yard',
    label: 'person',
    trackId: 1,
    startTimeMs,
    endTimeMs,
    maxScore: 0.8,
    box: { x: 0.1, y: 0.2, width: 0.1, height: 0.3 },
    path: [{ timeMs: startTimeMs, x: 0.15, y: 0.35 }],
    zones: [],
    snapshotPath: null,
    cropPath: null,
    snapshotTimeMs: null,
    clipStartMs: startTimeMs - 5000,
    clipEndMs: (endTimeMs ?? startTimeMs) + 5000,
    createdAtMs: startTimeMs,
    updatedAtMs: startTimeMs,
    ...overrides,
  };
}

/** A frame of a flat colour with a lighter rectangle where the "object" is. */
export function testFrame(timeMs: number, width = 320, height = 240): RgbFrame {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) {
    data[i] = 40;
    data[i + 1] = 90;
    data[i + 2] = 140;
  }
  return { data, width, height, timeMs };
}

export function collect<C extends BusChannel>(bus: EventBus, channel: C): BusMessages[C][] {
  const seen: BusMessages[C][] = [];
  bus.on(channel, (message) => seen.push(message));
  return seen;
}

export function manager(
  fixture: EventFixture,
  overrides: Partial<EventManagerOptions> = {},
  labels: readonly string[] = ['person', 'car'],
): EventManager {
  return new EventManager({
    store: fixture.store,
    bus: fixture.bus,
    clock: fixture.clock,
    log: pino({ level: 'silent' }),
    cameraSettings: (id) => (id === 'yard' ? { labels, preCaptureMs: 5000, postCaptureMs: 5000 } : undefined),
    tickIntervalMs: 3_600_000,
    ...overrides,
  });
}
