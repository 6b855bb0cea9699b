import type { CameraHealthState } from '../../contract/scene.js';
import { LumaDownscaler } from '../motion/index.js';
import {
  blendInto,
  changedFraction,
  correlation,
  meanAndDeviation,
  rmsOf,
  normalisedEdges,
  normalisedGrey,
  type GreyGrid,
} from './features.js';

export type TamperKind = 'covered' | 'defocused' | 'moved';

export interface TamperOptions {
  /** How long a tampered view must last before it is reported. */
  minDurationMs: number;
  /** 0..1: higher reports smaller changes (0.5: the measured defaults). */
  sensitivity: number;
}

export const DEFAULT_TAMPER_OPTIONS: TamperOptions = { minDurationMs: 10_000, sensitivity: 0.5 };

/** A tamper state began or ended. */
export interface TamperChange {
  state: Extract<CameraHealthState, `tamper-${string}`>;
  detail: string;
  timeMs: number;
}

/** What one frame measured against the reference (exposed for tests and the design note's numbers). */
export interface TamperMeasure {
  /** Fraction of cells whose normalised brightness changed by more than a deviation. */
  changed: number;
  /** Contrast (standard deviation of grey) relative to the reference's. */
  contrast: number;
  /** Edge strength (RMS of the normalised edge map) relative to the reference's. */
  sharpness: number;
  /** Correlation of the edge map with the reference's, -1..1. */
  edgeMatch: number;
  /** Brightness difference from the reference, grey levels. */
  brightnessShift: number;
}

/** The tamper grid: at most this wide. Small enough to cost < 1 ms, big enough to see a blur. */
const GRID_WIDTH = 320;
/** Time constant of the reference: slow, so a tamper cannot become "normal" before it is reported. */
const REFERENCE_TIME_CONSTANT_MS = 60_000;
/** The first frames only build the reference. */
const WARM_UP_MS = 3_000;
/** A tampered view seen again within this keeps its timer: one odd frame does not restart it. */
const GRACE_MS = 1_500;
/** A normal view for this long ends a tamper state. */
const CLEAR_MS = 2_000;
/** A moved view this old becomes the new reference: someone re-aimed the camera for good. */
const RELEARN_MOVED_MS = 10 * 60_000;
/** Frames further apart than this (the stream was away) restart the timers. */
const MAX_GAP_MS = 5_000;

/** Thresholds at sensitivity 0.5, from the measurements in docs/design/tamper.md. */
const BASE = {
  coveredChanged: 0.6,
  coveredContrast: 0.3,
  /** A flat picture: contrast below this many grey levels is no picture at all. */
  flatDeviation: 6,
  defocusedSharpness: 0.55,
  defocusedBrightnessShift: 40,
  movedEdgeMatch: 0.35,
  movedSharpness: 0.6,
};

function percent(value: number): string {
  return `${Math.round(value * 100)} %`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}

/**
 * Covered, defocused and moved camera views, from a camera's grey frames. It keeps a slowly
 * adapting reference (normalised brightness and edge map), compares each frame with it after
 * taking out global brightness and contrast, and reports a state once it has lasted
 * `minDurationMs`. Lights, day/night and people or trees moving change brightness or a part of
 * the edges, not the edges of the whole picture.
 */
export class TamperDetector {
  private readonly downscaler: LumaDownscaler | null;
  private readonly small: Uint8Array;
  private readonly grid: GreyGrid;
  private readonly edges: Float32Array;
  private readonly grey: Float32Array;
  private readonly reference: {
    grey: Float32Array;
    edges: Float32Array;
    mean: number;
    deviation: number;
    /** RMS of the edge maps (not of the averaged map: a tree's moving edges would average out). */
    sharpness: number;
    frames: number;
  };
  private firstFrameMs: number | null = null;
  private lastLearnMs: number | null = null;
  private lastFrameMs: number | null = null;
  private pending: { kind: TamperKind; sinceMs: number; lastSeenMs: number } | null = null;
  private active: { kind: TamperKind; sinceMs: number; normalSinceMs: number | null } | null = null;
  private readonly thresholds: typeof BASE;
  lastMeasure: TamperMeasure | null = null;

