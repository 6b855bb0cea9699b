import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { VigilError } from '../errors/catalogue.js';

/** Name of the key file in the storage folder, next to the index database. */
export const SECRET_KEY_FILE = 'secret.key';
export const SECRET_KEY_BYTES = 32;
/**
 * Sealed values start with this, so a value read from an older database (a plain camera
 * password) is told apart from a sealed one and can be sealed in place. The version names the
 * format (AES-256-GCM, 12-byte IV, 16-byte tag); a new format gets v2 and v1 stays readable.
 */
export const SEALED_PREFIX = 'enc:v1:';

const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SecretKeyFile {
  key: Buffer;
  path: string;
  /** True when this call created the file: log it, and tell the user to back it up. */
  created: boolean;
  /** True when the file was readable by others and its mode was set back to 0600: log a warning. */
  permissionsTightened: boolean;
}

/** The default key file path for a storage folder. */
export function secretKeyPath(storageRoot: string): string {
  return join(storageRoot, SECRET_KEY_FILE);
}

/**
 * Writes a new key file (mode 0600, its folder 0700) unless one exists; true when this call made
 * it. Creation is exclusive ('wx'), so two processes starting at once cannot each write their own
 * key: the loser finds the winner's. The key is made only when the file is new.
 */
export async function createKeyFile(path: string, makeKey: () => Buffer | string): Promise<boolean> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(makeKey());
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

/**
 * Reads the key file, creating it (32 random bytes, mode 0600) when it does not exist. Creation
 * is exclusive ('wx'), so two processes starting at once cannot each write their own key; the
 * loser reads the winner's. A file of the wrong length is refused rather than replaced: replacing
 * it would make every sealed secret unreadable for good.
 */
export async function loadOrCreateSecretKey(path: string): Promise<SecretKeyFile> {
  let created: boolean;
  try {
    created = await createKeyFile(path, () => randomBytes(SECRET_KEY_BYTES));
  } catch (err) {
    throw new VigilError('SECRET_KEY_INVALID', `cannot create the secret key file ${path}: ${String(err)}`, {
      path,
    });
  }
  let key: Buffer;
  let permissionsTightened = false;
  try {
    key = await readFile(path);
    const mode = (await stat(path)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      await chmod(path, 0o600);
      permissionsTightened = true;
    }
  } catch (err) {
    throw new VigilError('SECRET_KEY_INVALID', `cannot read the secret key file ${path}: ${String(err)}`, {
      path,
    });
  }
  if (key.length !== SECRET_KEY_BYTES) {
    throw new VigilError(
      'SECRET_KEY_INVALID',
      `the secret key file ${path} holds ${key.length} bytes, not ${SECRET_KEY_BYTES}: restore it from a backup ` +
        '(deleting it makes every stored camera password and second-factor secret unreadable)',
      { path },
    );
  }
  return { key, path, created, permissionsTightened };
}

export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}

/**
 * Encrypts small secrets (camera passwords, TOTP secrets) for the database. Each value is bound
 * to a context string (e.g. 'totp:user:7', 'camera:front-door:main') through GCM's associated
 * data, so a sealed value copied into another row or field fails to open instead of being used
 * there.
 */
export class SecretBox {
  private readonly rawKey: Buffer;
  private readonly sealKey: Buffer;

  constructor(key: Buffer) {
    if (key.length !== SECRET_KEY_BYTES) {
      throw new VigilError(
        'SECRET_KEY_INVALID',
        `a secret key has ${SECRET_KEY_BYTES} bytes, got ${key.length}`,
      );
    }
    this.rawKey = Buffer.from(key);
    // One subkey per purpose: the same bytes never both encrypt and sign.
    this.sealKey = this.deriveKey('vigil/secret-box/v1');
  }

  /** 'enc:v1:' + base64url(iv | ciphertext | tag). */
  seal(plain: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return SEALED_PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The plain value; SECRET_KEY_INVALID when it was sealed under another key or context, or altered. */
  open(sealed: string, context: string): string {
    if (!isSealed(sealed)) {
      throw new VigilError(
        'SECRET_KEY_INVALID',
        `the stored secret for ${context} is not sealed (it lacks '${SEALED_PREFIX}')`,
      );
    }
    const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) {
      throw new VigilError('SECRET_KEY_INVALID', `the stored secret for ${context} is truncated`);
    }
    const decipher = createDecipheriv('aes-256-gcm', this.sealKey, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    try {
      const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      throw new VigilError(
        'SECRET_KEY_INVALID',
        `the stored secret for ${context} cannot be decrypted: the secret key file is not the one it was ` +
          'encrypted with (restore the matching key file), or the database was altered',
      );
    }
  }

  /**
   * Opens a sealed value, or passes a plain one (from a database older than encryption) through
   * with needsSealing set, so the caller stores seal(value) in its place.
   */
  openOrPlain(value: string, context: string): { value: string; needsSealing: boolean } {
    if (isSealed(value)) return { value: this.open(value, context), needsSealing: false };
    return { value, needsSealing: true };
  }

  /** A 32-byte key for one purpose (e.g. signing audit checkpoints), derived with HKDF-SHA-256. */
  deriveKey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.rawKey, Buffer.alloc(0), purpose, SECRET_KEY_BYTES));
  }
}
