import { createServer, connect, type Server, type Socket } from 'node:net';
import { closeServer, listenLocal } from '../helpers/local-server.js';

/**
 * A TCP relay that impairs the link between Vigil and a camera the way a bad network does to an
 * RTSP-over-TCP stream: added latency with jitter, and stalls where TCP waits to retransmit a
 * lost packet. (The kernel's netem would do this below TCP; this machine's kernel has no netem, so
 * the relay does it above — what the camera client sees is the same: late, bunched, stalled data.)
 */
export interface Impairment {
  latencyMs: number;
  jitterMs: number;
  /** Chance per chunk of a stall, as after a lost segment. */
  stallChance: number;
  stallMs: number;
}

export interface ImpairedLink {
  readonly port: number;
  impairment: Impairment;
  /** Connections the relay has carried (reconnects show here). */
  connections(): number;
  close(): Promise<void>;
}

/**
 * Forwards chunks strictly in order, each no earlier than its impaired delivery time: one queue
 * and one timer per direction (timers of different lengths may fire out of order, and a
 * reordered byte stream is not something TCP ever delivers).
 */
function pipeImpaired(from: Socket, to: Socket, link: { impairment: Impairment }): void {
  const queue: { chunk: Buffer; atMs: number }[] = [];
  let lastAtMs = 0;
  let timer: NodeJS.Timeout | null = null;
  let ended = false;
  const drain = () => {
    timer = null;
    while (queue.length > 0 && queue[0]!.atMs <= Date.now()) {
      const { chunk } = queue.shift()!;
      if (!to.destroyed) to.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(drain, queue[0]!.atMs - Date.now());
    else if (ended) to.destroy();
  };
  from.on('data', (chunk: Buffer) => {
    const { latencyMs, jitterMs, stallChance, stallMs } = link.impairment;
    const delayMs = Math.max(0, latencyMs + (Math.random() * 2 - 1) * jitterMs);
    const stall = Math.random() < stallChance ? stallMs : 0;
    lastAtMs = Math.max(lastAtMs, Date.now() + delayMs) + stall;
    queue.push({ chunk, atMs: lastAtMs });
    timer ??= setTimeout(drain, lastAtMs - Date.now());
  });
  from.on('close', () => {
    ended = true;
    if (queue.length === 0) to.destroy();
  });
  from.on('error', () => to.destroy());
}

export async function startImpairedLink(targetPort: number, impairment: Impairment): Promise<ImpairedLink> {
  const sockets = new Set<Socket>();
  let count = 0;
  const link = { impairment };
  const server: Server = createServer((client) => {
    count += 1;
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    pipeImpaired(client, upstream, link);
    pipeImpaired(upstream, client, link);
  });
  const port = await listenLocal(server);
  // The relays read `link.impairment` per chunk: the caller changes it on this same object.
  return Object.assign(link, { port, connections: () => count, close: () => closeServer(server, sockets) });
}
