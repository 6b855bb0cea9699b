/**
 * Real footage through the analytics chain, in process: ffmpeg decodes a file at the detect
 * stream's size, the CenterNet detector (onnxruntime, else tfjs — as the worker picks) looks at
 * every analysed frame whole, then the pipeline's own parts: filters, Tracker, EventManager with
 * a real EventStore (SQLite in a temporary folder). The detector runs once a frame; every variant
 * (tracker coasting, re-id on or off) gets the same detections, so they differ only by design.
 *
 * Used by bench/analytics/reid.ts and test/integration/reid.test.ts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createCenterNet } from '../../src/analytics/detector/create-detector.js';
import {
  cropResizeRgb,
  DEFAULT_DETECTION_FILTERS,
  detectionsToFrame,
  filterDetections,
  fullFrameRegion,
  type Detection,
  type Detector,
  type RgbImage,
} from '../../src/analytics/detector/index.js';
import { iou, type Box, type FrameSize } from '../../src/analytics/geometry.js';
import { observationOf } from '../../src/analytics/pipeline/camera-analytics.js';
import { Tracker } from '../../src/analytics/tracking/index.js';
import { DEFAULT_DETECT_LABELS } from '../../src/config/schema.js';
import { EventBus } from '../../src/events/bus.js';
import { EventManager, type TrackObservation } from '../../src/events/event-manager.js';
import { greedyOneToOne, type ReidOptions, type ScoredPair } from '../../src/events/reid.js';
import { EventStore } from '../../src/events/store.js';
import { locateFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { openDatabase, type Db } from '../../src/storage/db.js';
import { SegmentIndex } from '../../src/storage/segment-index.js';
import { ManualClock } from '../../src/time/clock.js';
import { repoRoot } from './footage.js';

/**
 * People who appeared in one loop of vtest-main.mp4, counted by hand: the 21 identities p1…p21 of
 * test/fixtures/vtest-annotations.json (each one continuous stay in view; a person who leaves and
 * comes back counts again), checked on contact sheets of one frame a second for anyone passing
 * between annotated frames (bench/analytics/README.md, "One event per person").
 */
export const VTEST_PEOPLE = 21;

/** The config's defaults: detect.fps, detect.minScore, and the sub stream's size for vtest. */
export const DETECT_FPS = 5;
const MIN_SCORE = 0.5;
const INPUT = 512;
export const VTEST_SIZE: FrameSize = { width: 640, height: 480 };
const VTEST_MAIN: FrameSize = { width: 1280, height: 960 };
const SOURCE_FPS = 10;
const CAMERA = 'vtest';
/** Any epoch will do: the footage starts at 0. */
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

export interface ReplayVariant {
  name: string;
  /** How long a confirmed track coasts on prediction before it ends (the pipeline: 2 s). */
  coastMs: number;
  /** Re-identification with its default options (true), other options, or off (false). */
  reid: boolean | Partial<ReidOptions>;
}

export interface VariantResult {
  variant: ReplayVariant;
  /** Events opened, by label. */
  events: Record<string, number>;
  /** Confirmed person tracks. */
  personTracks: number;
  /** On the annotated frames: identities matched to a different track / event than the last time. */
  trackIdSwitches: number;
  eventIdSwitches: number;
  /** Events matched to more than one annotated person (re-id joined two people), and the people so joined. */
  eventsOfSeveral: number;
  /** Annotated people matched to more than one event. */
  peopleInSeveral: number;
  /** Identity-frames covered by a confirmed track, of all identified (not difficult) people there. */
  covered: number;
  identityFrames: number;
}

export interface ReplayResult {
  frames: number;
  seconds: number;
  detector: string;
  variants: VariantResult[];
}

interface AnnotatedPerson {
  id: string;
  box: Box;
}

interface FixtureFile {
  frames: Array<{
    frameIndex: number;
    objects: Array<{ label: string; box: [number, number, number, number]; difficult: boolean; id?: string }>;
  }>;
}

/** Identified, not difficult people of test/fixtures/vtest-annotations.json, by frame, scaled to `size`. */
export function vtestPeople(size: FrameSize = VTEST_SIZE): Map<number, AnnotatedPerson[]> {
  const file = JSON.parse(
    readFileSync(join(repoRoot, 'test', 'fixtures', 'vtest-annotations.json'), 'utf8'),
  ) as FixtureFile;
  const k = size.width / VTEST_MAIN.width;
  return new Map(
    file.frames.map((frame) => [
      frame.frameIndex,
      frame.objects
        .filter((o) => o.label === 'person' && !o.difficult && o.id !== undefined)
        .map((o) => ({
          id: o.id!,
          box: { x: o.box[0] * k, y: o.box[1] * k, width: o.box[2] * k, height: o.box[3] * k },
        })),
    ]),
  );
}

