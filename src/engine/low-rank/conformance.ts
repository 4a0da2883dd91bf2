/**
 * The randomized SVD's part of the engine conformance suite (src/engine/conformance.ts calls it
 * inside each engine's describe): σ and singular subspaces against numpy's float64 SVD of a fixed
 * matrix (test-fixtures/make-low-rank.py), a planted rank-r matrix, energy targets, zeros and bad
 * input. Tolerances are measured figures with a margin, scaled by the engine's unit roundoff where
 * they are rounding: float64 on the CPU agrees far beyond the 1e-4 that f32 on the GPU is held to.
 * Imported by *.test.ts only (through conformance.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { SingularTriplets } from '../../core/low-rank.ts';
import { gaussian, jacobiSingularValues } from '../cpu/testing.ts';
import type { SpectralEngine } from '../types.ts';
import { smallEigen } from '../webgpu/fast/small-eigen.ts';

type Test = (title: string, body: (e: SpectralEngine) => Promise<void>, timeout?: number) => void;

const ROOT = join(import.meta.dirname, '../../..');

interface LowRankFixture {
  rows: number;
  cols: number;
  head: number;
  sigma: number[];
  /** rows × vectors and cols × vectors, row-major */
  u: number[];
  v: number[];
  vectors: number;
}

export function lowRankFixture(): { w: Float32Array; want: LowRankFixture } {
  const want = JSON.parse(readFileSync(join(ROOT, 'test-fixtures/expected/low-rank-128x192.json'), 'utf8')) as LowRankFixture;
  const bytes = readFileSync(join(ROOT, 'test-fixtures/reference/low-rank-128x192.f32'));
  const w = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { w, want };
}

/**
 * sin of the largest principal angle between the spans of columns `which` of a (len × ka) and of b
 * (len × kb), both with orthonormal columns: ‖(I − P_b) A‖₂ from the residual R = A − B (Bᵀ A)
 * directly (1 − cos² would lose everything below √eps).
 */
export function largestAngleSine(
  a: ArrayLike<number>,
  ka: number,
  b: ArrayLike<number>,
  kb: number,
  len: number,
  which: readonly number[],
): number {
  const k = which.length;
  const c = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let r = 0; r < len; r++) s += b[r * kb + which[i]] * a[r * ka + which[j]];
      c[i * k + j] = s;
    }
  const res = new Float64Array(len * k);
  for (let r = 0; r < len; r++)
    for (let j = 0; j < k; j++) {
      let s = a[r * ka + which[j]];
      for (let i = 0; i < k; i++) s -= b[r * kb + which[i]] * c[i * k + j];
      res[r * k + j] = s;
    }
  const rtr = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let r = 0; r < len; r++) s += res[r * k + i] * res[r * k + j];
      rtr[i * k + j] = s;
    }
  return Math.sqrt(Math.max(0, smallEigen(rtr, k, 0).values[k - 1]));
}

/** 0, 1, …, k − 1 */
export const firstColumns = (k: number): number[] => Array.from({ length: k }, (_, i) => i);

/** Largest |UᵀU − I| entry of the first k columns of a len × k row-major matrix. */
export function orthonormalityError(m: Float64Array, len: number, k: number): number {
  let worst = 0;
  for (let i = 0; i < k; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let r = 0; r < len; r++) s += m[r * k + i] * m[r * k + j];
      worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
    }
  return worst;
}

/** ‖W − U diag(σ) Vᵀ‖_F in float64. */
export function reconstructionError(w: ArrayLike<number>, t: SingularTriplets): number {
  let s = 0;
  const k = t.rank;
  for (let i = 0; i < t.rows; i++)
    for (let j = 0; j < t.cols; j++) {
      let x = 0;
      for (let l = 0; l < k; l++) x += t.u[i * k + l] * t.sigma[l] * t.v[j * k + l];
      s += (w[i * t.cols + j] - x) ** 2;
    }
  return Math.sqrt(s);
}

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = w[i * cols + j];
  return t;
}

