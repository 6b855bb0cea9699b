import { setFlagsFromString } from 'node:v8';

/**
 * How far the JavaScript heap may grow past what the last full collection kept before V8 runs
 * the next one: a factor of 4, where V8 picks 1.1–2 for a heap of Vigil's size. Video passes
 * through Buffers, whose memory V8 counts as external, and every megabyte of them allocated
 * since the last full collection counts towards the next one's limit. With V8's own factor,
 * recording 32 cameras (about 12 MB/s of socket reads and fragments, all short-lived) ran a full
 * mark-compact every 0.7 s, half of the main thread's busy time; with this one, every 4 s, and
 * Vigil's CPU per camera fell by a third (bench/recording, docs/design/ingest.md). The cost is
 * memory: about 1.5 MiB more per camera at 32 cameras.
 */
const HEAP_GROWING_PERCENT = 300;
const FLAG = 'heap-growing-percent';

/** For the server process only; a `--heap-growing-percent` given to node itself is kept. */
export function tuneHeapForVideo(): void {
  const given = [...process.execArgv, process.env['NODE_OPTIONS'] ?? ''].some((arg) => arg.includes(FLAG));
  if (given) return;
  // V8 reads this flag whenever it sets the next limit, so setting it now takes effect at the
  // next collection; it changes no state that already exists.
  setFlagsFromString(`--${FLAG}=${HEAP_GROWING_PERCENT}`);
}
