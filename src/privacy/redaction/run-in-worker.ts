import { Worker } from 'node:worker_threads';
import { workerEntryUrl } from '../../analytics/detector/worker-entry.js';
import { VigilError, type ErrorCode } from '../../errors/catalogue.js';
import type { FfmpegBinary } from '../../ingest/ffmpeg-binary.js';
import { describeRedaction, type RedactionOptions } from './options.js';
import type { RedactionReport } from './redact.js';
import type { RedactionJob, RedactionWorkerReply } from './redaction-worker.js';
import type { VideoTransform } from '../../media/video-transform.js';

let queue: Promise<unknown> = Promise.resolve();

/**
 * redactMp4 in a worker thread, with the real detectors, one job at a time in this process:
 * detection keeps a core busy for the whole clip, and two at once would only take twice as long
 * each while starving recording. Callers on the main thread (the API) use this.
 */
export function redactMp4InWorker(
  inputPath: string,
  outputPath: string,
  options: RedactionOptions,
  deps: { ffmpeg: FfmpegBinary },
): Promise<RedactionReport> {
  const job: RedactionJob = { inputPath, outputPath, options, ffmpeg: deps.ffmpeg };
  const result = queue.then(() => runJob(job));
  queue = result.catch(() => undefined);
  return result;
}

function runJob(job: RedactionJob): Promise<RedactionReport> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerEntryUrl(import.meta.url, 'redaction-worker'), { workerData: job });
    let settled = false;
    worker.once('message', (reply: RedactionWorkerReply) => {
      settled = true;
      if (reply.type === 'done') resolve(reply.report);
      else reject(toError(reply));
      void worker.terminate();
    });
    worker.once('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled)
        reject(new VigilError('REDACTION_FAILED', `the redaction worker exited with code ${code}`));
    });
  });
}

function toError(reply: Extract<RedactionWorkerReply, { type: 'failed' }>): Error {
  if (reply.code === 'REDACTION_INVALID' || reply.code === 'REDACTION_FAILED')
    return new VigilError(reply.code as ErrorCode, reply.message);
  return new Error(reply.message);
}

/**
 * Face redaction as an export transform (src/export: a signed bundle's video): the options and
 * their description go into the manifest, so a verifier reads what was done to the recording.
 */
export function redactionTransform(options: RedactionOptions, ffmpeg: FfmpegBinary): VideoTransform {
  return {
    describe: () => ({ name: 'redaction', mode: options.mode, description: describeRedaction(options) }),
    apply: async (inputPath, outputPath) => {
      await redactMp4InWorker(inputPath, outputPath, options, { ffmpeg });
    },
  };
}
