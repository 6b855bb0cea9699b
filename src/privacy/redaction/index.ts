// redactMp4 runs in the calling thread (tests, batch tools, bundles built off the main thread);
// redactMp4InWorker is for the server's main thread. Importing this file does not load tfjs.
export { describeRedaction, type RedactionMode, type RedactionOptions } from './options.js';
export type {
  FollowedTrack,
  ManualBoxKey,
  ManualRedaction,
  NormalisedBox,
  TrackPathPoint,
} from './options.js';
export type { FaceDetection, FaceDetector } from './blazeface.js';
export { redactMp4, validateRedactionOptions, type RedactionDeps, type RedactionReport } from './redact.js';
export { redactionTransform, redactMp4InWorker } from './run-in-worker.js';
