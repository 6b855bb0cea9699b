import { execFile } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { protocolWhitelist, urlOrigin, type CameraNetworks } from '../config/url.js';
import { DEFAULT_SNAPSHOT_INTERVAL_MS, type IngestKind, type SourceKind } from '../config/normalise.js';
import type { FfmpegBinary } from './ffmpeg-binary.js';
import {
  fileSourceArgs,
  hlsArgs,
  ingestArgs,
  mjpegArgs,
  snapshotStdinArgs,
  testPatternArgs,
  type AudioMode,
} from './ffmpeg-args.js';
import { detectHttpKind, HttpCameraClient, type HttpSourceKind } from './http-source.js';
import { snapshotFeeder } from './snapshot-feed.js';
import type { StreamError } from './stream-errors.js';
import type { CommandPlan } from './supervisor.js';

const execFileAsync = promisify(execFile);

export interface SourceSpec {
  url: string;
  transport: 'tcp' | 'udp';
  audio: AudioMode;
  /**
   * Default ffmpeg; native needs an rtsp:// URL (config validation checks it); auto is native
   * where it can be (rtsp:// over TCP) with ffmpeg as the fallback.
   */
  ingest?: IngestKind | undefined;
  user?: string | undefined;
  password?: string | undefined;
  /** What an http(s) URL serves; default `auto` (detected before the first connection). */
  kind?: SourceKind | undefined;
  /** The poll interval of a snapshot camera; default 1000. */
  snapshotIntervalMs?: number | undefined;
}

/** The URL with the stream's user and password applied (fields win over userinfo in the URL). */
export function urlWithCredentials(spec: SourceSpec): string {
  if (spec.user === undefined && spec.password === undefined) return spec.url;
  const url = new URL(spec.url);
  if (spec.user !== undefined) url.username = encodeURIComponent(spec.user);
  if (spec.password !== undefined) url.password = encodeURIComponent(spec.password);
  return url.toString();
}

