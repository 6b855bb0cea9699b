/**
 * Sizes in the config: a number of bytes, or text with a unit. Decimal units are powers of 1000
 * (as disk vendors and `df -H` count), binary units powers of 1024.
 */

const UNIT_BYTES: Readonly<Record<string, number>> = {
  b: 1,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  t: 1e12,
  ki: 2 ** 10,
  mi: 2 ** 20,
  gi: 2 ** 30,
  ti: 2 ** 40,
};

/**
 * The size text the schema accepts. Units are case-insensitive and the trailing B is optional
 * ("5G", "5 gb"), because nobody means bits in a storage budget.
 */
export const SIZE_TEXT_PATTERN = '^\\s*[0-9]+(\\.[0-9]+)?\\s*([kKmMgGtT][iI]?[bB]?|[bB])?\\s*$';

const SIZE_TEXT = new RegExp(SIZE_TEXT_PATTERN);

/** Bytes from a size, or null when the value is not a size. Fractions of a byte are rounded. */
export function parseSize(value: number | string): number | null {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? value : null;
  }
  if (!SIZE_TEXT.test(value)) return null;
  const match = /^([0-9.]+)\s*([a-zA-Z]*)$/.exec(value.trim());
  if (!match) return null;
  const amount = Number(match[1]);
  const unit = (match[2] ?? '').toLowerCase().replace(/b$/, '') || 'b';
  const factor = UNIT_BYTES[unit];
  if (factor === undefined || !Number.isFinite(amount)) return null;
  const bytes = Math.round(amount * factor);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** A size for humans: the exact unit with the smallest number ("5 GB", "1 GiB"), else about so many GB. */
export function formatBytes(bytes: number): string {
  const units: Array<[string, number]> = [
    ['TB', 1e12],
    ['TiB', 2 ** 40],
    ['GB', 1e9],
    ['GiB', 2 ** 30],
    ['MB', 1e6],
    ['MiB', 2 ** 20],
    ['KB', 1e3],
    ['KiB', 2 ** 10],
  ];
  const exact = units.filter(([, factor]) => bytes >= factor && bytes % factor === 0);
  const best = exact.sort((a, b) => bytes / a[1] - bytes / b[1])[0];
  if (best) return `${bytes / best[1]} ${best[0]}`;
  const approx = units.filter(([unit]) => !unit.includes('i')).find(([, factor]) => bytes >= factor);
  if (approx) return `${Number((bytes / approx[1]).toPrecision(3))} ${approx[0]}`;
  return `${bytes} B`;
}
