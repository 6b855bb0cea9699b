/**
 * The scene analyser of one camera: fed each analysed frame's tracks, it says which objects
 * entered or left which zone, crossed which tripwire in which direction, and when a zone's count
 * of objects changed. Pure: no I/O, time comes with the frames.
 */
import type { LineDirection, LineView, ZoneView } from '../../contract/scene.js';
import {
  distanceToPolygonEdge,
  LineCrossing,
  pointInPolygon,
  referencePointOf,
  type NormalisedBox,
  type ReferencePointMode,
} from './geometry.js';

/** A confirmed track in one frame, its box normalised. */
export interface SceneTrack {
  trackId: number;
  label: string;
  score: number;
  box: NormalisedBox;
}

/** What the analyser knows of the scene (SceneConfig fits). */
export interface SceneLayout {
  readonly zones: readonly ZoneView[];
  readonly lines: readonly LineView[];
  readonly referencePoint: ReferencePointMode;
}

/** An object a finding is about; the caller adds the event id (SceneObject). */
export interface FoundObject {
  trackId: number;
  label: string;
  score: number;
  areaFraction: number;
}

/** A SceneFact before the caller names the camera and the object's event. */
export type SceneFinding =
  | { type: 'zone-entered'; zoneId: string; object: FoundObject; timeMs: number }
  | { type: 'zone-left'; zoneId: string; object: FoundObject; insideMs: number; timeMs: number }
  | { type: 'line-crossed'; lineId: string; direction: LineDirection; object: FoundObject; timeMs: number }
  | { type: 'zone-occupancy'; zoneId: string; counts: Record<string, number>; timeMs: number };

export interface SceneAnalyserOptions {
  /**
   * How far (normalised) a reference point must be past a tripwire, or outside a zone, before it
   * counts as on the other side: boxes jitter by a few pixels from frame to frame. 0.015 is about
   * 10 px on a 640 px frame.
   */
  marginDistance?: number;
}

export const DEFAULT_SCENE_MARGIN = 0.015;

interface FollowedTrack {
  object: FoundObject;
  /** Zone id → when the object entered it. */
  inside: Map<string, number>;
  /** Line id → its crossing state for this track (each crossing is reported once, see LineCrossing). */
  crossings: Map<string, LineCrossing>;
}

function counts(line: { labels: readonly string[] }, label: string): boolean {
  return line.labels.length === 0 || line.labels.includes(label);
}

export class SceneAnalyser {
  private layout: SceneLayout;
  private readonly margin: number;
  private readonly tracks = new Map<number, FollowedTrack>();
  /** Zone id → the last occupancy reported, by label. */
  private readonly occupancy = new Map<string, Record<string, number>>();

  constructor(layout: SceneLayout, options: SceneAnalyserOptions = {}) {
    this.layout = layout;
    this.margin = options.marginDistance ?? DEFAULT_SCENE_MARGIN;
  }

  /** Whether there is anything to watch: without zones or lines, frames need not be fed. */
  get watching(): boolean {
    return this.layout.zones.length > 0 || this.layout.lines.length > 0;
  }

  /**
   * A new layout (zones or lines changed): objects leave zones that are gone or changed, and
   * every track starts afresh on the lines, so a changed line counts nothing it did not see.
   */
  setLayout(layout: SceneLayout, timeMs: number): SceneFinding[] {
    const findings = this.end([...this.tracks.keys()], timeMs);
    this.tracks.clear();
    this.layout = layout;
    return [...findings, ...this.occupancyChanges(timeMs)];
  }

  /** One analysed frame with every active track; tracks missing from it have ended. */
  update(timeMs: number, tracks: readonly SceneTrack[]): SceneFinding[] {
    const findings: SceneFinding[] = [];
    const present = new Set<number>();
    for (const track of tracks) {
      present.add(track.trackId);
      findings.push(...this.follow(timeMs, track));
    }
    const gone = [...this.tracks.keys()].filter((id) => !present.has(id));
    findings.push(...this.end(gone, timeMs));
    findings.push(...this.occupancyChanges(timeMs));
    return findings;
  }

  /** Every track ends (the stream was lost or analytics stops). */
  flush(timeMs: number): SceneFinding[] {
    return this.update(timeMs, []);
  }

