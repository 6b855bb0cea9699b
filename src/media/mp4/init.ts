import { VigilError } from '../../errors/catalogue.js';
import {
  boxEnd,
  boxPayload,
  corrupt,
  findChild,
  findChildren,
  findPath,
  listBoxes,
  requireChild,
  type BoxHeader,
} from './boxes.js';

export type TrackKind = 'video' | 'audio' | 'other';

/** Per-sample defaults from the init's trex box; a fragment's tfhd may override them. */
export interface TrackDefaults {
  sampleDescriptionIndex: number;
  sampleDurationTicks: number;
  sampleSize: number;
  sampleFlags: number;
}

/** Track header facts the export builder writes back unchanged. */
export interface TrackHeaderFacts {
  flags: number;
  layer: number;
  alternateGroup: number;
  /** 1 for full volume (audio), 0 for video. */
  volume: number;
  /** The nine raw matrix words (a mix of 16.16 and 2.30 fixed point), as stored. */
  matrix: readonly number[];
  /** Presentation size in pixels (may differ from the coded size, e.g. with non-square pixels). */
  displayWidth: number;
  displayHeight: number;
}

export interface TrackInfo {
  trackId: number;
  kind: TrackKind;
  /** The hdlr handler type ('vide', 'soun', …) and name, kept for the export's hdlr. */
  handlerType: string;
  handlerName: string;
  /** Ticks per second of this track's decode times and durations (mdhd). */
  timescale: number;
  /** ISO 639-2/T code from mdhd ('und' when unset). */
  language: string;
  /** 'h264' | 'h265' | 'aac' | 'mp3' | 'opus', else the sample entry's fourcc. */
  codec: string;
  /** RFC 6381 codecs parameter, e.g. avc1.640028, hvc1.1.6.L93.B0, mp4a.40.2. */
  codecString: string;
  /** Fourcc of the first sample entry ('avc1', 'hev1', 'mp4a', …). */
  sampleEntryType: string;
  /** Coded size of video, from the sample entry. */
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  /** The whole stsd box, reused verbatim by the export builder. */
  stsd: Buffer;
  sampleDescriptionCount: number;
  header: TrackHeaderFacts;
  defaults: TrackDefaults;
}

export interface InitSegment {
  /** The init bytes as stored (ftyp + moov): served as the HLS map and written at the head of segments. */
  bytes: Buffer;
  tracks: TrackInfo[];
  /** Ticks per second of mvhd durations. */
  movieTimescale: number;
}

/** Parses an init segment (ftyp + moov with mvex, as ffmpeg's fragmented MP4 begins). */
export function parseInitSegment(bytes: Buffer): InitSegment {
  try {
    return parseInit(bytes);
  } catch (err) {
    if (err instanceof VigilError) throw err;
    // Buffer reads past the end throw RangeError: for a parser that just means a box is too short.
    throw corrupt(`the init segment is unreadable: ${(err as Error).message}`);
  }
}

function parseInit(bytes: Buffer): InitSegment {
  const moov = findChild(bytes, null, 'moov');
  if (!moov) throw corrupt('the init segment has no moov box (expected ftyp + moov)');
  const mvhd = requireChild(bytes, moov, 'mvhd', 'the moov');
  const mvhdPayload = boxPayload(bytes, mvhd);
  const movieTimescale = mvhdPayload.readUInt32BE(mvhdPayload[0] === 1 ? 20 : 12);
  const trex = new Map<number, TrackDefaults>();
  const mvex = findChild(bytes, moov, 'mvex');
  if (mvex) {
    for (const box of findChildren(bytes, mvex, 'trex')) {
      const p = boxPayload(bytes, box);
      trex.set(p.readUInt32BE(4), {
        sampleDescriptionIndex: p.readUInt32BE(8),
        sampleDurationTicks: p.readUInt32BE(12),
        sampleSize: p.readUInt32BE(16),
        sampleFlags: p.readUInt32BE(20),
      });
    }
  }
  const tracks = findChildren(bytes, moov, 'trak').map((trak) => parseTrack(bytes, trak, trex));
  if (tracks.length === 0) throw corrupt('the init segment has no tracks');
  return { bytes, tracks, movieTimescale };
}

