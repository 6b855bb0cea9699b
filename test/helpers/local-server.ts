import type { Server as HttpServer } from 'node:http';
import type { Server, Socket } from 'node:net';

/** Listens on a free port of 127.0.0.1 and returns it: the fake cameras and relays of the tests. */
export async function listenLocal(server: Server | HttpServer): Promise<number> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  return (server.address() as { port: number }).port;
}

/** Closes the server, ending the connections it still holds (close() alone waits for them). */
export function closeServer(server: Server | HttpServer, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((done) => server.close(() => done()));
}
