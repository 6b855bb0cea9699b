import type { Box } from '../geometry.js';

/**
 * Constant-velocity Kalman filter over a box, as in SORT (Bewley et al., 2016): state
 * [cx, cy, s, r, vcx, vcy, vs] with s = area and r = aspect (width / height), measurement
 * [cx, cy, s, r]. The aspect is taken as constant (no velocity): people and cars change shape
 * slowly and noisily. Time is in units of the nominal frame interval (`dt` = 1 for one frame at
 * detect.fps), so SORT's tuned noise values apply; a skipped frame is dt = 2.
 *
 * Matrices are row-major Float64Arrays, written out by hand: 7×7 at most, and a 4×4 inverse.
 */

const N = 7;
const M = 4;

/** Measurement noise: centre trusted to about a pixel, area and aspect much less (SORT's R). */
const MEASUREMENT_NOISE = [1, 1, 10, 10];
/** Process noise per unit dt (SORT's Q): velocities wander slowly, area velocity slower still. */
const PROCESS_NOISE = [1, 1, 1, 1, 0.01, 0.01, 0.0001];
/** Initial uncertainty: position as measured, velocity unknown (SORT's P0). */
const INITIAL_VARIANCE = [10, 10, 10, 10, 10_000, 10_000, 10_000];

export function boxToMeasurement(box: Box): [number, number, number, number] {
  const height = Math.max(box.height, 1e-6);
  return [box.x + box.width / 2, box.y + box.height / 2, box.width * box.height, box.width / height];
}

/** Box from a state or measurement vector (cx, cy, s, r first). */
export function stateToBox(state: ArrayLike<number>): Box {
  const area = Math.max(state[2]!, 0);
  const aspect = Math.max(state[3]!, 1e-6);
  const width = Math.sqrt(area * aspect);
  const height = width > 0 ? area / width : 0;
  return { x: state[0]! - width / 2, y: state[1]! - height / 2, width, height };
}

export class BoxKalmanFilter {
  /** State vector. */
  readonly x = new Float64Array(N);
  /** State covariance, N×N. */
  private readonly p = new Float64Array(N * N);
  private readonly scratch = new Float64Array(N * N);

  constructor(box: Box) {
    this.x.set(boxToMeasurement(box));
    for (let i = 0; i < N; i++) this.p[i * N + i] = INITIAL_VARIANCE[i]!;
  }

  /** The box the state says now. */
  box(): Box {
    return stateToBox(this.x);
  }

  /** Where the box will be after `dt` frame intervals, without changing the filter. */
  peek(dt: number): Box {
    const x = this.x;
    const area = x[2]! + x[6]! * dt;
    return stateToBox([x[0]! + x[4]! * dt, x[1]! + x[5]! * dt, area > 0 ? area : x[2]!, x[3]!]);
  }

  /** Advance the state by `dt` frame intervals: x = F·x, P = F·P·Fᵀ + Q·dt. */
  predict(dt: number): void {
    const x = this.x;
    // An area shrinking through zero would give an imaginary box: stop its shrinking instead (as SORT does).
    if (x[2]! + x[6]! * dt <= 0) x[6] = 0;
    x[0]! += x[4]! * dt;
    x[1]! += x[5]! * dt;
    x[2]! += x[6]! * dt;
    this.propagateCovariance(dt);
    for (let i = 0; i < N; i++) this.p[i * N + i]! += PROCESS_NOISE[i]! * dt;
  }

  /**
   * F·P·Fᵀ for F = I + dt·(1 at (0,4), (1,5), (2,6)). Row i of F·P is row i of P plus dt × row
   * i+4 for i < 3; then the same on columns.
   */
  private propagateCovariance(dt: number): void {
    const p = this.p;
    const fp = this.scratch;
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) fp[i * N + j] = p[i * N + j]! + (i < 3 ? dt * p[(i + 4) * N + j]! : 0);
    }
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) p[i * N + j] = fp[i * N + j]! + (j < 3 ? dt * fp[i * N + j + 4]! : 0);
    }
  }

  /**
   * Correct with a measured box. H picks the first four state entries, so H·P·Hᵀ is P's top-left
   * 4×4 block and P·Hᵀ its first four columns: S = P₄₄ + R, K = P·Hᵀ·S⁻¹, x += K·(z − H·x),
   * P −= K·H·P.
   */
  update(box: Box): void {
    const z = boxToMeasurement(box);
    const p = this.p;
    const s = new Float64Array(M * M);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < M; j++) s[i * M + j] = p[i * N + j]! + (i === j ? MEASUREMENT_NOISE[i]! : 0);
    }
    const sInv = invert4(s);
    // K (N×M) = P[:, 0:4] · S⁻¹
    const k = new Float64Array(N * M);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < M; j++) {
        let sum = 0;
        for (let l = 0; l < M; l++) sum += p[i * N + l]! * sInv[l * M + j]!;
        k[i * M + j] = sum;
      }
    }
    const innovation = z.map((value, i) => value - this.x[i]!);
    for (let i = 0; i < N; i++) {
      let sum = 0;
      for (let j = 0; j < M; j++) sum += k[i * M + j]! * innovation[j]!;
      this.x[i]! += sum;
    }
    // P = P − K · P[0:4, :]
    const next = this.scratch;
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        let sum = 0;
        for (let l = 0; l < M; l++) sum += k[i * M + l]! * p[l * N + j]!;
        next[i * N + j] = p[i * N + j]! - sum;
      }
    }
    p.set(next);
  }
}

/** Inverse of a 4×4 matrix by Gauss–Jordan elimination with partial pivoting. */
export function invert4(a: Float64Array): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(M * M);
  for (let i = 0; i < M; i++) inv[i * M + i] = 1;
  for (let col = 0; col < M; col++) {
    let pivot = col;
    for (let row = col + 1; row < M; row++) {
      if (Math.abs(m[row * M + col]!) > Math.abs(m[pivot * M + col]!)) pivot = row;
    }
    const pivotValue = m[pivot * M + col]!;
    if (Math.abs(pivotValue) < 1e-12) throw new RangeError('singular matrix');
    if (pivot !== col) {
      swapRows(m, pivot, col);
      swapRows(inv, pivot, col);
    }
    for (let j = 0; j < M; j++) {
      m[col * M + j]! /= pivotValue;
      inv[col * M + j]! /= pivotValue;
    }
    for (let row = 0; row < M; row++) {
      if (row === col) continue;
      const factor = m[row * M + col]!;
      if (factor === 0) continue;
      for (let j = 0; j < M; j++) {
        m[row * M + j]! -= factor * m[col * M + j]!;
        inv[row * M + j]! -= factor * inv[col * M + j]!;
      }
    }
  }
  return inv;
}

function swapRows(m: Float64Array, a: number, b: number): void {
  for (let j = 0; j < M; j++) {
    const t = m[a * M + j]!;
    m[a * M + j] = m[b * M + j]!;
    m[b * M + j] = t;
  }
}
