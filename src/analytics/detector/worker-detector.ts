import { Worker } from 'node:worker_threads';
import type { CenterNetOptions } from './centernet.js';
import { workerEntryUrl } from './worker-entry.js';
import type { Detection, Detector, DetectorInput } from './types.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

interface Pending {
  resolve: (detections: Detection[][]) => void;
  reject: (error: Error) => void;
}

/**
 * The CenterNet detector in a worker thread. tfjs runs inference synchronously (about 200 ms per
 * input): on the main thread that would stall ingest, live view and the API for as long. The
 * worker gets a copy of each input (transferred, not cloned again), so callers may reuse their
 * buffers as soon as `detect` returns its promise.
 */
export class WorkerDetector implements Detector {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | null = null;

  private constructor(
    private readonly worker: Worker,
    readonly name: string,
    readonly inputSize: number,
  ) {
    worker.on('message', (reply: WorkerReply) => this.onReply(reply));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new Error(`detector worker exited with code ${code}`)));
  }

  static create(options: CenterNetOptions = {}): Promise<WorkerDetector> {
    const worker = new Worker(workerEntryUrl(import.meta.url, 'detector-worker'), { workerData: options });
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      worker.once('error', onError);
      worker.once('message', (reply: WorkerReply) => {
        worker.off('error', onError);
        if (reply.type === 'ready')
          resolve(new WorkerDetector(worker, `${reply.name}, worker thread`, reply.inputSize));
        else {
          void worker.terminate();
          reject(
            new Error(reply.type === 'failed' ? reply.message : `unexpected first message ${reply.type}`),
          );
        }
      });
    });
  }

  detect(inputs: readonly DetectorInput[]): Promise<Detection[][]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    // new Uint8Array(view) copies; Buffer#slice would not (it shares memory, and transferring a
    // pooled Buffer's ArrayBuffer would detach unrelated data).
    const copies = inputs.map((input) => ({
      data: new Uint8Array(input.data),
      width: input.width,
      height: input.height,
    }));
    const request: WorkerRequest = { id, inputs: copies };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(
        request,
        copies.map((copy) => copy.data.buffer as ArrayBuffer),
      );
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error('detector is closed');
    await this.worker.terminate();
  }

  private onReply(reply: WorkerReply): void {
    if (reply.type !== 'result' && reply.type !== 'error') return;
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (reply.type === 'result') pending.resolve(reply.detections);
    else pending.reject(new Error(reply.message));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const pending of this.pending.values()) pending.reject(this.failure);
    this.pending.clear();
  }
}
