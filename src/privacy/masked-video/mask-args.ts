/**
 * ffmpeg command lines that burn privacy masks into video. Pure: the callers spawn them. The mask
 * is one picture (mask-overlay.ts) read from a second pipe, so no temporary file holds it; the
 * overlay filter repeats its single frame over every video frame (eof_action=repeat).
 */
import { createHash } from 'node:crypto';
import { FRAGMENTED_MP4_FORMAT } from '../../ingest/ffmpeg-args.js';
import type { MaskPolygon } from '../mask-overlay.js';

/** The file descriptor ffmpeg reads the mask picture from (0-2 are stdin, stdout, stderr). */
export const MASK_PICTURE_FD = 3;

const GLOBAL = ['-hide_banner', '-nostdin', '-loglevel', 'level+warning'];
const PIPE_ONLY = ['-protocol_whitelist', 'pipe'];

/** Fragmented MP4 (an init, then fragments) on stdin as the first input. */
const FMP4_ON_STDIN = ['-f', 'mp4', ...PIPE_ONLY, '-i', 'pipe:0'];

/** The mask picture as ffmpeg's second input. */
const MASK_INPUT = ['-f', 'png_pipe', ...PIPE_ONLY, '-i', `pipe:${MASK_PICTURE_FD}`];

/**
 * The overlay: the stream's video under the mask picture. Audio, if any, is copied: masks hide
 * pixels, not sound.
 */
const OVERLAY = [
  '-filter_complex',
  '[0:v:0][1:v:0]overlay=eof_action=repeat:format=auto,format=yuv420p[masked]',
  '-map',
  '[masked]',
  '-map',
  '0:a:0?',
  '-c:a',
  'copy',
];

/**
 * H.264 for masked live view: ultrafast and zerolatency, because a viewer waits for every frame.
 * Keyframes where the camera put them (force_key_frames source, no scene-cut keyframes, no
 * keyframe interval of x264's own), so the masked stream's GOPs are the camera's and a viewer
 * who joins starts as soon as with the copy stream. CRF keeps quality steady; the cap keeps the
 * bitrate near the camera's when it is known.
 */
export function liveEncodeArgs(opts: { sourceKbps: number | null }): string[] {
  const cap =
    opts.sourceKbps !== null && opts.sourceKbps > 0
      ? [
          '-maxrate',
          `${Math.round(opts.sourceKbps * 1.2)}k`,
          '-bufsize',
          `${Math.round(opts.sourceKbps * 2)}k`,
        ]
      : [];
  return [
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-crf',
    '23',
    ...cap,
    '-force_key_frames',
    'source',
    '-g',
    '100000',
    '-sc_threshold',
    '0',
  ];
}

/**
 * Masked live view: the stream's fragmented MP4 (init, then fragments) on stdin, the mask picture
 * on fd 3, masked fragmented MP4 on stdout in the same shape as ingest's (fragment per keyframe,
 * at most 100 ms), so the live feed and the browser player take it as they take the camera's.
 * One decoder thread: frame threads hold frames back, which live view cannot afford.
 */
export function maskedLiveArgs(opts: {
  sourceKbps: number | null;
  ffmpegMajor: number;
  /** The input's video timescale, kept in the output (masked recording, see live-transcoder.ts). */
  timescale?: number;
}): string[] {
  return [
    ...GLOBAL,
    '-threads',
    '1',
    ...FMP4_ON_STDIN,
    ...MASK_INPUT,
    ...OVERLAY,
    ...liveEncodeArgs(opts),
    ...passthrough(opts.ffmpegMajor),
    ...(opts.timescale !== undefined ? ['-video_track_timescale', String(opts.timescale)] : []),
    ...FRAGMENTED_MP4_FORMAT,
    'pipe:1',
  ];
}

/**
 * One stored GOP (a segment's init and one HLS part on stdin) masked, as fragmented MP4 on stdout.
 * The settings never vary, so every part of a camera encodes with the same SPS/PPS and one init
 * serves a whole segment. The video timescale is the recording's, so decode times can be put
 * back onto the recording's timeline (ffmpeg's mp4 muxer starts at 0 whatever -copyts says).
 * passthrough keeps one output frame per input frame: no frames duplicated to a constant rate.
 */
export function maskedPartArgs(opts: { timescale: number; ffmpegMajor: number }): string[] {
  return [
    ...GLOBAL,
    ...FMP4_ON_STDIN,
    ...MASK_INPUT,
    ...OVERLAY,
    ...liveEncodeArgs({ sourceKbps: null }),
    ...passthrough(opts.ffmpegMajor),
    '-video_track_timescale',
    String(opts.timescale),
    '-f',
    'mp4',
    '-movflags',
    '+frag_keyframe+empty_moov+default_base_moof',
    'pipe:1',
  ];
}

/**
 * A whole MP4 file masked into another: an export. veryfast rather than ultrafast, since the file
 * is kept; faststart so it plays while it downloads.
 */
export function maskedFileArgs(inputPath: string, outputPath: string, ffmpegMajor: number): string[] {
  return [
    ...GLOBAL,
    '-y',
    '-protocol_whitelist',
    'file,pipe',
    '-i',
    inputPath,
    ...MASK_INPUT,
    ...OVERLAY,
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '23',
    '-force_key_frames',
    'source',
    ...passthrough(ffmpegMajor),
    '-movflags',
    '+faststart',
    '-f',
    'mp4',
    outputPath,
  ];
}

/**
 * One output frame per input frame, at the input's times: cameras vary their frame rate, and a
 * constant-rate output would duplicate or drop frames. ffmpeg 4 calls the option -vsync.
 */
function passthrough(ffmpegMajor: number): string[] {
  return ffmpegMajor >= 5 ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough'];
}

/**
 * A short stable name of a set of polygons: viewers with equal keys share one transcoder, and
 * cached masked parts are found by it. The order of the polygons does not matter; their points do.
 */
export function maskKey(polygons: readonly MaskPolygon[]): string {
  const canonical = polygons
    .filter((polygon) => polygon.length >= 3)
    .map((polygon) => JSON.stringify(polygon.map(([x, y]) => [round6(x), round6(y)])))
    .sort();
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex').slice(0, 16);
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
