import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VigilError } from '../errors/catalogue.js';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One Vigil per storage folder: two would write the same streams and fight over the index. A
 * lock left by a killed Vigil names a dead pid and is taken over.
 */
export function acquireStorageLock(storageRoot: string): () => void {
  const path = join(storageRoot, 'vigil.lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new VigilError(
          'STORAGE_UNAVAILABLE',
          `another Vigil (pid ${pid}) is using ${storageRoot}; stop it first, or use another storage.path`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new VigilError('STORAGE_UNAVAILABLE', `cannot lock ${storageRoot}`);
}
