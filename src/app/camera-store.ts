import type { CameraConfig } from '../config/index.js';
import type { Db } from '../storage/db.js';

/**
 * Cameras added through the API, kept in the index database so they survive restarts. Cameras
 * from the config file are never stored here: the file stays the one source for them.
 */
export class CameraStore {
  constructor(private readonly db: Db) {}

  async list(): Promise<CameraConfig[]> {
    const rows = await this.db.selectFrom('cameras').select('config_json').orderBy('id').execute();
    return rows.map((r) => JSON.parse(r.config_json) as CameraConfig);
  }

  async put(camera: CameraConfig, nowMs: number): Promise<void> {
    await this.db
      .insertInto('cameras')
      .values({
        id: camera.id,
        config_json: JSON.stringify(camera),
        created_at_ms: nowMs,
        updated_at_ms: nowMs,
      })
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({ config_json: JSON.stringify(camera), updated_at_ms: nowMs }),
      )
      .execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('cameras').where('id', '=', id).execute();
  }
}
