import { seededUniform, standardNormal } from '../../../core/random.ts';
import { gemm, type Machine } from './machine.ts';

/**
 * The fast mode's Krylov spaces: b independent Lanczos runs (random probes) of s steps each. The
 * quantiles of the bulk come from the Gauss quadrature of each run's tridiagonal, whose error
 * falls with s (a quadrature of degree 2s − 1 resolves the spectral distribution to about 1/s),
 * and its noise with b (Hutchinson's estimator). Many steps and few probes, then.
 *
 * Budget: b·s vectors of n floats and 2·b·s products of W with a vector, a fixed 8 × 64 (512
 * vectors, 1024 products) at every n ≥ 1024, where it is at most half of n (fast.ts).
 *
 * Precision, measured: the bulk's quartiles and Σσ≤τ have a noise floor set by b alone.
 * With each probe's exact spectral measure (s → ∞), Spectrum's SNR is off by a median 1.5e-2 at
 * n = 4096 for b = 8, 2.5e-3 for b = 128, 7e-4 for b = n/2; this method's 8 × 64 measures 4.5e-2
 * at n = 1024. Spectrum's selections on real models need about 3e-4 (the SNRs at a cut are 1e-4
 * to 1e-3 apart), which no b ≪ n reaches: so each estimate carries an SNR interval (bounds.ts) and the
 * scan recomputes exactly every matrix whose interval straddles a selection cut (core/selection/undecided.ts).
 */
export interface KrylovSize {
  b: number;
  s: number;
}

export const DEFAULT_KRYLOV: KrylovSize = { b: 8, s: 64 };

export interface KrylovResult {
  /** N × N, N = b·s, filled in strips: block column j holds rows < (j+1)·b of Qᵀ G Q_j */
  h: Float64Array;
  size: KrylovSize;
}

/** Standard normal values from the project's seeded generator, so that the probes are the same on every run. */
export function gaussianBlock(len: number, seed: number): Float64Array {
  const u = seededUniform(seed);
  const out = new Float64Array(len);
  for (let i = 0; i < len; i++) out[i] = standardNormal(u);
  return out;
}

/**
 * b Lanczos runs on G = A Aᵀ (A: the n × m short-side view of the rows × cols W, times `scale`),
 * advanced together as one block: Z = A (Aᵀ Q_j) is two products with W, the block's share of
 * the cost; then each probe's new vector is orthogonalized against its own earlier ones, twice
 * (classical Gram–Schmidt with reorthogonalization: no ghost copies of converged eigenvalues),
 * and normalized. The first pass's coefficients hold each run's tridiagonal: α_j on probe c's
 * own vector j, β_{j−1} on its vector j − 1. Everything is recorded on the machine; H alone is
 * read back.
 */
export async function lanczosProbes<B>(
  mc: Machine<B>,
  rows: number,
  cols: number,
  scale: number,
  size: KrylovSize,
  seed = 1,
): Promise<KrylovResult> {
  const wide = rows <= cols;
  const n = Math.min(rows, cols),
    m = Math.max(rows, cols);
  const { b, s } = size;
  const N = b * s;
  const q = mc.alloc('basis', n * N);
  const z = mc.alloc('z', n * b);
  const y = mc.alloc('y', m * b);
  const h = mc.alloc('h', N * N);
  const t = mc.alloc('coefficients', N * b);
  const sb = mc.alloc('gram', b * b);
  const rinv = mc.alloc('rinv', b * b);
  const deadRel = (1e3 * mc.eps) ** 2;
  mc.upload(z, gaussianBlock(n * b, seed));
  // Column c of Z, normalized, into block `block` of the basis.
  const normalize = (block: number): void => {
    mc.gemm(sb, z, z, gemm({ M: b, N: b, K: n, transP: true, ldp: b }));
    mc.normInv(sb, rinv, b, deadRel);
    mc.gemm(q, z, rinv, gemm({ M: n, N: b, K: b, ldo: N, oOff: block * b }));
  };
  normalize(0);
  for (let j = 0; j < s; j++) {
    // Z = G Q_j: Aᵀ X is Wᵀ X for wide W and W X for tall, A Y the other way round.
    mc.gemm(y, mc.w, q, gemm({ M: m, N: b, K: n, transP: wide, ldp: cols, ldx: N, xOff: j * b, alpha: scale }));
    mc.gemm(z, mc.w, y, gemm({ M: n, N: b, K: m, transP: !wide, ldp: cols, alpha: scale }));
    if (j === s - 1) {
      // The last step only needs α_{s−1}, which is in the coefficients of this product.
      mc.gemm(h, q, z, gemm({ M: (j + 1) * b, N: b, K: n, transP: true, ldp: N, ldo: N, oOff: j * b }));
      break;
    }
    const J = (j + 1) * b;
    mc.gemm(h, q, z, gemm({ M: J, N: b, K: n, transP: true, ldp: N, ldo: N, oOff: j * b }));
    mc.gemm(z, q, h, gemm({ M: n, N: b, K: J, ldp: N, ldx: N, xOff: j * b, alpha: -1, beta: 1, maskMod: b }));
    mc.gemm(t, q, z, gemm({ M: J, N: b, K: n, transP: true, ldp: N }));
    mc.gemm(z, q, t, gemm({ M: n, N: b, K: J, ldp: N, alpha: -1, beta: 1, maskMod: b }));
    normalize(j + 1);
  }
  return { h: await mc.read(h, N * N), size };
}
