/**
 * A test camera with a speaker: an RTSP server that offers only an ONVIF audio backchannel
 * (a sendonly G.711 section, to clients that send `Require: www.onvif.org/ver20/backchannel`)
 * and records the RTP it receives, interleaved on the RTSP connection.
 */
import { createServer, type Server, type Socket } from 'node:net';

export type BackchannelCodec = 'PCMU' | 'PCMA';

export interface ReceivedRtp {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  payload: Buffer;
}

export interface BackchannelCamera {
  url: string;
  /** Every RTP packet received on the backchannel, in order. */
  packets: ReceivedRtp[];
  /** The methods requested, with whether they carried the backchannel Require header. */
  requests: Array<{ method: string; backchannel: boolean }>;
  stop(): Promise<void>;
}

const REQUIRE = 'www.onvif.org/ver20/backchannel';

function sdpFor(codec: BackchannelCodec): string {
  const pt = codec === 'PCMU' ? 0 : 8;
  return [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=speaker',
    'c=IN IP4 0.0.0.0',
    't=0 0',
    'a=control:*',
    `m=audio 0 RTP/AVP ${pt}`,
    'a=control:trackID=backchannel',
    `a=rtpmap:${pt} ${codec}/8000`,
    'a=sendonly',
    '',
  ].join('\r\n');
}

export async function startBackchannelCamera(codec: BackchannelCodec): Promise<BackchannelCamera> {
  const packets: ReceivedRtp[] = [];
  const requests: BackchannelCamera['requests'] = [];
  const sockets = new Set<Socket>();

  const answer = (socket: Socket, cseq: string, status: string, headers: string[] = [], body = ''): void => {
    const lines = [`RTSP/1.0 ${status}`, `CSeq: ${cseq}`, ...headers];
    if (body) lines.push('Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(body)}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
  };

  const onRequest = (socket: Socket, head: string, url: string): void => {
    const [requestLine = '', ...headerLines] = head.split('\r\n');
    const method = requestLine.split(' ')[0] ?? '';
    const header = (name: string) =>
      headerLines
        .find((l) => l.toLowerCase().startsWith(`${name}:`))
        ?.slice(name.length + 1)
        .trim() ?? '';
    const cseq = header('cseq');
    const backchannel = header('require').includes(REQUIRE);
    requests.push({ method, backchannel });
    if (method === 'OPTIONS')
      return answer(socket, cseq, '200 OK', ['Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN']);
    if (method === 'DESCRIBE') {
      // Without the Require header this camera has nothing to stream: only its speaker is here.
      if (!backchannel) return answer(socket, cseq, '404 Not Found');
      return answer(socket, cseq, '200 OK', [`Content-Base: ${url}/`], sdpFor(codec));
    }
    if (method === 'SETUP') {
      return answer(socket, cseq, '200 OK', [
        'Session: 5550123;timeout=60',
        'Transport: RTP/AVP/TCP;unicast;interleaved=0-1',
      ]);
    }
    if (method === 'PLAY' || method === 'TEARDOWN')
      return answer(socket, cseq, '200 OK', ['Session: 5550123']);
    answer(socket, cseq, '405 Method Not Allowed');
  };

  let url = '';
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (buffer[0] === 0x24) {
          if (buffer.length < 4) return;
          const length = buffer.readUInt16BE(2);
          if (buffer.length < 4 + length) return;
          const rtp = buffer.subarray(4, 4 + length);
          if (buffer[1] === 0 && rtp.length >= 12) {
            packets.push({
              payloadType: rtp[1]! & 0x7f,
              sequenceNumber: rtp.readUInt16BE(2),
              timestamp: rtp.readUInt32BE(4),
              payload: Buffer.from(rtp.subarray(12)),
            });
          }
          buffer = buffer.subarray(4 + length);
          continue;
        }
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        onRequest(socket, buffer.subarray(0, end).toString('latin1'), url);
        buffer = buffer.subarray(end + 4);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  url = `rtsp://127.0.0.1:${port}/speaker`;
  return {
    url,
    packets,
    requests,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
