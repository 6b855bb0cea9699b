/**
 * Access units to fMP4 with ffmpeg's timing: decode times count from the first frame (0) in RTP
 * ticks. Every frame is a fragment of its own, emitted the moment it arrives: live view cannot show
 * a frame before its fragment is complete, and waiting for the next frame (to know this one's
 * duration) or for 100 ms of frames (ffmpeg's `-frag_duration`) held each frame 100–200 ms. A
 * frame's duration is therefore the step between the two frames before it; the next fragment's
 * decode time is exact, so a wrong guess (a frame-rate change) only moves where one frame ends.
 * Frames before the first keyframe with known parameter sets are dropped, as ffmpeg drops them.
 * Pure.
 */
import { buildH264InitSegment, buildH265InitSegment } from '../../media/mp4/fmp4-muxer.js';
import type { Fragment } from '../../media/mp4/fragment.js';
import { finishFragment, type FragmentSample } from '../../media/mp4/fragment-builder.js';
import { NAL_PPS, NAL_SPS, parseH264Sps, type AccessUnit } from './h264.js';
import { HEVC_NAL_PPS, HEVC_NAL_SPS, HEVC_NAL_VPS, hevcNalType, parseH265Sps } from './h265.js';

/** A step between frames longer than this is a jump in the camera's clock, not a slow frame. */
const MAX_FRAME_STEP_MS = 10_000;
/** The duration given to a frame before any step between frames was seen: 10 fps. */
const DEFAULT_FRAME_MS = 100;

/**
 * An init segment comes first, and again whenever the camera changes its parameter sets (its
 * resolution or profile): the fragments after it are decoded with the new one.
 */
export type FragmenterOutput =
  | { type: 'init'; bytes: Buffer; width: number; height: number }
  | { type: 'fragment'; bytes: Buffer; fragment: Fragment };

interface Sample extends FragmentSample {
  /** Decode timestamp in RTP ticks (unwrapped). */
  timestamp: number;
}

/** Reorder depth assumed when the SPS does not give one and the profile allows B-frames. */
const ASSUMED_REORDER_FRAMES = 2;
const PROFILE_BASELINE = 66;

type ParameterSetKind = 'vps' | 'sps' | 'pps';
type ParameterSets = Partial<Record<ParameterSetKind, Buffer>>;

/** What differs between H.264 and H.265 for muxing: parameter sets and the sample entry. */
export interface VideoCodecSpec {
  /** The parameter set a NAL unit (by its type) is, if it is one. */
  parameterSet(nalType: number): ParameterSetKind | null;
  /** The parameter set a NAL unit from the SDP is, by its header byte. */
  sdpParameterSet(nal: Buffer): ParameterSetKind | null;
  /** The sets a decoder needs before the first keyframe. */
  required: readonly ParameterSetKind[];
  /** The init segment, and what the SPS says of size and B-frames; throws on an unreadable SPS. */
  init(
    sets: Required<ParameterSets>,
    timescale: number,
  ): { bytes: Buffer; width: number; height: number; reorderFrames: number };
}

const H264_SETS: Record<number, ParameterSetKind> = { [NAL_SPS]: 'sps', [NAL_PPS]: 'pps' };

export const H264_CODEC: VideoCodecSpec = {
  parameterSet: (type) => H264_SETS[type] ?? null,
  sdpParameterSet: (nal) => H264_SETS[(nal[0] as number) & 0x1f] ?? null,
  required: ['sps', 'pps'],
  init(sets, timescale) {
    const info = parseH264Sps(sets.sps);
    const bytes = buildH264InitSegment({
      sps: [sets.sps],
      pps: [sets.pps],
      width: info.width,
      height: info.height,
      timescale,
    });
    const reorderFrames =
      info.maxReorderFrames ?? (info.profileIdc === PROFILE_BASELINE ? 0 : ASSUMED_REORDER_FRAMES);
    return { bytes, width: info.width, height: info.height, reorderFrames };
  },
};

