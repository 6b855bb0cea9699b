/**
 * Worker-thread entry for WorkerDetector: owns one CenterNet detector (onnxruntime or tfjs, see
 * create-detector.ts) and answers detect requests one at a time. Messages: see worker-protocol.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { CenterNetOptions } from './centernet-io.js';
import { createCenterNet } from './create-detector.js';
import type { WorkerClose, WorkerReply, WorkerRequest } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('detector-worker.ts must run in a worker thread');

const created = createCenterNet(workerData as CenterNetOptions);
const ready = created.then((c) => c.detector);
created.then(
  ({ detector, fallbackReason, modelNote }) =>
    port.postMessage({
      type: 'ready',
      name: detector.name,
      inputSize: detector.inputSize,
      ...(fallbackReason ? { fallbackReason } : {}),
      ...(modelNote ? { modelNote } : {}),
    } satisfies WorkerReply),
  (error: Error) => port.postMessage({ type: 'failed', message: error.message } satisfies WorkerReply),
);

/** Settles when every request received so far is answered. */
let inFlight: Promise<unknown> = Promise.resolve();

port.on('message', (message: WorkerRequest | WorkerClose) => {
  if ('type' in message) {
    void inFlight
      .then(() => ready)
      .then((detector) => detector.close())
      .catch(() => undefined)
      .finally(() => process.exit(0));
    return;
  }
  const request = message;
  const job = ready
    .then((detector) => detector.detect(request.inputs))
    .then(
      (detections) => port.postMessage({ type: 'result', id: request.id, detections } satisfies WorkerReply),
      (error: Error) =>
        port.postMessage({ type: 'error', id: request.id, message: error.message } satisfies WorkerReply),
    );
  inFlight = Promise.allSettled([inFlight, job]);
});
