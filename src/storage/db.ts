import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Migration, type MigrationProvider } from 'kysely';
import { migrations } from './migrations.js';
import type { DatabaseSchema } from './schema.js';
import { PRIVATE_FILE_MODE, tightenMode, type OnModeTightened } from './file-modes.js';

export type Db = Kysely<DatabaseSchema>;

class StaticMigrations implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

/**
 * Opens (creating if needed) the index database and brings its schema up to date. WAL lets the
 * API read while the recorder writes; synchronous=NORMAL is safe with WAL against process
 * crashes, and the recorder fsyncs media before it commits the row that points at it.
 */
export async function openDatabase(
  path: string,
  options: { onModeTightened?: OnModeTightened } = {},
): Promise<Db> {
  // Users, password hashes, sessions and the audit log live here: 0600. SQLite gives the -wal and
  // -shm files the main file's mode, so the file is made (or tightened) before SQLite opens it,
  // and the other two are tightened once WAL mode has made them (an older Vigil left them looser).
  const onDisk = path !== '' && path !== ':memory:';
  if (onDisk) {
    closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
    tightenMode(path, PRIVATE_FILE_MODE, options.onModeTightened);
  }
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  if (onDisk) {
    for (const suffix of ['-wal', '-shm'])
      tightenMode(path + suffix, PRIVATE_FILE_MODE, options.onModeTightened);
  }
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: sqlite }) });
  const { error, results } = await new Migrator({ db, provider: new StaticMigrations() }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    await db.destroy();
    throw new Error(`cannot migrate the index database ${path}: ${String(error ?? failed?.migrationName)}`);
  }
  return db;
}