  /** Objects inside each zone now, by label (zones with nobody inside are left out). */
  currentOccupancy(): Map<string, Record<string, number>> {
    return new Map([...this.occupancy].filter(([, byLabel]) => Object.values(byLabel).some((n) => n > 0)));
  }

  private follow(timeMs: number, track: SceneTrack): SceneFinding[] {
    const object: FoundObject = {
      trackId: track.trackId,
      label: track.label,
      score: track.score,
      areaFraction: Math.max(0, track.box.width) * Math.max(0, track.box.height),
    };
    let followed = this.tracks.get(track.trackId);
    if (!followed) {
      followed = { object, inside: new Map(), crossings: new Map() };
      this.tracks.set(track.trackId, followed);
    }
    followed.object = object;
    const point = referencePointOf(track.box, this.layout.referencePoint);
    return [...this.zones(timeMs, followed, point), ...this.lines(timeMs, followed, point)];
  }

  private zones(timeMs: number, followed: FollowedTrack, point: [number, number]): SceneFinding[] {
    const findings: SceneFinding[] = [];
    for (const zone of this.layout.zones) {
      if (!counts(zone, followed.object.label)) continue;
      const enteredMs = followed.inside.get(zone.id);
      const inside = pointInPolygon(point[0], point[1], zone.points);
      if (enteredMs === undefined && inside) {
        followed.inside.set(zone.id, timeMs);
        findings.push({ type: 'zone-entered', zoneId: zone.id, object: followed.object, timeMs });
      } else if (
        enteredMs !== undefined &&
        !inside &&
        distanceToPolygonEdge(zone.points, point) >= this.margin
      ) {
        followed.inside.delete(zone.id);
        findings.push({
          type: 'zone-left',
          zoneId: zone.id,
          object: followed.object,
          insideMs: timeMs - enteredMs,
          timeMs,
        });
      }
    }
    return findings;
  }

  private lines(timeMs: number, followed: FollowedTrack, point: [number, number]): SceneFinding[] {
    const findings: SceneFinding[] = [];
    for (const line of this.layout.lines) {
      if (!counts(line, followed.object.label)) continue;
      let crossing = followed.crossings.get(line.id);
      if (!crossing) {
        crossing = new LineCrossing(line.a, line.b, this.margin);
        followed.crossings.set(line.id, crossing);
      }
      const direction = crossing.update(point);
      if (direction === null) continue;
      if (line.direction !== 'both' && line.direction !== direction) continue;
      findings.push({ type: 'line-crossed', lineId: line.id, direction, object: followed.object, timeMs });
    }
    return findings;
  }

  /** Tracks that ended leave the zones they were in. */
  private end(trackIds: readonly number[], timeMs: number): SceneFinding[] {
    const findings: SceneFinding[] = [];
    for (const trackId of trackIds) {
      const followed = this.tracks.get(trackId);
      if (!followed) continue;
      this.tracks.delete(trackId);
      for (const [zoneId, enteredMs] of followed.inside) {
        findings.push({
          type: 'zone-left',
          zoneId,
          object: followed.object,
          insideMs: timeMs - enteredMs,
          timeMs,
        });
      }
    }
    return findings;
  }

  /** A zone-occupancy finding for each zone whose count of some label changed. */
  private occupancyChanges(timeMs: number): SceneFinding[] {
    const now = new Map<string, Record<string, number>>();
    for (const zone of this.layout.zones) now.set(zone.id, {});
    for (const followed of this.tracks.values()) {
      for (const zoneId of followed.inside.keys()) {
        const byLabel = now.get(zoneId);
        if (byLabel) byLabel[followed.object.label] = (byLabel[followed.object.label] ?? 0) + 1;
      }
    }
    const findings: SceneFinding[] = [];
    for (const [zoneId, byLabel] of now) {
      const before = this.occupancy.get(zoneId) ?? {};
      // Labels that were counted before and are gone now read 0, so a rule sees the zone empty.
      const next: Record<string, number> = Object.fromEntries(Object.keys(before).map((label) => [label, 0]));
      Object.assign(next, byLabel);
      const changed = Object.entries(next).some(([label, n]) => (before[label] ?? 0) !== n);
      this.occupancy.set(zoneId, next);
      if (changed) findings.push({ type: 'zone-occupancy', zoneId, counts: { ...next }, timeMs });
    }
    for (const zoneId of [...this.occupancy.keys()]) if (!now.has(zoneId)) this.occupancy.delete(zoneId);
    return findings;
  }
}
