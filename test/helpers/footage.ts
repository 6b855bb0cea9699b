import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { locateFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { reportStandIn } from './stand-ins.js';

const execFileAsync = promisify(execFile);

export interface FootagePaths {
  main: string;
  sub: string;
  /** True for the real camera footage in ../shared/footage, false for generated test patterns. */
  real: boolean;
}

/** The project's root: this file is <root>/test/helpers/footage.ts. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const SHARED_MAIN = 'vtest-main.mp4';
const SHARED_SUB = 'vtest-sub.mp4';
const SHARED_H265 = 'vtest-main-h265.mp4';

/** `<repo>/../shared/footage` when it holds the main and sub footage (development and CI), else null. */
export function sharedFootageDir(): string | null {
  const dir = resolve(repoRoot, '..', 'shared', 'footage');
  return existsSync(join(dir, SHARED_MAIN)) && existsSync(join(dir, SHARED_SUB)) ? dir : null;
}

interface PatternSpec {
  width: number;
  height: number;
  codec: 'h264' | 'h265';
}

const FPS = 10;
const GOP = 20;
const DURATION_S = 30;
const PATTERNS: Record<'main' | 'sub' | 'h265', PatternSpec> = {
  main: { width: 1280, height: 720, codec: 'h264' },
  sub: { width: 640, height: 360, codec: 'h264' },
  // Small: x265 is slow, and what matters is the codec path, not the picture.
  h265: { width: 640, height: 360, codec: 'h265' },
};

/** The resolutions generatedFootage() produces, for tests that check what a client sees. */
export const GENERATED_FOOTAGE = {
  fps: FPS,
  gop: GOP,
  durationS: DURATION_S,
  main: { width: PATTERNS.main.width, height: PATTERNS.main.height },
  sub: { width: PATTERNS.sub.width, height: PATTERNS.sub.height },
} as const;

function encodeArgs(spec: PatternSpec): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${spec.width}x${spec.height}:rate=${FPS}:duration=${DURATION_S}`,
    ...(spec.codec === 'h264'
      ? ['-c:v', 'libx264', '-preset', 'veryfast', '-sc_threshold', '0', '-keyint_min', String(GOP)]
      : [
          '-c:v',
          'libx265',
          '-preset',
          'ultrafast',
          '-tag:v',
          'hvc1',
          '-x265-params',
          `log-level=error:keyint=${GOP}:min-keyint=${GOP}:scenecut=0`,
        ]),
    '-pix_fmt',
    'yuv420p',
    // A fixed GOP, as cameras have: scene-cut keyframes would make segment lengths irregular.
    '-g',
    String(GOP),
    '-movflags',
    '+faststart',
    // The temporary name does not end in .mp4, so the muxer is named.
    '-f',
    'mp4',
  ];
}

/** Keyed by the encoding arguments, so changing them never reuses stale files. */
function cacheDir(): string {
  const key = createHash('sha256')
    .update(JSON.stringify(Object.values(PATTERNS).map(encodeArgs)))
    .digest('hex')
    .slice(0, 12);
  return join(tmpdir(), `vigil-test-footage-${key}`);
}

async function isFile(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    return info.isFile() && info.size > 0;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

const LOCK_STALE_MS = 180_000;

/**
 * One process generates while the others wait: test files run in parallel, and several
 * concurrent x264 encodes on a small CI machine would each take several times longer.
 * The rename makes a file appear whole or not at all, so the lock is only an optimisation.
 */
async function generateOnce(dir: string, name: keyof typeof PATTERNS): Promise<string> {
  const target = join(dir, `${name}.mp4`);
  const lock = join(dir, `${name}.lock`);
  for (;;) {
    if (await isFile(target)) return target;
    try {
      await mkdir(lock);
    } catch {
      const lockAge = await stat(lock).then(
        (info) => Date.now() - info.mtimeMs,
        () => 0,
      );
      // A generator killed mid-way leaves its lock behind.
      if (lockAge > LOCK_STALE_MS) await rm(lock, { recursive: true, force: true });
      else await sleep(250);
      continue;
    }
    const temp = join(dir, `${name}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
    try {
      if (await isFile(target)) return target;
      const ffmpeg = await locateFfmpeg();
      await execFileAsync(ffmpeg.path, [...encodeArgs(PATTERNS[name]), '-y', temp], {
        timeout: 120_000,
      }).catch((error: Error & { stderr?: string }) => {
        throw new Error(
          `generating ${name} footage with ${ffmpeg.path} failed: ${error.stderr ?? error.message}`,
        );
      });
      await rename(temp, target);
      return target;
    } finally {
      await rm(temp, { force: true });
      await rm(lock, { recursive: true, force: true });
    }
  }
}

let generated: Promise<{ main: string; sub: string }> | null = null;

/**
 * H.264 test-pattern footage made with ffmpeg (testsrc2, 10 fps, GOP 20, 30 s; main 1280x720,
 * sub 640x360), generated once per machine into a cache directory under the OS temp dir.
 */
export function generatedFootage(): Promise<{ main: string; sub: string }> {
  generated ??= (async () => {
    const dir = cacheDir();
    await mkdir(dir, { recursive: true });
    // Sequential: two x264 encodes in parallel would only compete for the same cores.
    const main = await generateOnce(dir, 'main');
    const sub = await generateOnce(dir, 'sub');
    return { main, sub };
  })();
  // A failed attempt is not cached, so a later test can try again.
  generated.catch(() => {
    generated = null;
  });
  return generated;
}

/** The real footage from ../shared/footage when present, else generated test patterns. */
export async function footagePaths(): Promise<FootagePaths> {
  const shared = sharedFootageDir();
  if (shared) return { main: join(shared, SHARED_MAIN), sub: join(shared, SHARED_SUB), real: true };
  reportStandIn('generated test patterns stood in for real camera footage (../shared/footage is not here)');
  return { ...(await generatedFootage()), real: false };
}

/** H.265 footage: the real vtest-main-h265.mp4 when present, else a generated test pattern. */
export async function h265FootagePath(): Promise<string> {
  const shared = sharedFootageDir();
  if (shared && existsSync(join(shared, SHARED_H265))) return join(shared, SHARED_H265);
  const dir = cacheDir();
  await mkdir(dir, { recursive: true });
  return generateOnce(dir, 'h265');
}
