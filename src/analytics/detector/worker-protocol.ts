import type { Detection, DetectorInput } from './types.js';

/** Main thread → worker. */
export interface WorkerRequest {
  id: number;
  inputs: DetectorInput[];
}

/** Worker → main thread. */
export type WorkerReply =
  | { type: 'ready'; name: string; inputSize: number; fallbackReason?: string; modelNote?: string }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; detections: Detection[][] }
  | { type: 'error'; id: number; message: string };