const H265_SETS: Record<number, ParameterSetKind> = {
  [HEVC_NAL_VPS]: 'vps',
  [HEVC_NAL_SPS]: 'sps',
  [HEVC_NAL_PPS]: 'pps',
};

export const H265_CODEC: VideoCodecSpec = {
  parameterSet: (type) => H265_SETS[type] ?? null,
  sdpParameterSet: (nal) => H265_SETS[hevcNalType(nal[0] as number)] ?? null,
  required: ['vps', 'sps', 'pps'],
  init(sets, timescale) {
    const info = parseH265Sps(sets.sps);
    const bytes = buildH265InitSegment({
      vps: [sets.vps],
      sps: [sets.sps],
      pps: [sets.pps],
      width: info.width,
      height: info.height,
      timescale,
      generalProfileTierLevel: info.generalProfileTierLevel,
      chromaFormatIdc: info.chromaFormatIdc,
      bitDepthLuma: info.bitDepthLuma,
      bitDepthChroma: info.bitDepthChroma,
    });
    return { bytes, width: info.width, height: info.height, reorderFrames: info.maxReorderFrames };
  },
};

export class VideoFragmenter {
  /** The newest parameter sets seen, SDP first, then in-band. */
  private readonly sets: ParameterSets = {};
  /** Those the init segment was built from; null until the first keyframe. */
  private initSets: ParameterSets | null = null;
  private baseTimestamp: number | null = null;
  /** Decode time of the frame emitted last (its bytes are not kept). */
  private lastTimestamp: number | null = null;
  /** The newest step between two frames: the duration the next frame is given. */
  private lastStepTicks: number;
  private sequenceNumber = 0;
  /** Frames dropped while waiting for the first keyframe. */
  droppedBeforeKeyframe = 0;
  /** Keyframes dropped because they repeated the keyframe just before, timestamp and all. */
  repeatedKeyframes = 0;
  private previousUnit: { timestamp: number; isKeyframe: boolean } | null = null;
  /**
   * RTP carries presentation times, in decode order. A frame's decode time is the smallest
   * presentation time not used yet once `reorderFrames` more are known (as ffmpeg's demuxer
   * derives them): with B-frames no frame presents before it decodes, and no frame waits. The
   * first `reorderFrames` frames decode a frame step apart before the first presentation.
   */
  private reorderFrames = 0;
  /** Presentation times not yet used as a decode time, ascending. */
  private readonly unusedTimestamps: number[] = [];
  private framesSinceInit = 0;
  private firstTimestamp = 0;

  constructor(
    private readonly codec: VideoCodecSpec,
    private readonly clockRate: number,
    /** Parameter sets from the SDP (sprop-parameter-sets, sprop-vps/sps/pps); in-band ones replace them. */
    sdpParameterSets: readonly Buffer[] = [],
  ) {
    for (const nal of sdpParameterSets) {
      const kind = codec.sdpParameterSet(nal);
      if (kind) this.sets[kind] ??= nal;
    }
    this.lastStepTicks = Math.round((DEFAULT_FRAME_MS * clockRate) / 1000);
  }

  push(unit: AccessUnit): FragmenterOutput[] {
    const out: FragmenterOutput[] = [];
    const previous = this.previousUnit;
    this.previousUnit = { timestamp: unit.timestamp, isKeyframe: unit.isKeyframe };
    // Some servers send a keyframe twice with one timestamp (the GStreamer emulator, at PLAY): two
    // pictures at one instant, which a re-encoder or player keeps only one of. The first is kept.
    if (unit.isKeyframe && previous?.isKeyframe && previous.timestamp === unit.timestamp) {
      this.repeatedKeyframes += 1;
      return out;
    }
    for (const nal of unit.nalUnits) {
      const kind = this.codec.parameterSet(nal.type);
      // A copy: the frame's slab is not kept alive for a few bytes (cameras repeat them per keyframe).
      if (kind && !this.sets[kind]?.equals(nal.bytes)) this.sets[kind] = Buffer.from(nal.bytes);
    }
    if (this.initSets === null) {
      const sets = this.complete();
      if (!unit.isKeyframe || !sets) {
        this.droppedBeforeKeyframe += 1;
        return out;
      }
      out.push(this.init(sets));
    } else if (unit.isKeyframe && this.changed()) {
      // Everything before this keyframe belongs to the old format; a new init starts here, on the
      // same connection and the same decode timeline (as ffmpeg's output would continue).
      const sets = this.complete();
      if (sets) out.push(this.init(sets));
    }
    this.addSample(unit, this.decodeTimestampOf(unit.timestamp), out);
    return out;
  }