  constructor(
    readonly width: number,
    readonly height: number,
    private readonly options: TamperOptions = DEFAULT_TAMPER_OPTIONS,
  ) {
    const gridWidth = Math.min(width, GRID_WIDTH);
    const gridHeight = Math.max(1, Math.round((height * gridWidth) / width));
    this.downscaler =
      gridWidth === width && gridHeight === height
        ? null
        : new LumaDownscaler(width, height, gridWidth, gridHeight);
    const cells = gridWidth * gridHeight;
    this.small = new Uint8Array(cells);
    this.grid = { width: gridWidth, height: gridHeight, data: new Float32Array(cells) };
    this.edges = new Float32Array(cells);
    this.grey = new Float32Array(cells);
    this.reference = {
      grey: new Float32Array(cells),
      edges: new Float32Array(cells),
      mean: 0,
      deviation: 0,
      sharpness: 0,
      frames: 0,
    };
    // Sensitivity 0..1 scales the thresholds by 0.7..1.3 around the measured defaults.
    const factor = 0.7 + 0.6 * Math.min(1, Math.max(0, options.sensitivity));
    this.thresholds = {
      coveredChanged: BASE.coveredChanged / factor,
      coveredContrast: BASE.coveredContrast * factor,
      flatDeviation: BASE.flatDeviation * factor,
      defocusedSharpness: BASE.defocusedSharpness * factor,
      defocusedBrightnessShift: BASE.defocusedBrightnessShift,
      movedEdgeMatch: BASE.movedEdgeMatch * factor,
      movedSharpness: BASE.movedSharpness,
    };
  }

  /** The tamper state now, null when the view is as usual. */
  get state(): TamperKind | null {
    return this.active?.kind ?? null;
  }

  /** A luma frame (width×height bytes) at `timeMs`; returns a change of state, if any. */
  update(luma: Uint8Array, timeMs: number): TamperChange | null {
    if (this.lastFrameMs !== null && timeMs - this.lastFrameMs > MAX_GAP_MS) this.pending = null;
    this.lastFrameMs = timeMs;
    const stats = this.measureFrame(luma);
    // A picture without contrast shows nothing, whatever the reference: covered (or the lens is
    // painted, or it is pitch dark without infrared). Never learned as the reference, so a camera
    // that starts covered is reported and learns its view once it has one.
    const flat = stats.deviation < this.thresholds.flatDeviation;
    if (!flat && (this.firstFrameMs === null || timeMs - this.firstFrameMs < WARM_UP_MS)) {
      this.firstFrameMs ??= timeMs;
      this.learn(stats, 1 / (this.reference.frames + 1));
      // Covered from the start: the first picture seen ends it.
      return this.active ? this.whileActive(null, null, stats, timeMs) : null;
    }
    const measure = this.compare(stats);
    this.lastMeasure = measure;
    const kind = flat ? 'covered' : this.classify(measure, stats.deviation);
    if (this.active) return this.whileActive(kind, measure, stats, timeMs);
    if (kind === null) {
      if (this.pending && timeMs - this.pending.lastSeenMs > GRACE_MS) this.pending = null;
      // The reference follows the view only while it looks normal, so a tamper in progress
      // never becomes the reference.
      if (!this.pending) this.learn(stats, this.rate(timeMs));
      return null;
    }
    if (!this.pending) this.pending = { kind, sinceMs: timeMs, lastSeenMs: timeMs };
    this.pending.kind = kind;
    this.pending.lastSeenMs = timeMs;
    if (timeMs - this.pending.sinceMs < this.options.minDurationMs) return null;
    this.active = { kind, sinceMs: this.pending.sinceMs, normalSinceMs: null };
    this.pending = null;
    return { state: `tamper-${kind}`, detail: describe(kind, measure, timeMs - this.active.sinceMs), timeMs };
  }