/** The video codec of a file or URL as ffmpeg names it ('h264', 'hevc', 'mpeg4'…), null if unknown. */
async function videoCodec(ffmpegPath: string, input: string, whitelist: string): Promise<string | null> {
  try {
    await execFileAsync(ffmpegPath, ['-hide_banner', '-protocol_whitelist', whitelist, '-i', input], {
      timeout: 10_000,
    });
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

export type AddressLookup = (host: string) => Promise<string[]>;

async function lookupAll(host: string): Promise<string[]> {
  // getaddrinfo, as ffmpeg resolves the name, and every address: ffmpeg may try any of them.
  return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
}

/**
 * Whether a camera URL's host resolves into security.cameraNetworks (always true without the
 * setting, and for file: and testsrc:, which connect to nothing). Every address the name has must
 * be inside. ffmpeg resolves the name again when it connects, so a DNS server that answers
 * differently the second time (rebinding) is not stopped here; checking before every connection
 * narrows that window, and the networks of a VLAN without such a DNS server close it.
 */
export async function checkCameraNetwork(
  url: string,
  networks: CameraNetworks | undefined,
  resolve: AddressLookup = lookupAll,
): Promise<StreamError | null> {
  const origin = urlOrigin(url);
  if (!networks || !origin) return null;
  const literal = isIP(origin.host) !== 0;
  let addresses: string[];
  try {
    addresses = literal ? [origin.host] : await resolve(origin.host);
  } catch (err) {
    const reason = (err as { code?: string }).code ?? (err as Error).message;
    return {
      kind: 'dns',
      message:
        `host name '${origin.host}' cannot be resolved (${reason}), so it cannot be checked against ` +
        `security.cameraNetworks (${networks.toString()}): check the name or use the camera's IP address`,
    };
  }
  const outside = addresses.find((address) => !networks.allows(address));
  if (addresses.length === 0 || outside !== undefined) {
    const where = literal
      ? `address ${origin.host}`
      : `host '${origin.host}' resolves to ${outside ?? 'nothing'}, which`;
    return {
      kind: 'network_refused',
      message:
        `camera ${where} is outside the networks cameras may be on ` +
        `(security.cameraNetworks: ${networks.toString()}): Vigil does not connect there`,
    };
  }
  return null;
}

/**
 * How to pull a stream, by URL scheme: cameras (rtsp, rtsps, http), a looped local file, or a
 * synthetic pattern. Files are probed once here because the plan must know whether to copy.
 * With cameraNetworks, each connection to a camera is preceded by checkCameraNetwork().
 */
export async function planSource(
  spec: SourceSpec,
  ffmpeg: FfmpegBinary,
  ioTimeoutMs: number,
  options: { cameraNetworks?: CameraNetworks | undefined } = {},
): Promise<CommandPlan> {
  const url = new URL(spec.url);
  switch (url.protocol) {
    case 'file:': {
      const path = fileURLToPath(url);
      const codec = await videoCodec(ffmpeg.path, path, 'file');
      const copyVideo = codec === 'h264' || codec === 'hevc';
      return {
        ffmpegPath: ffmpeg.path,
        args: () => fileSourceArgs(path, { copyVideo }),
        transcodes: () => !copyVideo,
      };
    }
    case 'testsrc:':
      return {
        ffmpegPath: ffmpeg.path,
        args: () => testPatternArgs(testPatternOptions(url)),
        transcodes: () => true,
      };
    case 'http:':
    case 'https:':
      return planHttpSource(spec, ffmpeg, ioTimeoutMs, options.cameraNetworks);
    default: {
      const source = { url: urlWithCredentials(spec), transport: spec.transport, audio: spec.audio };
      const networks = options.cameraNetworks;
      const auto = spec.ingest === 'auto';
      const native = url.protocol === 'rtsp:' && (spec.ingest === 'native' || auto);
      const nativeSource = {
        url: source.url,
        transport: spec.transport,
        ioTimeoutMs,
        audioRequired: auto && spec.audio !== 'off',
      };
      return {
        ffmpegPath: ffmpeg.path,
        ...(networks ? { preflight: () => checkCameraNetwork(spec.url, networks) } : {}),
        ...(native ? { native: nativeSource, fallbackToFfmpeg: auto } : {}),
        args: ({ audioNeedsTranscode }) =>
          ingestArgs(source, { ffmpegMajor: ffmpeg.major, ioTimeoutMs, audioNeedsTranscode }),
      };
    }
  }
}

/** The URL without user info, and the credentials from the stream's fields or else from the URL. */
function splitCredentials(spec: SourceSpec): { url: string; user?: string; password?: string } {
  const url = new URL(spec.url);
  const user = spec.user ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const password = spec.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  url.username = '';
  url.password = '';
  return {
    url: url.toString(),
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

/** Detection failures that ffmpeg would meet too: reported at once, without starting it. */
const DETECTION_STOPS = new Set([
  'unauthorized',
  'forbidden',
  'connection_refused',
  'unreachable',
  'dns',
  'timeout',
]);

/**
 * http(s) sources: MJPEG and snapshots are transcoded to H.264, HLS is copied when it is
 * H.264/H.265, anything else goes to ffmpeg as before. With kind `auto`, the first preflight asks
 * the camera what it serves (and a failure there is the stream's error, so an unreachable camera
 * or a wrong password reads the same as for ffmpeg); what it learns holds for the stream's life.
 */
function planHttpSource(
  spec: SourceSpec,
  ffmpeg: FfmpegBinary,
  ioTimeoutMs: number,
  networks: CameraNetworks | undefined,
): CommandPlan {
  const plain = splitCredentials(spec);
  const credentials = plain.user !== undefined ? { user: plain.user, password: plain.password ?? '' } : null;
  const client = new HttpCameraClient(plain.url, credentials, ioTimeoutMs);
  const source = { url: urlWithCredentials(spec), transport: spec.transport, audio: spec.audio };
  let kind: HttpSourceKind | null = spec.kind === undefined || spec.kind === 'auto' ? null : spec.kind;
  let copyHlsVideo: boolean | null = null;
  const preflight = async (): Promise<StreamError | null> => {
    const refused = networks ? await checkCameraNetwork(spec.url, networks) : null;
    if (refused) return refused;
    if (kind === null) {
      const detected = await detectHttpKind(client, plain.url);
      if (typeof detected === 'string') kind = detected;
      // Other HTTP answers (a CGI's 500…) go to ffmpeg as before, whose error and log say more.
      else if (DETECTION_STOPS.has(detected.kind)) return detected;
    }
    if (kind === 'hls' && copyHlsVideo === null) {
      const codec = await videoCodec(ffmpeg.path, source.url, protocolWhitelist(source.url) ?? 'http');
      // Unknown (the probe failed): try copying; ffmpeg's own error then tells what is wrong.
      if (codec !== null) copyHlsVideo = codec === 'h264' || codec === 'hevc';
    }
    return null;
  };
  const intervalMs = spec.snapshotIntervalMs ?? DEFAULT_SNAPSHOT_INTERVAL_MS;
  return {
    ffmpegPath: ffmpeg.path,
    preflight,
    feed: () => (kind === 'snapshot' ? snapshotFeeder(client, intervalMs) : null),
    transcodes: () => kind === 'mjpeg' || kind === 'snapshot' || (kind === 'hls' && copyHlsVideo === false),
    args: ({ audioNeedsTranscode }) => {
      const opts = { ffmpegMajor: ffmpeg.major, ioTimeoutMs, audioNeedsTranscode };
      switch (kind) {
        case 'mjpeg':
          return mjpegArgs(source, opts);
        case 'snapshot':
          return snapshotStdinArgs(opts);
        case 'hls':
          return hlsArgs(source, { ...opts, copyVideo: copyHlsVideo ?? true });
        default:
          return ingestArgs(source, opts);
      }
    },
  };
}
