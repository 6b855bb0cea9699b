import type { Fragment, InitSegment } from '../media/mp4/index.js';

/** One fragment of a stream as ingest hands it on: its bytes, parsed, with the init segment it decodes with. */
export interface IngestFragment {
  bytes: Buffer;
  parsed: Fragment;
  init: InitSegment;
  /** Increases at every (re)connection: fragments of one connection share one decode timeline. */
  connectionId: number;
  /** When the fragment finished arriving, by the injected clock. */
  arrivedAtMs: number;
}

/**
 * Connection and timeline ids come from one counter (a connection's id is also the id of its
 * first timeline) and are unique across restarts of Vigil (segments of different runs must never
 * look like one decode timeline), so they start from the wall time at start-up. This is the one
 * place the pipeline reads the system clock directly: an id seed, not a time anything is
 * measured with.
 */
let lastTimelineId = Date.now() * 1000;

/** A fresh id: at each connection, and when a camera's timestamps jump within one (a new timeline). */
export function newTimelineId(): number {
  lastTimelineId += 1;
  return lastTimelineId;
}