  private whileActive(
    kind: TamperKind | null,
    measure: TamperMeasure | null,
    stats: { mean: number; deviation: number },
    timeMs: number,
  ): TamperChange | null {
    const active = this.active!;
    if (kind !== null) {
      active.normalSinceMs = null;
      if (active.kind === 'moved' && kind === 'moved' && timeMs - active.sinceMs >= RELEARN_MOVED_MS) {
        this.active = null;
        this.reference.frames = 0;
        this.learn(stats, 1);
        this.firstFrameMs = timeMs;
        return {
          state: 'tamper-cleared',
          detail: `the camera stayed moved for ${seconds(timeMs - active.sinceMs)}: its new view is now the usual one`,
          timeMs,
        };
      }
      return null;
    }
    active.normalSinceMs ??= timeMs;
    if (timeMs - active.normalSinceMs < CLEAR_MS) return null;
    this.active = null;
    return {
      state: 'tamper-cleared',
      detail: `the view is as usual again${
        measure ? ` (edges match at ${percent(measure.edgeMatch)})` : ''
      } after ${seconds(active.normalSinceMs - active.sinceMs)} ${active.kind}`,
      timeMs,
    };
  }

  private measureFrame(luma: Uint8Array): { mean: number; deviation: number } {
    const source = this.downscaler
      ? this.downscaler.downscale({ data: luma, width: this.width, height: this.height }, this.small)
      : luma;
    for (let i = 0; i < this.grid.data.length; i++) this.grid.data[i] = source[i]!;
    const stats = meanAndDeviation(this.grid);
    normalisedEdges(this.grid, stats.deviation, this.edges);
    normalisedGrey(this.grid, stats, this.grey);
    return stats;
  }

  private compare(stats: { mean: number; deviation: number }): TamperMeasure {
    const reference = this.reference;
    return {
      changed: changedFraction(this.grid, stats, reference.grey, 1),
      contrast: stats.deviation / Math.max(reference.deviation, 1),
      sharpness: rmsOf(this.edges) / Math.max(reference.sharpness, 1e-6),
      edgeMatch: correlation(this.edges, reference.edges),
      brightnessShift: Math.abs(stats.mean - reference.mean),
    };
  }

  private classify(m: TamperMeasure, deviation: number): TamperKind | null {
    const t = this.thresholds;
    const flat = deviation < t.flatDeviation || m.contrast < t.coveredContrast;
    // Most of the picture changed: its brightness pattern, or its edges (a flat picture's
    // normalised brightness is noise around 0, so the edges say it more surely).
    const changed = m.changed > t.coveredChanged || m.edgeMatch < t.movedEdgeMatch;
    if (flat && changed) return 'covered';
    if (m.sharpness < t.defocusedSharpness && m.brightnessShift < t.defocusedBrightnessShift) {
      return 'defocused';
    }
    if (m.edgeMatch < t.movedEdgeMatch && m.sharpness > t.movedSharpness) return 'moved';
    return null;
  }

  /** How far the reference moves towards this frame: by the time since it last learned, at most 1 s. */
  private rate(timeMs: number): number {
    const stepMs = Math.min(1000, Math.max(0, timeMs - (this.lastLearnMs ?? timeMs)));
    return 1 - Math.exp(-stepMs / REFERENCE_TIME_CONSTANT_MS);
  }

  private learn(stats: { mean: number; deviation: number }, rate: number): void {
    const reference = this.reference;
    blendInto(reference.grey, this.grey, rate);
    blendInto(reference.edges, this.edges, rate);
    reference.mean += (stats.mean - reference.mean) * rate;
    reference.deviation += (stats.deviation - reference.deviation) * rate;
    reference.sharpness += (rmsOf(this.edges) - reference.sharpness) * rate;
    reference.frames += 1;
    this.lastLearnMs = this.lastFrameMs;
  }
}

function describe(kind: TamperKind, m: TamperMeasure, forMs: number): string {
  switch (kind) {
    case 'covered':
      return `the view is covered: its contrast fell to ${percent(m.contrast)} of usual and its edges match the usual view at ${percent(
        m.edgeMatch,
      )}, for ${seconds(forMs)}`;
    case 'defocused':
      return `the view is out of focus: its edges are at ${percent(m.sharpness)} of their usual strength, for ${seconds(
        forMs,
      )}`;
    case 'moved':
      return `the camera was moved or turned: its edges match the usual view at ${percent(
        m.edgeMatch,
      )}, for ${seconds(forMs)}`;
  }
}
