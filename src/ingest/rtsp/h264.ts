/**
 * H.264 over RTP (RFC 6184): single NAL unit, STAP-A and FU-A packets to access units, and the
 * little of the SPS a sample entry needs. Pure. Each NAL unit is copied once, as its packets
 * arrive, into its place in the fragment the muxer finishes (FrameWriter): packets may be views of
 * a socket buffer that is reused as soon as they have been handed over.
 */
import { FrameWriter, type FrameData } from '../../media/mp4/fragment-builder.js';
import type { RtpPacket } from './rtp.js';

/** One NAL unit of an access unit: a view of its bytes in the frame (header included). */
export interface NalUnit {
  type: number;
  bytes: Buffer;
}

/** The NAL units of one picture, with its (unwrapped) RTP timestamp. */
export interface AccessUnit {
  timestamp: number;
  nalUnits: NalUnit[];
  /** It holds an IDR slice. */
  isKeyframe: boolean;
  /** The NAL units laid out as an mdat's payload, ready for the muxer. */
  frame: FrameData;
}

export const NAL_IDR = 5;
export const NAL_SPS = 7;
export const NAL_PPS = 8;
const STAP_A = 24;
const FU_A = 28;
const NO_UNITS: readonly AccessUnit[] = Object.freeze([]);

/** Counters of what the depacketiser had to drop, for logs and tests. */
export interface DepacketiserStats {
  /** NAL units dropped because a fragment of them was lost. */
  droppedNalUnits: number;
  /** Packets of a type RFC 6184 allows but cameras do not send (STAP-B, MTAP, FU-B), or malformed. */
  skippedPackets: number;
}

/**
 * Groups RTP packets (in sequence order, with the number lost before each) into access units:
 * a unit ends at the marker bit or when the timestamp changes (some cameras never set the marker).
 * The codec's payload formats are read by take(), with the shared aggregate and fragment handling.
 */
export abstract class RtpDepacketiser {
  readonly stats: DepacketiserStats = { droppedNalUnits: 0, skippedPackets: 0 };
  private readonly writer: FrameWriter;
  private nalUnits: NalUnit[] = [];
  private timestamp: number | null = null;
  /** The type of the fragmented NAL unit being assembled, or -1. */
  private fragmentType = -1;

  constructor(slabBytes?: number) {
    this.writer = new FrameWriter(slabBytes);
  }

  /**
   * `timestamp` is the packet's unwrapped RTP timestamp; returns the access units completed (for
   * most packets none: then one shared empty array, as this runs for every packet).
   */
  push(packet: RtpPacket, timestamp: number, lostBefore = 0): readonly AccessUnit[] {
    if (lostBefore > 0 && this.fragmentType >= 0) this.abandonFragment();
    const before = this.timestamp !== null && timestamp !== this.timestamp ? this.finish() : null;
    this.timestamp = timestamp;
    this.take(packet.payload);
    const after = packet.marker ? this.finish() : null;
    if (before && after) return [before, after];
    if (before) return [before];
    return after ? [after] : NO_UNITS;
  }

  /** The access unit in progress, if any (at the end of a stream). */
  flush(): readonly AccessUnit[] {
    const unit = this.finish();
    return unit ? [unit] : NO_UNITS;
  }

  protected abstract take(payload: Buffer): void;
  protected abstract nalType(firstByte: number): number;
  protected abstract isKeyframe(nal: NalUnit): boolean;

  /** A whole NAL unit in one packet (or one of an aggregation packet). */
  protected takeNal(bytes: Buffer): void {
    this.abandonFragment();
    this.writer.beginNal();
    this.writer.append(bytes);
    this.nalUnits.push({ type: this.nalType(bytes[0] as number), bytes: this.writer.endNal() });
  }

  /** An aggregation packet: 16-bit sizes and NAL units from `offset`, each at least `minBytes`. */
  protected takeAggregate(payload: Buffer, offset: number, minBytes: number): void {
    this.abandonFragment();
    while (offset + 2 <= payload.length) {
      const size = payload.readUInt16BE(offset);
      offset += 2;
      if (size < minBytes || offset + size > payload.length) {
        this.stats.skippedPackets += 1;
        return;
      }
      this.takeNal(payload.subarray(offset, offset + size));
      offset += size;
    }
  }

