/**
 * ffmpeg command lines, built from named parts so each flag says why it is there. Golden-tested
 * as exact argument lists in test/unit/ffmpeg-args.test.ts.
 */
import { protocolWhitelist } from '../config/url.js';

export type AudioMode = 'auto' | 'copy' | 'aac' | 'off';

export interface IngestSource {
  /** The URL ffmpeg opens, credentials included (never logged). */
  url: string;
  transport: 'tcp' | 'udp';
  audio: AudioMode;
}

export interface IngestArgsOptions {
  ffmpegMajor: number;
  /** Socket timeout, so ffmpeg itself gives up on a dead camera. */
  ioTimeoutMs: number;
  /** Learnt at run time: the camera's audio codec cannot be stored in MP4 without transcoding. */
  audioNeedsTranscode: boolean;
}

const GLOBAL = ['-hide_banner', '-nostdin', '-loglevel', 'level+warning'];

/**
 * Every input gets the protocols its scheme needs and no more: ffmpeg otherwise follows whatever
 * a URL, a redirect or a playlist names (file:, concat:, subfile:…), letting a camera URL read
 * the recorder's own files. Inputs on stdin get `pipe` only.
 */
function whitelistFor(url: string): string[] {
  const whitelist = protocolWhitelist(url);
  if (whitelist === undefined) throw new Error(`no protocol whitelist for this URL's scheme`);
  return ['-protocol_whitelist', whitelist];
}
const PIPE_ONLY = ['-protocol_whitelist', 'pipe'];

/**
 * Fragmented MP4 on stdout: Vigil splits it into segments itself, so one connection feeds
 * recording, snapshots and (later) live view, and the pipe ends ffmpeg when Vigil dies.
 * frag_keyframe starts a fragment at every keyframe; frag_duration caps fragments at 100 ms
 * (one frame at 10 fps), because live view cannot show a frame before its fragment is complete:
 * the cap is what live latency adds, and it also bounds what a crash can lose. flush_packets
 * hands each fragment to the pipe at once instead of when ffmpeg's 32 KiB buffer fills.
 * default_base_moof makes fragments self-contained.
 */
export const FRAGMENTED_MP4_FORMAT = [
  '-f',
  'mp4',
  '-movflags',
  '+frag_keyframe+empty_moov+default_base_moof',
  '-frag_duration',
  '100000',
  '-flush_packets',
  '1',
];
const FRAGMENTED_MP4_OUT = [...FRAGMENTED_MP4_FORMAT, 'pipe:1'];

function audioArgs(mode: AudioMode, needsTranscode: boolean, video: string[] = ['-c:v', 'copy']): string[] {
  if (mode === 'off') return ['-map', '0:v:0', ...video];
  // '?' keeps cameras without audio working with the same command.
  const map = ['-map', '0:v:0', '-map', '0:a:0?', ...video];
  // G.711 and other telephone codecs have no MP4 mapping; AAC costs ~1% of a core at 8 kHz mono.
  return [...map, ...(audioCopied(mode, needsTranscode) ? ['-c:a', 'copy'] : ['-c:a', 'aac', '-b:a', '64k'])];
}

function audioCopied(mode: AudioMode, needsTranscode: boolean): boolean {
  return mode === 'copy' || (mode === 'auto' && !needsTranscode);
}

/** An http(s) input: ffmpeg gives up after ioTimeoutMs without data. */
function httpInputArgs(source: IngestSource, opts: IngestArgsOptions): string[] {
  return ['-rw_timeout', String(opts.ioTimeoutMs * 1000), ...whitelistFor(source.url), '-i', source.url];
}

