import {
  createDecipheriv,
  createECDH,
  createHmac,
  createPublicKey,
  randomBytes,
  verify,
  type ECDH,
} from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { ensureSelfSignedCertificate } from '../../src/auth/tls.js';
import { closeServer, listenLocal } from './local-server.js';
import { tempDir } from './vigil.js';

/** One message as the push service received it. */
export interface PushedMessage {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A browser's side of a subscription: its ECDH P-256 key pair and auth secret (RFC 8291 §2). */
export interface BrowserKeys {
  ecdh: ECDH;
  auth: Buffer;
  /** As PushSubscription.toJSON() gives them. */
  json: { p256dh: string; auth: string };
}

export function browserKeys(): BrowserKeys {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return {
    ecdh,
    auth,
    json: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
  };
}

function hmac(key: Buffer, ...data: Buffer[]): Buffer {
  const h = createHmac('sha256', key);
  for (const d of data) h.update(d);
  return h.digest();
}

/**
 * Decrypts an aes128gcm push message body (RFC 8188 framing, RFC 8291 keys) as a browser would,
 * with node:crypto only: the header gives salt, record size and the sender's ephemeral key.
 */
export function decryptPush(body: Buffer, keys: BrowserKeys): string {
  const salt = body.subarray(0, 16);
  const idLength = body[20] as number;
  const senderKey = body.subarray(21, 21 + idLength);
  const ciphertext = body.subarray(21 + idLength);
  const shared = keys.ecdh.computeSecret(senderKey);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), keys.ecdh.getPublicKey(), senderKey]);
  const ikm = hmac(hmac(keys.auth, shared), keyInfo, Buffer.from([1]));
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0'), Buffer.from([1])).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0'), Buffer.from([1])).subarray(0, 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([
    decipher.update(ciphertext.subarray(0, ciphertext.length - 16)),
    decipher.final(),
  ]);
  // One record, the last: the data, the delimiter 0x02, then zero padding.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end -= 1;
  if (padded[end] !== 2) throw new Error('no last-record delimiter');
  return padded.subarray(0, end).toString('utf8');
}

/** The VAPID claims of `Authorization: vapid t=JWT, k=KEY` after checking the ES256 signature with k. */
export function verifyVapid(authorization: string | undefined): {
  claims: Record<string, unknown>;
  publicKey: string;
} {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization ?? '');
  if (!match) throw new Error(`not a vapid Authorization: ${String(authorization)}`);
  const [, jwt = '', k = ''] = match;
  const [header = '', payload = '', signature = ''] = jwt.split('.');
  const point = Buffer.from(k, 'base64url');
  const key = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33, 65).toString('base64url'),
    },
    format: 'jwk',
  });
  const ok = verify(
    'sha256',
    Buffer.from(`${header}.${payload}`),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  );
  if (!ok) throw new Error('the VAPID JWT signature does not verify with k');
  const alg = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg: string }).alg;
  if (alg !== 'ES256') throw new Error(`JWT alg ${alg}`);
  return {
    claims: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>,
    publicKey: k,
  };
}

/**
 * A local push service over HTTPS with a self-signed certificate (web-push speaks https only):
 * it records every message and answers 201, or the status `answer` gives for its path.
 */
export interface LocalPushService {
  origin: string;
  messages: PushedMessage[];
  /** Trusts the service's certificate: pass as VigilOptions.pushAgent. */
  agent: Agent;
  answer: (path: string) => number;
  close(): Promise<void>;
}

export async function startPushService(): Promise<LocalPushService> {
  const tls = await ensureSelfSignedCertificate({
    dir: tempDir('vigil-push-tls-'),
    nowMs: Date.now(),
    names: ['127.0.0.1'],
  });
  const messages: PushedMessage[] = [];
  const sockets = new Set<Socket>();
  const service: LocalPushService = {
    origin: '',
    messages,
    agent: new Agent({ ca: tls.cert }),
    answer: () => 201,
    close: () => closeServer(server, sockets),
  };
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      messages.push({ path, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(service.answer(path)).end();
    });
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listenLocal(server);
  service.origin = `https://127.0.0.1:${port}`;
  return service;
}
