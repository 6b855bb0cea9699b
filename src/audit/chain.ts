import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditRow } from './entry.js';

/**
 * The hash chain of the audit log, free of I/O. Each entry's hash is SHA-256 over a canonical
 * serialisation of all its columns, prev_hash included, so changing any entry changes its hash,
 * and the next entry's prev_hash no longer matches it.
 */

/** prev_hash of the very first entry. */
export const GENESIS_HASH = '0'.repeat(64);
const ENTRY_DOMAIN = 'vigil-audit-entry-v1';
const CHECKPOINT_DOMAIN = 'vigil-audit-checkpoint-v1';

/**
 * JSON with object keys sorted at every level: the same details always give the same text.
 * Values JSON cannot hold (undefined, functions) are dropped as JSON.stringify drops them.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key];
    return sorted;
  });
}

/**
 * The hash of an entry. The input is a JSON array of the columns in a fixed order (JSON arrays
 * of strings, numbers and nulls serialise one way only), led by a domain tag so an entry hash
 * can never be confused with any other hash Vigil computes.
 */
export function entryHash(row: Omit<AuditRow, 'hash'>): string {
  const canonical = JSON.stringify([
    ENTRY_DOMAIN,
    row.seq,
    row.time_ms,
    row.actor_kind,
    row.actor,
    row.token_id,
    row.action,
    row.target,
    row.details_json,
    row.ip,
    row.prev_hash,
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/** Where the chain starts: the checkpoint (last entry deleted by retention) or the genesis. */
export interface ChainStart {
  /** The seq before the first entry: 0, or the checkpoint's. */
  seq: number;
  /** The prev_hash the first entry must carry. */
  hash: string;
}

export const GENESIS_START: ChainStart = { seq: 0, hash: GENESIS_HASH };

export type AuditProblem =
  | { kind: 'edited'; seq: number; message: string }
  | { kind: 'deleted'; fromSeq: number; toSeq: number; message: string }
  | { kind: 'reordered'; seq: number; originalSeq: number | null; message: string }
  | { kind: 'truncated'; fromSeq: number; toSeq: number; message: string }
  | { kind: 'checkpoint'; seq: number; message: string }
  | { kind: 'anchor'; seq: number; message: string };

function range(fromSeq: number, toSeq: number): string {
  return fromSeq === toSeq ? `entry ${fromSeq} was` : `entries ${fromSeq} to ${toSeq} were`;
}

/**
 * Walks entries in seq order and reports the first broken link. Fed page by page, so a long
 * log is checked in bounded memory.
 */
export class ChainWalker {
  private lastSeq: number;
  private lastHash: string;
  private count = 0;
  private problemFound: AuditProblem | null = null;

  constructor(start: ChainStart = GENESIS_START) {
    this.lastSeq = start.seq;
    this.lastHash = start.hash;
  }

  /** Checks the next entry; returns the problem when it breaks the chain (then stop feeding). */
  push(row: AuditRow): AuditProblem | null {
    if (this.problemFound) return this.problemFound;
    const expected = this.lastSeq + 1;
    let problem: AuditProblem | null = null;
    if (row.seq !== expected) {
      problem = {
        kind: 'deleted',
        fromSeq: expected,
        toSeq: row.seq - 1,
        message: `${range(expected, row.seq - 1)} deleted: the log goes from entry ${this.lastSeq} to entry ${row.seq}`,
      };
    } else if (entryHash(row) !== row.hash) {
      problem = {
        kind: 'edited',
        seq: row.seq,
        message:
          `entry ${row.seq} was edited: its contents no longer match its hash ` +
          '(or it was renumbered after other entries were deleted)',
      };
    } else if (row.prev_hash !== this.lastHash) {
      problem = {
        kind: 'reordered',
        seq: row.seq,
        originalSeq: null,
        message:
          `entry ${row.seq} does not follow entry ${this.lastSeq}: its prev_hash is not the hash of the entry ` +
          'before it (entries were reordered, or replaced by a forged chain)',
      };
    }
    if (problem) {
      this.problemFound = problem;
      return problem;
    }
    this.lastSeq = row.seq;
    this.lastHash = row.hash;
    this.count += 1;
    return null;
  }

  get problem(): AuditProblem | null {
    return this.problemFound;
  }

  /** Entries checked and found sound. */
  get checkedCount(): number {
    return this.count;
  }

  /** The last sound entry (or the start). */
  get head(): ChainStart {
    return { seq: this.lastSeq, hash: this.lastHash };
  }
}

/**
 * For an entry whose hash does not match: when it is an intact entry moved to another seq
 * (entries swapped, or renumbered to close the gap left by a deletion), the seq it was written
 * at. The seq is part of the hash, so trying the seqs nearby finds it; an edited entry matches none.
 */
export function originalSeqOfMovedEntry(row: AuditRow, maxDistance = 1000): number | null {
  for (let distance = 1; distance <= maxDistance; distance += 1) {
    for (const candidate of [row.seq + distance, row.seq - distance]) {
      if (candidate > 0 && entryHash({ ...row, seq: candidate }) === row.hash) return candidate;
    }
  }
  return null;
}

export interface CheckpointFields {
  seq: number;
  hash: string;
  time_ms: number;
  deleted_count: number;
}

/**
 * HMAC of a checkpoint under a key derived from the secret key file. An attacker who can write
 * the database but not read the key file cannot move the checkpoint to hide deleted entries.
 */
export function checkpointSignature(checkpoint: CheckpointFields, key: Buffer): string {
  const canonical = JSON.stringify([
    CHECKPOINT_DOMAIN,
    checkpoint.seq,
    checkpoint.hash,
    checkpoint.time_ms,
    checkpoint.deleted_count,
  ]);
  return createHmac('sha256', key).update(canonical, 'utf8').digest('hex');
}

export function checkpointSignatureValid(
  checkpoint: CheckpointFields,
  signature: string | null,
  key: Buffer,
): boolean {
  if (signature === null) return false;
  const expected = Buffer.from(checkpointSignature(checkpoint, key), 'hex');
  const given = Buffer.from(signature, 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}
