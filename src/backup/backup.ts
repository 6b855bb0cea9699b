import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { SECRET_KEY_FILE } from '../auth/secrets.js';
import { SIGNING_KEY_FILE } from '../auth/signing-key.js';
import { VAPID_KEY_FILE } from '../notify/vapid.js';
import { VigilError } from '../errors/catalogue.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../storage/file-modes.js';
import { migrations } from '../storage/migrations.js';

/** The database file in storage.path and in a backup. */
const INDEX_FILE = 'index.sqlite';
/** The config file's name inside a backup, whatever it was called. */
export const BACKUP_CONFIG_FILE = 'config.yaml';
const MANIFEST_FILE = 'manifest.json';
/** The self-signed certificate's folder: restoring it keeps the fingerprint users have checked. */
const TLS_DIR = 'tls';
const FORMAT = 'vigil-backup';
const FORMAT_VERSION = 1;

export interface BackupFile {
  /** Relative to the backup folder. */
  name: string;
  bytes: number;
  sha256: string;
}

export interface BackupManifest {
  format: typeof FORMAT;
  formatVersion: number;
  vigilVersion: string;
  createdAtMs: number;
  /** The newest database migration the backup's database has (e.g. '0005_timeline_id'). */
  schemaVersion: string;
  /** storage.path of the installation backed up. */
  storagePath: string;
  files: BackupFile[];
}

function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function fileEntry(dir: string, name: string): BackupFile {
  const path = join(dir, name);
  return { name, bytes: readFileSync(path).length, sha256: sha256Of(path) };
}

/** The newest migration applied to a database, read without migrating it. */
function schemaVersionOf(sqlite: Database.Database): string {
  const row = sqlite.prepare('SELECT name FROM kysely_migration ORDER BY name DESC LIMIT 1').get() as
    { name: string } | undefined;
  if (!row)
    throw new VigilError('BACKUP_INVALID', 'the database has no migration record: it is not a Vigil index');
  return row.name;
}

function copyPrivate(from: string, to: string): void {
  writeFileSync(to, readFileSync(from), { mode: PRIVATE_FILE_MODE });
  // The mode applies only to a new file: one that was there is tightened too.
  chmodSync(to, PRIVATE_FILE_MODE);
}

/**
 * The names a backup may hold. A manifest is read from a folder that may come from anywhere:
 * a name like '../../etc/x' must not make restore write outside storage.path.
 */
const BACKUP_FILE_NAME =
  /^(index\.sqlite|secret\.key|signing\.key|vapid\.json|config\.yaml|tls\/[A-Za-z0-9][A-Za-z0-9._-]*)$/;

export interface BackupRequest {
  storageRoot: string;
  /** The config file Vigil runs with, copied into the backup; undefined: none. */
  configPath: string | undefined;
  /** A new folder (it must not exist, or be empty). */
  outDir: string;
  vigilVersion: string;
  nowMs: number;
}

/**
 * Backs up what cannot be rebuilt from the recordings: the index database (users, sessions,
 * tokens, audit log, API-added cameras, events, the recording index), the secret key that seals
 * camera passwords and second factors, the key that signs export bundles, the config file and the TLS certificate. The database is
 * copied with SQLite's online backup, page by page, so it is consistent while Vigil records
 * into it. Recordings and event snapshots are media: copy them with rsync or a file backup.
 */
