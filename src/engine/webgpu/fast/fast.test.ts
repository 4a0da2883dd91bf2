import { describe, expect, it } from 'vitest';
import { CpuEngine, singularValuesSync } from '../../cpu/cpu-engine.ts';
import { gaussian } from '../../cpu/testing.ts';
import { DEMO_PHASES, fixtureMatrices, jaccard, selection } from '../../conformance.ts';
import { recordFromSpectrum, type MatrixRecord, type Provenance } from '../../../core/scan/record.ts';
import { slowTests, testEngine } from '../testing.ts';
import type { WebGpuEngine } from '../webgpu-engine.ts';
import { cpuFastSpectrum, FAST_TOP_K, fastView, usesKrylov, type FastOptions } from './fast.ts';
import { lanczosProbes } from './krylov.ts';
import { CpuMachine } from './machine.ts';
import { GpuMachine } from './gpu-machine.ts';
import { exactSketch, expandSketch, type TopAndBulk } from './sketch.ts';

/**
 * GPU (f32) against float64 fast-mode SNRs, Krylov forced: measured 5e-5 at most on the reference
 * model, 2e-3 on the demo's first 40 matrices (f32 roundoff moves a bulk quadrature node across τ).
 */
const GPU_SNR_TOLERANCE = 1e-2;

/** A matrix with five spikes over a noise bulk (rows × cols). */
function spiked(r: number, c: number): Float32Array {
  const m = gaussian(r * c, 9, 1 / Math.sqrt(c));
  for (let s = 0; s < 5; s++) {
    const u = gaussian(r, 100 + s),
      v = gaussian(c, 200 + s);
    const a = (8 - s) / Math.sqrt(r * c);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) m[i * c + j] += a * u[i] * v[j];
  }
  return m;
}

describe('fast mode sketches', () => {
  it('an exact sketch expands back to the very values it came from', () => {
    const sv = singularValuesSync(gaussian(30 * 50, 1), 30, 50);
    const sk = exactSketch(sv, 4);
    expect(sk.top).toEqual(sv.subarray(0, 4));
    expect(sk.bulk.count).toBe(26);
    expect(expandSketch(sk)).toEqual(sv);
  });

  it('runs the Krylov method only where its space is at most half of n', () => {
    expect(usesKrylov(128)).toBe(false);
    expect(usesKrylov(1024)).toBe(true);
    expect(usesKrylov(128, { size: { b: 4, s: 16 } })).toBe(true);
  });

  it('finds well-separated top values to float64 accuracy and the bulk of a known spectrum', async () => {
    // W diagonal (600 × 900): G = diag(σ²) exactly. Bulk σ uniform on [1, 2], five spikes above.
    const n = 600,
      cols = 900;
    const sigma = Float64Array.from({ length: n }, (_, i) => (i < 5 ? 10 - i : 1 + (i - 5) / (n - 6)));
    const w = new Float32Array(n * cols);
    sigma.forEach((s, i) => (w[i * cols + i] = s));
    const want = Float64Array.from(w.filter((x) => x !== 0))
      .sort()
      .reverse();
    const sk = await cpuFastSpectrum(new CpuEngine(), w, n, cols, 5, { size: { b: 8, s: 48 }, maxFraction: 1 });
    expect(usesKrylov(n, { size: { b: 8, s: 48 }, maxFraction: 1 })).toBe(true);
    sk.top.forEach((v, i) => expect(Math.abs(v - want[i]) / want[i]).toBeLessThan(1e-10));
    let bulkSum = 0,
      bulkSquares = 0;
    for (let i = 5; i < n; i++) {
      bulkSum += want[i];
      bulkSquares += want[i] ** 2;
    }
    expect(Math.abs(sk.bulk.sumSquares - bulkSquares) / bulkSquares).toBeLessThan(1e-6);
    expect(Math.abs(sk.bulk.sum - bulkSum) / bulkSum).toBeLessThan(0.02);
    for (const p of [0.25, 0.5, 0.75]) {
      const got = sk.bulk.quantiles.find((q) => Math.abs(q.p - p) < 1e-9)!.value;
      expect(Math.abs(got - (1 + p)) / (1 + p), `q${p * 100}`).toBeLessThan(0.03);
    }
  });
});

