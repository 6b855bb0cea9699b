import type { Logger } from 'pino';
import type { Clock } from '../time/clock.js';
import type { EventBus } from './bus.js';
import {
  appearanceOf,
  assignNewcomers,
  blendAppearance,
  DEFAULT_REID_OPTIONS,
  type Appearance,
  type LostObject,
  type ReidOptions,
} from './reid.js';
import { renderSnapshots, writeFileAtomic, type PixelBox, type RgbImage } from './snapshot.js';
import { eventView, snapshotPaths, type EventRecord, type EventStore } from './store.js';
import type { EventBox, EventChangeType, EventPathPoint, EventView } from '../contract/events.js';

/** One analysed frame: packed RGB (HWC), and its capture time on the recording timeline (epoch ms). */
export interface RgbFrame extends RgbImage {
  timeMs: number;
}

/** One active track of the tracker in one frame; `box` is in pixels of that frame. */
export interface TrackObservation {
  trackId: number;
  label: string;
  score: number;
  box: PixelBox;
  confirmed: boolean;
  stationary: boolean;
  /**
   * The box is the tracker's prediction: no detection matched the track in this frame (it is
   * coasting). Such a frame keeps the event going but is not a sighting.
   */
  predicted?: boolean;
  /** The tracker's velocity estimate, frame pixels per millisecond (Kalman state). */
  velocity?: { x: number; y: number };
}

/** What the event manager needs to know about a camera (a DetectConfig fits). */
export interface EventCameraSettings {
  /** Labels that open events. */
  readonly labels: readonly string[];
  readonly preCaptureMs: number;
  readonly postCaptureMs: number;
}

export interface EventManagerOptions {
  store: EventStore;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  /** The camera's settings, or undefined for a camera Vigil does not know (its frames are ignored). */
  cameraSettings(cameraId: string): EventCameraSettings | undefined;
  /** After its track ends, an event waits this long for a new track of its label at its place. */
  coolDownMs?: number;
  /** Least time between two renders of an event's snapshot. */
  snapshotIntervalMs?: number;
  /** Least time between two 'update's of an event (a new snapshot is always published). */
  updateIntervalMs?: number;
  /** A track not seen in a frame for this long counts as ended (the pipeline may have stopped). */
  trackStaleMs?: number;
  /** How often cool-downs and stale tracks are checked without frames (camera offline). */
  tickIntervalMs?: number;
  /**
   * Re-identification of a lost object by a new track (see reid.ts); false: the merge before it,
   * a new track whose box touches a cooling event's last box (the baseline of bench/analytics/reid.ts).
   */
  reid?: Partial<ReidOptions> | false;
}

export const DEFAULT_COOL_DOWN_MS = 3000;
export const DEFAULT_SNAPSHOT_INTERVAL_MS = 2000;
export const DEFAULT_UPDATE_INTERVAL_MS = 1000;
export const DEFAULT_TRACK_STALE_MS = 10_000;
/** Points kept in an event's path; beyond it every other point is dropped, so the whole way stays. */
export const MAX_PATH_POINTS = 200;
/** A better detection must beat the rendered one by this factor to be worth a new snapshot. */
const SNAPSHOT_GAIN = 1.1;
/** A cooling event's box is grown by this fraction on each side when looking for a track to merge (re-id off). */
const MERGE_GROW = 0.5;
/** Weight of each new view in an event's running colour histogram: about the last 5 sightings count. */
const APPEARANCE_WEIGHT = 0.2;

type EventState = 'active' | 'cooling' | 'ended';

/** A confirmed track of a watched label with no event yet, in one frame. */
interface Newcomer {
  track: TrackObservation;
  box: EventBox;
}

