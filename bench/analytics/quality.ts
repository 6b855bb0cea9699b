/**
 * Detector and tracker quality on real footage, against the hand annotation of vtest in
 * test/fixtures/vtest-annotations.json (frame time → boxes, difficult flags, identities):
 *
 * - detector precision and recall at IoU ≥ 0.5 per class group (person; vehicle = car, truck, bus)
 *   after the default label filters, on the annotated frames: the 1280×960 main stream letterboxed
 *   into one 512×512 input (baseline), the 640×480 sub stream the pipeline analyses (annotations
 *   scaled by 0.5), and 3 × 3 tiles of 512×512 over the main frame; plus a PR summary at a few
 *   thresholds;
 * - tracker id switches (CLEAR-MOT style) against the annotated identities, over the whole sub
 *   clip at 5 fps with full-frame detection on every analysed frame;
 * - tree-sub.mp4 (a tree in the wind): motion, but no person or vehicle detections or tracks.
 *
 *   npx tsx bench/analytics/quality.ts [--footage ../shared/footage] [--no-tiles] [--no-tracker]
 *
 * About 3 minutes of one core (790 detector inferences: 22 + 22 + 9 × 22 on the annotated frames,
 * 398 on vtest-sub, 150 on tree-sub). Markdown tables go to stdout, progress to stderr; nothing
 * is written. See README.md next to this file.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CenterNetDetector } from '../../src/analytics/detector/centernet.js';
import {
  cropResizeRgb,
  DEFAULT_DETECTION_FILTERS,
  detectionsToFrame,
  filterDetections,
  fullFrameRegion,
  type Detection,
  type DetectionFilters,
  type Detector,
  type Region,
  type RgbImage,
} from '../../src/analytics/detector/index.js';
import { iou, type Box, type FrameSize } from '../../src/analytics/geometry.js';
import { LumaDownscaler, lumaFromRgb, MotionDetector } from '../../src/analytics/motion/index.js';
import { Tracker, type Track } from '../../src/analytics/tracking/index.js';
import { locateFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { formatMachine, machineInfo } from '../lib/machine.js';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1]! : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const FOOTAGE = resolve(
  option('footage', process.env.VIGIL_FOOTAGE ?? join(here, '..', '..', '..', 'shared', 'footage')),
);
const FIXTURE = join(here, '..', '..', 'test', 'fixtures', 'vtest-annotations.json');
const WITH_TILES = !flag('no-tiles');
const WITH_TRACKER = !flag('no-tracker');

/** IoU for a detection (or a track) to count as finding an annotated object. */
const MATCH_IOU = 0.5;
/** `detect.minScore` default of the config (src/config/normalise.ts): the headline threshold. */
const CONFIG_MIN_SCORE = 0.5;
const PR_THRESHOLDS = [0.3, 0.4, 0.5, 0.6];
/** `detect.fps` default: the tracker sees every other frame of the 10 fps clip. */
const DETECT_FPS = 5;
const INPUT = 512;
const MAIN: FrameSize = { width: 1280, height: 960 };
const SUB: FrameSize = { width: 640, height: 480 };
const TREE: FrameSize = { width: 320, height: 240 };
/** Motion runs on a luma plane 320 px wide, as in the pipeline for a 640 px detect stream. */
const MOTION_WIDTH = 320;

type Group = 'person' | 'vehicle';
const GROUPS: readonly Group[] = ['person', 'vehicle'];
const GROUP_OF: Readonly<Record<string, Group>> = {
  person: 'person',
  car: 'vehicle',
  truck: 'vehicle',
  bus: 'vehicle',
};
/** Person heights (main-stream pixels) for the recall breakdown: far, middle, near. */
const HEIGHT_BINS: ReadonlyArray<readonly [number, number]> = [
  [0, 110],
  [110, 150],
  [150, Infinity],
];

// ---------------------------------------------------------------------------------------------
// Fixture

interface GroundTruth {
  label: string;
  box: Box;
  difficult: boolean;
  id: string | null;
}

interface AnnotatedFrame {
  frameIndex: number;
  timeMs: number;
  objects: GroundTruth[];
}

interface FixtureFile {
  source: string;
  sha256: string;
  width: number;
  height: number;
  frames: Array<{
    frameIndex: number;
    timeMs: number;
    objects: Array<{ label: string; box: [number, number, number, number]; difficult: boolean; id?: string }>;
  }>;
}

