/**
 * Event search at scale: the events API's filtered queries over an index of a million events.
 *
 *   npx tsx bench/analytics/event-search.ts [--events 1000000] [--runs 200]
 *
 * Fills a fresh database (the real schema, through openDatabase) with events spread over a year
 * of 16 cameras, then times EventStore.query for the filters the events page offers, each run with
 * random parameters: first pages and deep pages (cursor), per camera, per label, per time window,
 * and a user's camera grants. The baseline, measured in the same run on the same file, is the
 * first-page query written without the index's help (a full scan, as a naïve `LIKE`/unindexed
 * search would do), so the ratio shows what the indexes are worth on this machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql, type Insertable } from 'kysely';
import { openDatabase, type Db } from '../../src/storage/db.js';
import type { EventTable } from '../../src/storage/schema.js';
import { SegmentIndex } from '../../src/storage/segment-index.js';
import { EventStore, type EventQuery } from '../../src/events/store.js';
import { machineInfo } from '../lib/machine.js';

const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;
const CAMERAS = Array.from({ length: 16 }, (_, i) => `cam${i + 1}`);
/** Labels as they come from busy cameras: mostly people and cars, a few rare ones. */
const LABELS: readonly (readonly [string, number])[] = [
  ['person', 0.6],
  ['car', 0.3],
  ['bicycle', 0.05],
  ['dog', 0.04],
  ['horse', 0.01],
];

const { values } = parseArgs({
  options: { events: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '200' } },
});
const eventCount = Number(values.events);
const runs = Number(values.runs);

/** A small deterministic generator, so two runs fill the same database. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function pickLabel(r: number): string {
  let sum = 0;
  for (const [label, share] of LABELS) {
    sum += share;
    if (r < sum) return label;
  }
  return 'person';
}

/** Zones events touched, as a camera with a path, a door and a rarely used gate would see. */
const ZONES: readonly (readonly [string[], number])[] = [
  [['Path'], 0.4],
  [['Path', 'Door'], 0.1],
  [['Gate'], 0.01],
];
/** Rules that fired on events: a busy crossing rule, a rare loitering one. */
const RULES: readonly (readonly [string, number])[] = [
  ['crossing', 0.05],
  ['loitering', 0.002],
];

function pickWeighted<T>(choices: readonly (readonly [T, number])[], r: number): T | null {
  let sum = 0;
  for (const [choice, share] of choices) {
    sum += share;
    if (r < sum) return choice;
  }
  return null;
}

