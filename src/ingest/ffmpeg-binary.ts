import { execFile } from 'node:child_process';
import { accessSync, constants, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { VigilError } from '../errors/catalogue.js';

const execFileAsync = promisify(execFile);

export interface FfmpegBinary {
  path: string;
  /** Where it came from, for the log and the health page. */
  origin: 'config' | 'system' | 'npm';
  /** The version string ffmpeg prints, e.g. "5.1.9-0+deb12u1". */
  version: string;
  /** Major version: 4.x names the RTSP socket timeout -stimeout, 5+ calls it -timeout. */
  major: number;
  /** The binary shipped in @ffmpeg-installer (also when ingest.ffmpegPath points at it). */
  bundled: boolean;
}

/**
 * Said at start (warn) and on the system page while the bundled ffmpeg runs: it is a static 4.x
 * build from 2018 without security fixes since, and it parses what cameras send, which an
 * attacker on the camera network controls.
 */
export const BUNDLED_FFMPEG_WARNING =
  'the bundled ffmpeg (npm package @ffmpeg-installer) is in use: an old 4.x build without recent security ' +
  'fixes, and it parses untrusted data from the cameras. Install the system one (`sudo scripts/install-deps.sh`, ' +
  'or `apt-get install ffmpeg`) and restart Vigil: it is used whenever it is present.';

/** The warning for the system page and the log, or null when the ffmpeg in use is not the bundled one. */
export function ffmpegWarning(binary: Pick<FfmpegBinary, 'bundled'>): string | null {
  return binary.bundled ? BUNDLED_FFMPEG_WARNING : null;
}

async function probeVersion(path: string): Promise<string | null> {
  try {
    const { stdout } = await execFileAsync(path, ['-hide_banner', '-version'], { timeout: 10_000 });
    const match = /^ffmpeg version (\S+)/m.exec(stdout);
    return match?.[1] ?? 'unknown';
  } catch {
    return null;
  }
}

/** Major version from strings like "5.1.9-0+deb12u1", "n6.0", or a git build "N-47683-g0e8eb07980" (4.x era). */
export function parseMajorVersion(version: string): number {
  const match = /^n?(\d+)\./.exec(version);
  if (match) return Number(match[1]);
  // Static git snapshots do not say; the npm-shipped build is from 2018, i.e. 4.x.
  return 4;
}

/** The file a command name runs, looked up on PATH as execFile would; null when not found. */
function whichSync(command: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return null;
}

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

function npmShippedPath(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const installer = require('@ffmpeg-installer/ffmpeg') as { path: string };
    return installer.path;
  } catch {
    return null;
  }
}

/**
 * The ffmpeg to run: the configured path, else the system's (Debian's is newer and better
 * maintained), else the one shipped in the @ffmpeg-installer npm package.
 */
export async function locateFfmpeg(configuredPath?: string): Promise<FfmpegBinary> {
  const candidates: Array<{ path: string; origin: FfmpegBinary['origin'] }> = [];
  if (configuredPath) candidates.push({ path: configuredPath, origin: 'config' });
  else {
    candidates.push({ path: 'ffmpeg', origin: 'system' });
    const shipped = npmShippedPath();
    if (shipped) candidates.push({ path: shipped, origin: 'npm' });
  }

  const shipped = npmShippedPath();
  for (const candidate of candidates) {
    const version = await probeVersion(candidate.path);
    if (version !== null) {
      // Also when ingest.ffmpegPath or PATH lead to it (a link named ffmpeg, for instance).
      const file = candidate.path.includes('/') ? candidate.path : whichSync(candidate.path);
      const bundled =
        candidate.origin === 'npm' || (shipped !== null && file !== null && samePath(file, shipped));
      return { ...candidate, version, major: parseMajorVersion(version), bundled };
    }
  }
  throw new VigilError(
    'FFMPEG_NOT_FOUND',
    configuredPath
      ? `ingest.ffmpegPath '${configuredPath}' does not run; check the path`
      : 'no ffmpeg found: install it (apt-get install ffmpeg) or run npm install to get the bundled one',
  );
}
