import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  type KeyObject,
} from 'node:crypto';
import { chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { VigilError } from '../errors/catalogue.js';
import { createKeyFile } from './secrets.js';

/**
 * The installation's Ed25519 key that signs export bundles, next to the secret key. It is a key of
 * its own rather than one derived from the secret key: its public half is handed out, and the
 * secret key's bytes must never be involved in anything made public.
 */
export const SIGNING_KEY_FILE = 'signing.key';

/** The public half of a signing key as people compare and exchange it. */
export interface PublicKeyView {
  algorithm: 'Ed25519';
  /** SubjectPublicKeyInfo PEM, exactly as `publicKeyPem()` writes it. */
  pem: string;
  /** The 32 raw key bytes, base64. */
  rawBase64: string;
  /** SHA-256 of the raw key bytes, hex, in groups of 4: what a person reads out to compare. */
  fingerprint: string;
}

export interface SigningKey {
  publicKey: KeyObject;
  view: PublicKeyView;
  /** An Ed25519 signature (64 bytes) over `bytes`. */
  sign(bytes: Buffer): Buffer;
}

export function signingKeyPath(storageRoot: string): string {
  return join(storageRoot, SIGNING_KEY_FILE);
}

/** The canonical PEM of an Ed25519 public key (what bundles carry, byte for byte). */
export function publicKeyPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/** The raw 32 bytes of an Ed25519 public key (the last 32 bytes of its 44-byte SPKI DER). */
export function rawPublicKey(key: KeyObject): Buffer {
  const der = key.export({ type: 'spki', format: 'der' });
  return der.subarray(der.length - 32);
}

export function fingerprintOf(key: KeyObject): string {
  const hex = createHash('sha256').update(rawPublicKey(key)).digest('hex');
  return hex.match(/.{4}/g)?.join(':') ?? hex;
}

export function publicKeyView(key: KeyObject): PublicKeyView {
  return {
    algorithm: 'Ed25519',
    pem: publicKeyPem(key),
    rawBase64: rawPublicKey(key).toString('base64'),
    fingerprint: fingerprintOf(key),
  };
}

function signingKeyFrom(privateKey: KeyObject): SigningKey {
  const publicKey = createPublicKey(privateKey);
  return {
    publicKey,
    view: publicKeyView(publicKey),
    sign: (bytes) => sign(null, bytes, privateKey),
  };
}

/**
 * Reads the signing key (PKCS#8 PEM, mode 0600), creating it at first start. Creation is
 * exclusive like the secret key's, so two processes starting at once end with one key. A damaged
 * file is refused rather than replaced: a new key would make the installation's earlier bundles
 * look foreign to anyone who kept its old public key.
 */
export async function loadOrCreateSigningKey(
  path: string,
): Promise<{ key: SigningKey; created: boolean; permissionsTightened: boolean }> {
  let created: boolean;
  try {
    created = await createKeyFile(path, () =>
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
  } catch (err) {
    throw new VigilError('SIGNING_KEY_INVALID', `cannot create the signing key file ${path}: ${String(err)}`);
  }
  let permissionsTightened = false;
  let privateKey: KeyObject;
  try {
    const mode = (await stat(path)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      await chmod(path, 0o600);
      permissionsTightened = true;
    }
    privateKey = createPrivateKey(await readFile(path));
  } catch (err) {
    throw new VigilError(
      'SIGNING_KEY_INVALID',
      `cannot read the signing key file ${path}: ${(err as Error).message}; restore it from a backup`,
      { path },
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new VigilError(
      'SIGNING_KEY_INVALID',
      `the signing key file ${path} holds a ${String(privateKey.asymmetricKeyType)} key, not Ed25519`,
      { path },
    );
  }
  return { key: signingKeyFrom(privateKey), created, permissionsTightened };
}
