import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { canonicalJson } from '../../../src/audit/chain.js';
import { loadOrCreateSigningKey, publicKeyView, type SigningKey } from '../../../src/auth/signing-key.js';
import { buildBundle } from '../../../src/export/bundle.js';
import type { VideoTransform } from '../../../src/media/video-transform.js';
import {
  BUNDLE_FILES,
  buildManifest,
  manifestBytes,
  manifestProblems,
  type BundlePart,
  type ExportManifest,
} from '../../../src/export/manifest.js';
import { readBundle } from '../../../src/export/read-bundle.js';
import { signatureFile, verifyBundleParts, type Verdict } from '../../../src/export/verify.js';
import { readStoredZip, readZipEntry } from '../../../src/export/zip.js';
import { makeRecording, tempDir } from '../../helpers/fixtures-mp4.js';
import { FFMPEG } from '../../helpers/media-tools.js';

const run = promisify(execFile);

/** A real transform: ffmpeg re-encodes the video at a quarter of its size (a stand-in for redaction). */
function downscale(): VideoTransform {
  return {
    describe: () => ({ name: 'downscale', width: 160, height: 120, codec: 'h264' }),
    apply: async (input, output) => {
      await run(FFMPEG, [
        '-hide_banner',
        '-nostdin',
        '-i',
        input,
        '-vf',
        'scale=160:120',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-an',
        output,
      ]);
    },
  };
}

const dir = tempDir('vigil-bundle-');
let key: SigningKey;
let segmentPath: string;

async function bundleOf(transforms: VideoTransform[], into: string): Promise<string> {
  const exportsDir = join(dir.path, into);
  const built = await buildBundle({
    exportsDir,
    camera: { id: 'front', name: 'Front door' },
    stream: 'main',
    fromMs: 1_764_000_000_000,
    toMs: 1_764_000_002_000,
    segments: [
      {
        id: 7,
        path: 'recordings/front/main/seg.mp4',
        absolutePath: segmentPath,
        startTimeMs: 1_764_000_000_000,
        endTimeMs: 1_764_000_002_000,
        open: false,
      },
    ],
    copyByteLength: readFileSync(segmentPath).length,
    writeCopy: async (out) => {
      copyFileSync(segmentPath, out);
      return { sourceTracks: ['video:h264'], durationMs: 2000 };
    },
    transforms,
    exportedBy: { userId: 3, name: 'alice' },
    reason: 'police request 2026-118',
    nowMs: 1_764_000_100_000,
    vigilVersion: '0.1.0',
    key,
    minFreeBytes: 0,
  });
  assert.deepEqual(readdirSync(exportsDir), [built.fileName], 'no work files are left');
  return join(exportsDir, built.fileName);
}

async function verifyFile(path: string, trusted = {}): Promise<Verdict> {
  return verifyBundleParts(await readBundle(path), trusted);
}

function flipped(bytes: Buffer, index: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[index] = (copy[index] as number) ^ 0xff;
  return copy;
}

before(async () => {
  key = (await loadOrCreateSigningKey(join(dir.path, 'signing.key'))).key;
  segmentPath = await makeRecording(join(dir.path, 'segment.mp4'), {
    codec: 'h264',
    durationS: 1,
    size: '160x120',
  });
});

after(() => dir.remove());

describe('canonical JSON and the manifest', () => {
  test('keys are sorted at every level, arrays keep their order, no spaces', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'é' } }),
      '{"a":{"c":"é","d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  test('the same manifest gives the same bytes whatever the order it was built in', () => {
    const input = {
      vigilVersion: '0.1.0',
      createdAtMs: 1,
      camera: { id: 'c', name: 'C' },
      stream: 'main',
      range: { fromMs: 0, toMs: 1000 },
      exportedBy: { userId: 1, name: 'a' },
      reason: 'r',
      video: {
        name: 'video.mp4' as const,
        byteLength: 1,
        sha256: 'a'.repeat(64),
        sourceTracks: [],
        durationMs: 1,
      },
      segments: [],
      transforms: [],
      key: { algorithm: 'Ed25519' as const, fingerprint: 'f' },
    };
    const reversed = Object.fromEntries(Object.entries(input).reverse()) as typeof input;
    assert.ok(manifestBytes(buildManifest(input)).equals(manifestBytes(buildManifest(reversed))));
    assert.deepEqual(manifestProblems(buildManifest(input)), []);
    const broken = { ...buildManifest(input), reason: '', video: { name: 'x' } };
    assert.deepEqual(manifestProblems(broken), ['reason is missing or wrong', 'video is missing or wrong']);
  });
});

