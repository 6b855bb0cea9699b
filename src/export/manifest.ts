import { canonicalJson } from '../audit/chain.js';

/**
 * The manifest of an export bundle, free of I/O: what the bundle claims, in the exact bytes that
 * are signed. The signed bytes are the canonical JSON of the manifest (keys sorted at every
 * level, no spaces, no trailing newline), so a verifier can tell a manifest that was re-saved by
 * an editor from the one that was signed.
 */

export const BUNDLE_FORMAT = 'vigil-export-bundle';
export const BUNDLE_FORMAT_VERSION = 1;

/** The parts of a bundle, by their file names inside it. */
export const BUNDLE_FILES = {
  manifest: 'manifest.json',
  signature: 'manifest.sig',
  publicKey: 'public-key.pem',
  video: 'video.mp4',
} as const;

/** What a verdict names when a check fails: one of the files, or the zip around them. */
export type BundlePart = (typeof BUNDLE_FILES)[keyof typeof BUNDLE_FILES] | 'zip';

/** A stored segment file the video was made from, as it was when the bundle was built. */
export interface ManifestSegment {
  id: number;
  /** Relative to storage.path: where `vigil verify --config` finds it again. */
  path: string;
  startTimeMs: number;
  endTimeMs: number;
  /** The segment was still being written: byteLength and sha256 cover its first byteLength bytes. */
  open: boolean;
  byteLength: number;
  sha256: string;
}

export interface ExportManifest {
  format: typeof BUNDLE_FORMAT;
  formatVersion: number;
  vigilVersion: string;
  createdAtMs: number;
  createdAt: string;
  camera: { id: string; name: string };
  stream: string;
  range: { fromMs: number; toMs: number; from: string; to: string };
  exportedBy: { userId: number; name: string };
  reason: string;
  video: {
    name: typeof BUNDLE_FILES.video;
    byteLength: number;
    sha256: string;
    /** Tracks of the copy export, e.g. 'video:h264'; transforms may change them (see transforms). */
    sourceTracks: string[];
    durationMs: number;
  };
  segments: ManifestSegment[];
  /** What was done to the copy of the segments, in order; empty: video.mp4 is an exact copy. */
  transforms: Array<Record<string, unknown>>;
  key: { algorithm: 'Ed25519'; fingerprint: string };
}

export type ManifestInput = Omit<ExportManifest, 'format' | 'formatVersion' | 'createdAt' | 'range'> & {
  range: { fromMs: number; toMs: number };
};

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function buildManifest(input: ManifestInput): ExportManifest {
  return {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    ...input,
    createdAt: iso(input.createdAtMs),
    range: { ...input.range, from: iso(input.range.fromMs), to: iso(input.range.toMs) },
  };
}

/** The bytes that are signed and stored as manifest.json. */
export function manifestBytes(manifest: ExportManifest): Buffer {
  return Buffer.from(canonicalJson(manifest), 'utf8');
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

type Check = [boolean, string];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
const isText = (v: unknown): boolean => typeof v === 'string' && v.length > 0;

function segmentProblems(segments: unknown): string[] {
  if (!Array.isArray(segments)) return ['segments is not a list'];
  return segments.flatMap((s: unknown, i) => {
    if (!isObject(s)) return [`segments[${i}] is not an object`];
    const checks: Check[] = [
      [isCount(s.id), 'id'],
      [isText(s.path), 'path'],
      [isCount(s.startTimeMs) && isCount(s.endTimeMs), 'startTimeMs/endTimeMs'],
      [typeof s.open === 'boolean', 'open'],
      [isCount(s.byteLength), 'byteLength'],
      [typeof s.sha256 === 'string' && SHA256_HEX.test(s.sha256), 'sha256'],
    ];
    return checks.filter(([ok]) => !ok).map(([, field]) => `segments[${i}].${field} is missing or wrong`);
  });
}

/**
 * What is wrong with a parsed manifest's structure; empty when it has every field this format
 * version defines, with the right types. Extra fields are allowed (they are signed like the rest).
 */
export function manifestProblems(value: unknown): string[] {
  if (!isObject(value)) return ['the manifest is not a JSON object'];
  if (value.format !== BUNDLE_FORMAT) return [`format is not '${BUNDLE_FORMAT}'`];
  if (value.formatVersion !== BUNDLE_FORMAT_VERSION) {
    return [
      `formatVersion ${String(value.formatVersion)} is not ${BUNDLE_FORMAT_VERSION}: use a newer vigil verify`,
    ];
  }
  const { camera, range, exportedBy, video, key } = value;
  const checks: Check[] = [
    [isText(value.vigilVersion), 'vigilVersion'],
    [isCount(value.createdAtMs), 'createdAtMs'],
    [isObject(camera) && isText(camera.id) && typeof camera.name === 'string', 'camera'],
    [isText(value.stream), 'stream'],
    [isObject(range) && isCount(range.fromMs) && isCount(range.toMs), 'range'],
    [isObject(exportedBy) && isCount(exportedBy.userId) && isText(exportedBy.name), 'exportedBy'],
    [isText(value.reason), 'reason'],
    [
      isObject(video) &&
        video.name === BUNDLE_FILES.video &&
        isCount(video.byteLength) &&
        typeof video.sha256 === 'string' &&
        SHA256_HEX.test(video.sha256),
      'video',
    ],
    [Array.isArray(value.transforms) && value.transforms.every(isObject), 'transforms'],
    [isObject(key) && key.algorithm === 'Ed25519' && isText(key.fingerprint), 'key'],
  ];
  return [
    ...checks.filter(([ok]) => !ok).map(([, field]) => `${field} is missing or wrong`),
    ...segmentProblems(value.segments),
  ];
}
