import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { htsrMetrics } from '../../core/metrics/htsr.ts';
import { fitPowerLaw } from '../../core/metrics/powerlaw.ts';
import { singularValuesSync } from '../cpu/cpu-engine.ts';
import { DEMO_PHASES, fixtureMatrices, ROOT } from '../conformance.ts';
import { testEngine } from './testing.ts';
import type { WebGpuEngine } from './webgpu-engine.ts';

interface FixtureSpectrum {
  fixture: string;
  name: string;
  rows: number;
  cols: number;
  /** singular values, descending */
  sv: Float64Array;
  /** the float64 reference's xmin (WeightWatcher's fit), where the fixture has one */
  referenceXmin?: number | null;
}

const read = <T>(path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8').replace(/\bInfinity\b/g, '1e999')) as T;
type Expected = { tensors: Record<string, { shape: number[]; htsr?: { xmin: number | null } | null }> };

/**
 * Every fixture with a spectrum: the stored float64 spectra (reference model, the demo's base, a
 * 512 × 1536 Gaussian), every matrix of the demo's four checkpoints (float64 CPU engine from their
 * weights) with the reference's xmin, and the LoRA ΔW spectra of the reference (rank ≤ r, zeros after).
 */
let spectraOnce: Promise<FixtureSpectrum[]> | undefined;
const fixtureSpectra = () => (spectraOnce ??= readFixtureSpectra());

async function readFixtureSpectra(): Promise<FixtureSpectrum[]> {
  const out: FixtureSpectrum[] = [];
  for (const f of ['reference-model', 'phase0-base', 'gaussian']) {
    const { tensors } = read<{ tensors: Record<string, { sv: number[]; shape: number[] }> }>(`test-fixtures/spectra/${f}.json`);
    const expected =
      f === 'gaussian'
        ? null
        : read<Expected>(
            f === 'reference-model' ? 'test-fixtures/expected/reference-model.json' : `test-fixtures/expected/demo-phases/${f}.json`,
          );
    for (const [name, t] of Object.entries(tensors)) {
      out.push({
        fixture: `spectra/${f}`,
        name,
        rows: t.shape[0],
        cols: t.shape[1],
        sv: Float64Array.from(t.sv),
        referenceXmin: expected?.tensors[name]?.htsr?.xmin,
      });
    }
  }
  for (const phase of DEMO_PHASES.slice(1)) {
    const expected = read<Expected>(`test-fixtures/expected/demo-phases/${phase}.json`);
    for (const { job, values } of await fixtureMatrices(`public/demo/${phase}.safetensors`)) {
      if (job.vector) continue;
      out.push({
        fixture: `demo/${phase}`,
        name: job.name,
        rows: job.rows,
        cols: job.cols,
        sv: singularValuesSync(values, job.rows, job.cols),
        referenceXmin: expected.tensors[job.name]?.htsr?.xmin,
      });
    }
  }
  for (const f of ['lora-gpt2-lora-tigrinya', 'lora-qwen2.5-0.5b-instruct-lora']) {
    const { modules } = read<{ modules: Record<string, { shape: number[]; singular_values: number[] }> }>(
      `test-fixtures/expected/${f}.json`,
    );
    for (const [name, m] of Object.entries(modules)) {
      const sv = new Float64Array(Math.min(m.shape[0], m.shape[1]));
      sv.set(m.singular_values);
      out.push({ fixture: f, name, rows: m.shape[0], cols: m.shape[1], sv });
    }
  }
  return out;
}

const evalsOf = (sv: Float64Array) => Float64Array.from(sv, (s) => s * s).sort();

describe('power-law xmin scan on the GPU (shaders/powerlaw-xmin.wgsl)', async () => {
  const made = await testEngine();
  const skip = 'skip' in made ? made.skip : '';
  const engine = made as WebGpuEngine;
  const spectra = await fixtureSpectra();

  it('has every fixture (stored spectra, the four demo checkpoints, the LoRA deltas)', () => {
    const fixtures = new Set(spectra.map((s) => s.fixture));
    expect([...fixtures].sort()).toEqual([
      'demo/phase1-25pct',
      'demo/phase2-20pct',
      'demo/phase3-15pct',
      'lora-gpt2-lora-tigrinya',
      'lora-qwen2.5-0.5b-instruct-lora',
      'spectra/gaussian',
      'spectra/phase0-base',
      'spectra/reference-model',
    ]);
    expect(existsSync(join(ROOT, 'test-fixtures/expected/demo-phases/phase0-base.json'))).toBe(true);
  });

  it.skipIf(skip)(
    'picks the same xmin, alpha and D as fitPowerLaw on every fixture spectrum, and the reference’s xmin',
    async () => {
      const byFixture = new Map<string, { n: number; same: number; withReference: number; sameAsReference: number }>();
      const before = { ...engine.fitStats };
      for (const s of spectra) {
        const evals = evalsOf(s.sv);
        const cpu = fitPowerLaw(evals);
        const gpu = await engine.powerLawXmin(evals);
        expect(gpu, `${s.fixture}: ${s.name}`).toEqual(cpu);
        const row = byFixture.get(s.fixture) ?? { n: 0, same: 0, withReference: 0, sameAsReference: 0 };
        row.n++;
        row.same +=
          gpu.status === cpu.status && (gpu.status !== 'success' || (cpu.status === 'success' && gpu.xminIndex === cpu.xminIndex)) ? 1 : 0;
        if (typeof s.referenceXmin === 'number' && gpu.status === 'success') {
          row.withReference++;
          // The spectra differ from the reference's by float64 rounding only: the same xmin to 1e-9.
          if (Math.abs(gpu.xmin - s.referenceXmin) <= 1e-9 * s.referenceXmin) row.sameAsReference++;
        }
        byFixture.set(s.fixture, row);
      }
      const candidates = engine.fitStats.candidates - before.candidates,
        recomputed = engine.fitStats.recomputed - before.recomputed;
      for (const [f, r] of byFixture) {
        console.log(
          `xmin on the GPU, ${f}: ${r.same}/${r.n} the same as fitPowerLaw; ${r.sameAsReference}/${r.withReference} the reference's xmin`,
        );
        expect(r.same, f).toBe(r.n);
        expect(r.sameAsReference, f).toBe(r.withReference);
      }
      console.log(`xmin on the GPU: ${spectra.length} spectra, ${candidates} candidates, ${recomputed} recounted in float64 (near-ties)`);
      expect(spectra.length).toBeGreaterThan(400);
      // The float64 recount is for near-ties only: a small share of the candidates.
      expect(recomputed).toBeLessThan(candidates / 20);
    },
    300_000,
  );

  it.skipIf(skip)(
    'leaves degenerate inputs to the reference, with its reasons',
    async () => {
      for (const evals of [[], [3], [1e-9, 1e-8], [2, 1], [1, NaN], [1, 2, Infinity], [4, 4, 4, 4], [1, 1, 2, 2, 2]]) {
        const data = Float64Array.from(evals);
        expect(await engine.powerLawXmin(data), JSON.stringify(evals)).toEqual(fitPowerLaw(data));
      }
    },
    300_000,
  );
});

describe('htsrMetrics given a power-law fit made elsewhere (the GPU records’ path)', () => {
  it('gives htsrMetrics back unchanged from fitPowerLaw’s own fit, on every fixture and degenerate spectra', async () => {
    const cases: { sv: Float64Array; rows: number; cols: number }[] = [
      ...(await fixtureSpectra()),
      { sv: Float64Array.of(2, 2, 2, 2), rows: 4, cols: 9 }, // all equal: the fit fails
      { sv: Float64Array.of(5, 0, 0, 0), rows: 4, cols: 4 }, // rank 1
      { sv: new Float64Array(6), rows: 6, cols: 6 }, // zeros
      { sv: Float64Array.of(1, NaN), rows: 2, cols: 2 }, // invalid input: left alone
    ];
    for (const { sv, rows, cols } of cases) {
      const h = htsrMetrics(sv, rows, cols);
      expect(htsrMetrics(sv, rows, cols, fitPowerLaw(evalsOf(sv)))).toEqual(h);
    }
  });

  it('takes every power-law field from the fit it is given', () => {
    const sv = Float64Array.from({ length: 40 }, (_, i) => 1 / (i + 1) ** 0.7);
    const h = htsrMetrics(sv, 40, 90);
    const evals = evalsOf(sv);
    const fit = fitPowerLaw(evals.subarray(0, 0)); // a failed fit: no eigenvalues
    const failed = htsrMetrics(sv, 40, 90, fit);
    expect(failed).toMatchObject({
      status: 'failed',
      alpha: null,
      xmin: null,
      num_pl_spikes: null,
      warning: '',
      stable_rank: h.stable_rank,
    });
    expect(failed.reasons.alpha).toMatch(/^power-law fit failed: fewer than 2 eigenvalues/);
    // the fit it makes itself is the one it is given
    expect(htsrMetrics(sv, 40, 90, fitPowerLaw(evals))).toEqual(h);
  });
});