function inputArgs(source: IngestSource, opts: IngestArgsOptions): string[] {
  const url = new URL(source.url);
  const timeoutUs = String(opts.ioTimeoutMs * 1000);
  switch (url.protocol) {
    case 'rtsp:':
    case 'rtsps:':
      return [
        '-rtsp_transport',
        source.transport,
        // ffmpeg 4 calls the socket timeout -stimeout; 5 renamed it -timeout.
        opts.ffmpegMajor >= 5 ? '-timeout' : '-stimeout',
        timeoutUs,
        ...whitelistFor(source.url),
        '-i',
        source.url,
      ];
    case 'http:':
    case 'https:':
      return httpInputArgs(source, opts);
    default:
      throw new Error(`not an ingest URL: ${url.protocol}`);
  }
}

/**
 * H.264 for sources that send something else (MJPEG, JPEG snapshots, other codecs in HLS), so
 * recording, live view, exports and analytics see what a camera would send. A keyframe every
 * 2 s of the source's own timestamps, whatever its frame rate, as a camera's GOP; passthrough
 * keeps each frame's time instead of filling a constant rate, so the recording has the real
 * frame rate. The bitrate is capped so a busy scene cannot flood the disk.
 */
export function h264TranscodeArgs(ffmpegMajor: number): string[] {
  return [
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-tune',
    'zerolatency',
    '-force_key_frames',
    'expr:gte(t,n_forced*2)',
    '-crf',
    '23',
    '-maxrate',
    '2000k',
    '-bufsize',
    '4000k',
    '-pix_fmt',
    'yuv420p',
    ...(ffmpegMajor >= 5 ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough']),
  ];
}

/**
 * An MJPEG camera over HTTP (multipart/x-mixed-replace). The parts carry no timestamps, and
 * ffmpeg would otherwise assume 25 fps: each frame is stamped with the time it arrived, so a
 * 5 fps camera records at 5 fps. Video only: multipart streams carry no audio.
 */
export function mjpegArgs(source: IngestSource, opts: IngestArgsOptions): string[] {
  return [
    ...GLOBAL,
    '-use_wallclock_as_timestamps',
    '1',
    ...httpInputArgs(source, opts),
    '-map',
    '0:v:0',
    ...h264TranscodeArgs(opts.ffmpegMajor),
    ...FRAGMENTED_MP4_OUT,
  ];
}

/**
 * JPEG snapshots that Vigil fetches and writes to stdin (see snapshot-feed.ts), stamped with
 * their arrival time: the poll interval is the frame rate. Probing is cut to the first image, or
 * ffmpeg would wait seconds of snapshots before its first output. The JPEG parser emits a frame
 * when the next one starts, so the recording lags one interval behind.
 */
export function snapshotStdinArgs(opts: { ffmpegMajor: number }): string[] {
  return [
    ...GLOBAL,
    '-use_wallclock_as_timestamps',
    '1',
    '-probesize',
    '32',
    '-analyzeduration',
    '0',
    '-f',
    'image2pipe',
    '-c:v',
    'mjpeg',
    ...PIPE_ONLY,
    '-i',
    'pipe:0',
    '-map',
    '0:v:0',
    ...h264TranscodeArgs(opts.ffmpegMajor),
    ...FRAGMENTED_MP4_OUT,
  ];
}

/**
 * An HLS playlist over HTTP(S): read in real time (-re; a finished playlist would otherwise be
 * read as fast as the network allows), video copied when it is H.264/H.265 and else transcoded,
 * audio as the stream's audio setting says.
 */
export function hlsArgs(source: IngestSource, opts: IngestArgsOptions & { copyVideo: boolean }): string[] {
  const video = opts.copyVideo ? ['-c:v', 'copy'] : h264TranscodeArgs(opts.ffmpegMajor);
  return [
    ...GLOBAL,
    '-re',
    ...httpInputArgs(source, opts),
    ...audioArgs(source.audio, opts.audioNeedsTranscode, video),
    ...(audioCopied(source.audio, opts.audioNeedsTranscode) ? ADTS_AAC_TO_MP4 : FRAGMENTED_MP4_OUT),
  ];
}

/**
 * HLS carries AAC in ADTS frames (MPEG-TS); MP4 wants raw frames and the AudioSpecificConfig in
 * the init segment, and ffmpeg 5 converts neither on its own for copied audio (it stops with
 * "Malformed AAC bitstream"). The filter learns the config from the first frame, after an
 * empty_moov init would already be out (its codec string then lacks the object type, mp4a.40,
 * which MSE refuses): delay_moov holds the init back until the first fragment.
 */
const ADTS_AAC_TO_MP4 = [
  '-bsf:a',
  'aac_adtstoasc',
  ...FRAGMENTED_MP4_FORMAT.map((arg) => (arg.startsWith('+frag_keyframe') ? `${arg}+delay_moov` : arg)),
  'pipe:1',
];

export function ingestArgs(source: IngestSource, opts: IngestArgsOptions): string[] {
  return [
    ...GLOBAL,
    ...inputArgs(source, opts),
    ...audioArgs(source.audio, opts.audioNeedsTranscode),
    ...FRAGMENTED_MP4_OUT,
  ];
}

/**
 * A virtual camera playing a file in a loop at its own frame rate (-re). H.264/H.265 files are
 * copied like a real camera's stream; other codecs are encoded to H.264 once, on the fly.
 */
export function fileSourceArgs(path: string, opts: { copyVideo: boolean; fps?: number }): string[] {
  const video = opts.copyVideo
    ? ['-c:v', 'copy']
    : ['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '20', '-pix_fmt', 'yuv420p'];
  return [
    ...GLOBAL,
    '-re',
    '-stream_loop',
    '-1',
    '-protocol_whitelist',
    'file',
    '-i',
    path,
    '-map',
    '0:v:0',
    ...video,
    '-an',
    ...FRAGMENTED_MP4_OUT,
  ];
}

/** A synthetic test pattern with a running clock, for the demo when no footage is given. */
export function testPatternArgs(opts: { width: number; height: number; fps: number }): string[] {
  return [
    ...GLOBAL,
    '-re',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${opts.width}x${opts.height}:rate=${opts.fps}`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    // A keyframe every 2 s, like a typical camera's GOP.
    '-g',
    String(opts.fps * 2),
    '-pix_fmt',
    'yuv420p',
    ...FRAGMENTED_MP4_OUT,
  ];
}

/** Decodes the frames of one GOP (init + fragments on stdin) and writes the last one as JPEG. */
export function snapshotArgs(frameCount: number): string[] {
  return [
    ...GLOBAL,
    '-f',
    'mp4',
    ...PIPE_ONLY,
    '-i',
    'pipe:0',
    '-vf',
    `select=eq(n\\,${Math.max(0, frameCount - 1)})`,
    '-frames:v',
    '1',
    '-f',
    'image2pipe',
    '-c:v',
    'mjpeg',
    '-q:v',
    '3',
    'pipe:1',
  ];
}

/**
 * Decodes fragmented MP4 (init + fragments on stdin) into raw RGB frames for analytics, about
 * `fps` per second, scaled to width×height. -copyts keeps the fragments' own decode times, so
 * showinfo's pts_time on stderr places every frame on the stream's timeline; the select filter
 * drops frames by time (cameras vary their rate), and passthrough stops ffmpeg from duplicating
 * frames to fill a constant rate.
 */
export function decodeFramesArgs(opts: {
  ffmpegMajor: number;
  fps: number;
  width: number;
  height: number;
}): string[] {
  const intervalS = (1 / opts.fps) * 0.95;
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'info',
    // Frame threads hold frames back (measured: 207 ms at the default, 9 ms with one thread); a
    // sub stream at 5 fps is cheap enough for one thread, and analytics wants the newest frame.
    '-threads',
    '1',
    '-copyts',
    '-f',
    'mp4',
    ...PIPE_ONLY,
    '-i',
    'pipe:0',
    '-an',
    '-vf',
    `select='isnan(prev_selected_t)+gte(t-prev_selected_t,${intervalS.toFixed(4)})',` +
      `scale=${opts.width}:${opts.height}:flags=area,showinfo`,
    ...(opts.ffmpegMajor >= 5 ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough']),
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ];
}
