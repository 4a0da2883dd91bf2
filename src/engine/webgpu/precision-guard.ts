import { quantileSorted, spectrumScore } from '../../core/metrics/spectrum.ts';

/** Unit roundoff of f32. */
export const F32_EPS = 2 ** -24;

/**
 * Above this estimate the WebGPU engine recomputes the matrix in float64 on the CPU. Measured on
 * the fixtures (f32 Gram, exact eigensolver): every matrix under 4e-4 had an SNR error ≤ 4e-6;
 * the three over 1e-3 (the reference model's o_proj, σmax/σmin ≈ 5·10⁴) had up to 1.6e-5, and up
 * to 1.3e-4 through the f32 reduction, over the 1e-4 the engine promises.
 */
export const SNR_SENSITIVITY_LIMIT = 8e-4;

/**
 * How far the f32 pipeline's rounding may have moved Spectrum's SNR of this matrix, relative, as a
 * pessimistic estimate. Storing the Gram in f32 alone moves every eigenvalue by about
 * δ = ε·λmax, so σ_i by about min(√δ, δ / 2σ_i): nothing for the large σ, everything for those
 * near zero. The estimate is the noise sum's share of that (Σ over σ ≤ τ, over Σ σ ≤ τ); Infinity
 * when some σ is so near the threshold τ that it could change sides (the SNR then jumps).
 */
export function snrSensitivity(descending: Float64Array, rows: number, cols: number): number {
  const n = descending.length;
  if (n === 0 || !(descending[0] > 0)) return 0;
  const delta = F32_EPS * descending[0] ** 2;
  const err = (s: number): number => Math.min(Math.sqrt(delta), delta / (2 * Math.max(s, 1e-300)));
  const { tau } = spectrumScore(descending, rows, cols);
  const ascending = Float64Array.from(descending).reverse();
  const beta = Math.min(rows, cols) / Math.max(rows, cols);
  const tauErr = ((1 + Math.sqrt(beta)) / 1.349) * (err(quantileSorted(ascending, 0.25)) + err(quantileSorted(ascending, 0.75)));
  let noise = 0;
  let noiseErr = 0;
  for (let i = 0; i < n; i++) {
    const s = descending[i];
    if (Math.abs(s - tau) <= 4 * (err(s) + tauErr)) return Infinity;
    if (s <= tau) {
      noise += s;
      noiseErr += err(s);
    }
  }
  return noise > 0 ? noiseErr / noise : 0;
}
