/**
 * H.265 over RTP (RFC 7798): single NAL unit, aggregation (AP) and fragmentation (FU) packets to
 * access units, and the little of the SPS a sample entry needs. Pure. As for H.264, each NAL unit
 * is copied once, into the fragment the muxer finishes.
 */
import { BitReader, RtpDepacketiser, unescapeRbsp, type NalUnit } from './h264.js';

export const HEVC_NAL_VPS = 32;
export const HEVC_NAL_SPS = 33;
export const HEVC_NAL_PPS = 34;
/** BLA, IDR and CRA pictures (IRAP, types 16–23): a decoder can start at them. */
const IRAP_FIRST = 16;
const IRAP_LAST = 23;
const AGGREGATION = 48;
const FRAGMENTATION = 49;
const NAL_HEADER_BYTES = 2;

/** The NAL unit type from the first header byte (H.265 §7.3.1.2). */
export function hevcNalType(firstByte: number): number {
  return (firstByte >> 1) & 0x3f;
}

/**
 * RFC 7798: single NAL unit, aggregation (AP) and fragmentation (FU) packets. Streams with
 * decoding order numbers (sprop-max-don-diff > 0) are not taken: the caller checks the SDP, since
 * cameras do not send them.
 */
export class H265Depacketiser extends RtpDepacketiser {
  protected take(payload: Buffer): void {
    if (payload.length <= NAL_HEADER_BYTES) {
      this.stats.skippedPackets += 1;
      return;
    }
    const type = hevcNalType(payload[0] as number);
    if (type < AGGREGATION) {
      this.takeNal(payload);
    } else if (type === AGGREGATION) {
      this.takeAggregate(payload, NAL_HEADER_BYTES, NAL_HEADER_BYTES);
    } else if (type === FRAGMENTATION && payload.length >= NAL_HEADER_BYTES + 2) {
      const fuHeader = payload[2] as number;
      const fuType = fuHeader & 0x3f;
      if (fuHeader & 0x80) {
        // The unit's header is the payload header with the FU's type in place of 49.
        this.startFragment(fuType, [((payload[0] as number) & 0x81) | (fuType << 1), payload[1] as number]);
      }
      this.continueFragment(payload.subarray(3), (fuHeader & 0x40) !== 0);
    } else {
      // PACI (50), the unspecified types, and packets too short for what they say they are.
      this.stats.skippedPackets += 1;
    }
  }

  protected nalType(firstByte: number): number {
    return hevcNalType(firstByte);
  }

  protected isKeyframe(nal: NalUnit): boolean {
    return nal.type >= IRAP_FIRST && nal.type <= IRAP_LAST;
  }
}

/** The SPS facts an hvcC sample entry needs. */
export interface H265SpsInfo {
  /** general_profile_space … general_level_idc: the 12 bytes hvcC copies. */
  generalProfileTierLevel: Buffer;
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  width: number;
  height: number;
  /** sps_max_num_reorder_pics of the highest sub-layer. */
  maxReorderFrames: number;
}

const GENERAL_PTL_BITS = 96;
const SUB_LAYER_PROFILE_BITS = 88;

/** Parses an SPS NAL unit (2-byte header included), H.265 §7.3.2.2, as far as the reorder depth. */
export function parseH265Sps(nal: Buffer): H265SpsInfo {
  const rbsp = unescapeRbsp(nal.subarray(NAL_HEADER_BYTES));
  const r = new BitReader(rbsp);
  r.u(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.u(3);
  r.u(1); // sps_temporal_id_nesting_flag
  if (rbsp.length < 1 + GENERAL_PTL_BITS / 8) throw new RangeError('read past the end of the parameter set');
  const generalProfileTierLevel = Buffer.from(rbsp.subarray(1, 1 + GENERAL_PTL_BITS / 8));
  r.u(32);
  r.u(32);
  r.u(32);
  const subLayers: Array<{ profile: number; level: number }> = [];
  for (let i = 0; i < maxSubLayersMinus1; i += 1) subLayers.push({ profile: r.u(1), level: r.u(1) });
  if (maxSubLayersMinus1 > 0) for (let i = maxSubLayersMinus1; i < 8; i += 1) r.u(2);
  for (const layer of subLayers) {
    if (layer.profile) skipBits(r, SUB_LAYER_PROFILE_BITS);
    if (layer.level) r.u(8);
  }
  r.ue(); // sps_seq_parameter_set_id
  const chromaFormatIdc = r.ue();
  const separateColourPlane = chromaFormatIdc === 3 ? r.u(1) : 0;
  const codedWidth = r.ue();
  const codedHeight = r.ue();
  let crop = [0, 0, 0, 0];
  if (r.u(1)) crop = [r.ue(), r.ue(), r.ue(), r.ue()];
  const bitDepthLuma = r.ue() + 8;
  const bitDepthChroma = r.ue() + 8;
  r.ue(); // log2_max_pic_order_cnt_lsb_minus4
  const orderingForAll = r.u(1);
  let maxReorderFrames = 0;
  for (let i = orderingForAll ? 0 : maxSubLayersMinus1; i <= maxSubLayersMinus1; i += 1) {
    r.ue(); // sps_max_dec_pic_buffering_minus1
    maxReorderFrames = r.ue();
    r.ue(); // sps_max_latency_increase_plus1
  }
  const chroma = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidth = chroma === 1 || chroma === 2 ? 2 : 1;
  const subHeight = chroma === 1 ? 2 : 1;
  const [left = 0, right = 0, top = 0, bottom = 0] = crop;
  return {
    generalProfileTierLevel,
    chromaFormatIdc,
    bitDepthLuma,
    bitDepthChroma,
    width: codedWidth - subWidth * (left + right),
    height: codedHeight - subHeight * (top + bottom),
    maxReorderFrames,
  };
}

function skipBits(r: BitReader, count: number): void {
  for (let left = count; left > 0; left -= 32) r.u(Math.min(32, left));
}

/** sprop-vps, sprop-sps and sprop-pps from the SDP (RFC 7798 §7.1): base64 NAL units, comma separated. */
export function parseHevcSpropParameterSets(fmtp: ReadonlyMap<string, string>): Buffer[] {
  return ['sprop-vps', 'sprop-sps', 'sprop-pps'].flatMap((name) =>
    (fmtp.get(name) ?? '')
      .split(',')
      .map((part) => Buffer.from(part.trim(), 'base64'))
      .filter((nal) => nal.length > NAL_HEADER_BYTES),
  );
}
