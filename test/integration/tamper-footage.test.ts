/**
 * Tamper detection on real camera footage, decoded by real ffmpeg as the pipeline decodes it:
 * frames at the analysis size, luma, halved to the motion plane the detector reads, two a second
 * (the pipeline hands it a frame every TAMPER_INTERVAL_MS).
 *
 * The whole of tree-sub.mp4 (a tree in wind) and vtest-sub.mp4 (people walking) must raise
 * nothing; variants made with ffmpeg filters change the picture from 20 s to 50 s: lighting and
 * day/night must raise nothing, covered, defocused and moved must raise the right state within
 * T + 1 s of the change (T = 10 s) and clear within 5 s of the picture coming back.
 *
 * Without ../shared/footage, generated test patterns stand in (reported as such).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { LumaDownscaler, lumaFromRgb } from '../../src/analytics/motion/index.js';
import { TAMPER_INTERVAL_MS } from '../../src/analytics/pipeline/camera-analytics.js';
import { analysisSize } from '../../src/analytics/pipeline/frame-decoder.js';
import { TamperDetector, type TamperChange } from '../../src/analytics/tamper/index.js';
import { generatedFootage, sharedFootageDir } from '../helpers/footage.js';
import { FFMPEG, FFPROBE } from '../helpers/media-tools.js';
import { reportStandIn } from '../helpers/stand-ins.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const FPS = 1000 / TAMPER_INTERVAL_MS;
const T_MS = 10_000;
const CHANGE_S = 20;
const RESTORE_S = 50;
const DURATION_S = 70;
const DURING = `enable='between(t,${CHANGE_S},${RESTORE_S})'`;

const shared = sharedFootageDir();
if (!shared) reportStandIn('generated test patterns stood in for the tree and people footage');
const sources = shared
  ? { tree: join(shared, 'tree-sub.mp4'), people: join(shared, 'vtest-sub.mp4') }
  : await generatedFootage().then((g) => ({ tree: g.sub, people: g.sub }));

async function videoSize(file: string): Promise<{ width: number; height: number }> {
  const { stdout } = await execFileAsync(FFPROBE, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=width,height',
    '-of',
    'csv=p=0',
    file,
  ]);
  const [width, height] = stdout.trim().split(',').map(Number);
  return { width: width!, height: height! };
}

interface Run {
  changes: TamperChange[];
  frames: number;
}

/**
 * Plays `file` (looped up to `durationS`) through `filter` and the tamper detector as the pipeline
 * feeds it; times are media seconds × 1000.
 */
async function play(file: string, filter: string, durationS: number): Promise<Run> {
  const source = await videoSize(file);
  const size = analysisSize(source.width, source.height);
  const plane = { width: Math.floor(size.width / 2), height: Math.floor(size.height / 2) };
  const frameBytes = size.width * size.height * 3;
  const luma = new Uint8Array(size.width * size.height);
  const small = new Uint8Array(plane.width * plane.height);
  const downscaler = new LumaDownscaler(size.width, size.height, plane.width, plane.height);
  const detector = new TamperDetector(plane.width, plane.height, { minDurationMs: T_MS, sensitivity: 0.5 });
  const ffmpeg = spawn(FFMPEG, [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-stream_loop', '-1', '-i', file],
    ...['-t', String(durationS), '-an'],
    ...['-vf', `fps=${FPS},${filter},scale=${size.width}:${size.height}`],
    ...['-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'],
  ]);
  const changes: TamperChange[] = [];
  let frames = 0;
  let pending = Buffer.alloc(0);
  ffmpeg.stdout.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= frameBytes) {
      const rgb = new Uint8Array(pending.subarray(0, frameBytes));
      pending = pending.subarray(frameBytes);
      lumaFromRgb(rgb, size.width, size.height, luma);
      downscaler.downscale({ data: luma, width: size.width, height: size.height }, small);
      const change = detector.update(small, (frames * 1000) / FPS);
      frames += 1;
      if (change) changes.push(change);
    }
  });
  const code = await new Promise<number | null>((resolve) => ffmpeg.on('close', resolve));
  assert.equal(code, 0, `ffmpeg failed on ${file} with ${filter}`);
  return { changes, frames };
}

describe('tamper detection on real footage', { timeout: 600_000 }, () => {
  for (const [name, file, durationS] of [
    ['the tree in wind', sources.tree, 60],
    ['people walking', sources.people, 80],
  ] as const) {
    test(`${name}, the whole footage: no alarm`, async () => {
      const run = await play(file, 'null', durationS);
      assert.ok(run.frames >= durationS * FPS - 2, `${run.frames} frames`);
      assert.deepEqual(run.changes, []);
    });
  }

  const quiet: Array<[string, string]> = [
    ['lights on (brightness step)', `eq=brightness=0.25:${DURING}`],
    ['lights off (darker, less contrast)', `eq=brightness=-0.2:contrast=0.6:${DURING}`],
    [
      'night mode (grey infrared look, gain step)',
      `hue=s=0:${DURING},eq=brightness=0.12:contrast=0.8:gamma=1.3:${DURING}`,
    ],
  ];
  const loud: Array<[string, string, string]> = [
    [
      'covered (a dark cover with sensor noise)',
      'tamper-covered',
      `drawbox=x=0:y=0:w=iw:h=ih:color=0x202020@1:t=fill:${DURING},noise=alls=12:allf=t:${DURING}`,
    ],
    ['covered (black)', 'tamper-covered', `drawbox=x=0:y=0:w=iw:h=ih:color=black@1:t=fill:${DURING}`],
    ['defocused (gblur sigma 8)', 'tamper-defocused', `gblur=sigma=8:${DURING}`],
    [
      'moved (panned by 15 %)',
      'tamper-moved',
      `crop=w=iw*0.85:h=ih*0.85:x='if(between(t,${CHANGE_S},${RESTORE_S}),iw*0.15,0)':y=0`,
    ],
  ];
  for (const [footage, file] of [
    ['tree', sources.tree],
    ['people', sources.people],
  ] as const) {
    for (const [name, filter] of quiet) {
      test(`${footage}: ${name} raises nothing`, async () => {
        const run = await play(file, filter, DURATION_S);
        assert.deepEqual(run.changes, []);
      });
    }
    for (const [name, state, filter] of loud) {
      test(`${footage}: ${name} → ${state} within T + 1 s, cleared after`, async (t) => {
        const run = await play(file, filter, DURATION_S);
        assert.deepEqual(
          run.changes.map((c) => c.state),
          [state, 'tamper-cleared'],
          JSON.stringify(run.changes),
        );
        const [raised, cleared] = run.changes as [TamperChange, TamperChange];
        const delayMs = raised.timeMs - CHANGE_S * 1000;
        const clearMs = cleared.timeMs - RESTORE_S * 1000;
        t.diagnostic(
          `${footage} ${state}: raised after ${delayMs} ms, cleared ${clearMs} ms after restoring`,
        );
        assert.ok(delayMs >= T_MS && delayMs <= T_MS + 1000, `raised ${delayMs} ms after the change`);
        assert.ok(clearMs >= 0 && clearMs <= 5000, `cleared ${clearMs} ms after restoring`);
      });
    }
  }
});
