import { abortError } from '../../cpu/errors.ts';
import { spectrumScore } from '../../../core/metrics/spectrum.ts';
import type { Provenance } from '../../../core/scan/record.ts';
import type { SingularValueOptions, SpectralEngine } from '../../types.ts';
import { probeRules, snrErrorBar, snrInterval } from './bounds.ts';
import { DEFAULT_KRYLOV, lanczosProbes, type KrylovSize } from './krylov.ts';
import { CpuMachine, type Machine } from './machine.ts';
import { exactSketch, expandSketch, krylovSketch, type TopAndBulk } from './sketch.ts';

export interface FastOptions {
  size?: KrylovSize;
  /**
   * Use the Krylov method only when its space (b·s vectors) is at most this fraction of n
   * (default 1/2). Above it a Krylov space costs about what the exact spectrum does, and the exact
   * spectrum is returned as a sketch that gives every value back.
   */
  maxFraction?: number;
  /**
   * The SNR interval of an estimate (bounds.ts): 'measured' (default), the error bar fast mode
   * decides with; 'proven', the interval that holds but for stated probabilities (far wider).
   */
  errorBar?: 'measured' | 'proven';
}

/** Whether the fast mode runs the Krylov method for an n-sized Gram, or the exact pipeline. */
export function usesKrylov(n: number, opts: FastOptions = {}): boolean {
  const { b, s } = opts.size ?? DEFAULT_KRYLOV;
  return b * s <= n * (opts.maxFraction ?? 0.5);
}

/** ‖W‖_F², in float64. */
export function frobeniusSquared(m: Float32Array, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i++) s += m[i] * m[i];
  return s;
}

/**
 * Fast mode on any machine: the top k singular values and a sketch of the rest. `exact` gives all
 * singular values when the Krylov method would not be cheaper.
 */
export async function fastSpectrum<B>(
  machine: () => Machine<B>,
  exact: () => Promise<Float64Array>,
  m: Float32Array,
  rows: number,
  cols: number,
  k: number,
  scale: number,
  opts: FastOptions = {},
): Promise<TopAndBulk> {
  const n = Math.min(rows, cols);
  if (!usesKrylov(n, opts)) return exactSketch(await exact(), k);
  // All zeros: nothing to sketch (and nothing for the probes to find).
  if (frobeniusSquared(m, rows * cols) === 0) return exactSketch(new Float64Array(n), k);
  const size = opts.size ?? DEFAULT_KRYLOV;
  const mc = machine();
  const kr = await lanczosProbes(mc, rows, cols, scale, size);
  const f2 = frobeniusSquared(m, rows * cols);
  const sketch = krylovSketch(kr, n, k, f2, scale);
  const bar =
    opts.errorBar === 'proven'
      ? snrInterval(probeRules(kr, scale), rows, cols, f2, mc.eps)
      : snrErrorBar(expandSketch(sketch), rows, cols, size.b, f2);
  return { ...sketch, snr: { lo: bar.lo, hi: bar.hi } };
}

/**
 * The CPU's Krylov space, as a fraction of n, below which its estimate may pay: its 2·b·s products with W run in
 * TypeScript at about 1 GFLOP/s, the exact pipeline's Gram in WebAssembly SIMD at 15–20 (at 1024 × 1536 the
 * estimate took 7 s against 0.5 s exact), so on a tall W the estimate is cheaper only past n ≈ 36000. With the
 * default 512 vectors this is n ≥ 32768, beyond every LLM matrix's short side: on the CPU, fast mode is exact mode
 * unless a caller forces the method (tests, benchmarks).
 */
export const CPU_KRYLOV_MAX_FRACTION = 1 / 64;

/**
 * Fast mode in float64 on the CPU (the reference for the GPU's, and its fallback); `engine` gives
 * the exact spectrum where that stands in for the Krylov method, and says where it came from.
 * Without a `maxFraction`, CPU_KRYLOV_MAX_FRACTION.
 */
export async function cpuFastSpectrum(
  engine: SpectralEngine,
  m: Float32Array,
  rows: number,
  cols: number,
  k: number,
  opts: FastOptions & SingularValueOptions = {},
): Promise<TopAndBulk> {
  let producedBy: Provenance = { engine: 'cpu' };
  const exact = () => {
    producedBy = { engine: engine.kind };
    return engine.singularValues(m, rows, cols, { signal: opts.signal, onProvenance: (p) => (producedBy = p) });
  };
  const result = await fastSpectrum(() => new CpuMachine(m), exact, m, rows, cols, k, 1, { maxFraction: CPU_KRYLOV_MAX_FRACTION, ...opts });
  opts.onProvenance?.(producedBy);
  return result;
}

/** Top values the fast mode computes per matrix (the rest is the sketch). */
export const FAST_TOP_K = 32;

/**
 * An engine whose singularValues are the fast mode's: topSingularValues where the engine has it,
 * the float64 Krylov method otherwise, expanded into all min(rows, cols) values (the sketch's
 * quantiles for the bulk) so that every metric takes them as it takes exact ones. A randomized
 * sketch is reported through onProvenance as an estimate with its SNR interval (bounds.ts), widened
 * to hold the SNR of the expanded values themselves; exact values (small n) carry none.
 * `fast`: the Krylov sizes (tests and benchmarks force the method onto small matrices).
 */
export function fastView(engine: SpectralEngine, k = FAST_TOP_K, fast: FastOptions = {}): SpectralEngine {
  return {
    get kind() {
      return engine.kind;
    },
    async singularValues(m, rows, cols, opts) {
      if (opts?.signal?.aborted) throw abortError();
      let producedBy: Provenance = { engine: engine.kind };
      const inner = { ...fast, signal: opts?.signal, onProvenance: (p: Provenance) => (producedBy = p) };
      const sketch: TopAndBulk = engine.topSingularValues
        ? await engine.topSingularValues(m, rows, cols, k, inner)
        : await cpuFastSpectrum(engine, m, rows, cols, k, inner);
      const values = expandSketch(sketch);
      if (sketch.snr) {
        const own = spectrumScore(values, rows, cols);
        const lo = Math.min(sketch.snr.lo, own.snr, own.snr_legacy),
          hi = Math.max(sketch.snr.hi, own.snr, own.snr_legacy);
        producedBy = { ...producedBy, estimate: { lo, hi } };
      }
      opts?.onProvenance?.(producedBy);
      return values;
    },
    dispose: () => engine.dispose(),
  };
}
