import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';

/**
 * Bundles are zip files of stored (uncompressed) entries, written in one fixed layout: local
 * header, data, next entry, the central directory, the end record, no comment, no extra fields.
 * The video does not compress and the other parts are tiny, so storing costs nothing, and a fixed
 * layout lets the reader rebuild every header byte it expects and compare: a changed byte in any
 * header is found, not only in the data. Zip64 is not written: an entry or bundle of 4 GiB or
 * more is refused (MAX_ZIP_BYTES) before anything is built.
 */

const LOCAL_SIGNATURE = 0x04034b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const END_SIGNATURE = 0x06054b50;
const LOCAL_HEADER_BYTES = 30;
const CENTRAL_HEADER_BYTES = 46;
const END_RECORD_BYTES = 22;
const VERSION_NEEDED = 20;
/** Unix (3) in the high byte, so unzip restores the file mode below. */
const VERSION_MADE_BY = (3 << 8) | VERSION_NEEDED;
/** Bit 11: names are UTF-8. */
const FLAGS = 0x0800;
const METHOD_STORED = 0;
/** -rw-r--r-- regular file, in the high 16 bits as Unix zip tools write it. */
const EXTERNAL_ATTRIBUTES = (0o100644 << 16) >>> 0;
/** Zip without Zip64 addresses 32-bit offsets. */
export const MAX_ZIP_BYTES = 0xffff_ffff;
const READ_CHUNK_BYTES = 1 << 20;

/** An entry to write: small bytes in memory, or a file whose length and CRC-32 are known. */
export type ZipSource =
  { name: string; bytes: Buffer } | { name: string; path: string; byteLength: number; crc32: number };

/** An entry as found in a zip: where its data is, and what its headers say. */
export interface ZipEntry {
  name: string;
  dataOffset: number;
  byteLength: number;
  crc32: number;
}

export interface ZipReading {
  entries: ZipEntry[];
  /** Where the file departs from the layout Vigil writes: each names the entry or the zip part. */
  problems: Array<{ entry: string | null; message: string }>;
}

interface HeaderFields {
  name: string;
  crc32: number;
  byteLength: number;
  dosTime: number;
  dosDate: number;
}

/** MS-DOS time and date fields (2-second resolution, taken as UTC). */
export function dosDateTime(ms: number): { dosTime: number; dosDate: number } {
  const d = new Date(ms);
  const year = Math.min(Math.max(d.getUTCFullYear(), 1980), 2107);
  return {
    dosTime: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    dosDate: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

function localHeader(f: HeaderFields): Buffer {
  const name = Buffer.from(f.name, 'utf8');
  const b = Buffer.alloc(LOCAL_HEADER_BYTES + name.length);
  b.writeUInt32LE(LOCAL_SIGNATURE, 0);
  b.writeUInt16LE(VERSION_NEEDED, 4);
  b.writeUInt16LE(FLAGS, 6);
  b.writeUInt16LE(METHOD_STORED, 8);
  b.writeUInt16LE(f.dosTime, 10);
  b.writeUInt16LE(f.dosDate, 12);
  b.writeUInt32LE(f.crc32, 14);
  b.writeUInt32LE(f.byteLength, 18);
  b.writeUInt32LE(f.byteLength, 22);
  b.writeUInt16LE(name.length, 26);
  b.writeUInt16LE(0, 28);
  name.copy(b, LOCAL_HEADER_BYTES);
  return b;
}

function centralHeader(f: HeaderFields, localOffset: number): Buffer {
  const name = Buffer.from(f.name, 'utf8');
  const b = Buffer.alloc(CENTRAL_HEADER_BYTES + name.length);
  b.writeUInt32LE(CENTRAL_SIGNATURE, 0);
  b.writeUInt16LE(VERSION_MADE_BY, 4);
  b.writeUInt16LE(VERSION_NEEDED, 6);
  b.writeUInt16LE(FLAGS, 8);
  b.writeUInt16LE(METHOD_STORED, 10);
  b.writeUInt16LE(f.dosTime, 12);
  b.writeUInt16LE(f.dosDate, 14);
  b.writeUInt32LE(f.crc32, 16);
  b.writeUInt32LE(f.byteLength, 20);
  b.writeUInt32LE(f.byteLength, 24);
  b.writeUInt16LE(name.length, 28);
  // Extra field, comment, disk number and internal attributes: all zero.
  b.writeUInt32LE(EXTERNAL_ATTRIBUTES, 38);
  b.writeUInt32LE(localOffset, 42);
  name.copy(b, CENTRAL_HEADER_BYTES);
  return b;
}

function endRecord(count: number, centralBytes: number, centralOffset: number): Buffer {
  const b = Buffer.alloc(END_RECORD_BYTES);
  b.writeUInt32LE(END_SIGNATURE, 0);
  b.writeUInt16LE(count, 8);
  b.writeUInt16LE(count, 10);
  b.writeUInt32LE(centralBytes, 12);
  b.writeUInt32LE(centralOffset, 16);
  return b;
}

/** The length of the zip that writeStoredZip() makes of these entries. */
export function storedZipByteLength(entries: Array<{ name: string; byteLength: number }>): number {
  return entries.reduce(
    (sum, e) =>
      sum + LOCAL_HEADER_BYTES + CENTRAL_HEADER_BYTES + 2 * Buffer.byteLength(e.name) + e.byteLength,
    END_RECORD_BYTES,
  );
}

/** CRC-32 and length of a file, read once. */
export async function fileCrc32(path: string): Promise<{ crc32: number; byteLength: number }> {
  let crc = 0;
  let byteLength = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK_BYTES })) {
    crc = crc32(chunk as Buffer, crc);
    byteLength += (chunk as Buffer).length;
  }
  return { crc32: crc, byteLength };
}