describe('fast mode on the GPU', async () => {
  const made = await testEngine();
  const skip = 'skip' in made ? made.skip : '';
  const engine = made as WebGpuEngine;

  it.skipIf(skip)(
    'the f32 GPU machine runs the same Lanczos as the float64 CPU machine',
    async () => {
      const [r, c] = [96, 160];
      const m = spiked(r, c);
      const size = { b: 4, s: 12 };
      const cpu = await lanczosProbes(new CpuMachine(m), r, c, 1, size);
      const gpu = new GpuMachine(engine.kit, m, r * c);
      const got = await lanczosProbes(gpu, r, c, 1, size);
      gpu.release();
      // Each probe's tridiagonal: α_j and β_j, relative to the largest eigenvalue.
      const N = size.b * size.s;
      let scale = 0;
      for (let i = 0; i < N; i++) scale = Math.max(scale, Math.abs(cpu.h[i * N + i]));
      for (let j = 0; j < size.s; j++) {
        for (let p = 0; p < size.b; p++) {
          const at = (j * size.b + p) * (N + 1);
          expect(Math.abs(got.h[at] - cpu.h[at]) / scale, `α ${j} ${p}`).toBeLessThan(1e-3);
        }
      }
      const sk = await engine.topSingularValues(m, r, c, 3, { size, maxFraction: 1 });
      const ref = await cpuFastSpectrum(new CpuEngine(), m, r, c, 3, { size, maxFraction: 1 });
      sk.top.forEach((v, i) => expect(Math.abs(v - ref.top[i]) / ref.top[i]).toBeLessThan(1e-4));
    },
    300_000,
  );

  it.skipIf(skip)(
    'gives the exact spectrum as its sketch below the Krylov threshold',
    async () => {
      const m = spiked(40, 70);
      const sk = await engine.topSingularValues(m, 40, 70, 8);
      const all = await engine.singularValues(m, 40, 70);
      expect(expandSketch(sk)).toEqual(all);
    },
    300_000,
  );
});

describe('fast mode below the Krylov threshold is exact mode', () => {
  it('the same spectra, hence the same selections, on the demo (every demo matrix has n = 128 < 1024)', async () => {
    const engine = new CpuEngine();
    const fast = fastView(engine);
    for (const phase of DEMO_PHASES) {
      for (const { job, values } of await fixtureMatrices(`public/demo/${phase}.safetensors`)) {
        expect(usesKrylov(Math.min(job.rows, job.cols))).toBe(false);
        expect(await fast.singularValues(values, job.rows, job.cols), job.name).toEqual(
          await engine.singularValues(values, job.rows, job.cols),
        );
      }
    }
  }, 300_000);
});

describe('fast mode on the CPU', () => {
  it('is exact mode at the sizes where the GPU would estimate (n = 1024): the Krylov method in TypeScript costs more than the exact spectrum', async () => {
    const [rows, cols] = [1100, 1024];
    expect(usesKrylov(Math.min(rows, cols))).toBe(true); // the GPU's threshold
    const m = new Float32Array(rows * cols);
    for (let i = 0; i < m.length; i++) m[i] = Math.sin(i * 0.37) + Math.cos(i * 0.011);
    const engine = new CpuEngine();
    let provenance: Provenance | undefined;
    const fast = await fastView(engine).singularValues(m, rows, cols, { onProvenance: (p) => (provenance = p) });
    expect(fast).toEqual(await engine.singularValues(m, rows, cols));
    expect(provenance).toEqual({ engine: 'cpu' }); // no estimate, so nothing to recompute
  }, 120_000);
});

/**
 * The Krylov path forced onto the fixtures' small matrices (n ≤ 128): b = 4 probes of n/8 steps,
 * a space of n/2 vectors and 2·n/2 products with W, the largest the default maxFraction allows
 * (bench/gpu.bench.ts's --krylov / --krylov-fraction do the same for timings). At n ≥ 1024 fast
 * mode uses DEFAULT_KRYLOV instead: a fixed 8 probes × 64 steps, whatever n.
 */
const forced = (n: number): FastOptions => ({ size: { b: 4, s: Math.max(4, Math.floor(n / 8)) }, maxFraction: 0.5 });

interface FixtureComparison {
  fixture: string;
  krylov: number;
  matrices: number;
  jaccards: number[];
  /** modules exact mode selects at each percent (0: the Jaccard of two empty sets, 1, says nothing) */
  selected: number[];
  /** per matrix, in file order: |SNR_fast − SNR_exact| / |SNR_exact| */
  snrErrors: number[];
  /** per matrix, in file order: the fast mode's SNR */
  fastSnr: number[];
  /**
   * The smallest relative SNR gap, in exact mode, between the last module a type keeps and the
   * first it drops, over types and percents: an SNR error above half of it can swap the two, and
   * one swap among a phase's selections puts its Jaccard below 0.95 on these fixtures.
   */
  cutGap: number;
}

const PERCENTS = [25, 20, 15];

/** The smallest relative gap at the selection cuts of exact mode's records (Infinity if no type has a cut). */
function smallestCutGap(records: readonly MatrixRecord[]): number {
  const byType = new Map<string, number[]>();
  for (const r of records) {
    if (r.vector || !r.spectrum || r.spectrumType === null) continue;
    byType.set(r.spectrumType, [...(byType.get(r.spectrumType) ?? []), r.spectrum.snr]);
  }
  let gap = Infinity;
  for (const values of byType.values()) {
    values.sort((a, b) => b - a);
    for (const p of PERCENTS) {
      const k = Math.floor((values.length * p) / 100);
      if (k > 0 && k < values.length && Number.isFinite(values[k - 1]))
        gap = Math.min(gap, (values[k - 1] - values[k]) / Math.abs(values[k]));
    }
  }
  return gap;
}

