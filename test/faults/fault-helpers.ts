import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import type { SegmentIndex } from '../../src/storage/segment-index.js';

/**
 * The fault suite runs short in `npm test` and long in `npm run test:faults`
 * (VIGIL_FAULTS=long): more flaps, longer soaks, more cameras.
 */
export const LONG = process.env.VIGIL_FAULTS === 'long';

/** Picks the short or the long figure. */
export function faultScale<T>(short: T, long: T): T {
  return LONG ? long : short;
}

export interface SegmentFacts {
  id: number;
  startTimeMs: number;
  endTimeMs: number;
  state: string;
}

/** Every segment of a stream, in the order they were written (row id). */
export async function segmentsOf(
  index: SegmentIndex,
  cameraId: string,
  stream: string,
): Promise<SegmentFacts[]> {
  return (await index.all())
    .filter((s) => s.camera_id === cameraId && s.stream === stream)
    .sort((a, b) => a.id - b.id)
    .map((s) => ({ id: s.id, startTimeMs: s.start_time_ms, endTimeMs: s.end_time_ms, state: s.state }));
}

/** Each segment starts where or after the one written before it ended: no overlap, no reordering. */
export function assertOrderedWithoutOverlap(segments: readonly SegmentFacts[], what: string): void {
  for (let i = 1; i < segments.length; i += 1) {
    const before = segments[i - 1]!;
    const segment = segments[i]!;
    assert.ok(
      segment.startTimeMs >= before.endTimeMs,
      `${what}: segment ${segment.id} starts at ${segment.startTimeMs}, before segment ${before.id} ends (${before.endTimeMs})`,
    );
  }
}

export interface ProcessSample {
  rssBytes: number;
  threads: number;
  fds: number;
}

/** What Linux says about a process now: resident memory, threads, open file descriptors. */
export function sampleProcess(pid: number): ProcessSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return {
    rssBytes: field('VmRSS') * 1024,
    threads: field('Threads'),
    fds: readdirSync(`/proc/${pid}/fd`).length,
  };
}
