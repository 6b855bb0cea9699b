import { access, mkdir, readdir, rename, stat, truncate } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { scanSegmentFile } from '../media/mp4/index.js';
import { RECORDINGS_DIR } from './layout.js';
import { factsFromScan, recoverOpenSegment } from './recovery.js';
import type { SegmentIndex } from './segment-index.js';

export type FsckProblemKind =
  'missing-file' | 'orphan-file' | 'torn-segment' | 'size-mismatch' | 'open-segment';

export interface FsckProblem {
  kind: FsckProblemKind;
  path: string;
  message: string;
  repaired: boolean;
}

export interface FsckReport {
  checkedSegmentCount: number;
  checkedFileCount: number;
  problems: FsckProblem[];
}

async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    const full = join(root, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/**
 * Compares the index with the files on disk. With `repair`: rows of missing files are dropped,
 * torn tails are cut, sizes are re-read from the files, open rows are finished, and orphan files
 * are moved to lost+found/ (never deleted: they may be someone's only copy of an incident).
 * Repair only while Vigil is stopped (the storage lock guarantees that). A check without repair
 * may run beside recording and retention: files are listed before the index is read (a segment's
 * row is written before its file), and what vanished meanwhile was deleted, not lost.
 */
export async function fsck(
  index: SegmentIndex,
  storageRoot: string,
  opts: { repair: boolean; nowMs: number },
): Promise<FsckReport> {
  const problems: FsckProblem[] = [];
  const files = await listFiles(join(storageRoot, RECORDINGS_DIR));
  const rows = await index.all();
  const indexed = new Set(rows.map((r) => r.path));
  const garbage = new Set(await index.garbage());
  for (const row of rows) {
    const absolute = join(storageRoot, row.path);
    if (row.state === 'open') {
      if (opts.repair) await recoverOpenSegment(index, storageRoot, row, opts.nowMs);
      problems.push({
        kind: 'open-segment',
        path: row.path,
        message: 'segment was still open (Vigil stopped without closing it)',
        repaired: opts.repair,
      });
      continue;
    }
    let fileByteLength: number;
    try {
      fileByteLength = (await stat(absolute)).size;
    } catch {
      if (!opts.repair && !(await stillIndexed(index, row.id))) continue;
      if (opts.repair) await index.moveToGarbage([row.id], 'missing', opts.nowMs);
      problems.push({
        kind: 'missing-file',
        path: row.path,
        message: 'indexed, but the file is missing',
        repaired: opts.repair,
      });
      continue;
    }
    if (fileByteLength === row.byte_length) continue;
    let scanned;
    try {
      scanned = await scanSegmentFile(absolute);
    } catch (err) {
      problems.push({
        kind: 'size-mismatch',
        path: row.path,
        message: `file is ${fileByteLength} bytes, index says ${row.byte_length}, and it cannot be read: ${(err as Error).message}`,
        repaired: false,
      });
      continue;
    }
    const facts = factsFromScan(row, scanned);
    const torn = scanned.torn && scanned.validByteLength === row.byte_length;
    if (opts.repair && facts) {
      if (scanned.torn) await truncate(absolute, scanned.validByteLength);
      await index.close(row.id, { startTimeMs: row.start_time_ms, ...facts });
    }
    problems.push({
      kind: torn ? 'torn-segment' : 'size-mismatch',
      path: row.path,
      message: torn
        ? `${fileByteLength - scanned.validByteLength} bytes of a torn fragment after the indexed end`
        : `file is ${fileByteLength} bytes, index says ${row.byte_length}`,
      repaired: opts.repair && facts !== null,
    });
  }
  for (const file of files) {
    const path = relative(storageRoot, file).split(sep).join('/');
    if (indexed.has(path) || garbage.has(path) || !(await exists(file))) continue;
    if (opts.repair) {
      const target = join(storageRoot, 'lost+found', path);
      await mkdir(dirname(target), { recursive: true });
      await rename(file, target);
    }
    problems.push({
      kind: 'orphan-file',
      path,
      message: opts.repair ? 'not in the index: moved to lost+found/' : 'not in the index',
      repaired: opts.repair,
    });
  }
  return { checkedSegmentCount: rows.length, checkedFileCount: files.length, problems };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Whether a row read earlier is still there (retention may have deleted it meanwhile). */
async function stillIndexed(index: SegmentIndex, id: number): Promise<boolean> {
  return (await index.get(id)) !== undefined;
}