  private decodeTimestampOf(timestamp: number): number {
    const at = this.unusedTimestamps.findIndex((t) => t > timestamp);
    this.unusedTimestamps.splice(at < 0 ? this.unusedTimestamps.length : at, 0, timestamp);
    if (this.framesSinceInit === 0) this.firstTimestamp = timestamp;
    this.framesSinceInit += 1;
    if (this.unusedTimestamps.length > this.reorderFrames) return this.unusedTimestamps.shift() as number;
    return this.firstTimestamp - (this.reorderFrames - this.framesSinceInit + 1) * this.lastStepTicks;
  }

  private addSample(unit: AccessUnit, decodeTimestamp: number, out: FragmenterOutput[]): void {
    this.baseTimestamp ??= decodeTimestamp;
    const sample: Sample = {
      timestamp: decodeTimestamp,
      durationTicks: this.lastStepTicks,
      compositionOffsetTicks: unit.timestamp - decodeTimestamp,
      isSync: unit.isKeyframe,
    };
    const previousTimestamp = this.lastTimestamp;
    if (previousTimestamp !== null) {
      let step = decodeTimestamp - previousTimestamp;
      if (step <= 0 && step > -this.clockRate / 2) {
        // A repeated timestamp or a frame slightly out of order: decode times must increase, so it
        // follows one tick later, as ffmpeg places it.
        sample.timestamp = previousTimestamp + 1;
        sample.compositionOffsetTicks = unit.timestamp - sample.timestamp;
        step = 1;
      }
      const jumped = step <= 0 || step > (MAX_FRAME_STEP_MS * this.clockRate) / 1000;
      if (!jumped && step > 1) {
        this.lastStepTicks = step;
        sample.durationTicks = step;
      }
      if (jumped && decodeTimestamp < this.baseTimestamp) {
        // Decode times cannot go below zero: start again from zero (the recorder sees a jump back).
        this.baseTimestamp = decodeTimestamp;
      }
    }
    this.lastTimestamp = sample.timestamp;
    this.sequenceNumber += 1;
    const built = finishFragment(unit.frame, {
      sequenceNumber: this.sequenceNumber,
      baseDecodeTime: sample.timestamp - this.baseTimestamp,
      sample,
    });
    out.push({ type: 'fragment', ...built });
  }

  /** Sequence number of the next fragment (the first is 1). */
  get fragmentsWritten(): number {
    return this.sequenceNumber;
  }

  /** Every parameter set the codec needs, or null while one is missing. */
  private complete(): Required<ParameterSets> | null {
    if (!this.codec.required.every((kind) => this.sets[kind])) return null;
    // H.264 has no VPS: an empty buffer stands in for it, and its builder never reads it.
    return { vps: Buffer.alloc(0), ...this.sets } as Required<ParameterSets>;
  }

  private init(sets: Required<ParameterSets>): FragmenterOutput {
    const { bytes, width, height, reorderFrames } = this.codec.init(sets, this.clockRate);
    this.initSets = { ...this.sets };
    this.reorderFrames = reorderFrames;
    this.unusedTimestamps.length = 0;
    this.framesSinceInit = 0;
    return { type: 'init', bytes, width, height };
  }

  private changed(): boolean {
    const initSets = this.initSets as ParameterSets;
    return this.codec.required.some((kind) => {
      const now = this.sets[kind];
      const then = initSets[kind];
      return now !== undefined && then !== undefined && !now.equals(then);
    });
  }
}