/** The randomized-SVD tests for an engine whose unit roundoff is eps (skipped where it has no topSingularTriplets). */
export function lowRankConformance(test: Test, eps: number, name: string): void {
  const f32 = eps > 1e-10;
  const triplets = (e: SpectralEngine) => {
    if (!e.topSingularTriplets) throw new Error(`${name}: no topSingularTriplets`);
    return e.topSingularTriplets.bind(e);
  };
  test('low rank: top singular triplets against numpy, wide and tall, by block Krylov and exactly', async (e) => {
    const { w, want } = lowRankFixture();
    const { rows, cols, head, vectors } = want;
    const solve = triplets(e);
    const n = Math.min(rows, cols);
    // Converged runs, held to the engine's rounding: the head on the Krylov path (12 + 4 probes, 7 blocks:
    // 112 < 128 vectors), and every triplet (the whole space). Measured: σ 1e-14 and sin∠ 3e-11 in
    // float64, σ 2e-7 and sin∠ 1e-4 in f32 on SwiftShader. With the defaults (3 passes) the method,
    // not rounding, limits the last head vectors (the tail is 2.6 times below σ₁₁ and the Krylov
    // polynomial has degree 3): σ 2e-11 and sin∠ 6e-6 in float64, σ 2e-7 and sin∠ 3e-4 in f32.
    const runs = [
      { opts: { rank: head, passes: 6, oversample: 4 }, sigmaTol: f32 ? 1e-4 : 1e-13, angleTol: f32 ? 1e-3 : 1e-9 },
      { opts: { rank: n }, sigmaTol: f32 ? 1e-4 : 1e-13, angleTol: f32 ? 1e-3 : 1e-10 },
      { opts: { rank: head }, sigmaTol: f32 ? 1e-4 : 1e-9, angleTol: f32 ? 2e-3 : 1e-4 },
    ];
    for (const tall of [false, true]) {
      const m = tall ? transpose(w, rows, cols) : w;
      const [r, c] = tall ? [cols, rows] : [rows, cols];
      for (const { opts, sigmaTol, angleTol } of runs) {
        const t = await solve(m, r, c, opts);
        const rank = opts.rank;
        const what = `${name} ${r}x${c} ${JSON.stringify(opts)}`;
        expect(t.rank, what).toBe(rank);
        expect([t.u.length, t.v.length, t.sigma.length], what).toEqual([r * rank, c * rank, rank]);
        let worst = 0;
        for (let i = 0; i < rank; i++) {
          // Below the head the Gram's rounding sets the bound: |σ² − σ*²| ≤ 16·n·eps·σ_max².
          const bound = i < head ? sigmaTol : Math.max(sigmaTol, (16 * n * eps * want.sigma[0] ** 2) / want.sigma[i] ** 2);
          const err = Math.abs(t.sigma[i] - want.sigma[i]) / want.sigma[i];
          if (i < head) worst = Math.max(worst, err);
          expect(err, `${what}: σ${i} ${t.sigma[i]} vs ${want.sigma[i]}`).toBeLessThanOrEqual(bound);
        }
        const [uT, vT] = tall ? [t.v, t.u] : [t.u, t.v];
        const sinU = largestAngleSine(uT, rank, want.u, vectors, rows, firstColumns(head));
        const sinV = largestAngleSine(vT, rank, want.v, vectors, cols, firstColumns(head));
        expect(sinU, `${what}: sin∠U`).toBeLessThanOrEqual(angleTol);
        expect(sinV, `${what}: sin∠V`).toBeLessThanOrEqual(angleTol);
        // Each head vector on its own too (the head's σ are 30 % apart).
        for (let i = 0; i < head; i++) {
          expect(largestAngleSine(uT, rank, want.u, vectors, rows, [i]), `${what}: u${i}`).toBeLessThanOrEqual(angleTol);
          expect(largestAngleSine(vT, rank, want.v, vectors, cols, [i]), `${what}: v${i}`).toBeLessThanOrEqual(angleTol);
        }
        // The long side's vectors are Aᵀu_i/σ_i: their rounding grows as σ₁/σ_i (200 at the tail here; 4e-12 in float64).
        expect(orthonormalityError(t.u, r, rank), `${what}: UᵀU`).toBeLessThanOrEqual(f32 ? 1e-3 : 1e-10);
        expect(orthonormalityError(t.v, c, rank), `${what}: VᵀV`).toBeLessThanOrEqual(f32 ? 1e-3 : 1e-10);
        expect(t.frobeniusSquared).toBeCloseTo(
          want.sigma.reduce((s, x) => s + x * x, 0),
          10,
        );
        console.log(`${what}: head σ rel err ${worst.toExponential(1)}, sin∠U ${sinU.toExponential(1)}, sin∠V ${sinV.toExponential(1)}`);
      }
    }
  });

  test('low rank: an energy target keeps the fewest triplets that reach it', async (e) => {
    const { w, want } = lowRankFixture();
    const total = want.sigma.reduce((s, x) => s + x * x, 0);
    // At 0.999 the count (66) is decided by 1e-5 of the energy, within f32's rounding of the tail.
    for (const energy of f32 ? [0.5, 0.9, 0.99, 0.995] : [0.5, 0.9, 0.99, 0.995, 0.999]) {
      let acc = 0,
        count = 0;
      while (acc < energy * total) acc += want.sigma[count++] ** 2;
      const t = await triplets(e)(w, want.rows, want.cols, { energy });
      expect(t.rank, `${name} energy ${energy}`).toBe(count);
    }
    // Capped: the share is not reached within maxRank.
    expect((await triplets(e)(w, want.rows, want.cols, { energy: 0.999, maxRank: 5 })).rank).toBe(5);
  });

  test('low rank: a planted rank-r matrix is recovered at rank r', async (e) => {
    // W = Σ_l s_l a_l b_lᵀ over r = 5 Gaussian (not orthogonal) factors; its best rank-5 approximation is itself.
    const rows = 70,
      cols = 90,
      r = 5;
    const a = gaussian(rows * r, 31),
      b = gaussian(r * cols, 32);
    const w = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let l = 0; l < r; l++) s += a[i * r + l] * b[l * cols + j] * (l + 1);
        w[i * cols + j] = s;
      }
    const t = await triplets(e)(w, rows, cols, { rank: r, oversample: 5, passes: 1 });
    // f32 rounding leaves W of rank 5 only to about 2^-24·‖W‖: the best rank-5 error (Eckart–Young,
    // from one-sided Jacobi's σ) is the floor, and float64 reaches it.
    const sv = jacobiSingularValues(w, rows, cols);
    const optimal = Math.sqrt(sv.slice(r).reduce((s, x) => s + x * x, 0));
    const norm = Math.sqrt(sv.reduce((s, x) => s + x * x, 0));
    const err = reconstructionError(w, t);
    expect(err / norm, `${name}: ‖W − UΣVᵀ‖/‖W‖`).toBeLessThanOrEqual(f32 ? 1e-5 : (optimal / norm) * (1 + 1e-6));
    console.log(
      `${name}: planted rank 5, ‖W − UΣVᵀ‖/‖W‖ = ${(err / norm).toExponential(2)}, best rank 5: ${(optimal / norm).toExponential(2)}`,
    );
  });

  test('low rank: zeros, rank 0, full rank of a rank-deficient matrix, NaN and an aborted signal', async (e) => {
    const solve = triplets(e);
    const z = await solve(new Float32Array(6 * 10), 6, 10, { rank: 6 });
    expect(Array.from(z.sigma)).toEqual(new Array(6).fill(0));
    expect(orthonormalityError(z.u, 6, 6)).toBeLessThanOrEqual(1e-12);
    expect(orthonormalityError(z.v, 10, 6)).toBeLessThanOrEqual(1e-12);
    expect((await solve(gaussian(20, 1), 4, 5, { rank: 0 })).rank).toBe(0);
    // Rank 1 asked for all 8 triplets: σ = (13, 0, …) and still orthonormal U and V.
    const u = [3, 4, 12, 0, 0, 0, 0, 0].map((x) => x / 13);
    const w = new Float32Array(8 * 11);
    for (let i = 0; i < 8; i++) for (let j = 0; j < 11; j++) w[i * 11 + j] = 13 * u[i] * (j === 3 ? 1 : 0);
    const t = await solve(w, 8, 11, { rank: 8 });
    expect(t.sigma[0]).toBeCloseTo(13, f32 ? 4 : 12);
    for (let i = 1; i < 8; i++) expect(t.sigma[i]).toBeLessThanOrEqual(13 * Math.sqrt(eps) * 8);
    expect(orthonormalityError(t.u, 8, 8), 'U').toBeLessThanOrEqual(f32 ? 1e-5 : 1e-12);
    expect(orthonormalityError(t.v, 11, 8), 'V').toBeLessThanOrEqual(f32 ? 1e-5 : 1e-12);
    const bad = gaussian(30, 2);
    bad[7] = NaN;
    await expect(solve(bad, 5, 6, { rank: 2 })).rejects.toMatchObject({ code: 'NON_FINITE' });
    const ctl = new AbortController();
    ctl.abort();
    await expect(solve(gaussian(30, 3), 5, 6, { rank: 2, signal: ctl.signal })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(solve(gaussian(30, 3), 5, 6, {})).rejects.toBeInstanceOf(RangeError);
  });
}
