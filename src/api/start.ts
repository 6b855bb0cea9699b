import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ensureSelfSignedCertificate, loadTlsFiles, type TlsMaterial } from '../auth/tls.js';
import type { VigilConfig } from '../config/index.js';
import type { OnModeTightened } from '../storage/file-modes.js';
import type { Clock } from '../time/clock.js';
import type { ApiServices } from './context.js';
import { buildServer } from './server.js';

/** Whether a socket address is this machine (IPv4, IPv6 or IPv4-mapped loopback). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/**
 * The certificate to serve HTTPS with, when server.tls asks for it: the configured files, or a
 * self-signed one kept (and renewed) in the storage folder. Its fingerprint goes to the log so
 * users can compare it with what the browser shows.
 */
async function loadTls(
  settings: VigilConfig['server']['tls'],
  storageRoot: string,
  deps: { clock: Clock; log: Logger; onModeTightened: OnModeTightened },
): Promise<TlsMaterial | null> {
  if (settings === undefined) return null;
  const material =
    'certFile' in settings
      ? await loadTlsFiles(settings.certFile, settings.keyFile)
      : await ensureSelfSignedCertificate({
          dir: join(storageRoot, 'tls'),
          nowMs: deps.clock.nowMs(),
          onModeTightened: deps.onModeTightened,
        });
  deps.log.info(
    { fingerprintSha256: material.fingerprintSha256, names: material.names },
    `HTTPS with ${material.selfSigned ? 'a self-signed' : 'the configured'} certificate; SHA-256 fingerprint ${material.fingerprintSha256}`,
  );
  return material;
}

export interface ApiModule {
  server: FastifyInstance;
  /** Where Vigil answers, as the socket is bound (port 0 resolved). */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts the HTTP API and web UI on `listen`. With no account yet only this machine may connect
 * (to create the first administrator); from anywhere else the connection is closed at once, as if
 * nothing listened there.
 */
export async function startApi(
  services: Omit<ApiServices, 'http'>,
  settings: {
    listen: { host: string; port: number };
    tls: VigilConfig['server']['tls'];
    allowedHosts: readonly string[];
    storageRoot: string;
    onModeTightened: OnModeTightened;
  },
): Promise<ApiModule> {
  const { log, auth } = services;
  const { host, port } = settings.listen;
  const tls = await loadTls(settings.tls, settings.storageRoot, {
    ...services,
    onModeTightened: settings.onModeTightened,
  });
  let adminExists = (await auth.store.countUsers()) > 0;
  const server = await buildServer(
    {
      ...services,
      http: {
        tls: tls !== null,
        tlsSelfSigned: tls?.selfSigned ?? false,
        isLoopback,
        hosts: { listenHost: host, allowedHosts: [...settings.allowedHosts] },
        onFirstAdmin: async () => {
          adminExists = true;
          log.info(`the first administrator exists: Vigil now answers on ${host}:${port}`);
        },
      },
    },
    tls ? { https: { key: tls.key, cert: tls.cert } } : {},
  );
  server.server.on('connection', (socket: Socket) => {
    if (adminExists || isLoopback(socket.remoteAddress)) return;
    // The administrator may have been made with `vigil user add` while Vigil runs: look again.
    void auth.store.countUsers().then((count) => {
      adminExists = count > 0;
      if (!adminExists) socket.destroy();
    });
  });
  try {
    await server.listen({ host, port });
  } catch (err) {
    await server.close();
    throw err;
  }
  if (!adminExists) {
    log.warn(
      `no administrator yet: open Vigil on this machine (http://127.0.0.1:${port}) to create one, ` +
        'or run `vigil user add NAME --role admin --password-stdin`; until then other machines cannot connect',
    );
  }
  const address = server.server.address();
  const bound = typeof address === 'object' && address !== null ? address : null;
  const shownHost = bound?.family === 'IPv6' ? `[${bound.address}]` : (bound?.address ?? host);
  const url = `${tls ? 'https' : 'http'}://${shownHost}:${bound?.port ?? port}`;
  return { server, url, stop: () => server.close() };
}
