/**
 * Checkpoint pairs whose update is known in closed form, for the rewrite tests: ΔW = Σ σ_i u_i v_iᵀ
 * with u_i, v_i columns of the orthonormal DCT-II basis, so its singular values are exactly the σ
 * given and its best rank-k part is the first k terms (Eckart–Young), with no SVD to trust.
 */
import { buildSafetensors, gaussianMatrix, type FixtureTensor } from './safetensors.ts';

/** Column k of the n-point orthonormal DCT-II basis. */
export function dctColumn(n: number, k: number): Float64Array {
  const scale = k === 0 ? Math.sqrt(1 / n) : Math.sqrt(2 / n);
  return Float64Array.from({ length: n }, (_, i) => scale * Math.cos((Math.PI * (i + 0.5) * k) / n));
}

/** Σ σ_i u_{i+shift} v_{i+shift}ᵀ (rows × cols, row-major), first `terms` terms (default all). */
export function plantedUpdate(rows: number, cols: number, sigma: readonly number[], terms = sigma.length, shift = 1): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let t = 0; t < terms; t++) {
    const u = dctColumn(rows, t + shift);
    const v = dctColumn(cols, t + shift);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] += sigma[t] * u[i] * v[j];
  }
  return out;
}

export interface PlantedMatrix {
  name: string;
  rows: number;
  cols: number;
  /** singular values of its ΔW (none: unchanged) */
  sigma?: number[];
  /** a ΔW given whole instead (rows × cols) */
  delta?: Float64Array;
}

export interface PlantedPair {
  base: Map<string, Uint8Array>;
  ft: Map<string, Uint8Array>;
  /** base weights and ΔW by tensor name, float64 as planted (the stored values are these rounded to the dtype) */
  baseValues: Map<string, Float64Array>;
  deltas: Map<string, Float64Array>;
}

const json = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));

/**
 * Two checkpoints of the same tensors: the base with Gaussian weights, the fine-tuned one with ΔW added
 * (in float64, then rounded once to `dtype`). 1-D `norms` are written too (changed by +0.5 in ft).
 */
export function plantedPair(
  matrices: readonly PlantedMatrix[],
  opts: {
    dtype?: string;
    config?: Record<string, unknown>;
    norms?: { name: string; n: number }[];
    file?: string;
    metadata?: Record<string, string>;
  } = {},
): PlantedPair {
  const { dtype = 'F64', file = 'model.safetensors' } = opts;
  const baseT: FixtureTensor[] = [];
  const ftT: FixtureTensor[] = [];
  const baseValues = new Map<string, Float64Array>();
  const deltas = new Map<string, Float64Array>();
  matrices.forEach((m, k) => {
    const base = Float64Array.from(gaussianMatrix(m.rows, m.cols, 100 + k, 1 / Math.sqrt(m.cols)));
    const delta = m.delta ?? (m.sigma ? plantedUpdate(m.rows, m.cols, m.sigma) : new Float64Array(m.rows * m.cols));
    baseValues.set(m.name, base);
    deltas.set(m.name, delta);
    baseT.push({ name: m.name, dtype, shape: [m.rows, m.cols], values: base });
    ftT.push({ name: m.name, dtype, shape: [m.rows, m.cols], values: base.map((b, i) => b + delta[i]) });
  });
  for (const n of opts.norms ?? []) {
    baseT.push({ name: n.name, dtype, shape: [n.n], values: Float64Array.from({ length: n.n }, () => 1) });
    ftT.push({ name: n.name, dtype, shape: [n.n], values: Float64Array.from({ length: n.n }, () => 1.5) });
  }
  const side = opts.config ? [['config.json', json(opts.config)] as const] : [];
  return {
    base: new Map([[file, buildSafetensors(baseT, opts.metadata)], ...side]),
    ft: new Map([[file, buildSafetensors(ftT, opts.metadata)], ...side]),
    baseValues,
    deltas,
  };
}