interface ActiveEvent {
  cameraId: string;
  label: string;
  trackId: number;
  /** Null until the row is inserted; the work queue guarantees later steps see it. */
  record: EventRecord | null;
  state: EventState;
  deleted: boolean;
  startTimeMs: number;
  lastSeenMs: number;
  maxScore: number;
  /** Box of the last rendered snapshot, normalised. */
  box: EventBox;
  path: EventPathPoint[];
  /** Where the object was last seen (detected), normalised: where a merging track must be. */
  lastBox: EventBox;
  /** Box at the last sighting in frame pixels, and the velocity then (pixels per millisecond). */
  lastPixelBox: PixelBox;
  velocity: { x: number; y: number };
  /** Running colour histogram of the object (reid.ts): in memory only, dropped with the event. */
  appearance: Appearance | null;
  renderedQuality: number;
  lastRenderMs: number;
  lastPublishMs: number;
  coolingSinceMs: number;
  coolingSinceWallMs: number;
  preCaptureMs: number;
  postCaptureMs: number;
  lastView: EventView | null;
  /** Names of the zones the event touched (the scene analyser tells), in the order touched. */
  zones: Set<string>;
  /** Database writes, renders and publishes of this event, in order. */
  queue: Promise<void>;
}

interface CameraState {
  /** Track id → its event (also kept for a stationary track whose event ended, so it does not reopen). */
  byTrack: Map<number, ActiveEvent>;
  /** Events active or cooling down. */
  open: Set<ActiveEvent>;
  /**
   * Tracks a new track took over from while they coasted (re-identified): ignored while they
   * coast, treated as new tracks if they find an object again.
   */
  superseded: Set<number>;
  /** Confirmed tracks of watched labels in the last frame: track id → label, when last seen (wall). */
  confirmed: Map<number, { label: string; seenWallMs: number }>;
  counts: Record<string, number>;
  motion: boolean | null;
  lastFrameMs: number;
}

interface PendingSnapshot {
  image: RgbImage;
  box: PixelBox;
  quality: number;
  timeMs: number;
}

