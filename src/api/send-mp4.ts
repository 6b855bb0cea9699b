import type { FastifyReply, FastifyRequest } from 'fastify';
import { createReadStream } from 'node:fs';
import type { VirtualMp4 } from '../media/mp4/progressive.js';
import type { MaskedFile } from '../privacy/masked-video/index.js';
import { parseRangeHeader } from './http-range.js';

/**
 * Sends a virtual progressive MP4 as a download: ETag revalidation, and Range requests answered
 * with 206 from the stored files without assembling the whole file.
 */
export function sendMp4(request: FastifyRequest, reply: FastifyReply, mp4: VirtualMp4, filename: string) {
  void reply
    .type('video/mp4')
    .header('accept-ranges', 'bytes')
    .header('etag', mp4.etag)
    .header('content-disposition', `attachment; filename="${filename}"`);
  if (request.headers['if-none-match'] === mp4.etag) return reply.code(304).send();
  const range = parseRangeHeader(request.headers.range, mp4.byteLength);
  if (!range) {
    return reply.header('content-length', mp4.byteLength).send(mp4.createReadStream(0, mp4.byteLength - 1));
  }
  return reply
    .code(206)
    .header('content-range', `bytes ${range.start}-${range.end}/${mp4.byteLength}`)
    .header('content-length', range.end - range.start + 1)
    .send(mp4.createReadStream(range.start, range.end));
}

/**
 * Sends an export re-encoded with privacy masks, whole (200; Range is not offered: the file exists
 * only for this answer), and deletes it once sent or abandoned.
 */
export function sendMaskedMp4(reply: FastifyReply, file: MaskedFile, filename: string) {
  const stream = createReadStream(file.path);
  stream.once('close', () => void file.remove());
  return reply
    .type('video/mp4')
    .header('cache-control', 'no-store')
    .header('content-length', file.byteLength)
    .header('content-disposition', `attachment; filename="${filename}"`)
    .send(stream);
}
