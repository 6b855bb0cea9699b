import { boxCentre, type Box } from '../../analytics/geometry.js';
import type { Detector, RgbImage } from '../../analytics/detector/index.js';
import { VigilError } from '../../errors/catalogue.js';
import type { FfmpegBinary } from '../../ingest/ffmpeg-binary.js';
import type { FaceDetector } from './blazeface.js';
import { boxContains, keptPersonBox, manualBoxAt, pathCentreAt } from './follow.js';
import { DEFAULT_HOLD_OPTIONS, heldBoxes, linkDetections, type HoldOptions } from './hold.js';
import {
  DEFAULT_HOLD_FRAMES,
  DEFAULT_MIN_FACE_SCORE,
  describeRedaction,
  type RedactionOptions,
} from './options.js';
import { pixelateBoxes } from './pixelate.js';
import { decodeFrames, probeVideoSize, startEncoder, type VideoSize } from './video-io.js';

export interface RedactionDeps {
  ffmpeg: FfmpegBinary;
  /** Needed unless the mode is `manual`. */
  faceDetector?: FaceDetector;
  /** Needed for `all-except-track`: finds the people (COCO `person`). */
  personDetector?: Detector;
  /** Called after each frame of each pass: pass 1 detects, pass 2 blurs and encodes. */
  onProgress?: (progress: { pass: 1 | 2; frame: number }) => void;
  /** Return the boxes blurred on each frame in the report (for measuring; large for long clips). */
  reportBoxes?: boolean;
}

export interface RedactionReport {
  frameCount: number;
  width: number;
  height: number;
  durationMs: number;
  /** The constant rate the output is encoded at: the input's frames over its span. */
  outputFramesPerSecond: number;
  /** Largest distance between an input frame's time and its output time. */
  timingErrorMs: number;
  faceDetectionCount: number;
  personDetectionCount: number;
  framesWithBlur: number;
  blurredBoxCount: number;
  /** Both passes, decode, detection, blur and encoding included. */
  elapsedMs: number;
  detectionMs: number;
  /** Input frames per second of elapsed time. */
  processingFramesPerSecond: number;
  detector: string;
  description: string;
  /** Per frame, the boxes pixelated (frame pixels), with `reportBoxes`. */
  boxes?: Box[][];
}

/** Person detections below this score are not people; low, as for faces: blurring too much is the safe side. */
const MIN_PERSON_SCORE = 0.3;
/** The person detector costs about 180 ms a frame: it runs on every third, the hold fills in. */
const PERSON_EVERY_FRAMES = 3;
/**
 * The tiles (small faces) are searched on every second frame, the whole frame on every frame:
 * 3 model runs a frame on average instead of 5, and small faces move little in a frame.
 */
const TILES_EVERY_FRAMES = 2;

const PERSON_HOLD: Readonly<HoldOptions> = {
  ...DEFAULT_HOLD_OPTIONS,
  marginFraction: 0.05,
  growPerFrameFraction: 0.01,
};

/**
 * Writes a copy of the MP4 at `inputPath` to `outputPath` with faces (or people, or hand-drawn
 * boxes: see RedactionOptions) pixelated on every frame, re-encoded with libx264 at the input's
 * frame rate, without audio. Two passes over the input: the first detects on every frame, then
 * boxes are linked and held across frames (hold.ts), the second pixelates and encodes. Faces are
 * only ever located, never compared or identified.
 */
