import { chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import webpush from 'web-push';
import { createKeyFile } from '../auth/secrets.js';
import { VigilError } from '../errors/catalogue.js';

/** The installation's VAPID key pair (RFC 8292), next to the secret and signing keys. */
export const VAPID_KEY_FILE = 'vapid.json';

/** Both halves base64url: the public one is an uncompressed P-256 point (65 bytes), the private one 32 bytes. */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

export function vapidKeyPath(storageRoot: string): string {
  return join(storageRoot, VAPID_KEY_FILE);
}

function parseKeys(text: string): VapidKeys | null {
  try {
    const keys = JSON.parse(text) as Partial<VapidKeys>;
    if (typeof keys.publicKey !== 'string' || typeof keys.privateKey !== 'string') return null;
    if (Buffer.from(keys.publicKey, 'base64url').length !== 65) return null;
    if (Buffer.from(keys.privateKey, 'base64url').length !== 32) return null;
    return { publicKey: keys.publicKey, privateKey: keys.privateKey };
  } catch {
    return null;
  }
}

/**
 * Reads the VAPID keys (JSON, mode 0600), making them at first start. Kept, never remade: every
 * browser subscribed with the public key, and a new one would silence them all until they
 * subscribe again. A damaged file is refused for the same reason.
 */
export async function loadOrCreateVapidKeys(
  path: string,
): Promise<{ keys: VapidKeys; created: boolean; permissionsTightened: boolean }> {
  const created = await createKeyFile(path, () => `${JSON.stringify(webpush.generateVAPIDKeys())}\n`);
  let permissionsTightened = false;
  if (((await stat(path)).mode & 0o077) !== 0) {
    await chmod(path, 0o600);
    permissionsTightened = true;
  }
  const keys = parseKeys(await readFile(path, 'utf8'));
  if (!keys) {
    throw new VigilError('PUSH_KEY_INVALID', `the Web Push key file ${path} is damaged`, { path });
  }
  return { keys, created, permissionsTightened };
}
