/**
 * The RTP captured from the camera emulator (test/fixtures/rtp, see its README), and the
 * reorder → unwrap → depacketise path native ingest takes with it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AccessUnit, NalUnit, RtpDepacketiser } from '../../src/ingest/rtsp/h264.js';
import { FrameWriter, type FrameData } from '../../src/media/mp4/fragment-builder.js';
import { Reorderer, TimestampUnwrapper, parseRtp, type RtpPacket } from '../../src/ingest/rtsp/rtp.js';

export const RTP_FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'rtp');

/** The packets of `<name>.rtp`: each stored as a 2-byte big-endian length and the packet. */
export function capturedPackets(name: string): RtpPacket[] {
  const buf = readFileSync(join(RTP_FIXTURES, `${name}.rtp`));
  const out: RtpPacket[] = [];
  for (let offset = 0; offset < buf.length;) {
    const length = buf.readUInt16BE(offset);
    out.push(parseRtp(buf.subarray(offset + 2, offset + 2 + length)));
    offset += 2 + length;
  }
  return out;
}

/** Access units from packets, through the reorderer when `reorder` (as over UDP). */
export function depacketiseWith(
  depacketiser: RtpDepacketiser,
  packets: readonly RtpPacket[],
  reorder = false,
): { units: AccessUnit[]; dropped: number } {
  const reorderer = new Reorderer();
  const unwrapper = new TimestampUnwrapper();
  const units: AccessUnit[] = [];
  const deliver = (p: RtpPacket, lostBefore: number) =>
    units.push(...depacketiser.push(p, unwrapper.unwrap(p.timestamp), lostBefore));
  for (const packet of packets) {
    if (reorder) reorderer.push(packet, deliver);
    else deliver(packet, 0);
  }
  units.push(...depacketiser.flush());
  return { units, dropped: depacketiser.stats.droppedNalUnits };
}

/** A frame laid out by the muxer's FrameWriter from whole NAL units, typed by `nalType`. */
export function frameOf(
  nals: readonly Buffer[],
  nalType: (firstByte: number) => number = (b) => b & 0x1f,
): { frame: FrameData; nalUnits: NalUnit[] } {
  const writer = new FrameWriter();
  const nalUnits = nals.map((nal) => {
    writer.beginNal();
    writer.append(nal);
    return { type: nalType(nal[0] as number), bytes: writer.endNal() };
  });
  const frame = writer.sealFrame();
  if (!frame) throw new Error('a frame needs at least one NAL unit');
  return { frame, nalUnits };
}