export async function redactMp4(
  inputPath: string,
  outputPath: string,
  options: RedactionOptions,
  deps: RedactionDeps,
): Promise<RedactionReport> {
  validateRedactionOptions(options);
  const startedMs = performance.now();
  const size = await probeVideoSize(deps.ffmpeg, inputPath);
  const detected = await detectAll(inputPath, size, options, deps);
  const ptsMs = detected.ptsMs;
  const frameCount = ptsMs.length;
  if (frameCount === 0) throw new VigilError('REDACTION_FAILED', `${inputPath} has no video frames`);
  const hold: HoldOptions = {
    ...DEFAULT_HOLD_OPTIONS,
    holdFrames: options.holdFrames ?? DEFAULT_HOLD_FRAMES,
  };
  hold.maxGapFrames = Math.max(hold.maxGapFrames, 3 * hold.holdFrames);
  const faces = heldBoxes(linkDetections(detected.faces, hold), frameCount, hold);
  const persons = heldBoxes(linkDetections(detected.persons, PERSON_HOLD), frameCount, PERSON_HOLD);
  const plan = ptsMs.map((pts, frame) =>
    boxesForFrame(options, size, pts - ptsMs[0]!, faces[frame]!, persons[frame]!),
  );

  const durationMs =
    frameCount > 1 ? ((ptsMs[frameCount - 1]! - ptsMs[0]!) * frameCount) / (frameCount - 1) : 0;
  const outputFramesPerSecond = durationMs > 0 ? (frameCount * 1000) / durationMs : 25;
  const encoder = startEncoder(deps.ffmpeg, outputPath, size, outputFramesPerSecond);
  let encodedFrames = 0;
  try {
    await decodeFrames(deps.ffmpeg, inputPath, size, async (rgb, frame) => {
      const image: RgbImage = { data: rgb, width: size.width, height: size.height };
      const boxes = plan[frame];
      // The second decode must give the frames the first did: a frame outside the plan is never sent.
      if (!boxes)
        throw new VigilError(
          'REDACTION_FAILED',
          `${inputPath} gave more frames on the second decode than on the first`,
        );
      pixelateBoxes(image, boxes);
      await encoder.write(rgb);
      encodedFrames++;
      deps.onProgress?.({ pass: 2, frame });
    });
    if (encodedFrames !== frameCount)
      throw new VigilError(
        'REDACTION_FAILED',
        `${inputPath} gave ${encodedFrames} frames on the second decode, ${frameCount} on the first`,
      );
    await encoder.finish();
  } catch (error) {
    encoder.abort();
    throw error;
  }

  const elapsedMs = performance.now() - startedMs;
  const timingErrorMs = Math.max(
    0,
    ...ptsMs.map((pts, frame) => Math.abs(pts - ptsMs[0]! - (frame * 1000) / outputFramesPerSecond)),
  );
  return {
    frameCount,
    width: size.width,
    height: size.height,
    durationMs,
    outputFramesPerSecond,
    timingErrorMs,
    faceDetectionCount: detected.faceCount,
    personDetectionCount: detected.personCount,
    framesWithBlur: plan.filter((boxes) => boxes.length > 0).length,
    blurredBoxCount: plan.reduce((sum, boxes) => sum + boxes.length, 0),
    elapsedMs,
    detectionMs: detected.detectionMs,
    processingFramesPerSecond: (frameCount * 1000) / elapsedMs,
    detector: [deps.faceDetector?.name, deps.personDetector?.name].filter(Boolean).join(' + ') || 'none',
    description: describeRedaction(options),
    ...(deps.reportBoxes ? { boxes: plan } : {}),
  };
}

interface Detected {
  ptsMs: number[];
  faces: Array<Box[] | null>;
  persons: Array<Box[] | null>;
  faceCount: number;
  personCount: number;
  detectionMs: number;
}

