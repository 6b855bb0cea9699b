import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { SigningKey } from '../auth/signing-key.js';
import type { VideoTransform } from '../media/video-transform.js';
import { VigilError } from '../errors/catalogue.js';
import {
  BUNDLE_FILES,
  buildManifest,
  manifestBytes,
  type ExportManifest,
  type ManifestSegment,
} from './manifest.js';
import { hashFilePrefix } from './read-bundle.js';
import { signatureFile } from './verify.js';
import { fileCrc32, MAX_ZIP_BYTES, storedZipByteLength, writeStoredZip } from './zip.js';

/** A stored segment the export reads. */
export interface BundleSegment {
  id: number;
  /** Relative to storage.path, as the index stores it. */
  path: string;
  absolutePath: string;
  startTimeMs: number;
  endTimeMs: number;
  open: boolean;
}

export interface BundleRequest {
  /** Where bundles are kept, on the storage volume; work files go in a folder below it. */
  exportsDir: string;
  camera: { id: string; name: string };
  stream: string;
  fromMs: number;
  toMs: number;
  segments: BundleSegment[];
  /** The copy export's byte length, known before it is written: for the size check. */
  copyByteLength: number;
  /** Writes the copy export (stream copy of the segments) to outPath. */
  writeCopy(outPath: string): Promise<{ sourceTracks: string[]; durationMs: number }>;
  transforms: readonly VideoTransform[];
  exportedBy: { userId: number; name: string };
  reason: string;
  nowMs: number;
  vigilVersion: string;
  key: SigningKey;
  /** Space to leave free on the volume (storage.minFreeBytes): recording goes first. */
  minFreeBytes: number;
}

export interface BuiltBundle {
  /** The zip's file name in exportsDir. */
  fileName: string;
  byteLength: number;
  sha256: string;
  manifest: ExportManifest;
}

const WORK_DIR_PREFIX = '.work-';

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The copy export, then each transform, plus the zip: at worst twice the copy (transforms are
 * assumed to produce about as much as they read). Refused before anything is written when the
 * zip could not be addressed without Zip64 or the volume would fall below its reserve.
 */
async function checkSpace(request: BundleRequest): Promise<void> {
  const expected = request.copyByteLength;
  if (storedZipByteLength([{ name: BUNDLE_FILES.video, byteLength: expected }]) + (1 << 20) > MAX_ZIP_BYTES) {
    throw new VigilError(
      'EXPORT_TOO_LARGE',
      `the video of this range is ${expected} bytes; a bundle holds less than 4 GiB: export a shorter range`,
      { byteLength: expected },
    );
  }
  const fs = await statfs(request.exportsDir);
  const freeBytes = fs.bavail * fs.bsize;
  const neededBytes = 2 * expected + request.minFreeBytes;
  if (freeBytes < neededBytes) {
    throw new VigilError(
      'EXPORT_TOO_LARGE',
      `building this bundle needs ${neededBytes} bytes free on the storage volume (twice the video plus ` +
        `storage.minFreeBytes) and ${freeBytes} are: export a shorter range, or free space`,
      { neededBytes, freeBytes },
    );
  }
}

async function describeSegments(segments: BundleSegment[]): Promise<ManifestSegment[]> {
  const out: ManifestSegment[] = [];
  for (const s of segments) {
    // An open segment grows while this runs: its hash covers what was there when it was read.
    const { size } = await stat(s.absolutePath);
    const { sha256, byteLength } = await hashFilePrefix(s.absolutePath, size);
    out.push({
      id: s.id,
      path: s.path,
      startTimeMs: s.startTimeMs,
      endTimeMs: s.endTimeMs,
      open: s.open,
      byteLength,
      sha256,
    });
  }
  return out;
}

/** Runs the transforms in order; returns the path of the last output (the input when there are none). */
export async function applyTransforms(
  transforms: readonly VideoTransform[],
  inputPath: string,
  workDir: string,
): Promise<string> {
  let current = inputPath;
  for (const [i, transform] of transforms.entries()) {
    const next = join(workDir, `transform-${i + 1}.mp4`);
    await transform.apply(current, next);
    if (current !== inputPath) await rm(current, { force: true });
    current = next;
  }
  return current;
}

/**
 * Builds a signed bundle in exportsDir: the copy export, the transforms, the manifest (with the
 * SHA-256 of every source segment and of the final video), its Ed25519 signature and the public
 * key, zipped. Work files live in a folder of their own that is removed whatever happens; the
 * zip appears under its final name only once complete.
 */
export async function buildBundle(request: BundleRequest): Promise<BuiltBundle> {
  await mkdir(request.exportsDir, { recursive: true, mode: 0o700 });
  await checkSpace(request);
  const workDir = await mkdtemp(join(request.exportsDir, WORK_DIR_PREFIX));
  try {
    const segments = await describeSegments(request.segments);
    const copyPath = join(workDir, 'copy.mp4');
    const copy = await request.writeCopy(copyPath);
    const videoPath = await applyTransforms(request.transforms, copyPath, workDir);
    const video = await fileCrc32(videoPath);
    const manifest = buildManifest({
      vigilVersion: request.vigilVersion,
      createdAtMs: request.nowMs,
      camera: request.camera,
      stream: request.stream,
      range: { fromMs: request.fromMs, toMs: request.toMs },
      exportedBy: request.exportedBy,
      reason: request.reason,
      video: {
        name: BUNDLE_FILES.video,
        byteLength: video.byteLength,
        sha256: await sha256OfFile(videoPath),
        sourceTracks: copy.sourceTracks,
        durationMs: copy.durationMs,
      },
      segments,
      transforms: request.transforms.map((t) => t.describe()),
      key: { algorithm: 'Ed25519', fingerprint: request.key.view.fingerprint },
    });
    const signed = manifestBytes(manifest);
    const zipPath = join(workDir, 'bundle.zip');
    await writeStoredZip(
      zipPath,
      [
        { name: BUNDLE_FILES.manifest, bytes: signed },
        { name: BUNDLE_FILES.signature, bytes: signatureFile(signed, request.key.sign(signed)) },
        { name: BUNDLE_FILES.publicKey, bytes: Buffer.from(request.key.view.pem, 'latin1') },
        { name: BUNDLE_FILES.video, path: videoPath, ...video },
      ],
      request.nowMs,
    );
    const stamp = new Date(request.nowMs).toISOString().replace(/[:.]/g, '-');
    const fileName = `${request.camera.id}-${stamp}-${randomBytes(4).toString('hex')}.zip`;
    await rename(zipPath, join(request.exportsDir, fileName));
    const final = join(request.exportsDir, fileName);
    return {
      fileName,
      byteLength: (await stat(final)).size,
      sha256: await sha256OfFile(final),
      manifest,
    };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Removes work folders left by a crash during a build (at start-up, before any build runs). */
export async function removeStaleWork(exportsDir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(exportsDir);
  } catch {
    return;
  }
  for (const name of names.filter((n) => n.startsWith(WORK_DIR_PREFIX))) {
    await rm(join(exportsDir, name), { recursive: true, force: true });
  }
}