  /** The first piece of a fragmented NAL unit, after its rebuilt NAL header. */
  protected startFragment(type: number, header: readonly number[]): void {
    this.abandonFragment();
    this.writer.beginNal();
    for (const byte of header) this.writer.appendByte(byte);
    this.fragmentType = type;
  }

  /** A piece of the fragmented NAL unit in progress; without one (its start lost), ignored. */
  protected continueFragment(body: Buffer, end: boolean): void {
    if (this.fragmentType < 0) return;
    this.writer.append(body);
    if (!end) return;
    this.nalUnits.push({ type: this.fragmentType, bytes: this.writer.endNal() });
    this.fragmentType = -1;
  }

  protected abandonFragment(): void {
    if (this.fragmentType < 0) return;
    this.writer.dropNal();
    this.fragmentType = -1;
    this.stats.droppedNalUnits += 1;
  }

  private finish(): AccessUnit | null {
    this.abandonFragment();
    const frame = this.writer.sealFrame();
    const nalUnits = this.nalUnits;
    if (nalUnits.length > 0) this.nalUnits = [];
    if (!frame || this.timestamp === null) return null;
    return {
      timestamp: this.timestamp,
      nalUnits,
      isKeyframe: nalUnits.some((n) => this.isKeyframe(n)),
      frame,
    };
  }
}

/** RFC 6184: single NAL unit, STAP-A and FU-A packets. */
export class H264Depacketiser extends RtpDepacketiser {
  protected take(payload: Buffer): void {
    if (payload.length === 0) return;
    const type = (payload[0] as number) & 0x1f;
    if (type >= 1 && type <= 23) {
      this.takeNal(payload);
    } else if (type === STAP_A) {
      this.takeAggregate(payload, 1, 1);
    } else if (type === FU_A && payload.length >= 3) {
      const indicator = payload[0] as number;
      const header = payload[1] as number;
      const fuType = header & 0x1f;
      if (header & 0x80) this.startFragment(fuType, [(indicator & 0xe0) | fuType]);
      this.continueFragment(payload.subarray(2), (header & 0x40) !== 0);
    } else {
      this.stats.skippedPackets += 1;
    }
  }

  protected nalType(firstByte: number): number {
    return firstByte & 0x1f;
  }

  protected isKeyframe(nal: NalUnit): boolean {
    return nal.type === NAL_IDR;
  }
}

/** The SPS facts an avc1 sample entry needs. */
export interface H264SpsInfo {
  profileIdc: number;
  constraintFlags: number;
  levelIdc: number;
  width: number;
  height: number;
  /**
   * How many frames may precede a frame in decode order but follow it in presentation order
   * (B-frames), from the VUI's bitstream restriction; null when the SPS does not say.
   */
  maxReorderFrames: number | null;
}

/** The RBSP of a NAL unit: emulation prevention bytes (00 00 03) removed. */
export function unescapeRbsp(nal: Buffer): Buffer {
  const out = Buffer.allocUnsafe(nal.length);
  let n = 0;
  let zeros = 0;
  for (const byte of nal) {
    if (zeros >= 2 && byte === 3) {
      zeros = 0;
      continue;
    }
    zeros = byte === 0 ? zeros + 1 : 0;
    out[n] = byte;
    n += 1;
  }
  return out.subarray(0, n);
}

/** Reads bits and Exp-Golomb codes (H.264 §9.1) from an RBSP. */
export class BitReader {
  private bit = 0;
  constructor(private readonly bytes: Buffer) {}

  u(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i += 1) {
      const byte = this.bytes[this.bit >> 3];
      if (byte === undefined) throw new RangeError('read past the end of the parameter set');
      value = value * 2 + ((byte >> (7 - (this.bit & 7))) & 1);
      this.bit += 1;
    }
    return value;
  }

  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) {
      zeros += 1;
      if (zeros > 31) throw new RangeError('an Exp-Golomb code longer than 32 bits');
    }
    return 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Parses an SPS NAL unit (header byte included) far enough for its profile and picture size. */