function parseTrack(bytes: Buffer, trak: BoxHeader, trex: Map<number, TrackDefaults>): TrackInfo {
  const tkhd = boxPayload(bytes, requireChild(bytes, trak, 'tkhd', 'a trak'));
  const tkhdVersion = tkhd[0];
  const trackId = tkhd.readUInt32BE(tkhdVersion === 1 ? 20 : 12);
  const afterDuration = tkhdVersion === 1 ? 36 : 24;
  const matrix: number[] = [];
  for (let i = 0; i < 9; i += 1) matrix.push(tkhd.readUInt32BE(afterDuration + 16 + i * 4));
  const header: TrackHeaderFacts = {
    flags: tkhd.readUIntBE(1, 3),
    layer: tkhd.readInt16BE(afterDuration + 8),
    alternateGroup: tkhd.readInt16BE(afterDuration + 10),
    volume: tkhd.readInt16BE(afterDuration + 12) / 0x100,
    matrix,
    displayWidth: tkhd.readUInt32BE(afterDuration + 52) / 0x10000,
    displayHeight: tkhd.readUInt32BE(afterDuration + 56) / 0x10000,
  };
  const what = `track ${trackId}`;
  const mdia = requireChild(bytes, trak, 'mdia', what);
  const mdhd = boxPayload(bytes, requireChild(bytes, mdia, 'mdhd', what));
  const mdhdVersion = mdhd[0];
  const timescale = mdhd.readUInt32BE(mdhdVersion === 1 ? 20 : 12);
  if (timescale === 0) throw corrupt(`${what} has timescale 0`);
  const language = unpackLanguage(mdhd.readUInt16BE(mdhdVersion === 1 ? 32 : 20));
  const hdlr = boxPayload(bytes, requireChild(bytes, mdia, 'hdlr', what));
  const handlerType = hdlr.toString('latin1', 8, 12);
  const handlerName = hdlr.toString('utf8', 24).replace(/\0+$/, '');
  const kind: TrackKind = handlerType === 'vide' ? 'video' : handlerType === 'soun' ? 'audio' : 'other';
  const stsdBox = findPath(bytes, mdia, ['minf', 'stbl', 'stsd']);
  if (!stsdBox) throw corrupt(`${what} has no sample description (mdia/minf/stbl/stsd)`);
  const stsd = bytes.subarray(stsdBox.start, boxEnd(stsdBox));
  const entries = listBoxes(bytes, stsdBox.start + stsdBox.headerSize + 8, boxEnd(stsdBox));
  const entry = entries[0];
  if (!entry) throw corrupt(`${what} has an empty sample description`);
  const description = describeSampleEntry(bytes, entry, kind);
  return {
    trackId,
    kind,
    handlerType,
    handlerName,
    timescale,
    language,
    ...description,
    sampleEntryType: entry.type,
    stsd,
    sampleDescriptionCount: entries.length,
    header,
    defaults: trex.get(trackId) ?? {
      sampleDescriptionIndex: 1,
      sampleDurationTicks: 0,
      sampleSize: 0,
      sampleFlags: 0,
    },
  };
}

function unpackLanguage(packed: number): string {
  if (packed === 0 || packed === 0x7fff) return 'und';
  const letters = [(packed >> 10) & 31, (packed >> 5) & 31, packed & 31];
  return String.fromCharCode(...letters.map((c) => c + 0x60));
}

type SampleEntryFacts = Pick<
  TrackInfo,
  'codec' | 'codecString' | 'width' | 'height' | 'sampleRate' | 'channels'
>;

/** Sample entry layouts (ISO 14496-12 §12.1.3, §12.2.3): fields before the child boxes. */
const VISUAL_ENTRY_FIELDS_BYTES = 78;
const AUDIO_ENTRY_FIELDS_BYTES = 28;

function describeSampleEntry(bytes: Buffer, entry: BoxHeader, kind: TrackKind): SampleEntryFacts {
  const p = boxPayload(bytes, entry);
  const type = entry.type;
  if (kind === 'video' || ['avc1', 'avc3', 'hvc1', 'hev1'].includes(type)) {
    const width = p.readUInt16BE(24);
    const height = p.readUInt16BE(26);
    const children = listBoxes(
      bytes,
      entry.start + entry.headerSize + VISUAL_ENTRY_FIELDS_BYTES,
      boxEnd(entry),
    );
    const config = (t: string) => {
      const box = children.find((b) => b.type === t);
      if (!box) throw corrupt(`the '${type}' sample entry has no '${t}' box`);
      return boxPayload(bytes, box);
    };
    if (type === 'avc1' || type === 'avc3') {
      return { codec: 'h264', codecString: `${type}.${hex(config('avcC').subarray(1, 4))}`, width, height };
    }
    if (type === 'hvc1' || type === 'hev1') {
      return { codec: 'h265', codecString: `${type}.${hevcCodecParameters(config('hvcC'))}`, width, height };
    }
    return { codec: type, codecString: type, width, height };
  }
  if (kind === 'audio' || ['mp4a', 'Opus'].includes(type)) {
    // QuickTime sound descriptions version 1 and 2 insert fields before the children.
    const soundVersion = p.readUInt16BE(8);
    const extra = soundVersion === 1 ? 16 : soundVersion === 2 ? 36 : 0;
    let channels = p.readUInt16BE(16);
    let sampleRate = soundVersion === 2 ? Math.round(p.readDoubleBE(32)) : p.readUInt32BE(24) >>> 16;
    const children = listBoxes(
      bytes,
      entry.start + entry.headerSize + AUDIO_ENTRY_FIELDS_BYTES + extra,
      boxEnd(entry),
    );
    if (type === 'mp4a') {
      const esds = children.find((b) => b.type === 'esds');
      if (!esds) throw corrupt("the 'mp4a' sample entry has no 'esds' box");
      const config = parseEsds(boxPayload(bytes, esds));
      // The entry holds the output rate (twice the core rate for HE-AAC), so it wins for the rate; but
      // ffmpeg writes channelcount 2 in every mp4a entry, so for channels the decoder config wins.
      if (!sampleRate && config.sampleRate) sampleRate = config.sampleRate;
      if (config.channels) channels = config.channels;
      return { codec: config.codec, codecString: config.codecString, sampleRate, channels };
    }
    if (type === 'Opus') {
      const dOps = children.find((b) => b.type === 'dOps');
      if (dOps) channels = boxPayload(bytes, dOps).readUInt8(1);
      // Opus always decodes at 48 kHz; the entry's rate field is only informative.
      return { codec: 'opus', codecString: 'opus', sampleRate: 48000, channels };
    }
    return { codec: type, codecString: type, sampleRate, channels };
  }
  return { codec: type, codecString: type };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase();
}