/** Exact and fast (Krylov forced) records of one checkpoint, and how their selections compare. */
async function compareFast(
  file: string,
  fast: (m: Float32Array, r: number, c: number, o: FastOptions) => Promise<TopAndBulk>,
): Promise<FixtureComparison> {
  const cpu = new CpuEngine();
  const exact: MatrixRecord[] = [],
    quick: MatrixRecord[] = [];
  let krylov = 0;
  for (const { job, values } of await fixtureMatrices(file)) {
    const n = Math.min(job.rows, job.cols);
    if (usesKrylov(n, forced(n))) krylov++;
    exact.push(recordFromSpectrum(job, await cpu.singularValues(values, job.rows, job.cols), { engine: 'cpu' }, 'exact', 0));
    quick.push(recordFromSpectrum(job, expandSketch(await fast(values, job.rows, job.cols, forced(n))), { engine: 'cpu' }, 'fast', 0));
  }
  const snrErrors = exact.map((e, i) => Math.abs(quick[i].spectrum!.snr - e.spectrum!.snr) / Math.abs(e.spectrum!.snr));
  return {
    fixture: file.split('/').pop()!.replace('.safetensors', ''),
    krylov,
    matrices: exact.filter((r) => !r.vector).length,
    jaccards: PERCENTS.map((p) => jaccard(selection(exact, p), selection(quick, p))),
    selected: PERCENTS.map((p) => selection(exact, p).size),
    snrErrors,
    fastSnr: quick.map((r) => r.spectrum!.snr),
    cutGap: smallestCutGap(exact),
  };
}

function report(machine: string, c: FixtureComparison): void {
  const errors = c.snrErrors.filter((e) => Number.isFinite(e)).sort((a, b) => a - b);
  const median = errors[errors.length >> 1],
    worst = errors[errors.length - 1];
  console.log(
    `fast mode (Krylov forced, ${machine}) vs exact, ${c.fixture}: Jaccard ${PERCENTS.map((p, i) => `${p}% ${c.jaccards[i].toFixed(3)} (${c.selected[i]} selected)`).join(', ')}; ` +
      `SNR relative error median ${median.toExponential(1)}, worst ${worst.toExponential(1)}; smallest exact-mode gap at a cut ${c.cutGap.toExponential(1)}; ` +
      `${c.krylov} of ${c.matrices} matrices on the Krylov path`,
  );
}

const FILES = [...DEMO_PHASES.map((p) => `public/demo/${p}.safetensors`), 'test-fixtures/reference/reference-model.safetensors'];

describe('fast mode on the GPU (Krylov path forced) against exact mode', async () => {
  const made = await testEngine();
  const skip = 'skip' in made ? made.skip : '';
  const engine = made as WebGpuEngine;
  // A software GPU takes ≈ 1.6 s per demo matrix here: the demo's phases with SW_SLOW_TESTS=1 only.
  const files = slowTests ? FILES : ['test-fixtures/reference/reference-model.safetensors'];

  it.skipIf(skip)(
    'prints the Jaccards of the GPU’s fast mode, which runs the Krylov method on every matrix and scores as the float64 one does',
    async () => {
      for (const f of files) {
        const c = await compareFast(f, (m, r, cols, o) => engine.topSingularValues(m, r, cols, FAST_TOP_K, o));
        report('WebGPU f32', c);
        expect(c.krylov, c.fixture).toBe(c.matrices);
        // The f32 GPU machine runs the float64 machine's estimator: the same SNRs, up to f32 roundoff
        // moving the bulk's quadrature nodes (the Jaccards of the reference model are those of empty
        // selections; this is what checks its fast mode).
        const ref = await compareFast(f, (m, r, cols, o) => cpuFastSpectrum(new CpuEngine(), m, r, cols, FAST_TOP_K, o));
        let worst = 0;
        c.fastSnr.forEach((v, i) => {
          if (!Number.isFinite(ref.fastSnr[i])) return expect(v).toBe(ref.fastSnr[i]);
          const d = Math.abs(v - ref.fastSnr[i]) / Math.abs(ref.fastSnr[i]);
          worst = Math.max(worst, d);
          expect(d, `${c.fixture} matrix ${i}`).toBeLessThan(GPU_SNR_TOLERANCE);
        });
        console.log(`fast mode, WebGPU f32 vs float64 CPU machine, ${c.fixture}: SNRs apart by ${worst.toExponential(1)} at most`);
      }
    },
    600_000,
  );
});
