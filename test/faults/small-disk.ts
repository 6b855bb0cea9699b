import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/vigil.js';

/**
 * A small file system of its own (tmpfs) for the disk-full tests: filling it fills nobody else's
 * disk, and its size makes "full" quick to reach.
 */

/** Why this machine cannot make the small file system, or null when it can. */
export function cannotMountSmallDisk(): string | null {
  if (process.platform !== 'linux') return 'a disk-full test needs Linux (tmpfs)';
  if (process.getuid?.() !== 0) return 'a disk-full test mounts a small tmpfs, which needs root';
  const probe = tempDir('vigil-fault-mount-probe-');
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe]);
  if (mounted.status !== 0) return `mounting a tmpfs failed here: ${mounted.stderr.toString().trim()}`;
  spawnSync('umount', [probe]);
  return null;
}

/** Mounts a tmpfs of `sizeMb` at `mountPoint`, with an empty `data` folder for Vigil's storage. */
export function mountSmallDisk(mountPoint: string, sizeMb: number): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', mountPoint]);
  mkdirSync(join(mountPoint, 'data'));
}

export function unmountSmallDisk(mountPoint: string): void {
  spawnSync('umount', ['-l', mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
}

export function freeBytes(dir: string): number {
  const fs = statfsSync(dir);
  return fs.bavail * fs.bsize;
}

/** Fills the file system at `dir` with one file until `leaveBytes` are free; returns its path. */
export function fillDisk(dir: string, leaveBytes: number): string {
  const path = join(dir, 'someone-elses-file.bin');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(1024 * 1024, 7);
  try {
    for (let free = freeBytes(dir); free > leaveBytes; free = freeBytes(dir)) {
      writeSync(fd, chunk, 0, Math.min(chunk.length, free - leaveBytes));
    }
  } finally {
    closeSync(fd);
  }
  return path;
}
