import { rm, rmdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { sql, type Selectable } from 'kysely';
import { VigilError } from '../errors/catalogue.js';
import type { Db } from '../storage/db.js';
import { EvidenceLockStore } from '../storage/evidence-locks.js';
import type { EventTable } from '../storage/schema.js';
import type { SegmentIndex } from '../storage/segment-index.js';
import type { EventBox, EventPathPoint, EventView } from '../contract/events.js';

const DAY_MS = 86_400_000;
export const DEFAULT_EVENT_LIMIT = 50;
export const MAX_EVENT_LIMIT = 500;
/**
 * A zone, rule or alert filter that matches at most this many events is answered from those
 * events' ids (read from its index); a broader one by walking events newest first, where matches
 * are dense enough to fill a page soon.
 */
const CANDIDATE_LIMIT = 5000;
/** Retention hold kind of events; the reason names the event: 'event:<id>'. */
export const EVENT_HOLD_KIND = 'event';

/** An event as stored. Paths are relative to storage.path. */
export interface EventRecord {
  id: number;
  cameraId: string;
  label: string;
  trackId: number;
  startTimeMs: number;
  endTimeMs: number | null;
  maxScore: number;
  box: EventBox;
  path: EventPathPoint[];
  zones: string[];
  snapshotPath: string | null;
  cropPath: string | null;
  snapshotTimeMs: number | null;
  /** The part of the frame the crop shows, normalised; null when unknown (crops from before it was stored). */
  cropRegion?: EventBox | null;
  clipStartMs: number;
  clipEndMs: number;
  createdAtMs: number;
  updatedAtMs: number;
}

export type NewEvent = Omit<EventRecord, 'id'>;

export interface EventQuery {
  cameraId?: string;
  /** Only these cameras (a user's camera grants); empty: none. */
  cameraIds?: readonly string[];
  label?: string;
  /** 'alert': events a rule fired on (src/rules' alerts table); 'detection': all others. */
  kind?: 'alert' | 'detection';
  /** Only events this rule fired on. */
  ruleId?: string;
  /** Only events that touched the zone of this name. */
  zone?: string;
  /** Events overlapping [fromMs, toMs); an ongoing event lasts until now. */
  fromMs?: number;
  toMs?: number;
  limit?: number;
  /** From a previous page's nextCursor. */
  cursor?: string;
}

export interface EventPage {
  events: EventRecord[];
  nextCursor: string | null;
}

type EventRow = Selectable<EventTable>;

export function holdReason(id: number): string {
  return `event:${id}`;
}

/** Snapshot files: <storage>/events/<camera>/<UTC day of the start>/<id>-frame.jpg and -crop.jpg. */
export function snapshotPaths(event: Pick<EventRecord, 'id' | 'cameraId' | 'startTimeMs'>): {
  frame: string;
  crop: string;
} {
  const day = new Date(event.startTimeMs).toISOString().slice(0, 10);
  const base = join('events', event.cameraId, day, String(event.id));
  return { frame: `${base}-frame.jpg`, crop: `${base}-crop.jpg` };
}

/** The cursor is opaque to clients; inside it is the (startTimeMs, id) of the last event given out. */
export function encodeCursor(startTimeMs: number, id: number): string {
  return Buffer.from(`${startTimeMs}:${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { startTimeMs: number; id: number } {
  const match = /^(-?\d{1,16}):(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) {
    throw new VigilError(
      'REQUEST_INVALID',
      "'cursor' is not one this API gave out: pass nextCursor as it came",
      {
        parameter: 'cursor',
      },
    );
  }
  return { startTimeMs: Number(match[1]), id: Number(match[2]) };
}

function fromRow(row: EventRow): EventRecord {
  return {
    id: row.id,
    cameraId: row.camera_id,
    label: row.label,
    trackId: row.track_id,
    startTimeMs: row.start_time_ms,
    endTimeMs: row.end_time_ms,
    maxScore: row.max_score,
    box: JSON.parse(row.box_json) as EventBox,
    path: JSON.parse(row.path_json) as EventPathPoint[],
    zones: JSON.parse(row.zones_json) as string[],
    snapshotPath: row.snapshot_path,
    cropPath: row.crop_path,
    snapshotTimeMs: row.snapshot_time_ms,
    ...(row.crop_region_json !== null ? { cropRegion: JSON.parse(row.crop_region_json) as EventBox } : {}),
    clipStartMs: row.clip_start_ms,
    clipEndMs: row.clip_end_ms,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
}

function mutableColumns(event: NewEvent) {
  return {
    end_time_ms: event.endTimeMs,
    max_score: event.maxScore,
    box_json: JSON.stringify(event.box),
    path_json: JSON.stringify(event.path),
    zones_json: JSON.stringify(event.zones),
    snapshot_path: event.snapshotPath,
    crop_path: event.cropPath,
    snapshot_time_ms: event.snapshotTimeMs,
    crop_region_json: event.cropRegion ? JSON.stringify(event.cropRegion) : null,
    clip_start_ms: event.clipStartMs,
    clip_end_ms: event.clipEndMs,
    updated_at_ms: event.updatedAtMs,
  };
}

/** The API's view of a stored event: URLs instead of file paths. */
export function eventView(event: EventRecord): EventView {
  const base = `/api/events/${event.id}`;
  return {
    id: event.id,
    cameraId: event.cameraId,
    label: event.label,
    trackId: event.trackId,
    startTimeMs: event.startTimeMs,
    endTimeMs: event.endTimeMs,
    maxScore: event.maxScore,
    box: event.box,
    path: event.path,
    zones: event.zones,
    snapshot:
      event.snapshotPath === null || event.snapshotTimeMs === null
        ? null
        : {
            timeMs: event.snapshotTimeMs,
            url: `${base}/snapshot.jpg`,
            cropUrl: `${base}/snapshot.jpg?crop=1`,
          },
    clip: { startTimeMs: event.clipStartMs, endTimeMs: event.clipEndMs, url: `${base}/clip.mp4` },
    createdAtMs: event.createdAtMs,
    updatedAtMs: event.updatedAtMs,
  };
}

export interface EventStoreOptions {
  storageRoot: string;
  /** Holds keep the recording of each event's clip. */
  index: SegmentIndex;
  /** Days an event (and the hold on its clip) is kept after it ends. */
  eventsDays: number;
}

/**
 * Events in the index database, their snapshot files and the retention holds that keep their
 * clips. Each event holds [clipStartMs, clipEndMs] until clipEndMs + eventsDays, so the recording
 * of an event outlives continuous retention exactly as long as the event itself.
 */
export class EventStore {
  readonly storageRoot: string;
  private readonly locks: EvidenceLockStore;

  constructor(
    private readonly db: Db,
    private readonly options: EventStoreOptions,
  ) {
    this.storageRoot = options.storageRoot;
    this.locks = new EvidenceLockStore(db);
  }

  /** EVIDENCE_LOCKED when an active evidence lock keeps this event. */
  async assertNotLocked(id: number, nowMs: number): Promise<void> {
    if (await this.locks.eventLocked(id, nowMs)) {
      throw new VigilError(
        'EVIDENCE_LOCKED',
        `event ${id} is locked as evidence; unlock it first (GET /api/evidence?event=${id} lists its locks)`,
        { eventId: id },
      );
    }
  }

  /** Absolute path of a stored file path; refuses anything outside the storage folder. */
  absolute(relativePath: string): string {
    const root = resolve(this.storageRoot);
    const full = resolve(root, relativePath);
    if (!full.startsWith(root + sep)) throw new Error(`event file path outside storage: ${relativePath}`);
    return full;
  }

  async insert(event: NewEvent): Promise<EventRecord> {
    const row = await this.db
      .insertInto('events')
      .values({
        camera_id: event.cameraId,
        label: event.label,
        track_id: event.trackId,
        start_time_ms: event.startTimeMs,
        created_at_ms: event.createdAtMs,
        ...mutableColumns(event),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const record = { ...event, id: row.id };
    await this.options.index.addHold({
      cameraId: event.cameraId,
      ...this.holdRange(record),
      kind: EVENT_HOLD_KIND,
      reason: holdReason(row.id),
      createdAtMs: event.createdAtMs,
    });
    return record;
  }

  /** Writes an event's changing fields and moves its hold; false when the event was deleted meanwhile. */
  async save(event: EventRecord): Promise<boolean> {
    const result = await this.db
      .updateTable('events')
      .set(mutableColumns(event))
      .where('id', '=', event.id)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return false;
    const range = this.holdRange(event);
    const moved = await this.options.index.updateHolds(EVENT_HOLD_KIND, holdReason(event.id), range);
    if (moved === 0) {
      await this.options.index.addHold({
        cameraId: event.cameraId,
        ...range,
        kind: EVENT_HOLD_KIND,
        reason: holdReason(event.id),
        createdAtMs: event.updatedAtMs,
      });
    }
    return true;
  }

  async get(id: number): Promise<EventRecord | undefined> {
    const row = await this.db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  /** The event or EVENT_NOT_FOUND. */
  async require(id: number): Promise<EventRecord> {
    const event = await this.get(id);
    if (!event) throw new VigilError('EVENT_NOT_FOUND', `no event ${id}; GET /api/events lists them`);
    return event;
  }

  /** Newest first by (startTimeMs, id), keyset-paginated so pages stay stable while events arrive. */
  async query(query: EventQuery = {}): Promise<EventPage> {
    const limit = Math.min(Math.max(1, query.limit ?? DEFAULT_EVENT_LIMIT), MAX_EVENT_LIMIT);
    let select = this.db.selectFrom('events').selectAll();
    if (query.cameraId !== undefined) select = select.where('camera_id', '=', query.cameraId);
    if (query.cameraIds !== undefined) {
      if (query.cameraIds.length === 0) return { events: [], nextCursor: null };
      select = select.where('camera_id', 'in', [...query.cameraIds]);
    }
    if (query.label !== undefined) select = select.where('label', '=', query.label);
    const { kind, ruleId, zone } = query;
    if (kind !== undefined || ruleId !== undefined) {
      select = select.where(({ exists, not, selectFrom }) => {
        let alerts = selectFrom('alerts').select('alerts.id').whereRef('alerts.event_id', '=', 'events.id');
        if (ruleId !== undefined) alerts = alerts.where('alerts.rule_id', '=', ruleId);
        return kind === 'detection' ? not(exists(alerts)) : exists(alerts);
      });
    }
    if (zone !== undefined) {
      // Read from the row itself: a subquery on event_zones makes SQLite build a Bloom filter
      // over the whole table first (20 ms at a million events), and where this check runs the
      // matches are dense or the ids below already narrow the rows.
      select = select.where(
        sql<boolean>`EXISTS (SELECT 1 FROM json_each(events.zones_json) WHERE value = ${zone})`,
      );
    }
    const candidates = await this.fewCandidates(query);
    if (candidates !== null) {
      if (candidates.length === 0) return { events: [], nextCursor: null };
      select = select.where('id', 'in', candidates);
    }
    if (query.toMs !== undefined) select = select.where('start_time_ms', '<', query.toMs);
    const fromMs = query.fromMs;
    if (fromMs !== undefined) {
      // The lower bound keeps the scan of the time index to the window and the longest event
      // before it; without it, a quiet window is searched down to the oldest event.
      select = select
        .where('start_time_ms', '>=', await this.earliestStartOverlapping(fromMs))
        .where((eb) => eb.or([eb('end_time_ms', 'is', null), eb('end_time_ms', '>=', fromMs)]));
    }
    if (query.cursor !== undefined) {
      const after = decodeCursor(query.cursor);
      select = select.where((eb) =>
        eb.or([
          eb('start_time_ms', '<', after.startTimeMs),
          eb.and([eb('start_time_ms', '=', after.startTimeMs), eb('id', '<', after.id)]),
        ]),
      );
    }
    const rows = await select
      .orderBy('start_time_ms', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    const events = rows.slice(0, limit).map(fromRow);
    const last = events.at(-1);
    return {
      events,
      nextCursor: rows.length > limit && last ? encodeCursor(last.startTimeMs, last.id) : null,
    };
  }

  /**
   * The ids of every event the query's zone, rule and alert filters allow, when one of them is
   * selective (at most CANDIDATE_LIMIT events); null when none is. A rare zone or rule, or one
   * that matched long ago only, would otherwise walk the whole index to fill a page.
   */
  private async fewCandidates(query: EventQuery): Promise<number[] | null> {
    const sets: number[][] = [];
    const take = async (ids: Promise<{ id: number | null }[]>) => {
      const found = (await ids).flatMap((row) => (row.id === null ? [] : [row.id]));
      if (found.length <= CANDIDATE_LIMIT) sets.push(found);
    };
    if (query.zone !== undefined)
      await take(
        this.db
          .selectFrom('event_zones')
          .select('event_id as id')
          .where('zone', '=', query.zone)
          .limit(CANDIDATE_LIMIT + 1)
          .execute(),
      );
    if (query.ruleId !== undefined || query.kind === 'alert') {
      let alerts = this.db
        .selectFrom('alerts')
        .select('event_id as id')
        .distinct()
        .where('event_id', 'is not', null);
      if (query.ruleId !== undefined) alerts = alerts.where('rule_id', '=', query.ruleId);
      // 'detection' with a rule asks for the events the rule did not fire on: nothing to narrow.
      if (query.kind !== 'detection') await take(alerts.limit(CANDIDATE_LIMIT + 1).execute());
    }
    if (sets.length === 0) return null;
    const [first, ...rest] = sets.sort((a, b) => a.length - b.length);
    const others = rest.map((ids) => new Set(ids));
    return (first ?? []).filter((id) => others.every((set) => set.has(id)));
  }

  /**
   * The earliest start an event overlapping [fromMs, …) can have: the longest finished event
   * (an index on the duration answers at once) or the oldest ongoing one.
   */
  private async earliestStartOverlapping(fromMs: number): Promise<number> {
    const { rows } = await sql<{ longestMs: number | null; oldestOngoingMs: number | null }>`
      SELECT (SELECT MAX(end_time_ms - start_time_ms) FROM events) AS longestMs,
             (SELECT MIN(start_time_ms) FROM events WHERE end_time_ms IS NULL) AS oldestOngoingMs
    `.execute(this.db);
    const bounds = rows[0];
    return Math.min(fromMs - (bounds?.longestMs ?? 0), bounds?.oldestOngoingMs ?? Number.POSITIVE_INFINITY);
  }

  /** Ongoing events, e.g. left by a crash. */
  async ongoing(): Promise<EventRecord[]> {
    const rows = await this.db.selectFrom('events').selectAll().where('end_time_ms', 'is', null).execute();
    return rows.map(fromRow);
  }

  /** Deletes an event: its hold and row, then its files. False when there was no such event. */
  async delete(id: number): Promise<boolean> {
    const event = await this.get(id);
    if (!event) return false;
    await this.options.index.deleteHolds(EVENT_HOLD_KIND, holdReason(id));
    await this.db.deleteFrom('events').where('id', '=', id).execute();
    await this.removeFiles(event);
    return true;
  }

  /**
   * One retention pass: deletes events that ended more than eventsDays before nowMs, with their
   * files and holds, at most `batch` of them. Returns how many went.
   */
  async deleteExpired(nowMs: number, batch = 500): Promise<number> {
    const cutoffMs = nowMs - this.options.eventsDays * DAY_MS;
    // Events locked as evidence stay, however old (their lock keeps their recording too).
    const rows = await this.db
      .selectFrom('events')
      .select('id')
      .where('end_time_ms', '<', cutoffMs)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('evidence_locks')
              .select('evidence_locks.id')
              .whereRef('evidence_locks.event_id', '=', 'events.id')
              .where('evidence_locks.unlocked_at_ms', 'is', null)
              .where((eb) =>
                eb.or([
                  eb('evidence_locks.expires_at_ms', 'is', null),
                  eb('evidence_locks.expires_at_ms', '>', nowMs),
                ]),
              ),
          ),
        ),
      )
      .orderBy('end_time_ms')
      .limit(batch)
      .execute();
    let deleted = 0;
    for (const row of rows) if (await this.delete(row.id)) deleted += 1;
    return deleted;
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** The range an event's hold covers, and until when. */
  holdRange(event: Pick<EventRecord, 'clipStartMs' | 'clipEndMs'>): {
    startTimeMs: number;
    endTimeMs: number;
    untilMs: number;
  } {
    // The table requires end > start; an instant event with no pre/post capture still holds 1 ms.
    const endTimeMs = Math.max(event.clipEndMs, event.clipStartMs + 1);
    return {
      startTimeMs: event.clipStartMs,
      endTimeMs,
      untilMs: endTimeMs + this.options.eventsDays * DAY_MS,
    };
  }

  private async removeFiles(event: EventRecord): Promise<void> {
    const paths = [event.snapshotPath, event.cropPath].filter((p): p is string => p !== null);
    // The files' names are fixed by id, so a snapshot still being written is caught too.
    const names = snapshotPaths(event);
    for (const path of new Set([...paths, names.frame, names.crop])) {
      await rm(this.absolute(path), { force: true });
    }
    // The day's folder goes with its last event; a folder still in use refuses (ENOTEMPTY).
    await rmdir(dirname(this.absolute(names.frame))).catch(() => undefined);
  }
}
