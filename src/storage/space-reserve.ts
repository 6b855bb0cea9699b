import { open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Enough for the index database to record a retention pass (a few thousand rows) on a full disk. */
export const SPACE_RESERVE_BYTES = 4 * 1024 * 1024;

export const SPACE_RESERVE_FILE = '.space-reserve';

/**
 * A file of zeros kept in the storage folder and given back when the disk fills. On a full file
 * system the index database cannot write either, so retention could not record which segments it
 * deletes and would free nothing; deleting files before recording it would leave the index
 * pointing at missing files. Releasing this reserve first gives the database the room to do it
 * properly; it is made again once there is space.
 */
export class SpaceReserve {
  readonly path: string;

  constructor(
    storageRoot: string,
    private readonly sizeBytes = SPACE_RESERVE_BYTES,
  ) {
    this.path = join(storageRoot, SPACE_RESERVE_FILE);
  }

  /** Whether the reserve is in place, whole. */
  async present(): Promise<boolean> {
    try {
      return (await stat(this.path)).size === this.sizeBytes;
    } catch {
      return false;
    }
  }

  /**
   * Makes the reserve when it is missing. The blocks are written, not only allocated: a sparse
   * file would hold no space. Fails with ENOSPC (and leaves no partial file) when there is no room.
   */
  async ensure(): Promise<void> {
    if (await this.present()) return;
    const file = await open(this.path, 'w', 0o600);
    try {
      const chunk = Buffer.alloc(Math.min(this.sizeBytes, 1024 * 1024));
      for (let written = 0; written < this.sizeBytes;) {
        const { bytesWritten } = await file.write(chunk, 0, Math.min(chunk.length, this.sizeBytes - written));
        written += bytesWritten;
      }
      await file.datasync();
    } catch (err) {
      await file.close();
      await rm(this.path, { force: true });
      throw err;
    }
    await file.close();
  }

  /** Gives the space back; returns whether there was a reserve to give. */
  async release(): Promise<boolean> {
    const had = await this.present();
    await rm(this.path, { force: true });
    return had;
  }
}
