import { describe, expect, it } from 'vitest';
import { CpuEngine, singularValuesSync } from '../../cpu/cpu-engine.ts';
import { gaussian } from '../../cpu/testing.ts';
import { DEMO_PHASES, fixtureMatrices, jaccard, selection } from '../../conformance.ts';
import { recordFromSpectrum, type MatrixRecord } from '../../../core/scan/record.ts';
import { testEngine } from '../testing.ts';
import type { WebGpuEngine } from '../webgpu-engine.ts';
import { cpuFastSpectrum, fastView, usesKrylov } from './fast.ts';
import { lanczosProbes } from './krylov.ts';
import { CpuMachine } from './machine.ts';
import { GpuMachine } from './gpu-machine.ts';
import { exactSketch, expandSketch } from './sketch.ts';

/** A matrix with five spikes over a noise bulk (rows × cols). */
function spiked(r: number, c: number): Float32Array {
  const m = gaussian(r * c, 9, 1 / Math.sqrt(c));
  for (let s = 0; s < 5; s++) {
    const u = gaussian(r, 100 + s), v = gaussian(c, 200 + s);
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
    const n = 600, cols = 900;
    const sigma = Float64Array.from({ length: n }, (_, i) => (i < 5 ? 10 - i : 1 + (i - 5) / (n - 6)));
    const w = new Float32Array(n * cols);
    sigma.forEach((s, i) => (w[i * cols + i] = s));
    const want = Float64Array.from(w.filter((x) => x !== 0)).sort().reverse();
    const sk = await cpuFastSpectrum(new CpuEngine(), w, n, cols, 5, { size: { b: 8, s: 48 }, maxFraction: 1 });
    expect(usesKrylov(n, { size: { b: 8, s: 48 }, maxFraction: 1 })).toBe(true);
    sk.top.forEach((v, i) => expect(Math.abs(v - want[i]) / want[i]).toBeLessThan(1e-10));
    let bulkSum = 0, bulkSquares = 0;
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

  it.skipIf(skip)('the f32 GPU machine runs the same Lanczos as the float64 CPU machine', async () => {
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
  }, 300_000);

  it.skipIf(skip)('gives the exact spectrum as its sketch below the Krylov threshold', async () => {
    const m = spiked(40, 70);
    const sk = await engine.topSingularValues(m, 40, 70, 8);
    const all = await engine.singularValues(m, 40, 70);
    expect(expandSketch(sk)).toEqual(all);
  }, 300_000);
});

describe('fast mode selects the same layers as exact mode on the demo', () => {
  it('Jaccard ≥ 0.95 per phase at 25/20/15 % (every demo matrix is below the Krylov threshold)', async () => {
    const engine = new CpuEngine();
    const fast = fastView(engine);
    for (const phase of DEMO_PHASES) {
      const exact: MatrixRecord[] = [], quick: MatrixRecord[] = [];
      for (const { job, values } of await fixtureMatrices(`public/demo/${phase}.safetensors`)) {
        expect(usesKrylov(Math.min(job.rows, job.cols))).toBe(false);
        exact.push(recordFromSpectrum(job, await engine.singularValues(values, job.rows, job.cols), 'cpu', 'exact', 0));
        quick.push(recordFromSpectrum(job, await fast.singularValues(values, job.rows, job.cols), 'cpu', 'fast', 0));
      }
      for (const p of [25, 20, 15]) expect(jaccard(selection(exact, p), selection(quick, p)), `${phase} ${p} %`).toBeGreaterThanOrEqual(0.95);
    }
  }, 300_000);
});
