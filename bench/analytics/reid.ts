/**
 * One event per object: how many person events one loop of vtest raises, against the number of
 * people who appeared (counted by hand, see README.md), with re-identification off (the merge
 * before it: a new track touching a cooling event's box) and on, and with tracks coasting 2 s
 * (the pipeline) or 4 s; plus id switches of tracks and of events on the annotated frames of
 * test/fixtures/vtest-annotations.json.
 *
 *   npx tsx bench/analytics/reid.ts [--footage ../shared/footage]
 *
 * One pass of the detector over the loop (398 frames at 5 fps, 640×480, whole frame), about
 * 1–2 minutes of one core; all four variants get the same detections. Markdown to stdout,
 * progress to stderr; nothing is written. See README.md next to this file.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { locateFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import {
  replayVtest,
  VTEST_PEOPLE,
  type ReplayVariant,
  type VariantResult,
} from '../../test/helpers/footage-events.js';
import { formatMachine, machineInfo } from '../lib/machine.js';

const here = fileURLToPath(new URL('.', import.meta.url));

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1]! : fallback;
}

const FOOTAGE = resolve(
  option('footage', process.env.VIGIL_FOOTAGE ?? join(here, '..', '..', '..', 'shared', 'footage')),
);

const VARIANTS: readonly ReplayVariant[] = [
  { name: 're-id off, tracks coast 2 s (main)', coastMs: 2000, reid: false },
  { name: 're-id on, tracks coast 2 s (default)', coastMs: 2000, reid: true },
  { name: 're-id off, tracks coast 4 s', coastMs: 4000, reid: false },
  { name: 're-id on, tracks coast 4 s', coastMs: 4000, reid: true },
];

function row(result: VariantResult): string[] {
  const people = result.events['person'] ?? 0;
  const vehicles = Object.entries(result.events)
    .filter(([label]) => label !== 'person')
    .map(([label, n]) => `${n} ${label}`)
    .join(', ');
  return [
    result.variant.name,
    String(VTEST_PEOPLE),
    String(people),
    (people / VTEST_PEOPLE).toFixed(2),
    String(result.personTracks),
    String(result.trackIdSwitches),
    String(result.eventIdSwitches),
    String(result.eventsOfSeveral),
    String(result.peopleInSeveral),
    `${result.covered}/${result.identityFrames}`,
    vehicles || '0',
  ];
}

async function main(): Promise<void> {
  const file = join(FOOTAGE, 'vtest-main.mp4');
  if (!existsSync(file)) throw new Error(`${file} is missing: pass --footage <folder with vtest-main.mp4>`);
  const ffmpeg = await locateFfmpeg();
  console.log(`    ${formatMachine(machineInfo(ffmpeg.path)).replace(/\n/g, '\n    ')}`);
  console.log(`    date: ${new Date().toISOString().slice(0, 10)}\n`);
  const result = await replayVtest(file, VARIANTS, (frames) => console.error(`  ${frames} frames`));
  console.log(
    `vtest-main.mp4, one loop: ${result.frames} frames at 640×480, 5 fps, ${result.detector} on the whole ` +
      `frame, minScore 0.5; ${result.seconds.toFixed(0)} s.\n`,
  );
  const header = [
    'variant',
    'people',
    'person events',
    'events / person',
    'person tracks',
    'track id switches',
    'event id switches',
    'events of 2+ people',
    'people in 2+ events',
    'covered',
    'other events',
  ];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const variant of result.variants) console.log(`| ${row(variant).join(' | ')} |`);
}

await main();