function normalisedBox(box: PixelBox, width: number, height: number): EventBox {
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  const x1 = clamp(box.x / width);
  const y1 = clamp(box.y / height);
  const x2 = clamp((box.x + box.width) / width);
  const y2 = clamp((box.y + box.height) / height);
  return { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

function roundBox(box: EventBox): EventBox {
  return { x: round4(box.x), y: round4(box.y), width: round4(box.width), height: round4(box.height) };
}

function boxesTouch(a: EventBox, b: EventBox, grow: number): boolean {
  const ax = a.width * grow;
  const ay = a.height * grow;
  return (
    a.x - ax < b.x + b.width &&
    b.x < a.x + a.width + ax &&
    a.y - ay < b.y + b.height &&
    b.y < a.y + a.height + ay
  );
}

/** The track's velocity in pixels per millisecond; none known is standing still. */
function velocityOf(track: TrackObservation): { x: number; y: number } {
  const v = track.velocity;
  return v && Number.isFinite(v.x) && Number.isFinite(v.y) ? { x: v.x, y: v.y } : { x: 0, y: 0 };
}

/** Snapshot quality: confidence weighted by size, so a close, clear view beats a distant one. */
export function snapshotQuality(score: number, box: EventBox): number {
  return score * Math.sqrt(Math.max(0, box.width * box.height));
}

/** Appends a point; a full path drops every other point, keeping the first and the newest. */
export function appendPathPoint(
  path: EventPathPoint[],
  point: EventPathPoint,
  maxPoints = MAX_PATH_POINTS,
): void {
  path.push(point);
  if (path.length <= maxPoints) return;
  const thinned = path.filter((_, i) => i % 2 === 0 || i === path.length - 1);
  path.splice(0, path.length, ...thinned);
}

function validFrame(frame: RgbFrame): string | null {
  if (!frame || !(frame.data instanceof Uint8Array)) return 'frame.data is not a Uint8Array';
  if (
    !Number.isInteger(frame.width) ||
    !Number.isInteger(frame.height) ||
    frame.width < 1 ||
    frame.height < 1
  ) {
    return `frame size ${String(frame.width)}x${String(frame.height)} is not positive whole pixels`;
  }
  if (frame.data.length < frame.width * frame.height * 3) {
    return `frame.data has ${frame.data.length} bytes, less than ${frame.width}x${frame.height}x3`;
  }
  if (!Number.isFinite(frame.timeMs)) return 'frame.timeMs is not a number';
  return null;
}

function validTrack(track: TrackObservation): boolean {
  const b = track?.box;
  return (
    Number.isFinite(track.trackId) &&
    typeof track.label === 'string' &&
    Number.isFinite(track.score) &&
    b !== undefined &&
    [b.x, b.y, b.width, b.height].every(Number.isFinite) &&
    b.width > 0 &&
    b.height > 0
  );
}

/**
 * Turns tracks into events. The detection pipeline calls observe() for every analysed frame with
 * all active tracks, trackEnded() when the tracker drops a track, and motion() when motion starts
 * or stops. A confirmed, moving track of a watched label opens an event; the event follows its
 * track and ends a cool-down after the track ends, unless a new track of the same label appears at
 * the same place first (the tracker lost the object behind a tree), which continues it.
 *
 * observe() is synchronous and never throws: database writes and JPEG renders run on a queue per
 * event, so the pipeline is never held up by disk or sharp.
 */
export class EventManager {
  private readonly cameras = new Map<string, CameraState>();
  private readonly unknownCameras = new Set<string>();
  private readonly pending = new Set<Promise<void>>();
  private readonly coolDownMs: number;
  private readonly snapshotIntervalMs: number;
  private readonly updateIntervalMs: number;
  private readonly trackStaleMs: number;
  private readonly reid: ReidOptions | false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly options: EventManagerOptions) {
    this.coolDownMs = options.coolDownMs ?? DEFAULT_COOL_DOWN_MS;
    this.snapshotIntervalMs = options.snapshotIntervalMs ?? DEFAULT_SNAPSHOT_INTERVAL_MS;
    this.updateIntervalMs = options.updateIntervalMs ?? DEFAULT_UPDATE_INTERVAL_MS;
    this.trackStaleMs = options.trackStaleMs ?? DEFAULT_TRACK_STALE_MS;
    this.reid = options.reid === false ? false : { ...DEFAULT_REID_OPTIONS, ...options.reid };
    this.timer = setInterval(() => this.tick(), options.tickIntervalMs ?? 1000);
    this.timer.unref();
  }

  /** Ends events a crash left open, at their last sighting. Call once at start, before frames arrive. */
  async recover(): Promise<number> {
    const dangling = await this.options.store.ongoing();
    for (const event of dangling) {
      // The last path point is the last sighting persisted; clipEndMs was set from it.
      const endTimeMs = Math.max(event.startTimeMs, event.path.at(-1)?.timeMs ?? event.startTimeMs);
      await this.options.store.save({ ...event, endTimeMs, updatedAtMs: this.options.clock.nowMs() });
    }
    return dangling.length;
  }

  /** Every analysed frame of a camera, with all its active tracks. Never throws. */
  observe(cameraId: string, frame: RgbFrame, tracks: readonly TrackObservation[]): void {
    try {
      if (this.closed) return;
      const settings = this.settingsOf(cameraId);
      if (!settings) return;
      const problem = validFrame(frame);
      if (problem) {
        this.options.log.warn({ camera: cameraId, problem }, 'event manager: bad frame ignored');
        return;
      }
      const camera = this.cameraState(cameraId);
      const wallMs = this.options.clock.nowMs();
      camera.lastFrameMs = frame.timeMs;
      this.endCooledDown(camera, frame.timeMs, wallMs);
      const seen = new Set<number>();
      const newcomers: Newcomer[] = [];
      for (const track of Array.isArray(tracks) ? tracks : []) {
        if (!validTrack(track)) {
          this.options.log.warn(
            { camera: cameraId, trackId: track?.trackId },
            'event manager: bad track ignored',
          );
          continue;
        }
        if (!track.confirmed || !settings.labels.includes(track.label)) continue;
        if (camera.superseded.has(track.trackId)) {
          if (track.predicted) continue;
          camera.superseded.delete(track.trackId);
        }
        seen.add(track.trackId);
        camera.confirmed.set(track.trackId, { label: track.label, seenWallMs: wallMs });
        const box = normalisedBox(track.box, frame.width, frame.height);
        if (!this.follow(camera, frame, track, box)) newcomers.push({ track, box });
      }
      // After every known track has been followed: an event seen in this frame is not lost.
      this.placeNewcomers(cameraId, camera, settings, frame, newcomers);
      // A confirmed track missing from the list is no longer active for the pipeline.
      for (const trackId of camera.confirmed.keys()) if (!seen.has(trackId)) camera.confirmed.delete(trackId);
      this.publishCounts(cameraId, camera, settings, frame.timeMs);
    } catch (err) {
      this.options.log.error({ err, camera: cameraId }, 'event manager: observe failed');
    }
  }

  /**
   * The id of the event a track feeds, once the event's row exists (its insert is the first step
   * of its queue); null when the track feeds none (a label that raises no events, a deleted event).
   */
  async eventIdOf(cameraId: string, trackId: number): Promise<number | null> {
    const event = this.cameras.get(cameraId)?.byTrack.get(trackId);
    if (!event) return null;
    await event.queue;
    return event.deleted ? null : (event.record?.id ?? null);
  }

  /** The object of a track is in a zone: the zone's name joins its event's zones. */
  touchZone(cameraId: string, trackId: number, zoneName: string): void {
    const event = this.cameras.get(cameraId)?.byTrack.get(trackId);
    if (!event || event.deleted || event.zones.has(zoneName)) return;
    event.zones.add(zoneName);
    if (event.state !== 'ended') this.enqueue(event, () => this.persist(event, 'update'));
  }

  /** The tracker dropped a track; its event ends after the cool-down unless a new track continues it. */
  trackEnded(cameraId: string, trackId: number, timeMs: number): void {
    try {
      const camera = this.cameras.get(cameraId);
      if (!camera) return;
      const event = camera.byTrack.get(trackId);
      camera.byTrack.delete(trackId);
      camera.superseded.delete(trackId);
      if (camera.confirmed.delete(trackId)) {
        const settings = this.settingsOf(cameraId);
        if (settings) this.publishCounts(cameraId, camera, settings, timeMs);
      }
      if (event?.state === 'active' && !this.followed(camera, event)) {
        this.startCoolDown(event, Number.isFinite(timeMs) ? timeMs : event.lastSeenMs);
      }
    } catch (err) {
      this.options.log.error({ err, camera: cameraId }, 'event manager: trackEnded failed');
    }
  }

  /**
   * The event a track feeds, named by the id of the track that opened it (the event's trackId),
   * or null: tracks merged into an event later map to the same id.
   */
  eventTrackIdOf(cameraId: string, trackId: number): number | null {
    const event = this.cameras.get(cameraId)?.byTrack.get(trackId);
    return event && !event.deleted ? event.trackId : null;
  }

  /** Motion on a camera started (true) or stopped; published only when it changes. */
  motion(cameraId: string, active: boolean, timeMs: number): void {
    try {
      if (!this.settingsOf(cameraId)) return;
      const camera = this.cameraState(cameraId);
      if (camera.motion === active) return;
      camera.motion = active;
      this.options.bus.publish('motion', { cameraId, active: Boolean(active), timeMs });
    } catch (err) {
      this.options.log.error({ err, camera: cameraId }, 'event manager: motion failed');
    }
  }

  /**
   * Deletes an event, stopping it first if it is still going on (its snapshots are not written
   * again). False when there is no such event.
   */
  async deleteEvent(id: number): Promise<boolean> {
    // Before anything ends: a locked event keeps going and stays.
    await this.options.store.assertNotLocked(id, this.options.clock.nowMs());
    for (const camera of this.cameras.values()) {
      for (const event of camera.open) {
        if (event.record?.id !== id) continue;
        // Its tracks stay mapped to it, so a deleted event does not reopen on the next frame.
        event.deleted = true;
        event.state = 'ended';
        event.appearance = null;
        camera.open.delete(event);
        await event.queue;
      }
    }
    return this.options.store.delete(id);
  }

  /** A camera was removed or its detection turned off: end its events now. */
  forgetCamera(cameraId: string): void {
    const camera = this.cameras.get(cameraId);
    if (!camera) return;
    for (const event of [...camera.open]) this.end(camera, event);
    this.cameras.delete(cameraId);
    this.unknownCameras.delete(cameraId);
  }

  /** Waits for every queued write and render (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Ends every open event at its last sighting and waits for the writes. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const camera of this.cameras.values()) for (const event of [...camera.open]) this.end(camera, event);
    this.closed = true;
    await this.idle();
  }

  /** Checks cool-downs and stale tracks against the wall clock; runs on a timer. */
  tick(): void {
    try {
      const wallMs = this.options.clock.nowMs();
      for (const [cameraId, camera] of this.cameras) {
        this.endCooledDown(camera, null, wallMs);
        this.dropStaleTracks(cameraId, camera, wallMs);
      }
    } catch (err) {
      this.options.log.error({ err }, 'event manager: tick failed');
    }
  }

  private settingsOf(cameraId: string): EventCameraSettings | undefined {
    const settings = this.options.cameraSettings(cameraId);
    if (!settings && !this.unknownCameras.has(cameraId)) {
      this.unknownCameras.add(cameraId);
      this.options.log.warn({ camera: cameraId }, 'event manager: frames of an unknown camera are ignored');
    }
    return settings;
  }

  private cameraState(cameraId: string): CameraState {
    let camera = this.cameras.get(cameraId);
    if (!camera) {
      camera = {
        byTrack: new Map(),
        superseded: new Set(),
        open: new Set(),
        confirmed: new Map(),
        counts: {},
        motion: null,
        lastFrameMs: 0,
      };
      this.cameras.set(cameraId, camera);
    }
    return camera;
  }

  /**
   * Feeds a track's frame to its event. False when the track has none and needs one (merged
   * into a lost event or a new one); true when it is taken care of.
   */
  private follow(camera: CameraState, frame: RgbFrame, track: TrackObservation, box: EventBox): boolean {
    const mapped = camera.byTrack.get(track.trackId);
    if (mapped && mapped.state !== 'ended') {
      if (track.stationary) {
        // A parked car or a person waiting is not news for hours: the event ends, and a new one
        // opens if the object moves again after the cool-down.
        if (mapped.state === 'active') this.startCoolDown(mapped, mapped.lastSeenMs);
        return true;
      }
      mapped.state = 'active';
      this.update(mapped, frame, track, box);
      return true;
    }
    return track.stationary || mapped?.deleted === true;
  }

  /** New tracks of the frame: each continues a lost event it re-identifies, or opens its own. */
  private placeNewcomers(
    cameraId: string,
    camera: CameraState,
    settings: EventCameraSettings,
    frame: RgbFrame,
    newcomers: readonly Newcomer[],
  ): void {
    if (newcomers.length === 0) return;
    const taken = new Map<Newcomer, ActiveEvent>();
    if (this.reid === false) {
      for (const newcomer of newcomers) {
        const merged = this.coolingMatch(camera, newcomer.track.label, newcomer.box);
        if (merged) taken.set(newcomer, merged);
      }
    } else {
      const lost = [...camera.open].filter(
        (event) => !event.deleted && event.state !== 'ended' && event.lastSeenMs < frame.timeMs,
      );
      const pairs = assignNewcomers(
        lost.map((event) => this.lostObject(event)),
        newcomers.map(({ track }) => ({
          label: track.label,
          box: track.box,
          timeMs: frame.timeMs,
          appearance: appearanceOf(frame, track.box),
        })),
        this.reid,
      );
      for (const [i, j] of pairs) taken.set(newcomers[j]!, lost[i]!);
    }
    for (const newcomer of newcomers) {
      const { track, box } = newcomer;
      const event = taken.get(newcomer);
      if (event) this.merge(camera, event, frame, track, box);
      else camera.byTrack.set(track.trackId, this.open(cameraId, camera, settings, frame, track, box));
    }
  }

  private lostObject(event: ActiveEvent): LostObject {
    return {
      label: event.label,
      box: event.lastPixelBox,
      seenMs: event.lastSeenMs,
      velocity: event.velocity,
      appearance: event.appearance,
    };
  }

  /**
   * A new track continues `event`. Tracks still coasting on it lose it: the new one has the
   * object now; they are ignored while they coast (see CameraState.superseded).
   */
  private merge(
    camera: CameraState,
    event: ActiveEvent,
    frame: RgbFrame,
    track: TrackObservation,
    box: EventBox,
  ): void {
    for (const [trackId, mapped] of camera.byTrack) {
      if (mapped !== event) continue;
      camera.byTrack.delete(trackId);
      camera.superseded.add(trackId);
      camera.confirmed.delete(trackId);
    }
    event.state = 'active';
    camera.byTrack.set(track.trackId, event);
    this.update(event, frame, track, box);
  }

  private coolingMatch(camera: CameraState, label: string, box: EventBox): ActiveEvent | undefined {
    let best: ActiveEvent | undefined;
    for (const event of camera.open) {
      if (event.state !== 'cooling' || event.label !== label || event.deleted) continue;
      if (!boxesTouch(event.lastBox, box, MERGE_GROW)) continue;
      if (!best || event.coolingSinceMs > best.coolingSinceMs) best = event;
    }
    return best;
  }

  private open(
    cameraId: string,
    camera: CameraState,
    settings: EventCameraSettings,
    frame: RgbFrame,
    track: TrackObservation,
    box: EventBox,
  ): ActiveEvent {
    const event: ActiveEvent = {
      cameraId,
      label: track.label,
      trackId: track.trackId,
      record: null,
      state: 'active',
      deleted: false,
      startTimeMs: frame.timeMs,
      lastSeenMs: frame.timeMs,
      maxScore: track.score,
      box: roundBox(box),
      path: [],
      lastBox: box,
      lastPixelBox: { ...track.box },
      velocity: velocityOf(track),
      appearance: appearanceOf(frame, track.box),
      renderedQuality: snapshotQuality(track.score, box),
      lastRenderMs: frame.timeMs,
      lastPublishMs: frame.timeMs,
      coolingSinceMs: 0,
      coolingSinceWallMs: 0,
      preCaptureMs: settings.preCaptureMs,
      postCaptureMs: settings.postCaptureMs,
      lastView: null,
      zones: new Set(),
      queue: Promise.resolve(),
    };
    appendPathPoint(event.path, this.pathPoint(frame.timeMs, box));
    camera.open.add(event);
    const snapshot = this.pendingSnapshot(frame, track, box);
    const draft = this.draft(event);
    this.enqueue(event, async () => {
      event.record = await this.options.store.insert(draft);
      await this.writeSnapshot(event, snapshot);
      await this.persist(event, 'new');
    });
    return event;
  }

  private update(event: ActiveEvent, frame: RgbFrame, track: TrackObservation, box: EventBox): void {
    // A coasting track keeps its event going; where and when the object was last seen stay.
    if (track.predicted) return;
    event.lastSeenMs = Math.max(event.lastSeenMs, frame.timeMs);
    event.maxScore = Math.max(event.maxScore, track.score);
    event.lastBox = box;
    event.lastPixelBox = { ...track.box };
    event.velocity = velocityOf(track);
    const view = appearanceOf(frame, track.box);
    if (view) event.appearance = blendAppearance(event.appearance, view, APPEARANCE_WEIGHT);
    appendPathPoint(event.path, this.pathPoint(frame.timeMs, box));
    const quality = snapshotQuality(track.score, box);
    const renderDue =
      quality > event.renderedQuality * SNAPSHOT_GAIN &&
      frame.timeMs - event.lastRenderMs >= this.snapshotIntervalMs;
    if (renderDue) {
      event.renderedQuality = quality;
      event.lastRenderMs = frame.timeMs;
      event.box = roundBox(box);
      const snapshot = this.pendingSnapshot(frame, track, box);
      event.lastPublishMs = frame.timeMs;
      this.enqueue(event, async () => {
        await this.writeSnapshot(event, snapshot);
        await this.persist(event, 'update');
      });
    } else if (frame.timeMs - event.lastPublishMs >= this.updateIntervalMs) {
      event.lastPublishMs = frame.timeMs;
      this.enqueue(event, () => this.persist(event, 'update'));
    }
  }

  /** Whether some track still feeds the event (after a merge, two tracks may have). */
  private followed(camera: CameraState, event: ActiveEvent): boolean {
    for (const mapped of camera.byTrack.values()) if (mapped === event) return true;
    return false;
  }

  private startCoolDown(event: ActiveEvent, sinceMs: number): void {
    event.state = 'cooling';
    event.coolingSinceMs = sinceMs;
    event.coolingSinceWallMs = this.options.clock.nowMs();
  }

  /** Cooling events whose cool-down has passed, by frame time or (no frames coming) by the wall clock. */
  private endCooledDown(camera: CameraState, frameTimeMs: number | null, wallMs: number): void {
    for (const event of [...camera.open]) {
      if (event.state !== 'cooling') continue;
      const byFrames = frameTimeMs !== null && frameTimeMs - event.coolingSinceMs >= this.coolDownMs;
      const byWall = wallMs - event.coolingSinceWallMs >= this.coolDownMs;
      if (byFrames || byWall) this.end(camera, event);
    }
  }

  private dropStaleTracks(cameraId: string, camera: CameraState, wallMs: number): void {
    let changed = false;
    for (const [trackId, seen] of camera.confirmed) {
      if (wallMs - seen.seenWallMs < this.trackStaleMs) continue;
      camera.confirmed.delete(trackId);
      changed = true;
      const event = camera.byTrack.get(trackId);
      camera.byTrack.delete(trackId);
      if (event?.state === 'active' && !this.followed(camera, event))
        this.startCoolDown(event, event.lastSeenMs);
    }
    const settings = changed ? this.options.cameraSettings(cameraId) : undefined;
    if (settings) this.publishCounts(cameraId, camera, settings, camera.lastFrameMs);
  }

  private end(camera: CameraState, event: ActiveEvent): void {
    if (event.state === 'ended') return;
    event.state = 'ended';
    // The colours of the object go with its event (a stationary track may keep the object alive).
    event.appearance = null;
    camera.open.delete(event);
    for (const [trackId, mapped] of camera.byTrack) {
      // A stationary track keeps its mapping so that it does not open a new event while it stands.
      if (mapped === event && !camera.confirmed.has(trackId)) camera.byTrack.delete(trackId);
    }
    this.enqueue(event, () => this.persist(event, 'end'));
  }

  private pathPoint(timeMs: number, box: EventBox): EventPathPoint {
    return { timeMs, x: round4(box.x + box.width / 2), y: round4(box.y + box.height / 2) };
  }

  /** A copy of what a render needs: the pipeline may reuse the frame's buffer once observe() returns. */
  private pendingSnapshot(frame: RgbFrame, track: TrackObservation, box: EventBox): PendingSnapshot {
    const bytes = frame.width * frame.height * 3;
    return {
      image: { data: frame.data.slice(0, bytes), width: frame.width, height: frame.height },
      box: { ...track.box },
      quality: snapshotQuality(track.score, box),
      timeMs: frame.timeMs,
    };
  }

  /** The event's row as it stands in memory (snapshot fields from the last stored record). */
  private draft(event: ActiveEvent): Omit<EventRecord, 'id'> {
    const nowMs = this.options.clock.nowMs();
    const ended = event.state === 'ended';
    return {
      cameraId: event.cameraId,
      label: event.label,
      trackId: event.trackId,
      startTimeMs: event.startTimeMs,
      endTimeMs: ended ? event.lastSeenMs : null,
      maxScore: round4(event.maxScore),
      box: event.box,
      path: [...event.path],
      zones: [...event.zones],
      snapshotPath: event.record?.snapshotPath ?? null,
      cropPath: event.record?.cropPath ?? null,
      snapshotTimeMs: event.record?.snapshotTimeMs ?? null,
      cropRegion: event.record?.cropRegion ?? null,
      clipStartMs: event.startTimeMs - event.preCaptureMs,
      clipEndMs: event.lastSeenMs + event.postCaptureMs,
      createdAtMs: event.record?.createdAtMs ?? nowMs,
      updatedAtMs: nowMs,
    };
  }

  private async writeSnapshot(event: ActiveEvent, snapshot: PendingSnapshot): Promise<void> {
    const record = event.record;
    if (!record || event.deleted) return;
    try {
      const startedMs = performance.now();
      const jpegs = await renderSnapshots(snapshot.image, snapshot.box);
      const paths = snapshotPaths(record);
      const { store } = this.options;
      if (event.deleted) return;
      await Promise.all([
        writeFileAtomic(store.absolute(paths.frame), jpegs.frame),
        writeFileAtomic(store.absolute(paths.crop), jpegs.crop),
      ]);
      event.record = {
        ...record,
        snapshotPath: paths.frame,
        cropPath: paths.crop,
        snapshotTimeMs: snapshot.timeMs,
        cropRegion: normalisedRegion(jpegs.cropRegion, snapshot.image),
      };
      this.options.log.debug(
        { camera: event.cameraId, event: record.id, renderMs: Math.round(performance.now() - startedMs) },
        'event snapshot written',
      );
    } catch (err) {
      this.options.log.error(
        { err, camera: event.cameraId, event: record.id },
        'cannot write event snapshot',
      );
    }
  }

  /** Writes the event's row and hold and tells the bus. */
  private async persist(event: ActiveEvent, type: EventChangeType): Promise<void> {
    const record = event.record;
    if (!record || event.deleted) return;
    const next: EventRecord = { ...this.draft(event), id: record.id };
    if (!(await this.options.store.save(next))) {
      // Deleted through the API while it went on: stop following it.
      event.deleted = true;
      return;
    }
    event.record = next;
    const view = eventView(next);
    const before = type === 'new' ? null : event.lastView;
    event.lastView = view;
    this.options.bus.publish('event', { type, before, after: view });
  }

  private enqueue(event: ActiveEvent, step: () => Promise<void>): void {
    const run = event.queue.then(step).catch((err: unknown) => {
      this.options.log.error({ err, camera: event.cameraId, label: event.label }, 'event write failed');
    });
    event.queue = run;
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
  }

  private publishCounts(
    cameraId: string,
    camera: CameraState,
    settings: EventCameraSettings,
    timeMs: number,
  ): void {
    const counts: Record<string, number> = Object.fromEntries(settings.labels.map((label) => [label, 0]));
    for (const { label } of camera.confirmed.values()) counts[label] = (counts[label] ?? 0) + 1;
    const same =
      Object.keys(counts).length === Object.keys(camera.counts).length &&
      Object.entries(counts).every(([label, n]) => camera.counts[label] === n);
    if (same) return;
    camera.counts = counts;
    this.options.bus.publish('objects', { cameraId, counts: { ...counts }, timeMs });
  }
}

/** A pixel region of a frame as fractions of the frame, rounded like the event's box. */
function normalisedRegion(region: PixelBox, frame: { width: number; height: number }): EventBox {
  const round6 = (value: number) => Math.round(value * 1e6) / 1e6;
  return {
    x: round6(region.x / frame.width),
    y: round6(region.y / frame.height),
    width: round6(region.width / frame.width),
    height: round6(region.height / frame.height),
  };
}
