import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { fingerprintOf, publicKeyPem } from '../auth/signing-key.js';
import { canonicalJson } from '../audit/chain.js';
import { BUNDLE_FILES, manifestProblems, type BundlePart, type ExportManifest } from './manifest.js';

/**
 * Verification of a bundle, free of I/O: the caller reads the parts (read-bundle.ts) and this
 * decides. Every byte of a bundle is covered by one check: the signature covers the manifest, the
 * manifest covers the video (SHA-256) and names the key (fingerprint), the key must be exactly
 * the canonical PEM of itself, and in a zip the headers must be exactly those Vigil writes.
 */

/** A part as read from the bundle; `intact` is false when the zip's CRC-32 of it does not match. */
export interface ReadPart {
  bytes: Buffer;
  intact: boolean;
}

export interface BundleParts {
  kind: 'zip' | 'directory';
  manifest: ReadPart | null;
  signature: ReadPart | null;
  publicKey: ReadPart | null;
  video: { sha256: string; byteLength: number; intact: boolean } | null;
  /** Problems of the container itself (zip headers, missing or extra files). */
  containerProblems: Array<{ part: BundlePart; message: string }>;
}

export interface Failure {
  part: BundlePart;
  message: string;
}

/** Whose key signed the bundle, as far as the verifier can tell. */
export type KeyTrust =
  /** The key of the installation the verifier runs on. */
  | 'installation'
  /** The key given with --key (or in the verify page's key field). */
  | 'given'
  /** Another key than the one given: the bundle is not from whoever that key belongs to (a failure). */
  | 'mismatch'
  /** Sound, but signed by another installation than the one verifying (said, not a failure). */
  | 'other'
  /** No key to compare with: the signature is sound, but only the fingerprint says whose it is. */
  | 'unchecked';

export interface Verdict {
  ok: boolean;
  failures: Failure[];
  manifest: ExportManifest | null;
  fingerprint: string | null;
  keyTrust: KeyTrust;
  /** 'copy': video.mp4 is exactly the recorded segments; 'transformed': the declared transforms of them. */
  content: 'copy' | 'transformed' | null;
}

export interface TrustedKeys {
  installation?: KeyObject;
  given?: KeyObject;
}

const SIGNATURE_BYTES = 64;
const DIGEST_BYTES = 32;
/**
 * manifest.sig: the Ed25519 signature over manifest.json, then the SHA-256 of manifest.json. The
 * digest adds no security (the signature covers the manifest); it tells which of the two was
 * changed, in an unpacked folder too, where no zip CRC-32 is there to tell.
 */
export const SIGNATURE_FILE_BYTES = SIGNATURE_BYTES + DIGEST_BYTES;

/** The contents of manifest.sig for a manifest and its signature. */
export function signatureFile(manifestBytes: Buffer, signature: Buffer): Buffer {
  return Buffer.concat([signature, createHash('sha256').update(manifestBytes).digest()]);
}

function signatureFailure(sigFile: Buffer, manifestBytes: Buffer, key: KeyObject): Failure | null {
  const signature = sigFile.subarray(0, SIGNATURE_BYTES);
  const digest = sigFile.subarray(SIGNATURE_BYTES);
  const manifestIntact = createHash('sha256').update(manifestBytes).digest().equals(digest);
  if (verify(null, manifestBytes, key, signature)) {
    return manifestIntact
      ? null
      : {
          part: BUNDLE_FILES.signature,
          message: 'its manifest digest was changed (the signature itself holds)',
        };
  }
  return manifestIntact
    ? { part: BUNDLE_FILES.signature, message: 'the signature does not verify: it was changed' }
    : {
        part: BUNDLE_FILES.manifest,
        message:
          'it differs from the manifest that was signed (SHA-256 and signature do not match): it was changed',
      };
}

function parseKey(part: ReadPart): { key: KeyObject | null; problem: string | null } {
  if (!part.intact)
    return { key: null, problem: 'its bytes differ from the CRC-32 in the zip: it was changed' };
  let key: KeyObject;
  try {
    key = createPublicKey(part.bytes);
  } catch {
    return { key: null, problem: 'it is not a readable public key' };
  }
  if (key.asymmetricKeyType !== 'ed25519') return { key: null, problem: 'it is not an Ed25519 key' };
  // PEM decoders skip stray bytes and base64's spare bits: only the exact canonical text passes.
  if (publicKeyPem(key) !== part.bytes.toString('latin1')) {
    return { key: null, problem: 'it is not byte for byte the key it decodes to: it was changed' };
  }
  return { key, problem: null };
}

function parseManifest(part: ReadPart): { manifest: ExportManifest | null; problem: string | null } {
  if (!part.intact)
    return { manifest: null, problem: 'its bytes differ from the CRC-32 in the zip: it was changed' };
  let value: unknown;
  try {
    value = JSON.parse(part.bytes.toString('utf8'));
  } catch {
    return { manifest: null, problem: 'it is not valid JSON: it was changed' };
  }
  if (canonicalJson(value) !== part.bytes.toString('utf8')) {
    return { manifest: null, problem: 'it is not in the canonical form that was signed: it was changed' };
  }
  const problems = manifestProblems(value);
  if (problems.length > 0) return { manifest: null, problem: problems.join('; ') };
  return { manifest: value as ExportManifest, problem: null };
}

