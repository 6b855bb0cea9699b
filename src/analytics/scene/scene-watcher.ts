import type { SceneConfig } from '../../config/index.js';
import type { SceneFact, SceneObject } from '../../contract/scene.js';
import type { EventManager, TrackObservation } from '../../events/event-manager.js';
import { boxToNormalised, type Box, type FrameSize } from '../geometry.js';
import { SceneAnalyser, type FoundObject, type SceneFinding } from './analyser.js';
import { pointInPolygon, referencePointOf } from './geometry.js';

const MINUTE_MS = 60_000;

export interface SceneWatcherDeps {
  cameraId: string;
  scene: SceneConfig;
  events: Pick<EventManager, 'eventIdOf' | 'touchZone'>;
  /** Every fact, in the order found, once its object's event id is known. */
  onFact: (fact: SceneFact) => void;
  /**
   * Who is inside each zone, once a minute while someone is: occupancy facts come only on a
   * change, and counting needs the peak of every minute, also of minutes without a change.
   */
  onOccupancySample?: (zoneId: string, counts: Record<string, number>, timeMs: number) => void;
  onError: (err: unknown) => void;
}

/**
 * The scene of one camera at run time: drops detections standing in object masks, runs the
 * scene analyser on each frame's tracks, names each fact's event (asynchronously: an event's row
 * is written after its first frame) and hands the facts on in order.
 */
export class SceneWatcher {
  private scene: SceneConfig;
  private readonly analyser: SceneAnalyser;
  /** Facts wait here for their event ids, so that they leave in the order they were found. */
  private chain: Promise<void> = Promise.resolve();
  private sampledMinute: number | null = null;
  /**
   * The event of each followed track, remembered: when a re-identified object's new track takes
   * over its event, the old track may still coast and leave zones, and its facts must still name
   * the event (a stay that never ends would fire loitering rules by itself).
   */
  private readonly eventIds = new Map<number, Promise<number | null>>();

  constructor(private readonly deps: SceneWatcherDeps) {
    this.scene = deps.scene;
    this.analyser = new SceneAnalyser(deps.scene);
  }

  /** Whether a detection's box (pixels of `frame`) stands in an object mask: it is dropped. */
  masked(box: Box, frame: FrameSize): boolean {
    if (this.scene.objectMasks.length === 0) return false;
    const [x, y] = referencePointOf(boxToNormalised(box, frame), this.scene.referencePoint);
    return this.scene.objectMasks.some((mask) => pointInPolygon(x, y, mask));
  }

  /** The camera's zones or lines changed (applied without restarting the camera). */
  setScene(scene: SceneConfig, timeMs: number): void {
    this.scene = scene;
    this.emit(this.analyser.setLayout(scene, timeMs));
  }

  /** One analysed frame's confirmed tracks (boxes in pixels of `frame`). */
  frame(timeMs: number, tracks: readonly TrackObservation[], frame: FrameSize): void {
    if (!this.analyser.watching) return;
    const findings = this.analyser.update(
      timeMs,
      tracks
        .filter((t) => t.confirmed)
        .map((t) => ({
          trackId: t.trackId,
          label: t.label,
          score: t.score,
          box: boxToNormalised(t.box, frame),
        })),
    );
    this.emit(findings);
    const present = new Set(tracks.map((t) => t.trackId));
    for (const trackId of this.eventIds.keys()) if (!present.has(trackId)) this.eventIds.delete(trackId);
    this.sample(timeMs);
  }

  /** Every track ended (the stream was lost, analytics stops). */
  flush(timeMs: number): void {
    this.emit(this.analyser.flush(timeMs));
    this.eventIds.clear();
  }

  private eventIdOf(trackId: number): Promise<number | null> {
    const known = this.eventIds.get(trackId);
    if (known) return known;
    const asked = this.deps.events.eventIdOf(this.deps.cameraId, trackId);
    this.eventIds.set(trackId, asked);
    // A track without an event yet (standing still since it appeared) may get one later.
    void asked.then(
      (id) => {
        if (id === null && this.eventIds.get(trackId) === asked) this.eventIds.delete(trackId);
      },
      () => this.eventIds.delete(trackId),
    );
    return asked;
  }

  /** Settles when every fact found so far has been handed on. */
  settled(): Promise<void> {
    return this.chain;
  }

  private sample(timeMs: number): void {
    const minute = Math.floor(timeMs / MINUTE_MS);
    if (minute === this.sampledMinute || !this.deps.onOccupancySample) return;
    this.sampledMinute = minute;
    for (const [zoneId, counts] of this.analyser.currentOccupancy())
      this.deps.onOccupancySample(zoneId, counts, timeMs);
  }

  private emit(findings: readonly SceneFinding[]): void {
    const { cameraId, events } = this.deps;
    for (const finding of findings) {
      if (finding.type === 'zone-entered') {
        const zone = this.scene.zones.find((z) => z.id === finding.zoneId);
        if (zone) events.touchZone(cameraId, finding.object.trackId, zone.name);
      }
      // Asked now, while the track still maps to its event; awaited in order below.
      const eventId = 'object' in finding ? this.eventIdOf(finding.object.trackId) : null;
      this.chain = this.chain
        .then(async () => {
          const fact = await this.toFact(finding, eventId);
          if (fact) this.deps.onFact(fact);
        })
        .catch(this.deps.onError);
    }
  }

  private async toFact(
    finding: SceneFinding,
    eventId: Promise<number | null> | null,
  ): Promise<SceneFact | null> {
    const cameraId = this.deps.cameraId;
    if (finding.type === 'zone-occupancy') return { ...finding, cameraId };
    const id = await eventId;
    // An object without an event (its label raises none, or its event was deleted) is not reported.
    if (id === null) return null;
    return { ...finding, cameraId, object: sceneObject(finding.object, id) };
  }
}

function sceneObject(found: FoundObject, eventId: number): SceneObject {
  return { eventId, ...found, areaFraction: Math.round(found.areaFraction * 1e6) / 1e6 };
}
