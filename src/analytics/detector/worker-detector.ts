import { Worker } from 'node:worker_threads';
import type { CenterNetOptions } from './centernet-io.js';
import { workerEntryUrl } from './worker-entry.js';
import type { Detection, Detector, DetectorInput } from './types.js';
import type { WorkerClose, WorkerReply, WorkerRequest } from './worker-protocol.js';

/** How long close() lets the worker finish an inference before terminating it. */
const CLOSE_TIMEOUT_MS = 10_000;

interface Pending {
  resolve: (detections: Detection[][]) => void;
  reject: (error: Error) => void;
}

/**
 * The CenterNet detector in a worker thread. Inference blocks its thread (tfjs: about 200 ms per
 * input; onnxruntime's binding also holds the event loop while it copies): on the main thread that would stall ingest, live view and the API for as long. The
 * worker gets a copy of each input (transferred, not cloned again), so callers may reuse their
 * buffers as soon as `detect` returns its promise.
 */
export class WorkerDetector implements Detector {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | null = null;
  private exited = false;

  private constructor(
    private readonly worker: Worker,
    readonly name: string,
    readonly inputSize: number,
    /** Set when onnxruntime was wanted (`auto`) but tfjs runs: why. For the log. */
    readonly fallbackReason?: string,
    /** Where the converted model came from (cache or conversion). For the log. */
    readonly modelNote?: string,
  ) {
    worker.on('message', (reply: WorkerReply) => this.onReply(reply));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => {
      this.exited = true;
      this.fail(new Error(`detector worker exited with code ${code}`));
    });
  }

  static create(options: CenterNetOptions = {}): Promise<WorkerDetector> {
    const worker = new Worker(workerEntryUrl(import.meta.url, 'detector-worker'), { workerData: options });
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      worker.once('error', onError);
      worker.once('message', (reply: WorkerReply) => {
        worker.off('error', onError);
        if (reply.type === 'ready')
          resolve(
            new WorkerDetector(
              worker,
              `${reply.name}, worker thread`,
              reply.inputSize,
              reply.fallbackReason,
              reply.modelNote,
            ),
          );
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

  /**
   * Lets the worker finish what it runs, free the model and exit; terminates it only after
   * CLOSE_TIMEOUT_MS (terminating during an onnxruntime inference aborts the process).
   */
  async close(): Promise<void> {
    this.failure ??= new Error('detector is closed');
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ type: 'close' } satisfies WorkerClose);
    const timer = setTimeout(() => void this.worker.terminate(), CLOSE_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
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
