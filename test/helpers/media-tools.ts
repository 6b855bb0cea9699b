import { spawnSync } from 'node:child_process';
import ffprobeInstaller from '@ffprobe-installer/ffprobe';
import { locateFfmpeg } from '../../src/ingest/ffmpeg-binary.js';

/**
 * The ffmpeg and ffprobe the tests run. ffmpeg is the one Vigil itself resolves (the system's,
 * else the bundled one), so the tests run on a machine with Node only, as Vigil does. Vigil needs
 * no ffprobe; the tests check files with the system's when there is one, else the static build
 * from the npm registry (a dev dependency).
 */
export const FFMPEG: string = (await locateFfmpeg()).path;

export const FFPROBE: string =
  spawnSync('ffprobe', ['-version'], { stdio: 'ignore' }).status === 0 ? 'ffprobe' : ffprobeInstaller.path;
