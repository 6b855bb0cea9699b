import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signingKeyPath } from '../auth/signing-key.js';
import { VigilError } from '../errors/catalogue.js';
import type { ExportManifest } from '../export/manifest.js';
import { hashFilePrefix, readBundle } from '../export/read-bundle.js';
import { describeVerdict, verifyBundleParts, type TrustedKeys } from '../export/verify.js';
import { UsageError } from './auth-commands.js';

/**
 * `vigil verify BUNDLE [--key PUBKEY] [--config FILE]`, offline: nothing but the bundle (and the
 * key given) is needed. Exit codes: 0 the bundle is exactly as signed (and by the key given);
 * 1 a check failed (the failing part is named), or a stored segment differs from its manifest
 * entry; 2 usage mistakes and a bundle path that cannot be read (a file that is no
 * zip fails with 1, naming `zip`).
 */
export const EXIT_VERIFIED = 0;
export const EXIT_NOT_VERIFIED = 1;

/** A PEM file, or the 32 raw key bytes in base64 as the system page shows them. */
function readKey(text: string): KeyObject {
  try {
    if (existsSync(text)) return createPublicKey(readFileSync(text));
    const raw = Buffer.from(text, 'base64');
    if (raw.length === 32) {
      // SubjectPublicKeyInfo for Ed25519 is a fixed 12-byte prefix and the raw key.
      const prefix = Buffer.from('302a300506032b6570032100', 'hex');
      return createPublicKey({ key: Buffer.concat([prefix, raw]), format: 'der', type: 'spki' });
    }
  } catch (err) {
    throw new UsageError(`--key ${text}: not a readable public key (${(err as Error).message})`);
  }
  throw new UsageError(`--key ${text}: neither a PEM file nor a raw Ed25519 key in base64`);
}

/** The installation's public key, read from its storage folder (run on the server). */
function installationKey(storageRoot: string): KeyObject | undefined {
  const path = signingKeyPath(storageRoot);
  if (!existsSync(path)) return undefined;
  return createPublicKey(createPrivateKey(readFileSync(path)));
}

/** Compares the manifest's segments with the stored files still there; lines to print, and whether any differs. */
async function compareSegments(
  manifest: ExportManifest,
  storageRoot: string,
): Promise<{ lines: string[]; differs: boolean }> {
  const lines: string[] = [];
  let differs = false;
  let matching = 0;
  let gone = 0;
  for (const segment of manifest.segments) {
    const path = join(storageRoot, segment.path);
    if (!existsSync(path)) {
      gone += 1;
      continue;
    }
    const read = await hashFilePrefix(path, segment.byteLength);
    if (read.byteLength === segment.byteLength && read.sha256 === segment.sha256) matching += 1;
    else {
      differs = true;
      lines.push(`  stored segment ${segment.id} (${segment.path}) DIFFERS from when it was exported`);
    }
  }
  lines.unshift(
    `Stored:      ${matching} of ${manifest.segments.length} source segments match the manifest` +
      (gone > 0 ? `, ${gone} no longer stored (retention)` : ''),
  );
  return { lines, differs };
}

export async function runVerify(
  bundlePath: string | undefined,
  options: { key: string | undefined; storageRoot: string | undefined },
): Promise<number> {
  if (!bundlePath) throw new UsageError('usage: vigil verify BUNDLE [--key PUBKEY] [--config FILE]');
  const trusted: TrustedKeys = {};
  if (options.key !== undefined) trusted.given = readKey(options.key);
  const installation = options.storageRoot ? installationKey(options.storageRoot) : undefined;
  if (installation) trusted.installation = installation;
  let parts;
  try {
    parts = await readBundle(bundlePath);
  } catch (err) {
    if (err instanceof VigilError) throw new UsageError(err.message);
    throw err;
  }
  const verdict = verifyBundleParts(parts, trusted);
  for (const line of describeVerdict(verdict)) console.log(line);
  let ok = verdict.ok;
  if (verdict.manifest && options.storageRoot) {
    const stored = await compareSegments(verdict.manifest, options.storageRoot);
    for (const line of stored.lines) console.log(line);
    if (stored.differs) ok = false;
  }
  return ok ? EXIT_VERIFIED : EXIT_NOT_VERIFIED;
}
