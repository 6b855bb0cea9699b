/**
 * What tamper detection measures on a grey picture, brightness- and contrast-normalised so that
 * lights switching on or off, or a camera going to night mode, change none of it. Pure, no I/O.
 */

/** A grey picture at the tamper grid's size, values 0..255 as floats. */
export interface GreyGrid {
  width: number;
  height: number;
  data: Float32Array;
}

/** Brightness (mean) and contrast (standard deviation) of a grid. */
export function meanAndDeviation(grid: GreyGrid): { mean: number; deviation: number } {
  const { data } = grid;
  // Indexed loops: for…of over a typed array is many times slower here.
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i]!;
  const mean = sum / data.length;
  let squares = 0;
  for (let i = 0; i < data.length; i++) squares += (data[i]! - mean) * (data[i]! - mean);
  return { mean, deviation: Math.sqrt(squares / data.length) };
}

/**
 * Gradient magnitude (differences with the next pixel right and down, the finest scale, where a
 * blur shows most) into `out`, divided by the picture's contrast: an edge map that a global gain
 * or offset does not change. The last row and column are left at 0.
 */
export function normalisedEdges(grid: GreyGrid, deviation: number, out: Float32Array): Float32Array {
  const { width, height, data } = grid;
  // A flat picture (covered lens) has no contrast to normalise by: its edges are noise, kept small.
  const scale = 1 / Math.max(deviation, 1);
  out.fill(0);
  for (let y = 0; y < height - 1; y++) {
    const row = y * width;
    for (let x = 0; x < width - 1; x++) {
      const i = row + x;
      const dx = data[i + 1]! - data[i]!;
      const dy = data[i + width]! - data[i]!;
      out[i] = Math.sqrt(dx * dx + dy * dy) * scale;
    }
  }
  return out;
}

/**
 * Root mean square of an edge map: how strong its edges are. Squared, because a blur spreads an
 * edge over more pixels and keeps its summed (mean) gradient, but lowers its squared one.
 */
export function rmsOf(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  return Math.sqrt(sum / values.length);
}

/** Mean of a map. */
export function meanOf(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

/**
 * Pearson correlation of two maps of the same size, -1..1 (0 when either is flat). At zero shift:
 * the same edges in the same places, whatever their strength.
 */
export function correlation(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  const meanA = meanOf(a);
  const meanB = meanOf(b);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - meanA;
    const db = b[i]! - meanB;
    ab += da * db;
    aa += da * da;
    bb += db * db;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/**
 * The fraction of cells whose normalised brightness ((value − mean) / deviation) differs from the
 * reference's by more than `threshold` deviations: how much of the picture changed, ignoring a
 * global brightness or contrast change.
 */
export function changedFraction(
  grid: GreyGrid,
  stats: { mean: number; deviation: number },
  reference: Float32Array,
  threshold: number,
): number {
  const scale = 1 / Math.max(stats.deviation, 1);
  let changed = 0;
  for (let i = 0; i < grid.data.length; i++) {
    if (Math.abs((grid.data[i]! - stats.mean) * scale - reference[i]!) > threshold) changed += 1;
  }
  return changed / grid.data.length;
}

/** Normalised brightness of every cell, into `out`. */
export function normalisedGrey(
  grid: GreyGrid,
  stats: { mean: number; deviation: number },
  out: Float32Array,
): Float32Array {
  const scale = 1 / Math.max(stats.deviation, 1);
  for (let i = 0; i < grid.data.length; i++) out[i] = (grid.data[i]! - stats.mean) * scale;
  return out;
}

/** Moves `reference` towards `value` by `rate` (0..1): an exponential moving average. */
export function blendInto(reference: Float32Array, value: Float32Array, rate: number): void {
  for (let i = 0; i < reference.length; i++) reference[i]! += (value[i]! - reference[i]!) * rate;
}
