import { close, fdatasync, ftruncate, mkdir, open, write } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

const closeAsync = promisify(close);
const fdatasyncAsync = promisify(fdatasync);
const ftruncateAsync = promisify(ftruncate);
const mkdirAsync = promisify(mkdir);
const openAsync = promisify(open);
const writeAsync = promisify(write);

/**
 * The file operations a recorder makes on its segments. Node's callback API runs them on libuv's
 * thread pool, so a slow or stalled disk delays only the recording queue, never the API or live
 * view on the main thread. Tests inject a slow disk through this interface.
 */
export interface SegmentFiles {
  /** Makes the folders and creates the file; fails if it exists. Returns its descriptor. */
  create(absolutePath: string): Promise<number>;
  /** Writes all of `bytes` at `position`. */
  write(fd: number, bytes: Buffer, position: number): Promise<void>;
  truncate(fd: number, byteLength: number): Promise<void>;
  sync(fd: number): Promise<void>;
  close(fd: number): Promise<void>;
}

export const nodeSegmentFiles: SegmentFiles = {
  async create(absolutePath) {
    await mkdirAsync(dirname(absolutePath), { recursive: true });
    return openAsync(absolutePath, 'wx');
  },
  async write(fd, bytes, position) {
    for (let written = 0; written < bytes.length;) {
      written += (await writeAsync(fd, bytes, written, bytes.length - written, position + written))
        .bytesWritten;
    }
  },
  truncate: (fd, byteLength) => ftruncateAsync(fd, byteLength),
  sync: (fd) => fdatasyncAsync(fd),
  close: (fd) => closeAsync(fd),
};
