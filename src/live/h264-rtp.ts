/**
 * H.264 access units from MP4 samples into RTP payloads (RFC 6184, packetization-mode 1): a NAL
 * unit that fits one packet is sent whole, a larger one is cut into FU-A fragments. Pure: the
 * WebRTC viewer adds sequence numbers and timestamps and hands the packets to the peer connection.
 */

/** Largest RTP payload: stays under a 1280-byte IPv6 minimum MTU with SRTP and header extensions. */
export const MAX_RTP_PAYLOAD_BYTES = 1100;

const NAL_TYPE_MASK = 0x1f;
const NAL_AUD = 9;
const NAL_FU_A = 28;
const FU_START = 0x80;
const FU_END = 0x40;

/** Splits an MP4 sample (length-prefixed NAL units, as avcC says) into its NAL units. */
export function splitLengthPrefixed(sample: Buffer, nalLengthBytes: number): Buffer[] {
  const units: Buffer[] = [];
  let offset = 0;
  while (offset + nalLengthBytes <= sample.length) {
    const length = sample.readUIntBE(offset, nalLengthBytes);
    offset += nalLengthBytes;
    if (length === 0 || offset + length > sample.length) break;
    units.push(sample.subarray(offset, offset + length));
    offset += length;
  }
  return units;
}

/** One RTP payload and whether it ends the access unit (the RTP marker bit). */
export interface RtpPayload {
  payload: Buffer;
  marker: boolean;
}

/**
 * The RTP payloads of one access unit. A keyframe is preceded by the parameter sets, so a viewer
 * who starts there (after joining or a picture loss) can decode it without the init segment.
 * Access unit delimiters are dropped: WebRTC receivers neither need nor expect them.
 */
export function accessUnitPayloads(
  nalUnits: readonly Buffer[],
  parameterSets: readonly Buffer[] = [],
  maxPayloadBytes = MAX_RTP_PAYLOAD_BYTES,
): RtpPayload[] {
  const units = [...parameterSets, ...nalUnits].filter(
    (unit) => unit.length > 0 && (unit[0]! & NAL_TYPE_MASK) !== NAL_AUD,
  );
  const payloads: RtpPayload[] = [];
  for (const unit of units) {
    if (unit.length <= maxPayloadBytes) payloads.push({ payload: unit, marker: false });
    else payloads.push(...fuA(unit, maxPayloadBytes));
  }
  const last = payloads.at(-1);
  if (last) last.marker = true;
  return payloads;
}

/** FU-A fragments of one NAL unit (RFC 6184 §5.8): its header byte is split over indicator and header. */
function fuA(unit: Buffer, maxPayloadBytes: number): RtpPayload[] {
  const header = unit[0]!;
  const indicator = (header & 0xe0) | NAL_FU_A;
  const type = header & NAL_TYPE_MASK;
  const body = unit.subarray(1);
  const chunkBytes = maxPayloadBytes - 2;
  const out: RtpPayload[] = [];
  for (let offset = 0; offset < body.length; offset += chunkBytes) {
    const chunk = body.subarray(offset, offset + chunkBytes);
    const start = offset === 0 ? FU_START : 0;
    const end = offset + chunkBytes >= body.length ? FU_END : 0;
    out.push({
      payload: Buffer.concat([Buffer.from([indicator, start | end | type]), chunk]),
      marker: false,
    });
  }
  return out;
}
