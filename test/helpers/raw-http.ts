import { connect } from 'node:net';

export interface RawResponse {
  /** 0 when the server closed the connection without a status line. */
  statusCode: number;
  head: string;
  body: string;
}

/**
 * One HTTP/1.1 request written byte for byte on a fresh socket: the request target goes out
 * exactly as given (no client-side normalisation of dot segments, escapes or case, which fetch
 * and undici would do), so tests see what an attacker's raw request gets.
 */
export function rawRequest(
  port: number,
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body?: string,
  /** The client's own address, e.g. 127.0.0.2 (any 127/8 address is this machine on Linux). */
  options: { localAddress?: string } = {},
): Promise<RawResponse> {
  const lines = [`${method} ${target} HTTP/1.1`, `host: 127.0.0.1:${port}`];
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'connection')) lines.push('connection: close');
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body !== undefined) lines.push(`content-length: ${Buffer.byteLength(body)}`);
  const bytes = Buffer.concat([
    Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'),
    Buffer.from(body ?? '', 'utf8'),
  ]);
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', ...options });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split < 0 ? text : text.slice(0, split);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve({
        statusCode: status ? Number(status[1]) : 0,
        head,
        body: split < 0 ? '' : text.slice(split + 4),
      });
    };
    // A WebSocket that was upgraded never closes by itself: the status line is all we need.
    const timer = setTimeout(finish, 3_000);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (responseComplete(Buffer.concat(chunks).toString('latin1'), method)) finish();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (err) => {
      if (!settled && chunks.length === 0) {
        settled = true;
        clearTimeout(timer);
        reject(err);
      } else finish();
    });
    socket.write(bytes);
  });
}

/** Headers that make a request a WebSocket upgrade. */
export const WEBSOCKET_UPGRADE: Readonly<Record<string, string>> = {
  upgrade: 'websocket',
  connection: 'Upgrade',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'sec-websocket-version': '13',
};

/**
 * Whether a whole response is in: a 101 needs only its head, others their Content-Length (a
 * server may keep an upgrade request's connection open after refusing it).
 */
function responseComplete(text: string, method: string): boolean {
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) return false;
  const head = text.slice(0, split);
  if (/^HTTP\/1\.1 101 /.test(head)) return true;
  if (method === 'HEAD' || /^HTTP\/1\.1 (204|304) /.test(head)) return true;
  const length = /\r\ncontent-length: *(\d+)/i.exec(head);
  return length !== null && Buffer.byteLength(text.slice(split + 4), 'latin1') >= Number(length[1]);
}
