/**
 * Worker-thread entry for redactInWorker: runs one redactMp4 with the real detectors (BlazeFace,
 * and CenterNet for `all-except-track`) and posts the report. Inference is synchronous inside
 * tfjs: here it stalls only this thread, not recording, live view or the API.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CenterNetDetector } from '../../analytics/detector/centernet.js';
import type { FfmpegBinary } from '../../ingest/ffmpeg-binary.js';
import { BlazeFaceDetector } from './blazeface.js';
import type { RedactionOptions } from './options.js';
import { redactMp4, type RedactionReport } from './redact.js';

export interface RedactionJob {
  inputPath: string;
  outputPath: string;
  options: RedactionOptions;
  ffmpeg: FfmpegBinary;
}

export type RedactionWorkerReply =
  { type: 'done'; report: RedactionReport } | { type: 'failed'; message: string; code?: string };

const port = parentPort;
if (!port) throw new Error('redaction-worker.ts must run in a worker thread');
const job = workerData as RedactionJob;

async function run(): Promise<RedactionReport> {
  const faceDetector = job.options.mode === 'manual' ? undefined : await BlazeFaceDetector.create();
  const personDetector =
    job.options.mode === 'all-except-track' ? await CenterNetDetector.create({ minScore: 0.3 }) : undefined;
  try {
    return await redactMp4(job.inputPath, job.outputPath, job.options, {
      ffmpeg: job.ffmpeg,
      faceDetector,
      personDetector,
    });
  } finally {
    faceDetector?.close();
    await personDetector?.close();
  }
}

run().then(
  (report) => port.postMessage({ type: 'done', report } satisfies RedactionWorkerReply),
  (error: Error & { code?: string }) =>
    port.postMessage({
      type: 'failed',
      message: error.message,
      code: error.code,
    } satisfies RedactionWorkerReply),
);
