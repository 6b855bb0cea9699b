import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { closeServer, listenLocal } from '../helpers/local-server.js';

/**
 * A "camera" that answers RTSP with garbage, a different kind on each connection: random bytes,
 * a status line that never ends, a DESCRIBE whose SDP is nonsense, a PLAY followed by bytes that
 * are not interleaved RTP, a header of 1 MB, and silence. Vigil must say this camera is broken
 * and go on recording the others.
 */
export interface HostileRtspServer {
  url: string;
  connections(): number;
  close(): Promise<void>;
}

type Behaviour = (socket: Socket, request: string) => void;

function cseqOf(request: string): string {
  return /CSeq:\s*(\d+)/i.exec(request)?.[1] ?? '1';
}

const garbageSdp =
  'v=9\r\no=\r\nm=video -1 RTP/AVP 96\r\na=rtpmap:96 H264/0\r\na=fmtp:96 sprop-parameter-sets=!!!,@@@\r\n';

const behaviours: Behaviour[] = [
  (socket) => socket.end(randomBytes(4096)),
  (socket) =>
    socket.write('RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: 99999999\r\n\r\n' + 'x'.repeat(1000)),
  (socket, request) => {
    const cseq = cseqOf(request);
    if (request.startsWith('OPTIONS')) {
      socket.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY\r\n\r\n`);
    } else {
      socket.write(
        `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Type: application/sdp\r\nContent-Length: ${garbageSdp.length}\r\n\r\n${garbageSdp}`,
      );
    }
  },
  (socket, request) => {
    const cseq = cseqOf(request);
    if (request.startsWith('PLAY')) {
      socket.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nSession: 1\r\n\r\n`);
      const timer = setInterval(() => socket.write(randomBytes(1400)), 20);
      socket.on('close', () => clearInterval(timer));
      return;
    }
    const sdp =
      'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n';
    const body = request.startsWith('DESCRIBE')
      ? `Content-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`
      : request.startsWith('SETUP')
        ? 'Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: 1\r\n\r\n'
        : 'Public: OPTIONS, DESCRIBE, SETUP, PLAY\r\n\r\n';
    socket.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\n${body}`);
  },
  (socket) => socket.write(`RTSP/1.0 200 OK\r\nX-Pad: ${'a'.repeat(1 << 20)}\r\n\r\n`),
  () => undefined,
];

export async function startHostileRtspServer(): Promise<HostileRtspServer> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    const behaviour = behaviours[connections % behaviours.length]!;
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    socket.on('data', (data: Buffer) => {
      buffered += data.toString('latin1');
      let end = buffered.indexOf('\r\n\r\n');
      while (end >= 0) {
        const request = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        if (!socket.destroyed) behaviour(socket, request);
        end = buffered.indexOf('\r\n\r\n');
      }
    });
  });
  const port = await listenLocal(server);
  return {
    url: `rtsp://127.0.0.1:${port}/hostile`,
    connections: () => connections,
    close: () => closeServer(server, sockets),
  };
}
