/**
 * H.264 parameter sets in MP4: read from an init segment's avcC, found in a sample's NAL units,
 * and written back into a new init segment when a camera changes them in-band (a new resolution
 * or profile). Pure.
 */
import {
  boxEnd,
  boxPayload,
  corrupt,
  findChild,
  findChildren,
  findPath,
  listBoxes,
  type BoxHeader,
} from './boxes.js';
import { box } from './writer.js';

const NAL_SPS = 7;
const NAL_PPS = 8;
/** ISO 14496-12 §12.1.3: the fields of a visual sample entry before its child boxes. */
const VISUAL_ENTRY_FIELDS_BYTES = 78;

export interface AvcParameterSets {
  sps: Buffer[];
  pps: Buffer[];
}

export interface AvcDecoderConfig extends AvcParameterSets {
  /** Bytes of each NAL unit's length prefix in samples (1, 2 or 4). */
  nalLengthBytes: number;
}

/** The avcC of the first sample entry in a track's stsd box (TrackInfo.stsd), or null when it has none. */
export function avcDecoderConfig(stsd: Buffer): AvcDecoderConfig | null {
  const stsdBox = listBoxes(stsd)[0];
  if (!stsdBox || stsdBox.type !== 'stsd') return null;
  const entry = listBoxes(stsd, stsdBox.start + stsdBox.headerSize + 8, boxEnd(stsdBox))[0];
  if (!entry || (entry.type !== 'avc1' && entry.type !== 'avc3')) return null;
  const avcC = avcConfigBox(stsd, entry);
  return avcC ? parseAvcC(boxPayload(stsd, avcC)) : null;
}

function avcConfigBox(buf: Buffer, entry: BoxHeader): BoxHeader | undefined {
  const children = listBoxes(buf, entry.start + entry.headerSize + VISUAL_ENTRY_FIELDS_BYTES, boxEnd(entry));
  return children.find((b) => b.type === 'avcC');
}

function parseAvcC(p: Buffer): AvcDecoderConfig {
  if (p.length < 7) throw corrupt('the avcC box is too short');
  const nalLengthBytes = (p[4]! & 0x03) + 1;
  let offset = 5;
  const readList = (count: number): Buffer[] => {
    const out: Buffer[] = [];
    for (let i = 0; i < count; i += 1) {
      const length = p.readUInt16BE(offset);
      out.push(p.subarray(offset + 2, offset + 2 + length));
      offset += 2 + length;
    }
    return out;
  };
  const sps = readList(p[offset++]! & 0x1f);
  const pps = readList(p[offset++]!);
  return { sps, pps, nalLengthBytes };
}

/** The SPS and PPS NAL units a sample carries in-band (length-prefixed NAL units, as in MP4). */
export function inBandParameterSets(sample: Buffer, nalLengthBytes: number): AvcParameterSets {
  const found: AvcParameterSets = { sps: [], pps: [] };
  let offset = 0;
  while (offset + nalLengthBytes <= sample.length) {
    const length = sample.readUIntBE(offset, nalLengthBytes);
    const start = offset + nalLengthBytes;
    if (length === 0 || start + length > sample.length) break;
    const type = sample[start]! & 0x1f;
    if (type === NAL_SPS) found.sps.push(sample.subarray(start, start + length));
    if (type === NAL_PPS) found.pps.push(sample.subarray(start, start + length));
    offset = start + length;
  }
  return found;
}

/**
 * Whether two lists of parameter sets say the same. Trailing zero bytes are padding (cameras and
 * SDP lines differ there), not content.
 */
export function sameParameterSets(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  const trim = (nal: Buffer) => {
    let end = nal.length;
    while (end > 0 && nal[end - 1] === 0) end -= 1;
    return nal.subarray(0, end);
  };
  return a.length === b.length && a.every((nal, i) => trim(nal).equals(trim(b[i]!)));
}

/**
 * The init segment with the video track's avcC replaced by these parameter sets and its coded
 * and presentation size set to the new picture size. Every other box is kept byte for byte.
 */
export function withAvcParameterSets(
  init: Buffer,
  trackId: number,
  config: AvcDecoderConfig,
  size: { width: number; height: number },
): Buffer {
  const moov = findChild(init, null, 'moov');
  const trak = moov && findChildren(init, moov, 'trak').find((t) => trackIdOf(init, t) === trackId);
  const mdia = trak && findChild(init, trak, 'mdia');
  const minf = mdia && findChild(init, mdia, 'minf');
  const stbl = minf && findChild(init, minf, 'stbl');
  const stsd = stbl && findChild(init, stbl, 'stsd');
  const entry = stsd && listBoxes(init, stsd.start + stsd.headerSize + 8, boxEnd(stsd))[0];
  const avcC = entry && avcConfigBox(init, entry);
  const tkhd = trak && findChild(init, trak, 'tkhd');
  if (!moov || !trak || !mdia || !minf || !stbl || !stsd || !entry || !avcC || !tkhd) {
    throw corrupt(`the init segment has no avcC for track ${trackId}`);
  }
  const replacement = box('avcC', avcCPayload(config));
  const out = Buffer.concat([init.subarray(0, avcC.start), replacement, init.subarray(boxEnd(avcC))]);
  const delta = replacement.length - avcC.size;
  for (const ancestor of [moov, trak, mdia, minf, stbl, stsd, entry]) growBox(out, ancestor, delta);
  // The ancestors' headers and the fields below come before the avcC: their offsets are unchanged.
  const entryFields = entry.start + entry.headerSize;
  out.writeUInt16BE(size.width, entryFields + 24);
  out.writeUInt16BE(size.height, entryFields + 26);
  out.writeUInt32BE(size.width * 0x10000, boxEnd(tkhd) - 8);
  out.writeUInt32BE(size.height * 0x10000, boxEnd(tkhd) - 4);
  return out;
}

function trackIdOf(buf: Buffer, trak: BoxHeader): number | undefined {
  const tkhd = findPath(buf, trak, ['tkhd']);
  if (!tkhd) return undefined;
  const p = boxPayload(buf, tkhd);
  return p.readUInt32BE(p[0] === 1 ? 20 : 12);
}

function growBox(buf: Buffer, header: BoxHeader, delta: number): void {
  const size = header.size + delta;
  if (buf.readUInt32BE(header.start) === 1) {
    buf.writeUInt32BE(Math.floor(size / 2 ** 32), header.start + 8);
    buf.writeUInt32BE(size % 2 ** 32, header.start + 12);
  } else {
    buf.writeUInt32BE(size, header.start);
  }
}

/** avcC body (ISO 14496-15 §5.3.3.1): profile, compatibility and level from the first SPS. */
export function avcCPayload(config: AvcDecoderConfig): Buffer {
  const first = config.sps[0];
  if (!first || first.length < 4) throw corrupt('an avcC needs an SPS');
  const parts: Buffer[] = [
    Buffer.from([
      1,
      first[1]!,
      first[2]!,
      first[3]!,
      0xfc | (config.nalLengthBytes - 1),
      0xe0 | config.sps.length,
    ]),
  ];
  const withLength = (nal: Buffer) => {
    const length = Buffer.alloc(2);
    length.writeUInt16BE(nal.length, 0);
    return [length, nal];
  };
  for (const sps of config.sps) parts.push(...withLength(sps));
  parts.push(Buffer.from([config.pps.length]));
  for (const pps of config.pps) parts.push(...withLength(pps));
  return Buffer.concat(parts);
}