function loadFixture(): { sha256: string; frames: AnnotatedFrame[] } {
  const file = JSON.parse(readFileSync(FIXTURE, 'utf8')) as FixtureFile;
  if (file.width !== MAIN.width || file.height !== MAIN.height)
    throw new Error(`fixture is for ${file.width}x${file.height}, expected the 1280x960 main stream`);
  return {
    sha256: file.sha256,
    frames: file.frames.map((frame) => ({
      frameIndex: frame.frameIndex,
      timeMs: frame.timeMs,
      objects: frame.objects.map((o) => ({
        label: o.label,
        box: { x: o.box[0], y: o.box[1], width: o.box[2], height: o.box[3] },
        difficult: o.difficult,
        id: o.id ?? null,
      })),
    })),
  };
}

function scaled(objects: readonly GroundTruth[], factor: number): GroundTruth[] {
  return objects.map((o) => ({
    ...o,
    box: {
      x: o.box.x * factor,
      y: o.box.y * factor,
      width: o.box.width * factor,
      height: o.box.height * factor,
    },
  }));
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** The frames with these 0-based numbers, in order, as RGB (exact frames: select by n, no rate change). */
async function decodeFrames(
  ffmpeg: string,
  file: string,
  indices: readonly number[],
  size: FrameSize,
): Promise<RgbImage[]> {
  const select = indices.map((n) => `eq(n\\,${n})`).join('+');
  const { stdout } = await run(
    ffmpeg,
    ['-hide_banner', '-loglevel', 'error', '-i', join(FOOTAGE, file), '-vf', `select='${select}'`].concat([
      '-fps_mode',
      'passthrough',
      '-pix_fmt',
      'rgb24',
      '-f',
      'rawvideo',
      '-',
    ]),
    { encoding: 'buffer', maxBuffer: 1 << 30 },
  );
  const bytes = size.width * size.height * 3;
  if (stdout.length !== bytes * indices.length)
    throw new Error(
      `${file}: got ${stdout.length / bytes} frames of ${size.width}x${size.height}, wanted ${indices.length}`,
    );
  return indices.map((_, i) => ({
    data: new Uint8Array(stdout.subarray(i * bytes, (i + 1) * bytes)),
    width: size.width,
    height: size.height,
  }));
}

/** Every `step`-th frame of a file (frame numbers 0, step, 2·step, …) as RGB, streamed: one frame in memory at a time. */
async function* streamFrames(
  ffmpeg: string,
  file: string,
  step: number,
  size: FrameSize,
): AsyncGenerator<{ frameIndex: number; image: RgbImage }> {
  const child = spawn(
    ffmpeg,
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-i',
      join(FOOTAGE, file),
      '-vf',
      `select='not(mod(n\\,${step}))'`,
    ].concat(['-fps_mode', 'passthrough', '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-']),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  const bytes = size.width * size.height * 3;
  let pending: Buffer = Buffer.alloc(0);
  let k = 0;
  try {
    // Async iteration pauses the pipe while a frame is being analysed: ffmpeg waits, memory stays flat.
    for await (const chunk of child.stdout) {
      pending = pending.length === 0 ? (chunk as Buffer) : Buffer.concat([pending, chunk as Buffer]);
      while (pending.length >= bytes) {
        const data = new Uint8Array(pending.subarray(0, bytes));
        pending = pending.subarray(bytes);
        yield { frameIndex: k * step, image: { data, width: size.width, height: size.height } };
        k += 1;
      }
    }
  } finally {
    if (child.exitCode === null) child.kill();
  }
  const code = await exited;
  if (code !== 0) throw new Error(`ffmpeg decoding ${file} exited with ${code}`);
}

// ---------------------------------------------------------------------------------------------
// Detection, the way the pipeline does it: regions → crops → detector → frame boxes (NMS) → filters

let inferences = 0;

async function detectRegions(
  detector: Detector,
  image: RgbImage,
  regions: readonly Region[],
): Promise<Detection[]> {
  const crops = regions.map((region) => cropResizeRgb(image, region.box, INPUT, INPUT));
  const perRegion = await detector.detect(crops);
  inferences += crops.length;
  return detectionsToFrame(perRegion, regions, INPUT, image);
}

/**
 * Square tiles of `INPUT` frame pixels covering the frame, evenly spread, overlapping by at least
 * 128 px across and 256 px down (1280×960: 3 × 3, overlapping by 128 and 288 px), so that every
 * annotated person (under 270 px tall, under 90 px wide) lies whole inside at least one tile.
 */
function tiles(frame: FrameSize): Region[] {
  const positions = (length: number, minOverlap: number) => {
    const count = Math.max(1, Math.ceil((length - minOverlap) / (INPUT - minOverlap)));
    return count <= 1
      ? [0]
      : Array.from({ length: count }, (_, i) => Math.round((i * (length - INPUT)) / (count - 1)));
  };
  return positions(frame.height, 256).flatMap((y) =>
    positions(frame.width, 128).map((x) => ({
      box: { x, y, width: INPUT, height: INPUT },
      fullFrame: false,
    })),
  );
}

/** The default label filters with `detect.minScore` set as the config does. */
function filtersAt(minScore: number): DetectionFilters {
  return { ...DEFAULT_DETECTION_FILTERS, defaults: { ...DEFAULT_DETECTION_FILTERS.defaults, minScore } };
}

// ---------------------------------------------------------------------------------------------
// Precision and recall

interface Counts {
  gt: number;
  tp: number;
  fp: number;
  /** False positives overlapping an annotated object of the group (IoU ≥ 0.1): a duplicate, or a part of one. */
  fpOnObject: number;
  ignored: number;
}

interface Evaluation {
  perGroup: Record<Group, Counts>;
  /** Kept labels outside both groups (bicycle, motorcycle, cat, dog): all false, there are none in the footage. */
  otherLabels: number;
  /** Person recall by annotated height (main-stream pixels): [found, total] per HEIGHT_BINS entry. */
  personByHeight: Array<[number, number]>;
}

const emptyCounts = (): Counts => ({ gt: 0, tp: 0, fp: 0, fpOnObject: 0, ignored: 0 });

/**
 * Greedy matching by score, per class group and frame: each detection, best first, takes the
 * unmatched non-difficult object it overlaps most (IoU ≥ 0.5) and is a true positive; failing
 * that, if it overlaps a difficult object (IoU ≥ 0.5) it is ignored; otherwise it is a false
 * positive. Difficult objects are not counted in recall.
 */
function evaluate(
  samples: ReadonlyArray<{
    truth: readonly GroundTruth[];
    detections: readonly Detection[];
    frame: FrameSize;
  }>,
  minScore: number,
): Evaluation {
  const result: Evaluation = {
    perGroup: { person: emptyCounts(), vehicle: emptyCounts() },
    otherLabels: 0,
    personByHeight: HEIGHT_BINS.map(() => [0, 0]),
  };
  const filters = filtersAt(minScore);
  for (const sample of samples) {
    const kept = filterDetections(sample.detections, sample.frame, filters);
    const toMain = MAIN.width / sample.frame.width;
    for (const group of GROUPS) {
      const counts = result.perGroup[group];
      const truth = sample.truth.filter((o) => GROUP_OF[o.label] === group);
      const detections = kept.filter((d) => GROUP_OF[d.label] === group).sort((a, b) => b.score - a.score);
      const matched = new Set<GroundTruth>();
      counts.gt += truth.filter((o) => !o.difficult).length;
      for (const detection of detections) {
        let best: GroundTruth | null = null;
        let bestIou = MATCH_IOU;
        for (const object of truth) {
          if (object.difficult || matched.has(object)) continue;
          const overlap = iou(object.box, detection.box);
          if (overlap >= bestIou) {
            best = object;
            bestIou = overlap;
          }
        }
        if (best) {
          matched.add(best);
          counts.tp += 1;
        } else if (truth.some((o) => o.difficult && iou(o.box, detection.box) >= MATCH_IOU)) {
          counts.ignored += 1;
        } else {
          counts.fp += 1;
          if (truth.some((o) => iou(o.box, detection.box) >= 0.1)) counts.fpOnObject += 1;
        }
      }
      if (group === 'person') {
        for (const object of truth) {
          if (object.difficult) continue;
          const bin = HEIGHT_BINS.findIndex(([low, high]) => {
            const height = object.box.height * toMain;
            return height >= low && height < high;
          });
          result.personByHeight[bin]![1] += 1;
          if (matched.has(object)) result.personByHeight[bin]![0] += 1;
        }
      }
    }
    result.otherLabels += kept.filter((d) => GROUP_OF[d.label] === undefined).length;
  }
  return result;
}

const ratio = (a: number, b: number) => (b === 0 ? '–' : (a / b).toFixed(2));

// ---------------------------------------------------------------------------------------------
// Tracker over a clip

interface ClipRun {
  analysedFrames: number;
  framesWithMotion: number;
  /** The same at half the frame size (the pipeline's motion plane for this stream), when that is not 320 wide. */
  framesWithMotionHalf: number | null;
  /** Person / vehicle detections that passed the filters at CONFIG_MIN_SCORE, over all analysed frames. */
  detections: Record<Group, number>;
  /** Highest raw score per label seen on any analysed frame (before filters). */
  maxScore: Map<string, number>;
  /** Confirmed tracks by class group of their final label. */
  confirmed: Record<Group, Track[]>;
  /** Tracker ids handed out, tentative ones included. */
  idsCreated: number;
  seconds: number;
}

interface IdentityReport {
  idSwitches: number;
  /** Of those: the identity's previous track had ended (lost for over a second, then a new track). */
  switchesAfterEnd: number;
  /** Annotated identity-frames (non-difficult people with an id) and how many of them a confirmed track covered. */
  identityFrames: number;
  covered: number;
  identities: number;
  /** Per identity: the confirmed track id matched on each annotated frame it appears in ('-' none). */
  sequences: Map<string, string[]>;
  /** Confirmed person tracks present on an annotated frame that never overlapped any annotated person there. */
  unmatchedTracks: number[];
}

/** Candidate (track, object) pairs with IoU ≥ 0.5, greedily by IoU, one-to-one. */
function matchByIou<T, U>(
  tracks: ReadonlyArray<{ item: T; box: Box }>,
  objects: ReadonlyArray<{ item: U; box: Box }>,
): Array<[T, U]> {
  const pairs: Array<{ t: number; o: number; overlap: number }> = [];
  tracks.forEach((track, t) =>
    objects.forEach((object, o) => {
      const overlap = iou(track.box, object.box);
      if (overlap >= MATCH_IOU) pairs.push({ t, o, overlap });
    }),
  );
  pairs.sort((a, b) => b.overlap - a.overlap);
  const usedT = new Set<number>();
  const usedO = new Set<number>();
  const result: Array<[T, U]> = [];
  for (const pair of pairs) {
    if (usedT.has(pair.t) || usedO.has(pair.o)) continue;
    usedT.add(pair.t);
    usedO.add(pair.o);
    result.push([tracks[pair.t]!.item, objects[pair.o]!.item]);
  }
  return result;
}

/**
 * Detector (full frame, every analysed frame) + Tracker over a whole clip at DETECT_FPS, with
 * motion on the side. With annotations, the confirmed tracks are compared with the annotated
 * identities on each annotated frame: the tracker's boxes after the update on an analysed frame,
 * its prediction for the annotated frame's time when that frame falls between analysed frames.
 */
async function runClip(
  detector: Detector,
  ffmpeg: string,
  file: string,
  size: FrameSize,
  sourceFps: number,
  annotations: readonly AnnotatedFrame[] | null,
): Promise<{ clip: ClipRun; identity: IdentityReport | null }> {
  const started = performance.now();
  const step = Math.round(sourceFps / DETECT_FPS);
  const frameMs = 1000 / sourceFps;
  const tracker = new Tracker({ frameIntervalMs: 1000 / DETECT_FPS });
  const region = fullFrameRegion(size);
  const filters = filtersAt(CONFIG_MIN_SCORE);
  const motionSize = { width: MOTION_WIDTH, height: Math.round((MOTION_WIDTH * size.height) / size.width) };
  const motion = new MotionDetector(motionSize.width, motionSize.height);
  const downscaler =
    motionSize.width === size.width
      ? null
      : new LumaDownscaler(size.width, size.height, motionSize.width, motionSize.height);
  const luma = new Uint8Array(size.width * size.height);
  const small = new Uint8Array(motionSize.width * motionSize.height);
  const half = { width: Math.floor(size.width / 2), height: Math.floor(size.height / 2) };
  const halfMotion =
    half.width === motionSize.width
      ? null
      : {
          detector: new MotionDetector(half.width, half.height),
          downscaler: new LumaDownscaler(size.width, size.height, half.width, half.height),
          plane: new Uint8Array(half.width * half.height),
        };
  const clip: ClipRun = {
    analysedFrames: 0,
    framesWithMotion: 0,
    framesWithMotionHalf: null,
    detections: { person: 0, vehicle: 0 },
    maxScore: new Map(),
    confirmed: { person: [], vehicle: [] },
    idsCreated: 0,
    seconds: 0,
  };
  const confirmedIds = new Set<number>();
  const confirmedTracks: Track[] = [];

  const pending = [...(annotations ?? [])];
  const lastTrack = new Map<string, Track>();
  const hypothesisTracks = new Set<number>();
  const matchedTracks = new Set<number>();
  const identity: IdentityReport = {
    idSwitches: 0,
    switchesAfterEnd: 0,
    identityFrames: 0,
    covered: 0,
    identities: 0,
    sequences: new Map(),
    unmatchedTracks: [],
  };
  const compare = (annotated: AnnotatedFrame, hypotheses: ReadonlyArray<{ track: Track; box: Box }>) => {
    const truth = scaled(annotated.objects, size.width / MAIN.width).filter((o) => o.label === 'person');
    const people = hypotheses.filter((h) => GROUP_OF[h.track.label] === 'person');
    for (const h of people) hypothesisTracks.add(h.track.id);
    const identified = truth.filter((o) => !o.difficult && o.id !== null);
    const pairs = matchByIou(
      people.map((h) => ({ item: h.track, box: h.box })),
      identified.map((o) => ({ item: o, box: o.box })),
    );
    const trackOf = new Map(pairs.map(([track, object]) => [object, track]));
    for (const object of identified) {
      const id = object.id!;
      const track = trackOf.get(object);
      const sequence = identity.sequences.get(id) ?? [];
      identity.sequences.set(id, sequence);
      sequence.push(track ? String(track.id) : '-');
      identity.identityFrames += 1;
      if (!track) continue;
      identity.covered += 1;
      matchedTracks.add(track.id);
      const previous = lastTrack.get(id);
      if (previous !== undefined && previous.id !== track.id) {
        identity.idSwitches += 1;
        if (previous.state === 'ended') identity.switchesAfterEnd += 1;
      }
      lastTrack.set(id, track);
    }
    // Tracks on difficult or unidentified people are not false tracks either.
    const rest = people.filter((h) => !matchedTracks.has(h.track.id));
    const others = truth.filter((o) => o.difficult || o.id === null);
    for (const [track] of matchByIou(
      rest.map((h) => ({ item: h.track, box: h.box })),
      others.map((o) => ({ item: o, box: o.box })),
    ))
      matchedTracks.add(track.id);
  };

  for await (const { frameIndex, image } of streamFrames(ffmpeg, file, step, size)) {
    const timeMs = frameIndex * frameMs;
    lumaFromRgb(image.data, size.width, size.height, luma);
    const plane = downscaler ? downscaler.downscale({ data: luma, ...size }, small) : luma;
    const moved = motion.detect(plane);
    if (!moved.recalibrated && moved.boxes.length > 0) clip.framesWithMotion += 1;
    if (halfMotion) {
      const result = halfMotion.detector.detect(
        halfMotion.downscaler.downscale({ data: luma, ...size }, halfMotion.plane),
      );
      const movedHalf = !result.recalibrated && result.boxes.length > 0;
      clip.framesWithMotionHalf = (clip.framesWithMotionHalf ?? 0) + (movedHalf ? 1 : 0);
    }

    const raw = await detectRegions(detector, image, [region]);
    for (const d of raw) clip.maxScore.set(d.label, Math.max(clip.maxScore.get(d.label) ?? 0, d.score));
    const detections = filterDetections(raw, size, filters);
    for (const d of detections) {
      const group = GROUP_OF[d.label];
      if (group) clip.detections[group] += 1;
    }
    const update = tracker.update(detections, timeMs);
    clip.analysedFrames += 1;
    for (const track of [...update.active, ...update.tentative])
      clip.idsCreated = Math.max(clip.idsCreated, track.id);
    for (const track of update.active) {
      if (confirmedIds.has(track.id)) continue;
      confirmedIds.add(track.id);
      confirmedTracks.push(track);
    }

    while (pending.length > 0 && pending[0]!.frameIndex < frameIndex + step) {
      const annotated = pending.shift()!;
      if (annotated.frameIndex === frameIndex)
        compare(
          annotated,
          update.active.map((track) => ({ track, box: track.box })),
        );
      else if (annotated.frameIndex > frameIndex)
        compare(
          annotated,
          tracker.predict(annotated.frameIndex * frameMs).filter((p) => p.track.state === 'confirmed'),
        );
    }
    if (clip.analysedFrames % 50 === 0)
      console.error(`  ${file}: ${clip.analysedFrames} frames, ${confirmedIds.size} confirmed tracks`);
  }
  tracker.flush();
  for (const track of confirmedTracks) {
    const group = GROUP_OF[track.label];
    if (group) clip.confirmed[group].push(track);
  }
  clip.seconds = (performance.now() - started) / 1000;
  if (!annotations) return { clip, identity: null };
  identity.identities = identity.sequences.size;
  identity.unmatchedTracks = [...hypothesisTracks]
    .filter((id) => !matchedTracks.has(id))
    .sort((a, b) => a - b);
  return { clip, identity };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  for (const file of ['vtest-main.mp4', 'vtest-sub.mp4', 'tree-sub.mp4'])
    if (!existsSync(join(FOOTAGE, file)))
      throw new Error(
        `${file} not found in ${FOOTAGE}: pass --footage DIR (vtest-main.mp4, vtest-sub.mp4, tree-sub.mp4)`,
      );
  const started = performance.now();
  const ffmpeg = (await locateFfmpeg()).path;
  const header = `${formatMachine(machineInfo(ffmpeg))}\ndate: ${new Date().toISOString().slice(0, 10)}`;
  console.error(header);

  const fixture = loadFixture();
  const actual = await sha256Of(join(FOOTAGE, 'vtest-main.mp4'));
  if (actual !== fixture.sha256)
    throw new Error(`vtest-main.mp4 is not the annotated file (sha256 ${actual}, fixture ${fixture.sha256})`);
  const annotated = fixture.frames;
  const indices = annotated.map((f) => f.frameIndex);
  const people = annotated.flatMap((f) => f.objects).filter((o) => o.label === 'person');
  const vehicles = annotated.flatMap((f) => f.objects).filter((o) => GROUP_OF[o.label] === 'vehicle');
  const identities = new Set(people.filter((o) => !o.difficult && o.id !== null).map((o) => o.id));
  console.error(
    `fixture: ${annotated.length} frames, ${people.length} people (${people.filter((o) => o.difficult).length} difficult), ` +
      `${vehicles.length} vehicles, ${identities.size} identities`,
  );

  console.error('decoding the annotated frames…');
  const mainFrames = await decodeFrames(ffmpeg, 'vtest-main.mp4', indices, MAIN);
  const subFrames = await decodeFrames(ffmpeg, 'vtest-sub.mp4', indices, SUB);

  const detector = await CenterNetDetector.create();
  try {
    type Config = { name: string; frame: FrameSize; images: RgbImage[]; regions: Region[]; scale: number };
    const configs: Config[] = [
      {
        name: 'main 1280×960, full frame → 512',
        frame: MAIN,
        images: mainFrames,
        regions: [fullFrameRegion(MAIN)],
        scale: 1,
      },
      {
        name: 'sub 640×480, full frame → 512',
        frame: SUB,
        images: subFrames,
        regions: [fullFrameRegion(SUB)],
        scale: 0.5,
      },
    ];
    if (WITH_TILES)
      configs.push({
        name: `main, ${tiles(MAIN).length} tiles of 512`,
        frame: MAIN,
        images: mainFrames,
        regions: tiles(MAIN),
        scale: 1,
      });

    const evaluations: Array<{
      config: Config;
      byThreshold: Map<number, Evaluation>;
      seconds: number;
      runs: number;
    }> = [];
    for (const config of configs) {
      console.error(`detector: ${config.name}…`);
      const before = inferences;
      const t0 = performance.now();
      const samples: Array<{ truth: GroundTruth[]; detections: Detection[]; frame: FrameSize }> = [];
      for (let i = 0; i < annotated.length; i++) {
        samples.push({
          truth: scaled(annotated[i]!.objects, config.scale),
          detections: await detectRegions(detector, config.images[i]!, config.regions),
          frame: config.frame,
        });
      }
      const byThreshold = new Map(PR_THRESHOLDS.map((t) => [t, evaluate(samples, t)]));
      evaluations.push({
        config,
        byThreshold,
        seconds: (performance.now() - t0) / 1000,
        runs: inferences - before,
      });
    }

    let tracked: Awaited<ReturnType<typeof runClip>> | null = null;
    let tree: Awaited<ReturnType<typeof runClip>> | null = null;
    if (WITH_TRACKER) {
      console.error('tracker: vtest-sub.mp4 at 5 fps…');
      tracked = await runClip(detector, ffmpeg, 'vtest-sub.mp4', SUB, 10, annotated);
      console.error('tracker: tree-sub.mp4 at 5 fps…');
      tree = await runClip(detector, ffmpeg, 'tree-sub.mp4', TREE, 15, null);
    }

    // -- Report
    const out: string[] = [];
    out.push(header.replace(/^/gm, '    '), '');
    out.push(
      `Fixture: ${annotated.length} annotated frames of vtest-main.mp4 (${(indices[0]! / 10).toFixed(1)}–` +
        `${(indices[indices.length - 1]! / 10).toFixed(1)} s), ${people.filter((o) => !o.difficult).length} people ` +
        `+ ${people.filter((o) => o.difficult).length} difficult, ${vehicles.filter((o) => !o.difficult).length} vehicles ` +
        `+ ${vehicles.filter((o) => o.difficult).length} difficult; ${identities.size} person identities.`,
      '',
    );
    out.push(`Detector at minScore ${CONFIG_MIN_SCORE} (default label filters), IoU ≥ ${MATCH_IOU}:`, '');
    out.push(
      '| input | class | objects | found (TP) | false (FP) | of which on an object | ignored (difficult) | precision | recall | inferences |',
    );
    out.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const { config, byThreshold, runs, seconds } of evaluations) {
      const e = byThreshold.get(CONFIG_MIN_SCORE)!;
      for (const group of GROUPS) {
        const c = e.perGroup[group];
        out.push(
          `| ${config.name} | ${group} | ${c.gt} | ${c.tp} | ${c.fp} | ${c.fpOnObject} | ${c.ignored} | ${ratio(c.tp, c.tp + c.fp)} | ` +
            `${ratio(c.tp, c.gt)} | ${group === 'person' ? `${runs} (${seconds.toFixed(0)} s)` : ''} |`,
        );
      }
    }
    out.push('');
    out.push('Person recall by annotated height (main-stream pixels) at the same threshold:', '');
    out.push(
      `| input | ${HEIGHT_BINS.map(([lo, hi]) => (hi === Infinity ? `≥ ${lo} px` : `${lo}–${hi} px`)).join(' | ')} | other labels (all false) |`,
    );
    out.push(`|---|${HEIGHT_BINS.map(() => '---|').join('')}---|`);
    for (const { config, byThreshold } of evaluations) {
      const e = byThreshold.get(CONFIG_MIN_SCORE)!;
      out.push(
        `| ${config.name} | ${e.personByHeight.map(([found, total]) => `${found}/${total}`).join(' | ')} | ${e.otherLabels} |`,
      );
    }
    out.push('');
    out.push("Precision / recall by threshold (the label filters' minScore):", '');
    out.push(`| input | class | ${PR_THRESHOLDS.map((t) => `≥ ${t}`).join(' | ')} |`);
    out.push(`|---|---|${PR_THRESHOLDS.map(() => '---|').join('')}`);
    for (const { config, byThreshold } of evaluations) {
      for (const group of GROUPS) {
        const cells = PR_THRESHOLDS.map((t) => {
          const c = byThreshold.get(t)!.perGroup[group];
          return `${ratio(c.tp, c.tp + c.fp)} / ${ratio(c.tp, c.gt)}`;
        });
        out.push(`| ${config.name} | ${group} | ${cells.join(' | ')} |`);
      }
    }
    out.push('');

    if (tracked?.identity && tree) {
      const { clip, identity } = tracked;
      out.push(
        `Tracker over vtest-sub.mp4 (640×480), ${DETECT_FPS} fps (${clip.analysedFrames} frames), full-frame detection ` +
          `at minScore ${CONFIG_MIN_SCORE}, default Tracker options (${clip.seconds.toFixed(0)} s):`,
        '',
      );
      out.push('| what | value |', '|---|---|');
      out.push(
        `| id switches (annotated identity matched to a different track than the last time) | ${identity.idSwitches} |`,
      );
      out.push(
        `| of which the previous track had ended (lost > 1 s, then a new track) | ${identity.switchesAfterEnd} |`,
      );
      out.push(
        `| annotated identity-frames covered by a confirmed track (IoU ≥ ${MATCH_IOU}) | ${identity.covered} / ${identity.identityFrames} |`,
      );
      out.push(`| annotated person identities | ${identity.identities} |`);
      out.push(`| confirmed person tracks | ${clip.confirmed.person.length} |`);
      out.push(`| confirmed vehicle tracks | ${clip.confirmed.vehicle.length} |`);
      out.push(`| tracker ids handed out (tentative included) | ${clip.idsCreated} |`);
      out.push(
        `| confirmed person tracks on an annotated frame never overlapping an annotated person | ${identity.unmatchedTracks.length}` +
          `${identity.unmatchedTracks.length ? ` (${identity.unmatchedTracks.join(', ')})` : ''} |`,
      );
      out.push(`| frames with motion (320×240) | ${clip.framesWithMotion} / ${clip.analysedFrames} |`);
      out.push('');
      out.push('Track ids per identity on the annotated frames it appears in (- = no confirmed track):', '');
      out.push('| identity | track ids | switches |', '|---|---|---|');
      const byNumber = [...identity.sequences].sort(([a], [b]) => Number(a.slice(1)) - Number(b.slice(1)));
      for (const [id, sequence] of byNumber) {
        let switches = 0;
        let last: string | null = null;
        for (const s of sequence) {
          if (s === '-') continue;
          if (last !== null && s !== last) switches += 1;
          last = s;
        }
        out.push(`| ${id} | ${sequence.join(' ')} | ${switches} |`);
      }
      out.push('');

      const t = tree.clip;
      // The detector drops raw detections under its own minScore (0.2) before anything sees them.
      const top = (labels: readonly string[]) => {
        const best = Math.max(0, ...labels.map((l) => t.maxScore.get(l) ?? 0));
        return best > 0 ? best.toFixed(2) : '< 0.20';
      };
      const others = [...t.maxScore]
        .filter(([l]) => GROUP_OF[l] === undefined)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([l, s]) => `${l} ${s.toFixed(2)}`)
        .join(', ');
      out.push(
        `tree-sub.mp4 (320×240, 15 fps), ${DETECT_FPS} fps (${t.analysedFrames} frames), the same way:`,
        '',
      );
      out.push('| what | value |', '|---|---|');
      out.push(`| frames with motion (320×240) | ${t.framesWithMotion} / ${t.analysedFrames} |`);
      if (t.framesWithMotionHalf !== null)
        out.push(
          `| frames with motion (160×120, the pipeline's plane for a 320-wide stream) | ${t.framesWithMotionHalf} / ${t.analysedFrames} |`,
        );
      out.push(`| person detections ≥ ${CONFIG_MIN_SCORE} (after filters) | ${t.detections.person} |`);
      out.push(`| vehicle detections ≥ ${CONFIG_MIN_SCORE} (after filters) | ${t.detections.vehicle} |`);
      out.push(`| confirmed person tracks | ${t.confirmed.person.length} |`);
      out.push(`| confirmed vehicle tracks | ${t.confirmed.vehicle.length} |`);
      out.push(
        `| highest raw score: person; car/truck/bus | ${top(['person'])}; ${top(['car', 'truck', 'bus'])} |`,
      );
      out.push(`| highest raw scores of other labels | ${others || '–'} |`);
      out.push('');
    }
    out.push(`Total: ${inferences} inferences, ${((performance.now() - started) / 1000).toFixed(0)} s.`);
    console.log(out.join('\n'));
  } finally {
    await detector.close();
  }
}

await main();