function trustOf(key: KeyObject, trusted: TrustedKeys): KeyTrust {
  const fingerprint = fingerprintOf(key);
  if (trusted.given) return fingerprintOf(trusted.given) === fingerprint ? 'given' : 'mismatch';
  if (trusted.installation)
    return fingerprintOf(trusted.installation) === fingerprint ? 'installation' : 'other';
  return 'unchecked';
}

/** The verdict on a bundle's parts. */
export function verifyBundleParts(parts: BundleParts, trusted: TrustedKeys = {}): Verdict {
  const failures: Failure[] = [...parts.containerProblems];
  const fail = (part: BundlePart, message: string) => failures.push({ part, message });
  const missing = (part: BundlePart) => fail(part, 'it is missing from the bundle');

  let key: KeyObject | null = null;
  if (!parts.publicKey) missing(BUNDLE_FILES.publicKey);
  else {
    const parsed = parseKey(parts.publicKey);
    key = parsed.key;
    if (parsed.problem) fail(BUNDLE_FILES.publicKey, parsed.problem);
  }
  let manifest: ExportManifest | null = null;
  if (!parts.manifest) missing(BUNDLE_FILES.manifest);
  else {
    const parsed = parseManifest(parts.manifest);
    manifest = parsed.manifest;
    if (parsed.problem) fail(BUNDLE_FILES.manifest, parsed.problem);
  }
  if (!parts.signature) missing(BUNDLE_FILES.signature);
  else if (!parts.signature.intact) {
    fail(BUNDLE_FILES.signature, 'its bytes differ from the CRC-32 in the zip: it was changed');
  } else if (parts.signature.bytes.length !== SIGNATURE_FILE_BYTES) {
    fail(BUNDLE_FILES.signature, `it has ${parts.signature.bytes.length} bytes, not ${SIGNATURE_FILE_BYTES}`);
  } else if (key && parts.manifest && parts.manifest.intact) {
    const failed = signatureFailure(parts.signature.bytes, parts.manifest.bytes, key);
    if (failed) fail(failed.part, failed.message);
  }
  if (manifest && key && manifest.key.fingerprint !== fingerprintOf(key)) {
    fail(BUNDLE_FILES.publicKey, 'it is not the key the manifest names (fingerprint differs)');
  }
  if (!parts.video) missing(BUNDLE_FILES.video);
  else if (manifest) {
    const { video } = parts;
    if (video.byteLength !== manifest.video.byteLength || video.sha256 !== manifest.video.sha256) {
      fail(BUNDLE_FILES.video, `its SHA-256 or length differs from the manifest's: the video was changed`);
    } else if (!video.intact) {
      fail(BUNDLE_FILES.video, 'its bytes differ from the CRC-32 in the zip');
    }
  }
  const keyTrust = key ? trustOf(key, trusted) : 'unchecked';
  if (keyTrust === 'mismatch') {
    fail(BUNDLE_FILES.publicKey, 'the bundle is signed by another key than the one given');
  }
  return {
    ok: failures.length === 0,
    failures,
    manifest,
    fingerprint: key ? fingerprintOf(key) : null,
    keyTrust,
    content: manifest ? (manifest.transforms.length === 0 ? 'copy' : 'transformed') : null,
  };
}

/** The verdict as lines for people (the CLI prints them; the API sends them too). */
export function describeVerdict(verdict: Verdict): string[] {
  const lines: string[] = [];
  const m = verdict.manifest;
  if (verdict.ok) lines.push('VERIFIED: the bundle is exactly as it was signed.');
  else lines.push('FAILED: the bundle was changed or is not authentic.');
  for (const f of verdict.failures) lines.push(`  ${f.part}: ${f.message}`);
  if (m) {
    lines.push(`Camera:      ${m.camera.name} (${m.camera.id}), stream ${m.stream}`);
    lines.push(`Range (UTC): ${m.range.from} to ${m.range.to}`);
    lines.push(`Exported by: ${m.exportedBy.name} (user ${m.exportedBy.userId}) at ${m.createdAt}`);
    lines.push(`Reason:      ${m.reason}`);
    lines.push(
      `Video:       ${
        verdict.content === 'copy'
          ? `exactly the recorded segments (copy of ${m.segments.length} segments)`
          : `the declared transforms of the recorded segments: ${m.transforms.map((t) => String(t.name ?? t.kind ?? JSON.stringify(t))).join(', ')}`
      }`,
    );
    lines.push(`Vigil:       ${m.vigilVersion}`);
  }
  if (verdict.fingerprint) {
    const trust: Record<KeyTrust, string> = {
      installation: "this installation's key",
      given: 'the key given',
      mismatch: 'NOT the key given',
      other: "not this installation's key: compare it with the one the sender published",
      unchecked: 'compare it with the one the sender published (or pass --key)',
    };
    lines.push(`Signed with: Ed25519 key ${verdict.fingerprint} (${trust[verdict.keyTrust]})`);
  }
  return lines;
}
