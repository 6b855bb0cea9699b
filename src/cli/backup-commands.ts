import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BACKUP_CONFIG_FILE, backupInstallation, readBackup, restoreInstallation } from '../backup/backup.js';
import type { LoadedConfig } from '../config/index.js';
import { openDatabase } from '../storage/db.js';
import { describeModeChange } from '../storage/file-modes.js';
import { fsck } from '../storage/fsck.js';
import { acquireStorageLock } from '../storage/lock.js';
import { SegmentIndex } from '../storage/segment-index.js';
import { ensureStorageFolder } from '../storage/start.js';
import { UsageError } from './auth-commands.js';

function backupFolderName(nowMs: number): string {
  return `vigil-backup-${new Date(nowMs).toISOString().replace(/[:.]/g, '-')}`;
}

/**
 * `vigil backup [--config FILE] [--out DIR]`: works while Vigil runs (SQLite's online backup), so
 * it can be run from cron against a recording installation.
 */
export async function runBackup(
  loaded: LoadedConfig,
  options: { configPath: string | undefined; outDir: string | undefined; vigilVersion: string },
): Promise<number> {
  const nowMs = Date.now();
  const outDir = resolve(options.outDir ?? backupFolderName(nowMs));
  const manifest = await backupInstallation({
    storageRoot: loaded.config.storage.path,
    configPath: options.configPath,
    outDir,
    vigilVersion: options.vigilVersion,
    nowMs,
  });
  for (const file of manifest.files)
    console.log(`${file.name.padEnd(24)} ${String(file.bytes).padStart(12)} bytes`);
  console.log(
    `backed up to ${outDir} (schema ${manifest.schemaVersion}). It holds the secret key and password ` +
      'hashes: keep it as private as storage.path. Recordings are not in it; copy them with a file backup.',
  );
  return 0;
}

/**
 * `vigil restore DIR [--config FILE]`: with Vigil stopped. The config file says where storage.path
 * is; by default the one in the backup. Checks the whole backup first, moves what was there
 * aside, migrates the database to this version and compares the index with the recordings.
 */
export async function runRestore(
  backupDir: string | undefined,
  configPath: string | undefined,
  loadConfig: (path: string) => Promise<LoadedConfig>,
): Promise<number> {
  if (backupDir === undefined) throw new UsageError('usage: vigil restore BACKUP_DIR [--config FILE]');
  const manifest = readBackup(backupDir);
  const backedUpConfig = join(backupDir, BACKUP_CONFIG_FILE);
  const path = configPath ?? (existsSync(backedUpConfig) ? backedUpConfig : undefined);
  if (path === undefined) {
    throw new UsageError('the backup holds no config file: name the one to restore into with --config FILE');
  }
  const storageRoot = (await loadConfig(path)).config.storage.path;
  ensureStorageFolder(storageRoot, (change) => console.error(`warning: ${describeModeChange(change)}`));
  const release = acquireStorageLock(storageRoot);
  try {
    const nowMs = Date.now();
    const outcome = restoreInstallation(backupDir, storageRoot, nowMs);
    for (const name of outcome.movedAside) console.log(`moved aside  ${name}`);
    for (const file of manifest.files)
      if (file.name !== BACKUP_CONFIG_FILE) console.log(`restored     ${file.name}`);
    // Opening migrates a backup made by an older Vigil to this version's schema.
    const db = await openDatabase(join(storageRoot, 'index.sqlite'));
    try {
      const report = await fsck(new SegmentIndex(db), storageRoot, { repair: false, nowMs });
      console.log(
        `restored Vigil ${manifest.vigilVersion}'s backup of ${new Date(manifest.createdAtMs).toISOString()} ` +
          `into ${storageRoot}; the index lists ${report.checkedSegmentCount} segments; ` +
          `${report.problems.length} differences between the index and the files on disk` +
          (report.problems.length > 0 ? ': run `vigil fsck --repair` to reconcile them' : ''),
      );
    } finally {
      await db.destroy();
    }
    return 0;
  } finally {
    release();
  }
}
