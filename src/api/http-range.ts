import { VigilError } from '../errors/catalogue.js';

/**
 * The byte range of a `Range: bytes=…` header for a body of `size` bytes; null means the whole
 * body. Multiple ranges are answered with the whole body, which RFC 9110 allows.
 */
export function parseRangeHeader(
  header: string | undefined,
  size: number,
): { start: number; end: number } | null {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return null;
  const [, first, last] = match;
  let start: number;
  let end: number;
  if (first === '') {
    const suffix = Number(last);
    if (!last || suffix === 0) throw unsatisfiable(header, size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(first);
    end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  }
  if (start >= size || end < start) throw unsatisfiable(header, size);
  return { start, end };
}

function unsatisfiable(header: string, size: number): VigilError {
  return new VigilError(
    'RANGE_NOT_SATISFIABLE',
    `Range '${header}' lies outside the ${size} bytes of the file`,
    {
      size,
    },
  );
}