/** Writes a new zip (it must not exist) of stored entries in the given order, and syncs it. */
export async function writeStoredZip(
  path: string,
  sources: ZipSource[],
  modifiedAtMs: number,
): Promise<void> {
  const total = storedZipByteLength(
    sources.map((s) => ({ name: s.name, byteLength: 'bytes' in s ? s.bytes.length : s.byteLength })),
  );
  if (total > MAX_ZIP_BYTES)
    throw new RangeError(`a bundle of ${total} bytes needs Zip64, which is not written`);
  const { dosTime, dosDate } = dosDateTime(modifiedAtMs);
  const handle = await open(path, 'wx', 0o600);
  try {
    const central: Buffer[] = [];
    let offset = 0;
    const write = async (bytes: Buffer) => {
      await handle.write(bytes);
      offset += bytes.length;
    };
    for (const source of sources) {
      const fields: HeaderFields =
        'bytes' in source
          ? {
              name: source.name,
              crc32: crc32(source.bytes),
              byteLength: source.bytes.length,
              dosTime,
              dosDate,
            }
          : { name: source.name, crc32: source.crc32, byteLength: source.byteLength, dosTime, dosDate };
      central.push(centralHeader(fields, offset));
      await write(localHeader(fields));
      if ('bytes' in source) await write(source.bytes);
      else await copyInto(handle, source, (n) => (offset += n));
    }
    const centralBytes = Buffer.concat(central);
    const centralOffset = offset;
    await write(centralBytes);
    await write(endRecord(sources.length, centralBytes.length, centralOffset));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function copyInto(
  handle: FileHandle,
  source: { path: string; byteLength: number; crc32: number },
  wrote: (n: number) => void,
): Promise<void> {
  let crc = 0;
  let byteLength = 0;
  for await (const chunk of createReadStream(source.path, { highWaterMark: READ_CHUNK_BYTES })) {
    const bytes = chunk as Buffer;
    crc = crc32(bytes, crc);
    byteLength += bytes.length;
    await handle.write(bytes);
    wrote(bytes.length);
  }
  // The headers are written already: a file that changed since its CRC was taken would make a
  // zip whose headers lie.
  if (crc !== source.crc32 || byteLength !== source.byteLength) {
    throw new Error(`${source.path} changed while it was copied into the bundle`);
  }
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/**
 * Reads a zip's directory and checks every header byte against the layout writeStoredZip()
 * makes: the end record, each central header, each local header, and that entries follow each
 * other with no byte between or after them. Entry data is not read here.
 */
export async function readStoredZip(path: string): Promise<ZipReading> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    return await readDirectory(handle, size);
  } finally {
    await handle.close();
  }
}

async function readDirectory(handle: FileHandle, size: number): Promise<ZipReading> {
  const problems: ZipReading['problems'] = [];
  const fail = (message: string): ZipReading => ({ entries: [], problems: [{ entry: null, message }] });
  if (size < END_RECORD_BYTES) return fail('the file is too short to be a zip');
  const end = await readAt(handle, size - END_RECORD_BYTES, END_RECORD_BYTES);
  if (end.readUInt32LE(0) !== END_SIGNATURE) {
    return fail('the zip end record is not where it belongs (the file was cut, extended or is no zip)');
  }
  const count = end.readUInt16LE(10);
  const centralBytes = end.readUInt32LE(12);
  const centralOffset = end.readUInt32LE(16);
  if (
    centralOffset + centralBytes !== size - END_RECORD_BYTES ||
    count === 0 ||
    !endRecord(count, centralBytes, centralOffset).equals(end)
  ) {
    return fail('the zip end record was changed (or the file was cut or extended)');
  }
  const central = await readAt(handle, centralOffset, centralBytes);
  const entries: ZipEntry[] = [];
  let pos = 0;
  let expectedLocalOffset = 0;
  for (let i = 0; i < count; i += 1) {
    if (pos + CENTRAL_HEADER_BYTES > central.length || central.readUInt32LE(pos) !== CENTRAL_SIGNATURE) {
      return fail(`the zip central directory is damaged at entry ${i + 1}`);
    }
    const nameLength = central.readUInt16LE(pos + 28);
    const name = central.toString(
      'utf8',
      pos + CENTRAL_HEADER_BYTES,
      pos + CENTRAL_HEADER_BYTES + nameLength,
    );
    const fields: HeaderFields = {
      name,
      dosTime: central.readUInt16LE(pos + 12),
      dosDate: central.readUInt16LE(pos + 14),
      crc32: central.readUInt32LE(pos + 16),
      byteLength: central.readUInt32LE(pos + 24),
    };
    const headerLength = CENTRAL_HEADER_BYTES + nameLength;
    if (!centralHeader(fields, expectedLocalOffset).equals(central.subarray(pos, pos + headerLength))) {
      problems.push({ entry: name, message: `the zip central directory entry of '${name}' was changed` });
    }
    const local = await readAt(handle, expectedLocalOffset, LOCAL_HEADER_BYTES + Buffer.byteLength(name));
    if (!localHeader(fields).equals(local)) {
      problems.push({ entry: name, message: `the zip local header of '${name}' was changed` });
    }
    const dataOffset = expectedLocalOffset + local.length;
    entries.push({ name, dataOffset, byteLength: fields.byteLength, crc32: fields.crc32 });
    expectedLocalOffset = dataOffset + fields.byteLength;
    pos += headerLength;
  }
  if (pos !== central.length || expectedLocalOffset !== centralOffset) {
    problems.push({ entry: null, message: 'the zip has bytes outside its entries' });
  }
  return { entries, problems };
}

/** An entry's bytes (for the small entries), with whether they match its CRC-32. */
export async function readZipEntry(
  path: string,
  entry: ZipEntry,
): Promise<{ bytes: Buffer; crcOk: boolean }> {
  const handle = await open(path, 'r');
  try {
    const bytes = await readAt(handle, entry.dataOffset, entry.byteLength);
    return { bytes, crcOk: bytes.length === entry.byteLength && crc32(bytes) === entry.crc32 };
  } finally {
    await handle.close();
  }
}

/** A large entry's data as a stream (the video), for hashing without holding it in memory. */
export function zipEntryStream(path: string, entry: ZipEntry): Readable {
  if (entry.byteLength === 0) return Readable.from([]);
  return createReadStream(path, {
    start: entry.dataOffset,
    end: entry.dataOffset + entry.byteLength - 1,
    highWaterMark: READ_CHUNK_BYTES,
  });
}
