import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { VigilError } from '../errors/catalogue.js';
import { BUNDLE_FILES, type BundlePart } from './manifest.js';
import type { BundleParts, ReadPart } from './verify.js';
import { readStoredZip, readZipEntry, zipEntryStream, type ZipEntry } from './zip.js';

/** The small parts are read whole; anything bigger than this is not one of them. */
const SMALL_PART_MAX_BYTES = 1 << 20;
const EXPECTED = new Set<string>(Object.values(BUNDLE_FILES));

async function hashStream(stream: Readable): Promise<{ sha256: string; byteLength: number; crc32: number }> {
  const hash = createHash('sha256');
  let byteLength = 0;
  let crc = 0;
  for await (const chunk of stream) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    crc = crc32(bytes, crc);
    byteLength += bytes.length;
  }
  return { sha256: hash.digest('hex'), byteLength, crc32: crc };
}

function partOf(name: string): BundlePart {
  return EXPECTED.has(name) ? (name as BundlePart) : 'zip';
}

async function readZipBundle(path: string): Promise<BundleParts> {
  const zip = await readStoredZip(path);
  const parts: BundleParts = {
    kind: 'zip',
    manifest: null,
    signature: null,
    publicKey: null,
    video: null,
    // A damaged header is the zip's fault, whichever entry it describes: its data may be fine.
    containerProblems: zip.problems.map((p) => ({ part: 'zip' as const, message: p.message })),
  };
  const byName = new Map<string, ZipEntry>();
  for (const entry of zip.entries) {
    if (!EXPECTED.has(entry.name) || byName.has(entry.name)) {
      parts.containerProblems.push({ part: 'zip', message: `unexpected entry '${entry.name}'` });
      continue;
    }
    byName.set(entry.name, entry);
  }
  const small = async (name: string): Promise<ReadPart | null> => {
    const entry = byName.get(name);
    if (!entry) return null;
    if (entry.byteLength > SMALL_PART_MAX_BYTES) {
      parts.containerProblems.push({
        part: partOf(name),
        message: `it is ${entry.byteLength} bytes: too big`,
      });
      return null;
    }
    const { bytes, crcOk } = await readZipEntry(path, entry);
    return { bytes, intact: crcOk };
  };
  parts.manifest = await small(BUNDLE_FILES.manifest);
  parts.signature = await small(BUNDLE_FILES.signature);
  parts.publicKey = await small(BUNDLE_FILES.publicKey);
  const videoEntry = byName.get(BUNDLE_FILES.video);
  if (videoEntry) {
    const read = await hashStream(zipEntryStream(path, videoEntry));
    parts.video = {
      sha256: read.sha256,
      byteLength: read.byteLength,
      intact: read.crc32 === videoEntry.crc32 && read.byteLength === videoEntry.byteLength,
    };
  }
  return parts;
}

async function readDirectoryBundle(dir: string): Promise<BundleParts> {
  const names = await readdir(dir);
  const parts: BundleParts = {
    kind: 'directory',
    manifest: null,
    signature: null,
    publicKey: null,
    video: null,
    containerProblems: names
      .filter((n) => !EXPECTED.has(n))
      .map((n) => ({ part: 'zip' as const, message: `unexpected file '${n}' in the bundle folder` })),
  };
  const small = async (name: string): Promise<ReadPart | null> => {
    if (!names.includes(name)) return null;
    const bytes = await readFile(join(dir, name));
    return { bytes: bytes.subarray(0, SMALL_PART_MAX_BYTES), intact: true };
  };
  parts.manifest = await small(BUNDLE_FILES.manifest);
  parts.signature = await small(BUNDLE_FILES.signature);
  parts.publicKey = await small(BUNDLE_FILES.publicKey);
  if (names.includes(BUNDLE_FILES.video)) {
    const read = await hashStream(createReadStream(join(dir, BUNDLE_FILES.video)));
    parts.video = { sha256: read.sha256, byteLength: read.byteLength, intact: true };
  }
  return parts;
}

/**
 * Reads a bundle, a zip as Vigil writes it or a folder it was unpacked into, for
 * verifyBundleParts(). BUNDLE_INVALID when the path is neither.
 */
export async function readBundle(path: string): Promise<BundleParts> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new VigilError('BUNDLE_INVALID', `cannot read ${path}: ${(err as Error).message}`);
  }
  return info.isDirectory() ? readDirectoryBundle(path) : readZipBundle(path);
}

/** SHA-256 and length of the first `byteLength` bytes of a file (a stored segment). */
export async function hashFilePrefix(
  path: string,
  byteLength: number,
): Promise<{ sha256: string; byteLength: number }> {
  if (byteLength === 0) return { sha256: createHash('sha256').digest('hex'), byteLength: 0 };
  const read = await hashStream(createReadStream(path, { start: 0, end: byteLength - 1 }));
  return { sha256: read.sha256, byteLength: read.byteLength };
}