async function fill(db: Db, startMs: number): Promise<void> {
  const next = random(42);
  let alertCount = 0;
  const batch = 5000;
  for (let done = 0; done < eventCount; done += batch) {
    await db.transaction().execute(async (tx) => {
      const rows: Insertable<EventTable>[] = [];
      const fired: { ruleId: string; index: number }[] = [];
      for (let i = done; i < Math.min(eventCount, done + batch); i++) {
        const start = startMs + Math.floor((i / eventCount) * YEAR_MS);
        const durationMs = 2_000 + Math.floor(next() * 60_000);
        const ruleId = pickWeighted(RULES, next());
        if (ruleId !== null) fired.push({ ruleId, index: rows.length });
        rows.push({
          camera_id: CAMERAS[Math.floor(next() * CAMERAS.length)]!,
          label: pickLabel(next()),
          track_id: i,
          start_time_ms: start,
          end_time_ms: start + durationMs,
          max_score: 0.5 + next() / 2,
          box_json: '{"x":0.1,"y":0.2,"width":0.1,"height":0.3}',
          path_json: '[]',
          zones_json: JSON.stringify(pickWeighted(ZONES, next()) ?? []),
          snapshot_path: null,
          crop_path: null,
          snapshot_time_ms: null,
          clip_start_ms: start - 5_000,
          clip_end_ms: start + durationMs + 5_000,
          created_at_ms: start,
          updated_at_ms: start,
        });
      }
      // SQLite allows 32766 bound values per statement: 16 columns × 1000 rows fits.
      const ids: number[] = [];
      for (let i = 0; i < rows.length; i += 1000) {
        const inserted = await tx
          .insertInto('events')
          .values(rows.slice(i, i + 1000))
          .returning('id')
          .execute();
        ids.push(...inserted.map((row) => row.id));
      }
      const alerts = fired.map(({ ruleId, index }) => {
        const event = rows[index]!;
        return {
          rule_id: ruleId,
          rule_name: ruleId,
          camera_id: event.camera_id,
          event_id: ids[index]!,
          kind: ruleId === 'crossing' ? 'line-crossed' : 'loitering',
          summary: `person ${ruleId}`,
          time_ms: event.start_time_ms + 1_000,
          snapshot_path: null,
          clip_start_ms: event.clip_start_ms,
          clip_end_ms: event.clip_end_ms,
          created_at_ms: event.start_time_ms + 1_000,
        };
      });
      for (let i = 0; i < alerts.length; i += 1000)
        await tx
          .insertInto('alerts')
          .values(alerts.slice(i, i + 1000))
          .execute();
      alertCount += alerts.length;
    });
    if (done % 100_000 === 0) process.stderr.write(`  ${done} events, ${alertCount} alerts\n`);
  }
  await sql`ANALYZE`.execute(db);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

/** A query to time, after an untimed preparation (e.g. walking pages to get a deep cursor). */
type Case = (r: () => number) => Promise<() => Promise<unknown>>;

async function time(name: string, prepare: Case): Promise<number[]> {
  const next = random(name.length * 7919);
  for (let i = 0; i < 5; i++) await (await prepare(next))();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const query = await prepare(next);
    const t0 = process.hrtime.bigint();
    await query();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return samples.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-events-'));
  const db = await openDatabase(join(dir, 'vigil.db'));
  try {
    const store = new EventStore(db, {
      storageRoot: dir,
      index: new SegmentIndex(db),
      eventsDays: 14,
    });
    const startMs = Date.UTC(2025, 0, 1);
    const t0 = Date.now();
    process.stderr.write(`filling ${eventCount} events…\n`);
    await fill(db, startMs);
    const fillS = (Date.now() - t0) / 1000;
    const anyTime = (r: () => number) => startMs + Math.floor(r() * YEAR_MS);
    const camera = (r: () => number) => CAMERAS[Math.floor(r() * CAMERAS.length)]!;
    const tenthPage = async (query: EventQuery): Promise<() => Promise<unknown>> => {
      let cursor: string | null = null;
      for (let i = 0; i < 9; i++)
        cursor = (await store.query({ ...query, limit: 50, ...(cursor ? { cursor } : {}) })).nextCursor;
      return () => store.query({ ...query, limit: 50, ...(cursor ? { cursor } : {}) });
    };
    const now =
      (query: (r: () => number) => Promise<unknown>): Case =>
      async (r) =>
      () =>
        query(r);

    const cases: [string, Case][] = [
      ['newest 50, no filter', now(() => store.query({ limit: 50 }))],
      ['one camera, newest 50', now((r) => store.query({ cameraId: camera(r), limit: 50 }))],
      ['rare label (horse, 1 %), newest 50', now(() => store.query({ label: 'horse', limit: 50 }))],
      ['camera + rare label', now((r) => store.query({ cameraId: camera(r), label: 'horse', limit: 50 }))],
      [
        'one hour anywhere in the year',
        now((r) => {
          const to = anyTime(r);
          return store.query({ fromMs: to - 3_600_000, toMs: to, limit: 50 });
        }),
      ],
      [
        'camera + label + one day',
        now((r) => {
          const to = anyTime(r);
          return store.query({ cameraId: camera(r), label: 'dog', fromMs: to - DAY_MS, toMs: to, limit: 50 });
        }),
      ],
      [
        '4 granted cameras, newest 50',
        now((r) => store.query({ cameraIds: [camera(r), camera(r), camera(r), camera(r)], limit: 50 })),
      ],
      ['10th page (cursor), one camera', (r) => tenthPage({ cameraId: camera(r) })],
      ['zone (Door, 10 %), newest 50', now(() => store.query({ zone: 'Door', limit: 50 }))],
      ['rare zone (Gate, 1 %), newest 50', now(() => store.query({ zone: 'Gate', limit: 50 }))],
      ['camera + rare zone', now((r) => store.query({ cameraId: camera(r), zone: 'Gate', limit: 50 }))],
      ['a zone no event touched', now(() => store.query({ zone: 'Roof', limit: 50 }))],
      ['alerts only, newest 50', now(() => store.query({ kind: 'alert', limit: 50 }))],
      ['detections only, newest 50', now(() => store.query({ kind: 'detection', limit: 50 }))],
      ['rare rule (0.2 %), newest 50', now(() => store.query({ ruleId: 'loitering', limit: 50 }))],
      [
        'camera + rule + zone + one week',
        now((r) => {
          const to = anyTime(r);
          return store.query({
            cameraId: camera(r),
            ruleId: 'crossing',
            zone: 'Path',
            fromMs: to - 7 * DAY_MS,
            toMs: to,
            limit: 50,
          });
        }),
      ],
      ['10th page (cursor), alerts only', () => tenthPage({ kind: 'alert' })],
    ];
    const results: { name: string; samples: number[] }[] = [];
    for (const [name, run] of cases) {
      process.stderr.write(`  ${name}\n`);
      results.push({ name, samples: await time(name, run) });
    }
    // The baseline: the first-page query with the indexes out of play (NOT INDEXED … via +column).
    const baseline = await time(
      'baseline',
      now((r) =>
        sql`SELECT * FROM events NOT INDEXED WHERE camera_id = ${camera(r)}
            ORDER BY start_time_ms DESC, id DESC LIMIT 51`.execute(db),
      ),
    );

    const machine = machineInfo('ffmpeg');
    console.log(
      `machine: nproc ${machine.nproc}, ${machine.cpuModel}, ${machine.memoryGiB} GiB RAM, Linux ${machine.kernel}`,
    );
    console.log(`node ${machine.node}; ${new Date().toISOString().slice(0, 10)}`);
    console.log(
      `${eventCount} events over a year of ${CAMERAS.length} cameras (filled in ${fillS.toFixed(0)} s); ${runs} runs each\n`,
    );
    console.log('| query | median | p95 | p95 < 50 ms |');
    console.log('|---|---|---|---|');
    for (const { name, samples } of results) {
      const p95 = percentile(samples, 0.95);
      console.log(
        `| ${name} | ${percentile(samples, 0.5).toFixed(2)} ms | ${p95.toFixed(2)} ms | ${p95 < 50 ? 'yes' : '**no**'} |`,
      );
    }
    const oneCamera = results.find((r) => r.name === 'one camera, newest 50')!.samples;
    console.log(
      `| baseline: one camera, newest 50, full scan (NOT INDEXED) | ${percentile(baseline, 0.5).toFixed(2)} ms | ` +
        `${percentile(baseline, 0.95).toFixed(2)} ms | ratio of medians ${(percentile(baseline, 0.5) / percentile(oneCamera, 0.5)).toFixed(0)}× |`,
    );
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
