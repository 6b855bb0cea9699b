/**
 * Worker-thread entry for WorkerDetector: owns one CenterNetDetector and answers detect requests
 * one at a time. Messages: see worker-protocol.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CenterNetDetector, type CenterNetOptions } from './centernet.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('detector-worker.ts must run in a worker thread');

const ready = CenterNetDetector.create(workerData as CenterNetOptions);
ready.then(
  (detector) =>
    port.postMessage({
      type: 'ready',
      name: detector.name,
      inputSize: detector.inputSize,
    } satisfies WorkerReply),
  (error: Error) => port.postMessage({ type: 'failed', message: error.message } satisfies WorkerReply),
);

port.on('message', (request: WorkerRequest) => {
  void ready
    .then((detector) => detector.detect(request.inputs))
    .then(
      (detections) => port.postMessage({ type: 'result', id: request.id, detections } satisfies WorkerReply),
      (error: Error) =>
        port.postMessage({ type: 'error', id: request.id, message: error.message } satisfies WorkerReply),
    );
});