/** Every `step`-th frame of `file`, scaled to `size`, as RGB: one frame in memory at a time. */
async function* decode(file: string, step: number, size: FrameSize): AsyncGenerator<RgbImage> {
  const ffmpeg = await locateFfmpeg();
  const child = spawn(
    ffmpeg.path,
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-i',
      file,
      '-vf',
      `select='not(mod(n\\,${step}))',scale=${size.width}:${size.height}:flags=area`,
      '-fps_mode',
      'passthrough',
      '-pix_fmt',
      'rgb24',
      '-f',
      'rawvideo',
      '-',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  const bytes = size.width * size.height * 3;
  let pending: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of child.stdout) {
      pending = pending.length === 0 ? (chunk as Buffer) : Buffer.concat([pending, chunk as Buffer]);
      while (pending.length >= bytes) {
        yield { data: new Uint8Array(pending.subarray(0, bytes)), ...size };
        pending = pending.subarray(bytes);
      }
    }
  } finally {
    if (child.exitCode === null) child.kill();
  }
  const code = await exited;
  if (code !== 0) throw new Error(`ffmpeg decoding ${file} exited with ${code}`);
}

/** Candidate (track, person) pairs with IoU ≥ 0.5, greedily by IoU, one-to-one. */
function matchPeople(
  tracks: readonly TrackObservation[],
  people: readonly AnnotatedPerson[],
): Array<[TrackObservation, AnnotatedPerson]> {
  const pairs: ScoredPair[] = [];
  tracks.forEach((track, i) =>
    people.forEach((person, j) => {
      const overlap = iou(track.box, person.box);
      if (overlap >= 0.5) pairs.push([i, j, overlap]);
    }),
  );
  return greedyOneToOne(pairs).map(([i, j]) => [tracks[i]!, people[j]!]);
}

/** One variant's tracker and event manager, fed frame by frame. */
export class VariantRun {
  private readonly tracker: Tracker;
  private readonly events: EventManager;
  private readonly clock = new ManualClock(T0);
  private readonly bus = new EventBus();
  private readonly opened: Record<string, number> = {};
  private readonly personTracks = new Set<number>();
  private readonly lastTrack = new Map<string, number>();
  private readonly lastEvent = new Map<string, number>();
  private readonly peopleOfEvent = new Map<number, Set<string>>();
  private readonly eventsOfPerson = new Map<string, Set<number>>();
  private trackIdSwitches = 0;
  private eventIdSwitches = 0;
  private covered = 0;
  private identityFrames = 0;

  constructor(
    readonly variant: ReplayVariant,
    store: EventStore,
  ) {
    this.tracker = new Tracker({
      frameIntervalMs: 1000 / DETECT_FPS,
      maxMisses: Math.round((variant.coastMs * DETECT_FPS) / 1000),
    });
    this.bus.on('event', (message) => {
      if (message.type === 'new')
        this.opened[message.after.label] = (this.opened[message.after.label] ?? 0) + 1;
    });
    this.events = new EventManager({
      store,
      bus: this.bus,
      clock: this.clock,
      log: pino({ level: 'silent' }),
      cameraSettings: () => ({ labels: DEFAULT_DETECT_LABELS, preCaptureMs: 5000, postCaptureMs: 5000 }),
      tickIntervalMs: 3_600_000,
      reid: variant.reid === true ? {} : variant.reid,
    });
  }

  /** The pipeline's step (camera-analytics.ts detectAndTrack) for one analysed frame. */
  step(image: RgbImage, detections: readonly Detection[], timeMs: number, people?: AnnotatedPerson[]): void {
    this.clock.set(timeMs);
    const update = this.tracker.update(detections, timeMs);
    const observations = update.active.map(observationOf);
    for (const o of observations) if (o.label === 'person') this.personTracks.add(o.trackId);
    this.events.observe(CAMERA, { ...image, timeMs }, observations);
    for (const track of update.ended) this.events.trackEnded(CAMERA, track.id, timeMs);
    if (people) this.score(observations, people);
  }