/** Pass 1: faces on every frame, people on every third (when the mode needs them). */
async function detectAll(
  inputPath: string,
  size: VideoSize,
  options: RedactionOptions,
  deps: RedactionDeps,
): Promise<Detected> {
  const wantFaces = options.mode !== 'manual';
  const wantPersons = options.mode === 'all-except-track';
  if (wantFaces && !deps.faceDetector) throw new Error('redactMp4 needs a face detector for this mode');
  if (wantPersons && !deps.personDetector) throw new Error('redactMp4 needs a person detector for this mode');
  const minFaceScore = options.minFaceScore ?? DEFAULT_MIN_FACE_SCORE;
  const result: Detected = {
    ptsMs: [],
    faces: [],
    persons: [],
    faceCount: 0,
    personCount: 0,
    detectionMs: 0,
  };
  result.ptsMs = await decodeFrames(deps.ffmpeg, inputPath, size, async (rgb, frame) => {
    const image: RgbImage = { data: rgb, width: size.width, height: size.height };
    const started = performance.now();
    if (wantFaces) {
      const faces = deps
        .faceDetector!.detectFaces(image, { tiles: frame % TILES_EVERY_FRAMES === 0 })
        .filter((f) => f.score >= minFaceScore);
      result.faces[frame] = faces.map((f) => f.box);
      result.faceCount += faces.length;
    } else result.faces[frame] = null;
    if (wantPersons && frame % PERSON_EVERY_FRAMES === 0) {
      const [found = []] = await deps.personDetector!.detect([image]);
      const persons = found.filter((d) => d.label === 'person' && d.score >= MIN_PERSON_SCORE);
      result.persons[frame] = persons.map((d) => d.box);
      result.personCount += persons.length;
    } else result.persons[frame] = null;
    result.detectionMs += performance.now() - started;
    deps.onProgress?.({ pass: 1, frame });
  });
  return result;
}

/** What one frame blurs, by mode; `atMs` from the clip's first frame. */
function boxesForFrame(
  options: RedactionOptions,
  size: VideoSize,
  atMs: number,
  faces: readonly Box[],
  persons: readonly Box[],
): Box[] {
  const boxes: Box[] = [];
  if (options.mode === 'faces') boxes.push(...faces);
  if (options.mode === 'all-except-track') {
    const centre = options.keep ? pathCentreAt(options.keep.path, options.clipStartTimeMs! + atMs) : null;
    const kept = keptPersonBox(persons, centre && { x: centre.x * size.width, y: centre.y * size.height });
    boxes.push(...persons.filter((p) => p !== kept));
    boxes.push(...faces.filter((face) => !kept || !boxContains(kept, boxCentre(face))));
  }
  for (const manual of options.manualBoxes ?? []) {
    const box = manualBoxAt(manual, atMs, size, options.clipStartTimeMs);
    if (box) boxes.push(box);
  }
  return boxes;
}

const MODES = new Set(['faces', 'all-except-track', 'manual']);

/** Throws REDACTION_INVALID naming the first thing wrong with the options. */
export function validateRedactionOptions(options: RedactionOptions): void {
  const invalid = (message: string) => new VigilError('REDACTION_INVALID', message);
  if (!MODES.has(options.mode))
    throw invalid(`unknown redaction mode '${String(options.mode)}': use faces, all-except-track or manual`);
  if (options.mode === 'all-except-track') {
    if (!options.keep)
      throw invalid("mode 'all-except-track' needs 'keep': the event whose track stays visible");
    if (options.clipStartTimeMs === undefined)
      throw invalid("mode 'all-except-track' needs 'clipStartTimeMs'");
  }
  if (options.mode === 'manual' && (options.manualBoxes ?? []).length === 0)
    throw invalid("mode 'manual' needs at least one box in 'manualBoxes'");
  for (const manual of options.manualBoxes ?? []) {
    if (manual.keys.length === 0) throw invalid('a hand-drawn box needs at least one key');
    for (const key of manual.keys) {
      const b = key.box;
      const inside =
        b.x >= 0 &&
        b.y >= 0 &&
        b.width > 0 &&
        b.height > 0 &&
        b.x + b.width <= 1.0001 &&
        b.y + b.height <= 1.0001;
      if (!inside)
        throw invalid(`a hand-drawn box at ${key.atMs} ms is not inside the frame (normalised 0..1)`);
    }
    if (manual.follow && options.clipStartTimeMs === undefined)
      throw invalid("a box that follows a track needs 'clipStartTimeMs'");
  }
  const hold = options.holdFrames;
  if (hold !== undefined && !(Number.isInteger(hold) && hold >= 0 && hold <= 250))
    throw invalid("'holdFrames' must be a whole number from 0 to 250");
}
