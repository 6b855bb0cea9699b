import { close, fdatasync, ftruncate, mkdir, open, writev } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

const closeAsync = promisify(close);
const fdatasyncAsync = promisify(fdatasync);
const ftruncateAsync = promisify(ftruncate);
const mkdirAsync = promisify(mkdir);
const openAsync = promisify(open);
const writevAsync = promisify(writev);

/**
 * The file operations a recorder makes on its segments. Node's callback API runs them on libuv's
 * thread pool, so a slow or stalled disk delays only the recording queue, never the API or live
 * view on the main thread. Tests inject a slow disk through this interface.
 */
export interface SegmentFiles {
  /** Makes the folders and creates the file; fails if it exists. Returns its descriptor. */
  create(absolutePath: string): Promise<number>;
  /** Writes all of `chunks`, one after the other, at `position`. */
  write(fd: number, chunks: readonly Buffer[], position: number): Promise<void>;
  truncate(fd: number, byteLength: number): Promise<void>;
  sync(fd: number): Promise<void>;
  close(fd: number): Promise<void>;
}

export const nodeSegmentFiles: SegmentFiles = {
  async create(absolutePath) {
    await mkdirAsync(dirname(absolutePath), { recursive: true });
    return openAsync(absolutePath, 'wx');
  },
  async write(fd, chunks, position) {
    let rest = [...chunks];
    let offset = position;
    while (rest.length > 0) {
      const { bytesWritten } = await writevAsync(fd, rest, offset);
      offset += bytesWritten;
      rest = afterBytes(rest, bytesWritten);
    }
  },
  truncate: (fd, byteLength) => ftruncateAsync(fd, byteLength),
  sync: (fd) => fdatasyncAsync(fd),
  close: (fd) => closeAsync(fd),
};

/** What is left of `chunks` once their first `byteLength` bytes are written (a short write). */
export function afterBytes(chunks: readonly Buffer[], byteLength: number): Buffer[] {
  const rest: Buffer[] = [];
  let skip = byteLength;
  for (const chunk of chunks) {
    if (skip >= chunk.length) {
      skip -= chunk.length;
      continue;
    }
    rest.push(skip > 0 ? chunk.subarray(skip) : chunk);
    skip = 0;
  }
  return rest;
}
