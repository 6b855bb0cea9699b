import type { CameraDeviceEvent } from '../contract/onvif.js';
import type { CameraEventView } from '../contract/recordings.js';
import type { Db } from './db.js';

/** At most this many of a camera's own events are returned for one range (the timeline's marks). */
const RANGE_LIMIT = 5000;

/**
 * What cameras reported about themselves (ONVIF PullPoint) other than motion, which becomes motion
 * periods: tamper, line crossing, digital inputs. The timeline marks them.
 */
export class CameraEventIndex {
  constructor(private readonly db: Db) {}

  async add(event: CameraDeviceEvent): Promise<void> {
    await this.db
      .insertInto('camera_events')
      .values({
        camera_id: event.cameraId,
        kind: event.kind,
        topic: event.topic,
        active: event.active ? 1 : 0,
        source_json: JSON.stringify(event.source),
        time_ms: event.timeMs,
      })
      .execute();
  }

  /** Forgets a camera's events before `beforeMs` (its oldest recording). */
  async deleteBefore(cameraId: string, beforeMs: number): Promise<number> {
    const result = await this.db
      .deleteFrom('camera_events')
      .where('camera_id', '=', cameraId)
      .where('time_ms', '<', beforeMs)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Events in [fromMs, toMs), oldest first. */
  async inRange(cameraId: string, fromMs: number, toMs: number): Promise<CameraEventView[]> {
    const rows = await this.db
      .selectFrom('camera_events')
      .select(['kind', 'topic', 'active', 'source_json', 'time_ms'])
      .where('camera_id', '=', cameraId)
      .where('time_ms', '>=', fromMs)
      .where('time_ms', '<', toMs)
      .orderBy('time_ms')
      .orderBy('id')
      .limit(RANGE_LIMIT)
      .execute();
    return rows.map((r) => ({
      kind: r.kind as CameraEventView['kind'],
      topic: r.topic,
      active: r.active === 1,
      source: JSON.parse(r.source_json) as Record<string, string>,
      timeMs: r.time_ms,
    }));
  }
}