export function parseH264Sps(nal: Buffer): H264SpsInfo {
  const r = new BitReader(unescapeRbsp(nal.subarray(1)));
  const profileIdc = r.u(8);
  const constraintFlags = r.u(8);
  const levelIdc = r.u(8);
  r.ue(); // seq_parameter_set_id
  let chromaFormatIdc = 1;
  let separateColourPlane = 0;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc === 3) separateColourPlane = r.u(1);
    r.ue(); // bit_depth_luma_minus8
    r.ue(); // bit_depth_chroma_minus8
    r.u(1); // qpprime_y_zero_transform_bypass_flag
    if (r.u(1)) {
      const lists = chromaFormatIdc === 3 ? 12 : 8;
      for (let i = 0; i < lists; i += 1) if (r.u(1)) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  r.ue(); // log2_max_frame_num_minus4
  const pocType = r.ue();
  if (pocType === 0) r.ue();
  else if (pocType === 1) {
    r.u(1);
    r.se();
    r.se();
    const cycle = r.ue();
    for (let i = 0; i < cycle; i += 1) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.u(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.u(1);
  if (!frameMbsOnly) r.u(1);
  r.u(1); // direct_8x8_inference_flag
  let crop = [0, 0, 0, 0];
  if (r.u(1)) crop = [r.ue(), r.ue(), r.ue(), r.ue()];
  const chroma = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidth = chroma === 1 || chroma === 2 ? 2 : 1;
  const subHeight = chroma === 1 ? 2 : 1;
  const cropUnitX = chroma === 0 ? 1 : subWidth;
  const cropUnitY = (chroma === 0 ? 1 : subHeight) * (2 - frameMbsOnly);
  const [left = 0, right = 0, top = 0, bottom = 0] = crop;
  const maxReorderFrames = r.u(1) ? readVuiReorderFrames(r) : null;
  return {
    profileIdc,
    constraintFlags,
    levelIdc,
    width: widthMbs * 16 - cropUnitX * (left + right),
    height: (2 - frameMbsOnly) * heightMapUnits * 16 - cropUnitY * (top + bottom),
    maxReorderFrames,
  };
}

/** Reads the VUI (H.264 Annex E.1.1) up to max_num_reorder_frames; null without bitstream_restriction. */
function readVuiReorderFrames(r: BitReader): number | null {
  try {
    if (r.u(1) && r.u(8) === 255) r.u(32); // aspect_ratio_idc, extended SAR
    if (r.u(1)) r.u(1); // overscan
    if (r.u(1)) {
      r.u(4);
      if (r.u(1)) r.u(24); // colour description
    }
    if (r.u(1)) {
      r.ue();
      r.ue();
    }
    if (r.u(1)) r.u(65); // num_units_in_tick, time_scale, fixed_frame_rate_flag
    const nalHrd = r.u(1);
    if (nalHrd) skipHrd(r);
    const vclHrd = r.u(1);
    if (vclHrd) skipHrd(r);
    if (nalHrd || vclHrd) r.u(1);
    r.u(1); // pic_struct_present_flag
    if (!r.u(1)) return null;
    r.u(1);
    for (let i = 0; i < 4; i += 1) r.ue();
    return r.ue();
  } catch {
    // A truncated VUI says nothing about reordering; the caller assumes the worst.
    return null;
  }
}

function skipHrd(r: BitReader): void {
  const count = r.ue() + 1;
  r.u(8);
  for (let i = 0; i < count; i += 1) {
    r.ue();
    r.ue();
    r.u(1);
  }
  r.u(20);
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j += 1) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** sprop-parameter-sets from the SDP: base64 NAL units separated by commas. */
export function parseSpropParameterSets(value: string | undefined): Buffer[] {
  if (!value) return [];
  return value
    .split(',')
    .map((part) => Buffer.from(part.trim(), 'base64'))
    .filter((nal) => nal.length > 0);
}
