import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FRAGMENTED_MP4_FORMAT } from '../../src/ingest/ffmpeg-args.js';
import { BoxSplitter, parseFragment, parseInitSegment } from '../../src/media/mp4/index.js';
import { sharedFootageDir } from './footage.js';
import { FFMPEG, FFPROBE } from './media-tools.js';

const run = promisify(execFile);

/** The output options of Vigil's recorder, to a file instead of a pipe. */
export const RECORDER_OUTPUT_ARGS = FRAGMENTED_MP4_FORMAT;

export const FOOTAGE_DIR = sharedFootageDir();

/** Why the real-footage variants skip: the same checks have run on generated footage. */
export const NO_REAL_FOOTAGE =
  'real camera footage (../shared/footage) is not here; the same checks ran on ffmpeg-generated footage';

export function tempDir(prefix = 'vigil-mp4-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export async function ffmpeg(args: readonly string[]): Promise<{ stderr: string }> {
  const { stderr } = await run(FFMPEG, ['-hide_banner', '-nostdin', '-y', ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return { stderr };
}

export async function ffprobeJson<T>(path: string, args: readonly string[]): Promise<T> {
  const { stdout } = await run(FFPROBE, ['-v', 'error', '-of', 'json', ...args, path], {
    maxBuffer: 256 * 1024 * 1024,
  });
  return JSON.parse(stdout) as T;
}

export interface RecordingSpec {
  codec: 'h264' | 'h265';
  durationS: number;
  audio?: boolean;
  /** 48 kHz by default. */
  audioSampleRate?: number;
  /** lavfi video source; testsrc2 by default. */
  source?: string;
  size?: string;
  /** B-frames between references (2 by default; 0 gives no composition offsets at all). */
  bframes?: number;
  /** Passed as -video_track_timescale (ffmpeg picks 10240 for 10 fps otherwise). */
  videoTimescale?: number;
}

/**
 * Encodes synthetic video (10 fps, a keyframe every 20 frames, 2 B-frames) plus an optional AAC
 * sine, straight into fragmented MP4 with the recorder's muxer options.
 */
export async function makeRecording(path: string, spec: RecordingSpec): Promise<string> {
  const size = spec.size ?? '320x240';
  const source = spec.source ?? 'testsrc2';
  const args = ['-f', 'lavfi', '-i', `${source}=size=${size}:rate=10`];
  if (spec.audio)
    args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${spec.audioSampleRate ?? 48000}`);
  args.push('-t', String(spec.durationS), '-pix_fmt', 'yuv420p');
  if (spec.codec === 'h264') {
    args.push(
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-g',
      '20',
      '-keyint_min',
      '20',
      '-sc_threshold',
      '0',
      '-bf',
      String(spec.bframes ?? 2),
    );
  } else {
    args.push('-c:v', 'libx265', '-preset', 'veryfast', '-tag:v', 'hvc1');
    args.push('-x265-params', 'keyint=20:min-keyint=20:scenecut=0:bframes=2:log-level=error');
  }
  if (spec.audio) args.push('-c:a', 'aac', '-b:a', '64k');
  if (spec.videoTimescale) args.push('-video_track_timescale', String(spec.videoTimescale));
  await ffmpeg([...args, ...RECORDER_OUTPUT_ARGS, path]);
  return path;
}

/** Remuxes (stream copy) part of a real file into the recorder's fragmented MP4. */
export async function remuxRecording(input: string, path: string, durationS: number): Promise<string> {
  await ffmpeg([
    '-i',
    input,
    '-t',
    String(durationS),
    '-map',
    '0:v:0',
    '-map',
    '0:a:0?',
    '-c',
    'copy',
    ...RECORDER_OUTPUT_ARGS,
    path,
  ]);
  return path;
}

export interface SplitStream {
  init: Buffer;
  /** moof + mdat pairs, as the ingest supervisor hands them to the recorder. */
  fragments: Buffer[];
}

/** Cuts an ffmpeg fragmented MP4 the way the ingest supervisor does (other boxes, like mfra, are dropped). */
export function splitStream(bytes: Buffer): SplitStream {
  const boxes = new BoxSplitter().push(bytes);
  const init = Buffer.concat(boxes.filter((b) => b.type === 'ftyp' || b.type === 'moov').map((b) => b.bytes));
  const fragments: Buffer[] = [];
  let moof: Buffer | null = null;
  for (const box of boxes) {
    if (box.type === 'moof') moof = box.bytes;
    else if (box.type === 'mdat' && moof) {
      fragments.push(Buffer.concat([moof, box.bytes]));
      moof = null;
    }
  }
  return { init, fragments };
}

/** Writes a segment file as the recorder would: the init, then fragments [from, to). */
export function writeSegment(
  path: string,
  stream: SplitStream,
  from: number,
  to = stream.fragments.length,
): string {
  writeFileSync(path, Buffer.concat([stream.init, ...stream.fragments.slice(from, to)]));
  return path;
}

/** Index of the first fragment that starts with a keyframe at or after `seconds` of decode time. */
export function keyframeFragmentAtSecond(stream: SplitStream, seconds: number): number {
  const init = parseInitSegment(stream.init);
  const video = init.tracks.find((t) => t.kind === 'video');
  if (!video) throw new Error('no video track');
  const index = stream.fragments.findIndex((bytes) => {
    const fragment = parseFragment(bytes, 0, init);
    const run = fragment.tracks.find((t) => t.trackId === video.trackId);
    return (
      fragment.startsWithKeyframe && run !== undefined && run.baseDecodeTime >= seconds * video.timescale
    );
  });
  return index === -1 ? stream.fragments.length : index;
}

export function readSplit(path: string): SplitStream {
  return splitStream(readFileSync(path));
}

export function footage(name: string): string | null {
  if (FOOTAGE_DIR === null) return null;
  const path = join(FOOTAGE_DIR, name);
  return existsSync(path) ? path : null;
}

export interface ProbedPacket {
  pts: number;
  dts: number;
  duration?: number;
  size: string;
  pos: string;
  flags: string;
}

/** ffprobe's packets of one stream, in file order. */
export async function probePackets(path: string, stream: 'v:0' | 'a:0'): Promise<ProbedPacket[]> {
  const out = await ffprobeJson<{ packets: ProbedPacket[] }>(path, [
    '-select_streams',
    stream,
    '-show_entries',
    'packet=pts,dts,duration,size,pos,flags',
  ]);
  return out.packets;
}

/** Decoded frame counts per stream (ffprobe -count_frames). */
export async function countFrames(
  path: string,
): Promise<Array<{ codec_type: string; nb_read_frames: string }>> {
  const out = await ffprobeJson<{ streams: Array<{ codec_type: string; nb_read_frames: string }> }>(path, [
    '-count_frames',
    '-show_entries',
    'stream=codec_type,nb_read_frames',
  ]);
  return out.streams;
}
