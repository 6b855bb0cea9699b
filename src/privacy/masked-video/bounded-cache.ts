/**
 * A least-recently-used cache of byte buffers bounded by their total size, which also shares a
 * computation in progress: two players asking for the same masked part at once cost one encode.
 * A failed computation is not kept.
 */
export class BoundedByteCache {
  private readonly entries = new Map<string, Buffer>();
  private readonly inFlight = new Map<string, Promise<Buffer>>();
  private totalBytes = 0;

  constructor(private readonly maxBytes: number) {}

  get byteLength(): number {
    return this.totalBytes;
  }

  get(key: string): Buffer | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      // Re-inserted: Map order is the recency order.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, bytes: Buffer): void {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.totalBytes -= old.length;
    }
    if (bytes.length > this.maxBytes) return;
    this.entries.set(key, bytes);
    this.totalBytes += bytes.length;
    for (const [oldest, value] of this.entries) {
      if (this.totalBytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.totalBytes -= value.length;
    }
  }

  /** The cached bytes, or those of `compute`, shared with every caller asking meanwhile. */
  getOrCompute(key: string, compute: () => Promise<Buffer>): Promise<Buffer> {
    const hit = this.get(key);
    if (hit) return Promise.resolve(hit);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = compute().then(
        (bytes) => {
          this.inFlight.delete(key);
          this.set(key, bytes);
          return bytes;
        },
        (err: unknown) => {
          this.inFlight.delete(key);
          throw err;
        },
      );
      this.inFlight.set(key, pending);
    }
    return pending;
  }
}
