/**
 * RTP (RFC 3550) and RTCP sender report parsing, sequence ordering and timestamp unwrapping.
 * Pure: packets are parsed as views of the buffers they arrive in; only a packet held back for
 * reordering is copied (over TCP the buffer is reused for the next read).
 */

export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  sequenceNumber: number;
  /** The 32-bit RTP timestamp as sent (it wraps). */
  timestamp: number;
  ssrc: number;
  /** The payload without header, CSRCs, extension and padding: a view of the packet's buffer. */
  payload: Buffer;
}

export class RtpError extends Error {}

/** Parses one RTP packet; throws RtpError when it is not one (wrong version, lengths past the end). */
export function parseRtp(packet: Buffer): RtpPacket {
  if (packet.length < 12)
    throw new RtpError(`an RTP packet of ${packet.length} bytes is shorter than its header`);
  const first = packet[0] as number;
  if (first >> 6 !== 2) throw new RtpError(`RTP version ${first >> 6}, expected 2`);
  const csrcCount = first & 0x0f;
  let offset = 12 + csrcCount * 4;
  if (first & 0x10) {
    if (offset + 4 > packet.length) throw new RtpError('the RTP header extension runs past the packet');
    offset += 4 + packet.readUInt16BE(offset + 2) * 4;
  }
  let end = packet.length;
  if (first & 0x20) end -= packet[packet.length - 1] as number;
  if (offset > end)
    throw new RtpError('the RTP header (with CSRCs, extension, padding) runs past the packet');
  const second = packet[1] as number;
  return {
    payloadType: second & 0x7f,
    marker: (second & 0x80) !== 0,
    sequenceNumber: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    payload: packet.subarray(offset, end),
  };
}

/** An RTCP sender report: the sender's wall clock (NTP) at an RTP timestamp. */
export interface SenderReport {
  ssrc: number;
  /** NTP time as milliseconds since the Unix epoch. */
  wallClockMs: number;
  rtpTimestamp: number;
}

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;

/** The sender reports in a compound RTCP packet (others are skipped); malformed tails are ignored. */
export function parseSenderReports(packet: Buffer): SenderReport[] {
  const out: SenderReport[] = [];
  let offset = 0;
  while (offset + 4 <= packet.length) {
    const length = (packet.readUInt16BE(offset + 2) + 1) * 4;
    if (packet[offset] === undefined || (packet[offset] as number) >> 6 !== 2) break;
    if (offset + length > packet.length) break;
    if (packet[offset + 1] === 200 && length >= 28) {
      const seconds = packet.readUInt32BE(offset + 8);
      const fraction = packet.readUInt32BE(offset + 12);
      out.push({
        ssrc: packet.readUInt32BE(offset + 4),
        wallClockMs: (seconds - NTP_UNIX_OFFSET_S) * 1000 + (fraction / 0x1_0000_0000) * 1000,
        rtpTimestamp: packet.readUInt32BE(offset + 16),
      });
    }
    offset += length;
  }
  return out;
}

/** Signed difference a − b of two 16-bit sequence numbers, across the wrap. */
export function sequenceDelta(a: number, b: number): number {
  return ((a - b + 0x8000) & 0xffff) - 0x8000;
}

/**
 * Extends 32-bit RTP timestamps to a running count that does not wrap: each timestamp is taken
 * as the nearest value to the previous one (a step of under 2^31 ticks either way).
 */
export class TimestampUnwrapper {
  private last: number | null = null;
  private extended = 0;

  unwrap(timestamp: number): number {
    if (this.last === null) {
      this.extended = timestamp;
    } else {
      this.extended += (timestamp - this.last) | 0;
    }
    this.last = timestamp;
    return this.extended;
  }
}

/**
 * Puts packets back into sequence order (UDP reorders) within a small window, and reports gaps:
 * a missing packet is given up on once `windowPackets` later ones have arrived. Over TCP the
 * window never fills, so packets pass straight through.
 */
export class Reorderer {
  private expected: number | null = null;
  private readonly held = new Map<number, RtpPacket>();

  constructor(private readonly windowPackets = 16) {}

  /**
   * Hands on the packets that can now go, in order, each with the number of packets given up on
   * just before it (a callback, not an array: this runs for every packet of every camera).
   */
  push(packet: RtpPacket, deliver: (packet: RtpPacket, lostBefore: number) => void): void {
    if (this.expected === null) this.expected = packet.sequenceNumber;
    const delta = sequenceDelta(packet.sequenceNumber, this.expected);
    if (delta === 0 && this.held.size === 0) {
      // In order, nothing held (TCP, and UDP nearly always): straight through, no map.
      this.expected = (this.expected + 1) & 0xffff;
      deliver(packet, 0);
      return;
    }
    // Late duplicates, and packets from so far back that the window is long past, are dropped;
    // a huge jump ahead is a restarted sender: start again from it.
    if (delta < 0 && delta > -0x1000) return;
    if (delta < 0 || delta > 0x1000) {
      this.held.clear();
      this.expected = packet.sequenceNumber;
    }
    this.held.set(packet.sequenceNumber, { ...packet, payload: Buffer.from(packet.payload) });
    let lost = 0;
    for (;;) {
      const next = this.held.get(this.expected);
      if (next) {
        this.held.delete(this.expected);
        this.expected = (this.expected + 1) & 0xffff;
        deliver(next, lost);
        lost = 0;
        continue;
      }
      if (this.held.size < this.windowPackets) break;
      // Give up on the missing packet: skip to the oldest one held.
      let skip = 0x10000;
      for (const seq of this.held.keys()) skip = Math.min(skip, sequenceDelta(seq, this.expected));
      lost += skip;
      this.expected = (this.expected + skip) & 0xffff;
    }
  }
}
