import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretBox } from '../../../src/auth/secrets.js';
import { AuthStore } from '../../../src/auth/store.js';
import { openDatabase, type Db } from '../../../src/storage/db.js';
import { ManualClock } from '../../../src/time/clock.js';

export const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);
export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
/** Passes the password policy. */
export const GOOD_PASSWORD = 'violet kettle marching 42';

export interface AuthFixture {
  dir: string;
  db: Db;
  clock: ManualClock;
  secrets: SecretBox;
  store: AuthStore;
  close(): Promise<void>;
}

export async function authFixture(): Promise<AuthFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-auth-'));
  const db = await openDatabase(join(dir, 'index.sqlite'));
  const clock = new ManualClock(T0);
  const secrets = new SecretBox(randomBytes(32));
  const store = new AuthStore(db, { clock, secrets });
  return {
    dir,
    db,
    clock,
    secrets,
    store,
    close: async () => {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Asserts that a promise or function fails with a VigilError of this code. */
export function hasCode(code: string): (err: unknown) => boolean {
  return (err: unknown) => (err as { code?: unknown }).code === code;
}
