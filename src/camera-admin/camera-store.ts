import type { SecretBox } from '../auth/secrets.js';
import type { CameraConfig, StreamConfig } from '../config/index.js';
import type { Db } from '../storage/db.js';

type StreamName = 'main' | 'sub';

/**
 * Cameras added through the API, kept in the index database so they survive restarts. Cameras
 * from the config file are never stored here: the file stays the one source for them. Camera
 * passwords are sealed with the secret key file, so a copied database does not give them away;
 * plain ones (from before sealing) are read as they are and sealed at the next save.
 */
export class CameraStore {
  constructor(
    private readonly db: Db,
    private readonly secrets: SecretBox,
  ) {}

  async list(): Promise<CameraConfig[]> {
    const rows = await this.db.selectFrom('cameras').select('config_json').orderBy('id').execute();
    return rows.map((r) => this.mapPasswords(JSON.parse(r.config_json) as CameraConfig, 'open'));
  }

  async put(camera: CameraConfig, nowMs: number): Promise<void> {
    const json = JSON.stringify(this.mapPasswords(camera, 'seal'));
    await this.db
      .insertInto('cameras')
      .values({ id: camera.id, config_json: json, created_at_ms: nowMs, updated_at_ms: nowMs })
      .onConflict((oc) => oc.column('id').doUpdateSet({ config_json: json, updated_at_ms: nowMs }))
      .execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('cameras').where('id', '=', id).execute();
  }

  private mapPasswords(camera: CameraConfig, direction: 'seal' | 'open'): CameraConfig {
    const streams: Partial<Record<StreamName, StreamConfig>> = {};
    for (const name of ['main', 'sub'] as const) {
      const stream = camera.streams[name];
      if (!stream) continue;
      if (stream.password === undefined) {
        streams[name] = stream;
        continue;
      }
      // The camera and stream are the context: a sealed password cannot be moved to another camera.
      const context = `camera:${camera.id}:${name}`;
      const password =
        direction === 'seal'
          ? this.secrets.seal(stream.password, context)
          : this.secrets.openOrPlain(stream.password, context).value;
      streams[name] = { ...stream, password };
    }
    const onvif = camera.onvif;
    if (onvif?.password === undefined) return { ...camera, streams: streams as CameraConfig['streams'] };
    const context = `camera:${camera.id}:onvif`;
    const password =
      direction === 'seal'
        ? this.secrets.seal(onvif.password, context)
        : this.secrets.openOrPlain(onvif.password, context).value;
    return { ...camera, streams: streams as CameraConfig['streams'], onvif: { ...onvif, password } };
  }
}