/** ISO 14496-15 Annex E: profile space+idc, reversed compatibility flags, tier+level, constraint bytes. */
function hevcCodecParameters(hvcC: Buffer): string {
  const first = hvcC.readUInt8(1);
  const profileSpace = ['', 'A', 'B', 'C'][first >> 6] ?? '';
  const tier = first & 0x20 ? 'H' : 'L';
  const profileIdc = first & 0x1f;
  const compatibility = hvcC.readUInt32BE(2);
  let reversed = 0;
  for (let bit = 0; bit < 32; bit += 1) {
    if (compatibility & (1 << bit)) reversed |= 1 << (31 - bit);
  }
  const constraints = [...hvcC.subarray(6, 12)];
  while (constraints.length > 0 && constraints.at(-1) === 0) constraints.pop();
  const level = hvcC.readUInt8(12);
  return [
    `${profileSpace}${profileIdc}`,
    (reversed >>> 0).toString(16).toUpperCase(),
    `${tier}${level}`,
    ...constraints.map((c) => c.toString(16).toUpperCase().padStart(2, '0')),
  ].join('.');
}

const AAC_OBJECT_TYPES = new Set([0x40, 0x66, 0x67, 0x68]);
const MP3_OBJECT_TYPES = new Set([0x69, 0x6b]);
const AAC_SAMPLE_RATES = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

interface EsdsFacts {
  codec: string;
  codecString: string;
  sampleRate?: number;
  channels?: number;
}

/** Reads the decoder config of an esds (ISO 14496-1 descriptors) far enough to name the codec. */
function parseEsds(esds: Buffer): EsdsFacts {
  let pos = 4;
  const readDescriptor = (): { tag: number; start: number; end: number } => {
    const tag = esds.readUInt8(pos);
    pos += 1;
    let length = 0;
    for (let i = 0; i < 4; i += 1) {
      const b = esds.readUInt8(pos);
      pos += 1;
      length = (length << 7) | (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    return { tag, start: pos, end: pos + length };
  };
  const es = readDescriptor();
  if (es.tag !== 0x03) throw corrupt(`esds starts with descriptor tag ${es.tag}, not ES_Descriptor (3)`);
  const esFlags = esds.readUInt8(pos + 2);
  pos += 3;
  if (esFlags & 0x80) pos += 2;
  if (esFlags & 0x40) pos += 1 + esds.readUInt8(pos);
  if (esFlags & 0x20) pos += 2;
  const decoderConfig = readDescriptor();
  if (decoderConfig.tag !== 0x04) throw corrupt('esds has no DecoderConfigDescriptor');
  const objectType = esds.readUInt8(pos);
  const oti = objectType.toString(16).toUpperCase().padStart(2, '0');
  pos += 13;
  if (MP3_OBJECT_TYPES.has(objectType)) return { codec: 'mp3', codecString: `mp4a.${oti}` };
  if (!AAC_OBJECT_TYPES.has(objectType)) return { codec: 'mp4a', codecString: `mp4a.${oti}` };
  if (objectType !== 0x40 || pos >= decoderConfig.end) return { codec: 'aac', codecString: `mp4a.${oti}` };
  const specific = readDescriptor();
  if (specific.tag !== 0x05) return { codec: 'aac', codecString: `mp4a.${oti}` };
  const bits = new BitReader(esds.subarray(specific.start, specific.end));
  let audioObjectType = bits.read(5);
  if (audioObjectType === 31) audioObjectType = 32 + bits.read(6);
  const rateIndex = bits.read(4);
  const sampleRate = rateIndex === 15 ? bits.read(24) : AAC_SAMPLE_RATES[rateIndex];
  const channelConfig = bits.read(4);
  const channels =
    channelConfig > 0 && channelConfig < 7 ? channelConfig : channelConfig === 7 ? 8 : undefined;
  return { codec: 'aac', codecString: `mp4a.40.${audioObjectType}`, sampleRate, channels };
}

class BitReader {
  private bitOffset = 0;
  constructor(private readonly bytes: Buffer) {}

  read(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i += 1) {
      const byte = this.bytes.readUInt8(this.bitOffset >> 3);
      value = value * 2 + ((byte >> (7 - (this.bitOffset & 7))) & 1);
      this.bitOffset += 1;
    }
    return value;
  }
}