export async function backupInstallation(request: BackupRequest): Promise<BackupManifest> {
  const { storageRoot, outDir } = request;
  const indexPath = join(storageRoot, INDEX_FILE);
  if (!existsSync(indexPath)) {
    throw new VigilError(
      'STORAGE_UNAVAILABLE',
      `there is no Vigil database at ${indexPath}: is --config right?`,
    );
  }
  if (existsSync(outDir) && readdirSync(outDir).length > 0) {
    throw new VigilError(
      'BACKUP_INVALID',
      `${outDir} exists and is not empty: name a new folder for the backup`,
    );
  }
  // The backup holds the secret key and password hashes: private like storage.path.
  mkdirSync(outDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const source = new Database(indexPath, { fileMustExist: true });
  let schemaVersion: string;
  try {
    source.pragma('busy_timeout = 5000');
    schemaVersion = schemaVersionOf(source);
    // SQLite would create the copy with the umask's mode: it is made private first.
    const copyPath = join(outDir, INDEX_FILE);
    closeSync(openSync(copyPath, 'wx', PRIVATE_FILE_MODE));
    await source.backup(copyPath);
  } finally {
    source.close();
  }
  const names = [INDEX_FILE];
  // The signing key too: a restored installation must sign with the key its public half was
  // handed out as, or its new bundles would not match what recipients keep. The VAPID key
  // likewise: browsers subscribed with its public half.
  for (const keyFile of [SECRET_KEY_FILE, SIGNING_KEY_FILE, VAPID_KEY_FILE]) {
    const keyPath = join(storageRoot, keyFile);
    if (!existsSync(keyPath)) continue;
    copyPrivate(keyPath, join(outDir, keyFile));
    names.push(keyFile);
  }
  if (request.configPath !== undefined) {
    copyPrivate(request.configPath, join(outDir, BACKUP_CONFIG_FILE));
    names.push(BACKUP_CONFIG_FILE);
  }
  const tlsDir = join(storageRoot, TLS_DIR);
  if (existsSync(tlsDir)) {
    mkdirSync(join(outDir, TLS_DIR), { mode: PRIVATE_DIR_MODE });
    for (const name of readdirSync(tlsDir).sort()) {
      copyPrivate(join(tlsDir, name), join(outDir, TLS_DIR, name));
      names.push(`${TLS_DIR}/${name}`);
    }
  }
  const manifest: BackupManifest = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    vigilVersion: request.vigilVersion,
    createdAtMs: request.nowMs,
    schemaVersion,
    storagePath: storageRoot,
    files: names.map((name) => fileEntry(outDir, name)),
  };
  writeFileSync(join(outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, {
    mode: PRIVATE_FILE_MODE,
  });
  return manifest;
}

/**
 * Reads a backup and checks it completely before anything is restored: the manifest, every
 * file's length and SHA-256, and that this Vigil knows the database's schema.
 */
export function readBackup(dir: string): BackupManifest {
  const manifestPath = join(dir, MANIFEST_FILE);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as BackupManifest;
  } catch (err) {
    throw new VigilError('BACKUP_INVALID', `cannot read ${manifestPath}: ${(err as Error).message}`);
  }
  if (
    manifest.format !== FORMAT ||
    manifest.formatVersion !== FORMAT_VERSION ||
    !Array.isArray(manifest.files)
  ) {
    throw new VigilError(
      'BACKUP_INVALID',
      `${manifestPath} is not a Vigil backup manifest (format ${FORMAT} 1)`,
    );
  }
  for (const file of manifest.files) {
    if (typeof file.name !== 'string' || !BACKUP_FILE_NAME.test(file.name)) {
      throw new VigilError(
        'BACKUP_INVALID',
        `the backup's manifest names an unexpected file: ${JSON.stringify(file.name)}`,
      );
    }
    const path = join(dir, file.name);
    if (!existsSync(path)) throw new VigilError('BACKUP_INVALID', `the backup lacks ${file.name}`);
    if (sha256Of(path) !== file.sha256) {
      throw new VigilError(
        'BACKUP_INVALID',
        `${file.name} differs from the backup's manifest (SHA-256 mismatch)`,
      );
    }
  }
  if (!manifest.files.some((f) => f.name === INDEX_FILE)) {
    throw new VigilError('BACKUP_INVALID', `the backup's manifest lists no ${INDEX_FILE}`);
  }
  if (!(manifest.schemaVersion in migrations)) {
    throw new VigilError(
      'BACKUP_TOO_NEW',
      `the backup's database is at schema ${manifest.schemaVersion}, which this Vigil does not know: ` +
        `it was made by Vigil ${manifest.vigilVersion}; restore it with that version or newer`,
    );
  }
  return manifest;
}

export interface RestoreOutcome {
  manifest: BackupManifest;
  /** What was in storage.path before, moved aside (never deleted), relative to storage.path. */
  movedAside: string[];
}

/**
 * Puts a checked backup's database, secret key and certificate into storage.path. What was there
 * is moved aside under a '.before-restore-TIME' name, never deleted. The caller holds the
 * storage lock (Vigil must not run) and migrates the database afterwards by opening it.
 */
export function restoreInstallation(backupDir: string, storageRoot: string, nowMs: number): RestoreOutcome {
  const manifest = readBackup(backupDir);
  mkdirSync(storageRoot, { recursive: true, mode: PRIVATE_DIR_MODE });
  const suffix = `.before-restore-${new Date(nowMs).toISOString().replace(/[:.]/g, '-')}`;
  const movedAside: string[] = [];
  const moveAside = (name: string) => {
    const path = join(storageRoot, name);
    if (!existsSync(path)) return;
    renameSync(path, path + suffix);
    movedAside.push(name + suffix);
  };
  // The -wal and -shm files belong to the database beside them: they go aside with it, or SQLite
  // would replay the old write-ahead log into the restored database.
  for (const name of [
    INDEX_FILE,
    `${INDEX_FILE}-wal`,
    `${INDEX_FILE}-shm`,
    SECRET_KEY_FILE,
    SIGNING_KEY_FILE,
    VAPID_KEY_FILE,
  ])
    moveAside(name);
  const restoresTls = manifest.files.some((f) => f.name.startsWith(`${TLS_DIR}/`));
  if (restoresTls) {
    moveAside(TLS_DIR);
    mkdirSync(join(storageRoot, TLS_DIR), { mode: PRIVATE_DIR_MODE });
  }
  for (const file of manifest.files) {
    if (file.name === BACKUP_CONFIG_FILE) continue;
    copyPrivate(join(backupDir, file.name), join(storageRoot, file.name));
  }
  return { manifest, movedAside: movedAside.map((name) => basename(name)) };
}