  /** CLEAR-MOT id switches on an annotated frame, for tracks and for the events they feed. */
  private score(observations: readonly TrackObservation[], people: readonly AnnotatedPerson[]): void {
    const persons = observations.filter((o) => o.label === 'person');
    const trackOf = new Map(matchPeople(persons, people).map(([track, person]) => [person.id, track]));
    for (const person of people) {
      this.identityFrames += 1;
      const track = trackOf.get(person.id);
      if (!track) continue;
      this.covered += 1;
      const previousTrack = this.lastTrack.get(person.id);
      if (previousTrack !== undefined && previousTrack !== track.trackId) this.trackIdSwitches += 1;
      this.lastTrack.set(person.id, track.trackId);
      const event = this.events.eventTrackIdOf(CAMERA, track.trackId);
      if (event === null) continue;
      const previousEvent = this.lastEvent.get(person.id);
      if (previousEvent !== undefined && previousEvent !== event) this.eventIdSwitches += 1;
      this.lastEvent.set(person.id, event);
      const people = this.peopleOfEvent.get(event) ?? new Set<string>();
      this.peopleOfEvent.set(event, people.add(person.id));
      const events = this.eventsOfPerson.get(person.id) ?? new Set<number>();
      this.eventsOfPerson.set(person.id, events.add(event));
    }
  }

  async finish(lastTimeMs: number): Promise<VariantResult> {
    for (const track of this.tracker.flush()) this.events.trackEnded(CAMERA, track.id, lastTimeMs);
    await this.events.close();
    return {
      variant: this.variant,
      events: { ...this.opened },
      personTracks: this.personTracks.size,
      trackIdSwitches: this.trackIdSwitches,
      eventIdSwitches: this.eventIdSwitches,
      eventsOfSeveral: [...this.peopleOfEvent.values()].filter((people) => people.size > 1).length,
      peopleInSeveral: [...this.eventsOfPerson.values()].filter((events) => events.size > 1).length,
      covered: this.covered,
      identityFrames: this.identityFrames,
    };
  }
}

/**
 * One pass over `file` (a vtest loop: 1280×960 at 10 fps, analysed at 640×480 and 5 fps), every
 * variant in step. `progress` is told every 50 frames.
 */
export async function replayVtest(
  file: string,
  variants: readonly ReplayVariant[],
  progress: (frames: number) => void = () => undefined,
): Promise<ReplayResult> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-replay-'));
  const dbs: Db[] = [];
  const created = await createCenterNet();
  const detector: Detector = created.detector;
  try {
    const runs: VariantRun[] = [];
    for (const [i, variant] of variants.entries()) {
      const root = join(dir, String(i));
      const db = await openDatabase(join(dir, `${i}.sqlite`));
      dbs.push(db);
      const store = new EventStore(db, { storageRoot: root, index: new SegmentIndex(db), eventsDays: 14 });
      runs.push(new VariantRun(variant, store));
    }
    const people = vtestPeople();
    const region = fullFrameRegion(VTEST_SIZE);
    const filters = {
      ...DEFAULT_DETECTION_FILTERS,
      labels: DEFAULT_DETECT_LABELS,
      defaults: { ...DEFAULT_DETECTION_FILTERS.defaults, minScore: MIN_SCORE },
    };
    const step = SOURCE_FPS / DETECT_FPS;
    let frames = 0;
    let timeMs = T0;
    for await (const image of decode(file, step, VTEST_SIZE)) {
      const frameIndex = frames * step;
      timeMs = T0 + (frameIndex * 1000) / SOURCE_FPS;
      const crop = cropResizeRgb(image, region.box, INPUT, INPUT);
      const [found] = await detector.detect([crop]);
      const detections = filterDetections(
        detectionsToFrame([found ?? []], [region], INPUT, VTEST_SIZE),
        VTEST_SIZE,
        filters,
      );
      // Annotated frames are odd (35, 70 → 70 is even): the analysed frame at or just after.
      const annotated = people.get(frameIndex) ?? people.get(frameIndex - 1);
      for (const run of runs) run.step(image, detections, timeMs, annotated);
      frames += 1;
      if (frames % 50 === 0) progress(frames);
    }
    const results = [];
    for (const run of runs) results.push(await run.finish(timeMs));
    const name = created.fallbackReason ? 'CenterNet (tfjs)' : 'CenterNet (onnxruntime)';
    return { frames, seconds: (performance.now() - started) / 1000, detector: name, variants: results };
  } finally {
    await detector.close();
    for (const db of dbs) await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
