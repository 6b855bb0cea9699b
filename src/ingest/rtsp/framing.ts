/**
 * The RTSP byte stream over TCP: responses (and the odd server request) interleaved with binary
 * frames `$ channel length data` (RFC 2326 §10.12). Pure. Frames are returned as views of the
 * chunk just pushed, valid only until the next push: the socket reads into one buffer it reuses,
 * so a caller copies what it keeps. What is kept here between chunks (a frame or message split
 * between two) is copied, as are message bodies.
 */

export interface RtspMessage {
  kind: 'message';
  /** The first line: 'RTSP/1.0 200 OK', or a request line from the server. */
  startLine: string;
  /** For responses, the status code; 0 for requests. */
  status: number;
  reason: string;
  /** Header names lower-cased; a repeated header keeps every value. */
  headers: Map<string, string[]>;
  body: Buffer;
}

export interface InterleavedFrame {
  kind: 'frame';
  channel: number;
  data: Buffer;
}

export class RtspProtocolError extends Error {}

export interface FramingLimits {
  /** Longest header block accepted. */
  maxHeaderBytes: number;
  /** Largest body accepted (an SDP description is a few hundred bytes). */
  maxBodyBytes: number;
  /** Bytes that are neither a message nor a frame tolerated in a row before giving up. */
  maxGarbageBytes: number;
}

export const DEFAULT_FRAMING_LIMITS: FramingLimits = {
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 64 * 1024,
  maxGarbageBytes: 64 * 1024,
};

const DOLLAR = 0x24;
const EMPTY = Buffer.alloc(0);
const HEADER_END = Buffer.from('\r\n\r\n');

export class RtspFraming {
  private pending: Buffer = Buffer.alloc(0);
  private garbageBytes = 0;

  constructor(private readonly limits: FramingLimits = DEFAULT_FRAMING_LIMITS) {}

  /** The complete messages and frames in the stream so far; throws RtspProtocolError on nonsense. */
  push(chunk: Buffer): Array<RtspMessage | InterleavedFrame> {
    const out: Array<RtspMessage | InterleavedFrame> = [];
    const rest = this.completeSplitFrame(chunk, out);
    if (rest === null) return out;
    const buf = this.pending.length === 0 ? rest : Buffer.concat([this.pending, rest]);
    let offset = 0;
    for (;;) {
      if (offset >= buf.length) break;
      const first = buf[offset] as number;
      if (first === DOLLAR) {
        if (offset + 4 > buf.length) break;
        const length = buf.readUInt16BE(offset + 2);
        if (offset + 4 + length > buf.length) break;
        out.push({
          kind: 'frame',
          channel: buf[offset + 1] as number,
          data: buf.subarray(offset + 4, offset + 4 + length),
        });
        offset += 4 + length;
        this.garbageBytes = 0;
        continue;
      }
      if (startsMessage(buf, offset)) {
        const parsed = this.parseMessage(buf, offset);
        if (!parsed) break;
        out.push(parsed.message);
        offset = parsed.end;
        this.garbageBytes = 0;
        continue;
      }
      // Neither: skip to the next byte that could start something (some cameras pad with zeros).
      const next = nextStart(buf, offset + 1);
      this.garbageBytes += next - offset;
      if (this.garbageBytes > this.limits.maxGarbageBytes) {
        throw new RtspProtocolError(
          `the camera sent ${this.garbageBytes} bytes that are neither RTSP nor interleaved RTP`,
        );
      }
      offset = next;
    }
    // A copy of the tail: the chunk's buffer is reused for the next read.
    this.pending = offset >= buf.length ? EMPTY : Buffer.from(buf.subarray(offset));
    return out;
  }

  /**
   * When the previous chunk ended inside an interleaved frame (the usual case: frames do not line
   * up with TCP reads), finishes that frame from the start of `chunk`. Returns the rest of the
   * chunk to parse, or null when the frame is still not complete.
   */
  private completeSplitFrame(chunk: Buffer, out: Array<RtspMessage | InterleavedFrame>): Buffer | null {
    const pending = this.pending;
    if (pending.length === 0 || pending[0] !== DOLLAR) return chunk;
    if (pending.length < 4) {
      // The header itself was split: join it (4 bytes at most), then finish the frame as usual.
      const taken = Math.min(4 - pending.length, chunk.length);
      this.pending = Buffer.concat([pending, chunk.subarray(0, taken)]);
      return this.pending.length < 4 ? null : this.completeSplitFrame(chunk.subarray(taken), out);
    }
    const total = 4 + pending.readUInt16BE(2);
    const missing = total - pending.length;
    if (chunk.length < missing) {
      this.pending = Buffer.concat([pending, chunk]);
      return null;
    }
    const frame = Buffer.concat([pending, chunk.subarray(0, missing)], total);
    out.push({ kind: 'frame', channel: frame[1] as number, data: frame.subarray(4) });
    this.pending = EMPTY;
    this.garbageBytes = 0;
    return chunk.subarray(missing);
  }

  private parseMessage(buf: Buffer, offset: number): { message: RtspMessage; end: number } | null {
    const headerEnd = buf.indexOf(HEADER_END, offset);
    if (headerEnd < 0) {
      if (buf.length - offset > this.limits.maxHeaderBytes) {
        throw new RtspProtocolError(`an RTSP header block longer than ${this.limits.maxHeaderBytes} bytes`);
      }
      return null;
    }
    const lines = buf.toString('latin1', offset, headerEnd).split('\r\n');
    const startLine = lines[0] ?? '';
    const headers = new Map<string, string[]>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const values = headers.get(name) ?? [];
      values.push(line.slice(colon + 1).trim());
      headers.set(name, values);
    }
    const lengthText = headers.get('content-length')?.[0] ?? '0';
    const bodyLength = Number(lengthText);
    if (!Number.isInteger(bodyLength) || bodyLength < 0) {
      throw new RtspProtocolError(`an RTSP Content-Length of '${lengthText}'`);
    }
    if (bodyLength > this.limits.maxBodyBytes) {
      throw new RtspProtocolError(
        `the camera sent an RTSP body of ${bodyLength} bytes, more than the ${this.limits.maxBodyBytes} allowed`,
      );
    }
    const bodyStart = headerEnd + 4;
    if (bodyStart + bodyLength > buf.length) return null;
    const status = /^RTSP\/\d\.\d (\d{3})/.exec(startLine);
    return {
      message: {
        kind: 'message',
        startLine,
        status: status ? Number(status[1]) : 0,
        reason: status ? startLine.slice(status[0].length).trim() : '',
        headers,
        body: Buffer.from(buf.subarray(bodyStart, bodyStart + bodyLength)),
      },
      end: bodyStart + bodyLength,
    };
  }
}

/** 'RTSP/' (a response) or an upper-case method followed by a space (a server request). */
function startsMessage(buf: Buffer, offset: number): boolean {
  const head = buf.toString('latin1', offset, Math.min(buf.length, offset + 20));
  if (head.length < 5) return /^(R|RT|RTS|RTSP|[A-Z_]+)$/.test(head);
  return head.startsWith('RTSP/') || /^[A-Z_]{3,16} \S/.test(head);
}

function nextStart(buf: Buffer, from: number): number {
  for (let i = from; i < buf.length; i += 1) {
    const b = buf[i] as number;
    if (b === DOLLAR || b === 0x52 /* R */ || (b >= 0x41 && b <= 0x5a)) return i;
  }
  return buf.length;
}
