import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { FfmpegBinary } from './ffmpeg-binary.js';
import { fileSourceArgs, ingestArgs, testPatternArgs, type AudioMode } from './ffmpeg-args.js';
import type { CommandPlan } from './supervisor.js';

const execFileAsync = promisify(execFile);

export interface SourceSpec {
  url: string;
  transport: 'tcp' | 'udp';
  audio: AudioMode;
  user?: string | undefined;
  password?: string | undefined;
}

/** The URL with the stream's user and password applied (fields win over userinfo in the URL). */
export function urlWithCredentials(spec: SourceSpec): string {
  if (spec.user === undefined && spec.password === undefined) return spec.url;
  const url = new URL(spec.url);
  if (spec.user !== undefined) url.username = encodeURIComponent(spec.user);
  if (spec.password !== undefined) url.password = encodeURIComponent(spec.password);
  return url.toString();
}

/** The video codec of a local file as ffmpeg names it ('h264', 'hevc', 'mpeg4'…). */
async function fileVideoCodec(ffmpegPath: string, path: string): Promise<string | null> {
  try {
    await execFileAsync(ffmpegPath, ['-hide_banner', '-i', path], { timeout: 10_000 });
  } catch (err) {
    // ffmpeg with only an input exits 1 after printing the stream list on stderr.
    const stderr = (err as { stderr?: string }).stderr ?? '';
    return /Stream #\d+:\d+[^:]*: Video: (\w+)/.exec(stderr)?.[1] ?? null;
  }
  return null;
}

function testPatternOptions(url: URL): { width: number; height: number; fps: number } {
  const size = /^(\d+)x(\d+)$/.exec(url.searchParams.get('size') ?? '') ?? [];
  const fps = Number(url.searchParams.get('fps') ?? 10);
  return {
    width: Number(size[1] ?? 1280),
    height: Number(size[2] ?? 720),
    fps: Number.isFinite(fps) && fps > 0 ? fps : 10,
  };
}

/**
 * How to pull a stream, by URL scheme: cameras (rtsp, rtsps, http), a looped local file, or a
 * synthetic pattern. Files are probed once here because the plan must know whether to copy.
 */
export async function planSource(
  spec: SourceSpec,
  ffmpeg: FfmpegBinary,
  ioTimeoutMs: number,
): Promise<CommandPlan> {
  const url = new URL(spec.url);
  switch (url.protocol) {
    case 'file:': {
      const path = fileURLToPath(url);
      const codec = await fileVideoCodec(ffmpeg.path, path);
      const copyVideo = codec === 'h264' || codec === 'hevc';
      return { ffmpegPath: ffmpeg.path, args: () => fileSourceArgs(path, { copyVideo }) };
    }
    case 'testsrc:':
      return { ffmpegPath: ffmpeg.path, args: () => testPatternArgs(testPatternOptions(url)) };
    default: {
      const source = { url: urlWithCredentials(spec), transport: spec.transport, audio: spec.audio };
      return {
        ffmpegPath: ffmpeg.path,
        args: ({ audioNeedsTranscode }) =>
          ingestArgs(source, { ffmpegMajor: ffmpeg.major, ioTimeoutMs, audioNeedsTranscode }),
      };
    }
  }
}