describe('a signed bundle', () => {
  let copyZip: string;
  let zipBytes: Buffer;

  before(async () => {
    copyZip = await bundleOf([], 'copy');
    zipBytes = readFileSync(copyZip);
  });

  test('verifies, and says it is an exact copy of the recorded segments', async () => {
    const verdict = await verifyFile(copyZip, { installation: key.publicKey });
    assert.deepEqual(verdict.failures, []);
    assert.equal(verdict.ok, true);
    assert.equal(verdict.content, 'copy');
    assert.equal(verdict.keyTrust, 'installation');
    const manifest = verdict.manifest as ExportManifest;
    assert.equal(manifest.reason, 'police request 2026-118');
    assert.equal(manifest.exportedBy.name, 'alice');
    assert.equal(manifest.segments[0]?.byteLength, readFileSync(segmentPath).length);
    // A copy export: the video is the segment itself, byte for byte.
    assert.equal(manifest.video.sha256, manifest.segments[0]?.sha256);
  });

  test('every flipped byte outside the video, and sampled ones inside it, fails naming the part', async () => {
    const { entries } = await readStoredZip(copyZip);
    const partAt = (index: number): BundlePart => {
      const entry = entries.find((e) => index >= e.dataOffset && index < e.dataOffset + e.byteLength);
      return entry ? (entry.name as BundlePart) : 'zip';
    };
    const video = entries.find((e) => e.name === BUNDLE_FILES.video);
    assert.ok(video);
    const indexes: number[] = [];
    for (let i = 0; i < zipBytes.length; i += 1) {
      const inVideo = i >= video.dataOffset && i < video.dataOffset + video.byteLength;
      if (!inVideo || (i - video.dataOffset) % Math.ceil(video.byteLength / 40) === 0) indexes.push(i);
    }
    const path = join(dir.path, 'flipped.zip');
    const wrong: string[] = [];
    const named = new Set<string>();
    for (const i of indexes) {
      writeFileSync(path, flipped(zipBytes, i));
      const verdict = await verifyFile(path);
      const first = verdict.failures[0];
      named.add(partAt(i));
      if (verdict.ok || first?.part !== partAt(i))
        wrong.push(`byte ${i}: ${JSON.stringify(verdict.failures)}`);
    }
    assert.deepEqual(wrong.length === 0 ? [] : [wrong.length, wrong[0], wrong.at(-1), zipBytes.length], []);
    assert.deepEqual([...named].sort(), [
      'manifest.json',
      'manifest.sig',
      'public-key.pem',
      'video.mp4',
      'zip',
    ]);
  });

  test('unpacked into a folder it verifies, and a flipped byte in each file names that file', async () => {
    const folder = join(dir.path, 'unpacked');
    mkdirSync(folder);
    const { entries } = await readStoredZip(copyZip);
    for (const entry of entries)
      writeFileSync(join(folder, entry.name), (await readZipEntry(copyZip, entry)).bytes);
    assert.equal((await verifyFile(folder)).ok, true);
    const manifest = readFileSync(join(folder, BUNDLE_FILES.manifest));
    // Inside a hash string: the JSON stays valid and canonical, only the signature can tell.
    const inHash = manifest.indexOf('"sha256":"') + 12;
    for (const [name, index] of [
      [BUNDLE_FILES.manifest, inHash],
      [BUNDLE_FILES.signature, 10],
      [BUNDLE_FILES.signature, 70],
      [BUNDLE_FILES.publicKey, 40],
      [BUNDLE_FILES.video, 500],
    ] as const) {
      const original = readFileSync(join(folder, name));
      writeFileSync(join(folder, name), flipped(original, index));
      const verdict = await verifyFile(folder);
      assert.equal(verdict.ok, false, `${name} byte ${index}`);
      assert.equal(
        verdict.failures[0]?.part,
        name,
        `${name} byte ${index}: ${JSON.stringify(verdict.failures)}`,
      );
      writeFileSync(join(folder, name), original);
    }
  });

  test("a bundle re-signed with another key is sound on its own, and fails against the installation's key", async () => {
    const other = generateKeyPairSync('ed25519');
    const view = publicKeyView(other.publicKey);
    const { entries } = await readStoredZip(copyZip);
    const folder = join(dir.path, 'forged');
    mkdirSync(folder);
    for (const entry of entries)
      writeFileSync(join(folder, entry.name), (await readZipEntry(copyZip, entry)).bytes);
    const manifest = JSON.parse(readFileSync(join(folder, BUNDLE_FILES.manifest), 'utf8')) as ExportManifest;
    manifest.reason = 'nothing to see';
    manifest.key.fingerprint = view.fingerprint;
    const bytes = manifestBytes(manifest);
    writeFileSync(join(folder, BUNDLE_FILES.manifest), bytes);
    writeFileSync(
      join(folder, BUNDLE_FILES.signature),
      signatureFile(bytes, sign(null, bytes, other.privateKey)),
    );
    writeFileSync(join(folder, BUNDLE_FILES.publicKey), view.pem);
    const alone = await verifyFile(folder);
    assert.equal(alone.ok, true);
    assert.equal(alone.keyTrust, 'unchecked');
    assert.equal((await verifyFile(folder, { installation: key.publicKey })).keyTrust, 'other');
    const given = await verifyFile(folder, { given: key.publicKey });
    assert.equal(given.ok, false);
    assert.equal(given.failures[0]?.part, BUNDLE_FILES.publicKey);
  });
});

describe('transforms', () => {
  test('a re-encode is applied, declared in the manifest, and verified as "the declared transforms"', async () => {
    const zip = await bundleOf([downscale()], 'transformed');
    const verdict = await verifyFile(zip, { installation: key.publicKey });
    assert.deepEqual(verdict.failures, []);
    assert.equal(verdict.content, 'transformed');
    const manifest = verdict.manifest as ExportManifest;
    assert.deepEqual(manifest.transforms, [{ name: 'downscale', width: 160, height: 120, codec: 'h264' }]);
    assert.notEqual(manifest.video.sha256, manifest.segments[0]?.sha256, 'the video is no longer the copy');
  });

  test('a transform that fails leaves no bundle and no work files', async () => {
    const failing: VideoTransform = {
      describe: () => ({ name: 'broken' }),
      apply: () => Promise.reject(new Error('redaction model missing')),
    };
    await assert.rejects(bundleOf([failing], 'failed'), /redaction model missing/);
    assert.deepEqual(readdirSync(join(dir.path, 'failed')), []);
  });
});
