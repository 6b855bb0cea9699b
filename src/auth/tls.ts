import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isIP } from 'node:net';
import {
  PRIVATE_DIR_MODE,
  PRIVATE_FILE_MODE,
  tightenMode,
  type OnModeTightened,
} from '../storage/file-modes.js';
import { VigilError } from '../errors/catalogue.js';

const execFileAsync = promisify(execFile);
const DAY_MS = 86_400_000;
/** Browsers refuse server certificates valid for more than 825 days (Apple's limit, followed by others). */
export const SELF_SIGNED_DAYS = 825;
/** A self-signed certificate this close to its end is replaced at start. */
const RENEW_BEFORE_MS = 30 * DAY_MS;

export interface TlsMaterial {
  /** PEM, for https.createServer / Fastify's https option. */
  cert: Buffer;
  key: Buffer;
  /** SHA-256 fingerprint as browsers show it (AB:CD:…): print it so users can check the certificate they are shown. */
  fingerprintSha256: string;
  subject: string;
  /** DNS names and IP addresses the certificate is valid for. */
  names: string[];
  validFromMs: number;
  validToMs: number;
  selfSigned: boolean;
  certPath: string;
  keyPath: string;
}

function tlsError(message: string, details?: Record<string, unknown>): VigilError {
  return new VigilError('TLS_INVALID', message, details);
}

/** The names of a certificate's subjectAltName ('DNS:a, IP Address:1.2.3.4' → ['a', '1.2.3.4']). */
function altNames(certificate: X509Certificate): string[] {
  return (certificate.subjectAltName ?? '')
    .split(',')
    .map((part) => part.trim().replace(/^(DNS|IP Address):/, ''))
    .filter((name) => name !== '');
}

/**
 * Reads a certificate and its private key (PEM files), checks that they belong together, and
 * describes the certificate. TLS_INVALID says which file is wrong and why.
 */
export async function loadTlsFiles(certPath: string, keyPath: string): Promise<TlsMaterial> {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = await readFile(certPath);
  } catch (err) {
    throw tlsError(`cannot read the TLS certificate file ${certPath}: ${String(err)}`, { path: certPath });
  }
  try {
    key = await readFile(keyPath);
  } catch (err) {
    throw tlsError(`cannot read the TLS key file ${keyPath}: ${String(err)}`, { path: keyPath });
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (err) {
    throw tlsError(`${certPath} is not a PEM certificate: ${String(err)}`, { path: certPath });
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw tlsError(`${keyPath} is not an unencrypted PEM private key: ${String(err)}`, { path: keyPath });
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw tlsError(`the key in ${keyPath} does not belong to the certificate in ${certPath}`, {
      certPath,
      keyPath,
    });
  }
  return {
    cert,
    key,
    fingerprintSha256: certificate.fingerprint256,
    subject: certificate.subject,
    names: altNames(certificate),
    validFromMs: Date.parse(certificate.validFrom),
    validToMs: Date.parse(certificate.validTo),
    selfSigned: certificate.issuer === certificate.subject && certificate.verify(certificate.publicKey),
    certPath,
    keyPath,
  };
}

/** Names for a self-signed certificate: localhost, this host's name, and its addresses. */
export function defaultCertificateNames(): string[] {
  const names = new Set<string>(['localhost', '127.0.0.1', '::1', hostname()]);
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (!address.internal) names.add(address.address.split('%')[0]!);
    }
  }
  return [...names].filter((n) => n !== '');
}

/** The subjectAltName extension value for names: DNS entries and IP entries. */
export function subjectAltName(names: readonly string[]): string {
  return names.map((name) => (isIP(name) ? `IP:${name}` : `DNS:${name}`)).join(',');
}

export interface SelfSignedOptions {
  /** Folder of cert.pem and key.pem, e.g. <storage>/tls. */
  dir: string;
  /** Defaults to defaultCertificateNames(). */
  names?: string[];
  nowMs: number;
  /** The openssl binary; 'openssl' from PATH by default. */
  openssl?: string;
  /** Told when the folder or key of an existing certificate was looser than 0700/0600 and was tightened. */
  onModeTightened?: OnModeTightened;
}

/**
 * The self-signed certificate in `dir`, generated with the openssl command (P-256 key, 825
 * days) when missing, unreadable, or expiring within 30 days. The key file is 0600 and both
 * files are written under temporary names and renamed, so a crash leaves no half pair.
 * The fingerprint changes only when a new certificate is made: tell users to expect a new
 * browser warning then, and show the fingerprint to compare with.
 */
export async function ensureSelfSignedCertificate(
  options: SelfSignedOptions,
): Promise<TlsMaterial & { generated: boolean }> {
  const certPath = join(options.dir, 'cert.pem');
  const keyPath = join(options.dir, 'key.pem');
  // The private key: 0600 in a 0700 folder, also when an older Vigil or a copy left it looser.
  tightenMode(options.dir, PRIVATE_DIR_MODE, options.onModeTightened);
  tightenMode(keyPath, PRIVATE_FILE_MODE, options.onModeTightened);
  try {
    const existing = await loadTlsFiles(certPath, keyPath);
    if (existing.validToMs - options.nowMs > RENEW_BEFORE_MS) return { ...existing, generated: false };
  } catch {
    // Missing or broken: make a new one below.
  }
  await mkdir(options.dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const names = options.names ?? defaultCertificateNames();
  const tmpCert = `${certPath}.tmp`;
  const tmpKey = `${keyPath}.tmp`;
  const args = [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-sha256',
    '-days',
    String(SELF_SIGNED_DAYS),
    '-subj',
    '/O=Vigil/CN=Vigil self-signed',
    '-addext',
    `subjectAltName=${subjectAltName(names)}`,
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'extendedKeyUsage=serverAuth',
    '-keyout',
    tmpKey,
    '-out',
    tmpCert,
  ];
  try {
    await execFileAsync(options.openssl ?? 'openssl', args, { timeout: 30_000 });
  } catch (err) {
    await rm(tmpKey, { force: true });
    await rm(tmpCert, { force: true });
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw tlsError(
      missing
        ? 'cannot generate a self-signed certificate: the openssl command is missing; install it ' +
            '(apt-get install openssl) or give your own certificate and key files'
        : `openssl failed to generate a self-signed certificate: ${String((err as { stderr?: unknown }).stderr ?? err)}`,
    );
  }
  await chmod(tmpKey, PRIVATE_FILE_MODE);
  await rename(tmpKey, keyPath);
  await rename(tmpCert, certPath);
  return { ...(await loadTlsFiles(certPath, keyPath)), generated: true };
}
