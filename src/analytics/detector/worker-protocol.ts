import type { Detection, DetectorInput } from './types.js';

/** Main thread → worker. */
export interface WorkerRequest {
  id: number;
  inputs: DetectorInput[];
}

/**
 * Main thread → worker: finish the inferences under way, free the model, exit. Terminating a
 * worker while onnxruntime runs aborts the whole process (its binding throws during teardown).
 */
export interface WorkerClose {
  type: 'close';
}

/** Worker → main thread. */
export type WorkerReply =
  | { type: 'ready'; name: string; inputSize: number; fallbackReason?: string; modelNote?: string }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; detections: Detection[][] }
  | { type: 'error'; id: number; message: string };
