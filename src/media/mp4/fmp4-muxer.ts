/**
 * Fragmented MP4 out of elementary video: the init segment (ftyp + moov with mvex) shaped like
 * ffmpeg's (`+frag_keyframe+empty_moov+default_base_moof`), so segments, the index and every
 * reader of them cannot tell native ingest from ffmpeg's. The fragments that follow it are built
 * in fragment-builder.ts. Pure.
 */
import { avcCPayload } from './avc-config.js';
import { box, FieldWriter, fullBox } from './writer.js';

export interface H264InitOptions {
  /** SPS and PPS NAL units (header byte included), as avcC holds them. */
  sps: readonly Buffer[];
  pps: readonly Buffer[];
  width: number;
  height: number;
  /** Ticks per second of decode times: 90000 for video from RTP. */
  timescale: number;
}

export interface H265InitOptions {
  vps: readonly Buffer[];
  sps: readonly Buffer[];
  pps: readonly Buffer[];
  width: number;
  height: number;
  timescale: number;
  /** The 12 bytes of general profile/tier/level from the SPS (profile_tier_level's first part). */
  generalProfileTierLevel: Buffer;
  /** From the SPS: 1 for 4:2:0. */
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
}

export const VIDEO_TRACK_ID = 1;
const MOVIE_TIMESCALE = 1000;
const UNITY_MATRIX = [0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000];
/** Sample flags as ffmpeg writes them: sync samples depend on nothing, others are non-sync. */
export const SYNC_SAMPLE_FLAGS = 0x0200_0000;
export const NON_SYNC_SAMPLE_FLAGS = 0x0101_0000;
export const NAL_LENGTH_BYTES = 4;

function ftyp(codecBrand: string): Buffer {
  const brands = ['isom', 'iso2', codecBrand, 'mp41'];
  const w = new FieldWriter(8 + brands.length * 4).text('isom').u32(0x200);
  for (const brand of brands) w.text(brand);
  return box('ftyp', w.done());
}

function visualSampleEntry(type: string, width: number, height: number, config: Buffer): Buffer {
  const fields = new FieldWriter(78)
    .zeros(6)
    .u16(1) // data_reference_index
    .zeros(16)
    .u16(width)
    .u16(height)
    .u32(0x0048_0000) // 72 dpi
    .u32(0x0048_0000)
    .zeros(4)
    .u16(1) // frame_count
    .zeros(32) // compressorname
    .u16(0x18) // depth
    .i16(-1)
    .done();
  return box(type, fields, config);
}

function avcC(opts: H264InitOptions): Buffer {
  return box(
    'avcC',
    avcCPayload({ sps: [...opts.sps], pps: [...opts.pps], nalLengthBytes: NAL_LENGTH_BYTES }),
  );
}

function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value, 0);
  return b;
}

function hvcC(opts: H265InitOptions): Buffer {
  const ptl = opts.generalProfileTierLevel;
  const arrays: Array<[number, readonly Buffer[]]> = [
    [32, opts.vps],
    [33, opts.sps],
    [34, opts.pps],
  ];
  const parts: Buffer[] = [
    Buffer.from([1]),
    ptl.subarray(0, 12),
    // min_spatial_segmentation 0, parallelismType 0, chroma format, bit depths, avgFrameRate 0
    Buffer.from([
      0xf0,
      0x00,
      0xfc,
      0xfc | (opts.chromaFormatIdc & 3),
      0xf8 | ((opts.bitDepthLuma - 8) & 7),
      0xf8 | ((opts.bitDepthChroma - 8) & 7),
      0x00,
      0x00,
    ]),
    // constantFrameRate 0, numTemporalLayers 1, temporalIdNested 0, lengthSizeMinusOne 3
    Buffer.from([0x08 | (NAL_LENGTH_BYTES - 1), arrays.length]),
  ];
  for (const [type, nals] of arrays) {
    parts.push(Buffer.from([0x80 | type]), u16(nals.length));
    for (const nal of nals) parts.push(u16(nal.length), nal);
  }
  return box('hvcC', Buffer.concat(parts));
}

function moov(width: number, height: number, timescale: number, sampleEntry: Buffer): Buffer {
  const mvhd = new FieldWriter(96)
    .zeros(8)
    .u32(MOVIE_TIMESCALE)
    .u32(0)
    .u32(0x0001_0000)
    .u16(0x0100)
    .zeros(10);
  for (const word of UNITY_MATRIX) mvhd.u32(word);
  mvhd.zeros(24).u32(VIDEO_TRACK_ID + 1);
  const tkhd = new FieldWriter(80).zeros(8).u32(VIDEO_TRACK_ID).zeros(4).u32(0).zeros(8).zeros(8);
  for (const word of UNITY_MATRIX) tkhd.u32(word);
  tkhd.u32(width * 0x10000).u32(height * 0x10000);
  const mdhd = new FieldWriter(20).zeros(8).u32(timescale).u32(0).u16(0x55c4).u16(0).done();
  const hdlr = new FieldWriter(20).u32(0).text('vide').zeros(12).done();
  const emptyTable = (type: string, byteLength: number) => fullBox(type, 0, 0, Buffer.alloc(byteLength));
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, new FieldWriter(4).u32(1).done(), sampleEntry),
    emptyTable('stts', 4),
    emptyTable('stsc', 4),
    emptyTable('stsz', 8),
    emptyTable('stco', 4),
  );
  const dinf = box('dinf', fullBox('dref', 0, 0, new FieldWriter(4).u32(1).done(), fullBox('url ', 0, 1)));
  const trex = new FieldWriter(20).u32(VIDEO_TRACK_ID).u32(1).u32(0).u32(0).u32(0).done();
  return box(
    'moov',
    fullBox('mvhd', 0, 0, mvhd.done()),
    box(
      'trak',
      fullBox('tkhd', 0, 3, tkhd.done()),
      box(
        'mdia',
        fullBox('mdhd', 0, 0, mdhd),
        fullBox('hdlr', 0, 0, hdlr, Buffer.from('VideoHandler\0', 'latin1')),
        box('minf', fullBox('vmhd', 0, 1, Buffer.alloc(8)), dinf, stbl),
      ),
    ),
    box('mvex', fullBox('trex', 0, 0, trex)),
  );
}

/** ftyp + moov for one H.264 video track (avc1: parameter sets in the init, may repeat in-band). */
export function buildH264InitSegment(opts: H264InitOptions): Buffer {
  const entry = visualSampleEntry('avc1', opts.width, opts.height, avcC(opts));
  return Buffer.concat([ftyp('avc1'), moov(opts.width, opts.height, opts.timescale, entry)]);
}

/** ftyp + moov for one H.265 video track (hev1: parameter sets may also come in-band). */
export function buildH265InitSegment(opts: H265InitOptions): Buffer {
  const entry = visualSampleEntry('hev1', opts.width, opts.height, hvcC(opts));
  return Buffer.concat([ftyp('hev1'), moov(opts.width, opts.height, opts.timescale, entry)]);
}
