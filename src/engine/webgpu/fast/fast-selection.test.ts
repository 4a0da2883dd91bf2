import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memorySource } from '../../../core/formats/byte-source.ts';
import { openCheckpoint } from '../../../core/formats/checkpoint.ts';
import { readTensorAsF32 } from '../../../core/formats/read-tensor.ts';
import { spectrumScore, type SpectrumVariant } from '../../../core/metrics/spectrum.ts';
import { spectrumYamlFor } from '../../../core/exports/spectrum-bundle.ts';
import { planScan, type ScanPlan } from '../../../core/scan/plan.ts';
import { recordFromSpectrum, type MatrixRecord, type Provenance, type ScanMode } from '../../../core/scan/record.ts';
import { runScan, type RunScanResult } from '../../../core/scan/run.ts';
import { undecidedModules } from '../../../core/selection/undecided.ts';
import { CpuEngine } from '../../cpu/cpu-engine.ts';
import { DEMO_PHASES, ROOT } from '../../conformance.ts';
import { orderStatisticBounds, probeRules, snrInterval } from './bounds.ts';
import { FAST_TOP_K, fastView, frobeniusSquared, type FastOptions } from './fast.ts';
import { lanczosProbes } from './krylov.ts';
import { CpuMachine } from './machine.ts';

describe('which estimates a selection cut leaves undecided (worked by hand)', () => {
  // One type of four modules at 50 %: k = int(4·50/100) = 2 are selected; a and d are exact.
  const modules = (b: [number, number], c: [number, number]) => [
    { name: 'a', type: 't', value: 10 },
    { name: 'b', type: 't', value: (b[0] + b[1]) / 2, interval: { lo: b[0], hi: b[1] } },
    { name: 'c', type: 't', value: (c[0] + c[1]) / 2, interval: { lo: c[0], hi: c[1] } },
    { name: 'd', type: 't', value: 1 },
  ];

  it('a cut between two intervals: nothing to recompute', () => {
    // b = [6, 8]: only a (10) can be above it, 1 < k: selected. c = [3, 5]: a and b are surely above (10, 6 > 5): not.
    expect(undecidedModules(modules([6, 8], [3, 5]), [50])).toEqual(new Set());
  });

  it('overlapping intervals at the cut: both are recomputed', () => {
    // b = [4, 8], c = [3, 5]: each can be above the other, and only a is surely above either.
    expect(undecidedModules(modules([4, 8], [3, 5]), [50])).toEqual(new Set(['b', 'c']));
  });

  it('an interval far from every cut in use is decided; another percent can make it undecided', () => {
    // At 25 %, k = 1: a (10) is the one selected, whatever b = [4, 8] and c = [3, 5] are.
    expect(undecidedModules(modules([4, 8], [3, 5]), [25])).toEqual(new Set());
    // At 75 %, k = 3: the cut is between c and d; d (1) is below both, so neither is undecided.
    expect(undecidedModules(modules([4, 8], [3, 5]), [75])).toEqual(new Set());
    // c = [0.5, 5] reaches below d: at 75 % c and d compete for the third place.
    expect(undecidedModules(modules([4, 8], [0.5, 5]), [75])).toEqual(new Set(['c']));
  });

  it('types are cut separately', () => {
    const two = [
      ...modules([4, 8], [3, 5]),
      { name: 'x', type: 'u', value: 2, interval: { lo: 0, hi: 9 } },
      { name: 'y', type: 'u', value: 7 },
    ];
    // type u at 50 %: k = int(2·0.5) = 1; x = [0, 9] may be above y (7) or not.
    expect(undecidedModules(two, [50])).toEqual(new Set(['b', 'c', 'x']));
  });
});

const FILES = [...DEMO_PHASES.map((p) => `public/demo/${p}.safetensors`), 'test-fixtures/reference/reference-model.safetensors'];
/** What the page offers (any whole percent) and the CLI's usual plan. */
const PAGE_PERCENTS = Array.from({ length: 100 }, (_, i) => i + 1);
const PHASE_PERCENTS = [25, 20, 15];
const VARIANTS: SpectrumVariant[] = ['current', 'legacy'];

/**
 * The Krylov path forced onto the fixtures' small matrices (n ≤ 128; at n ≥ 1024 fast mode uses
 * DEFAULT_KRYLOV by itself): b = 4 probes of n/8 steps.
 */
const forced = (n: number): FastOptions => ({ size: { b: 4, s: Math.max(4, Math.floor(n / 8)) }, maxFraction: 0.5 });

interface Checkpoint {
  file: string;
  plan: ScanPlan;
  exact: Map<string, MatrixRecord>;
  fast: Map<string, MatrixRecord>;
}

/** Every matrix of a fixture in exact mode and in fast mode (float64 Krylov forced), computed once. */
async function analyse(file: string): Promise<Checkpoint> {
  const source = memorySource(file.split('/').pop()!, new Uint8Array(readFileSync(join(ROOT, file))));
  const plan = planScan(await openCheckpoint([source]));
  const cpu = new CpuEngine();
  const exact = new Map<string, MatrixRecord>(),
    fast = new Map<string, MatrixRecord>();
  for (const job of plan.jobs) {
    const values = await readTensorAsF32(source, job.tensor);
    exact.set(job.name, recordFromSpectrum(job, await cpu.singularValues(values, job.rows, job.cols), { engine: 'cpu' }, 'exact', 0));
    let producedBy: Provenance = { engine: 'cpu' };
    const view = fastView(cpu, FAST_TOP_K, forced(Math.min(job.rows, job.cols)));
    const sv = await view.singularValues(values, job.rows, job.cols, { onProvenance: (p) => (producedBy = p) });
    fast.set(job.name, recordFromSpectrum(job, sv, producedBy, 'fast', 0));
  }
  return { file, plan, exact, fast };
}

/** A scan of the checkpoint whose jobs answer from the records made above (fast mode: `fast`'s records). */
async function scan(c: Checkpoint, mode: ScanMode, refine: { percents: number[]; variant: SpectrumVariant } | undefined, fast = c.fast) {
  const recomputed: string[] = [];
  const result = await runScan({ name: 'model', errors: [], missing: [] }, c.plan, {
    engine: 'cpu',
    mode,
    concurrency: 2,
    ...(refine ? { refine } : {}),
    run: async (job, _bytes, as = mode) => {
      if (mode === 'fast' && as === 'exact') recomputed.push(job.name);
      return { ok: true, record: (as === 'fast' ? fast : c.exact).get(job.name)! };
    },
  });
  return { result, recomputed };
}

const yaml = (r: RunScanResult, percent: number, variant: SpectrumVariant) => spectrumYamlFor(r, percent, variant).text;

let analysed: Promise<Checkpoint[]> | undefined;
const checkpoints = () => (analysed ??= Promise.all(FILES.map(analyse)));

describe('fast mode selects exactly what exact mode selects', () => {
  it('every estimate’s SNR error bar holds the exact SNR (demo phases and reference model, Krylov forced)', async () => {
    let estimates = 0,
      finite = 0;
    for (const c of await checkpoints()) {
      for (const [name, r] of c.fast) {
        if (!r.estimate) continue;
        estimates++;
        const exact = c.exact.get(name)!.spectrum!.snr;
        expect(r.estimate.lo, `${c.file} ${name}`).toBeLessThanOrEqual(exact);
        expect(r.estimate.hi, `${c.file} ${name}`).toBeGreaterThanOrEqual(exact);
        // the estimate's own SNR lies inside its interval (what the selection argument needs)
        expect(r.spectrum!.snr).toBeGreaterThanOrEqual(r.estimate.lo);
        expect(r.spectrum!.snr).toBeLessThanOrEqual(r.estimate.hi);
        if (Number.isFinite(r.estimate.hi)) finite++;
      }
    }
    // every matrix is an estimate here (no matrix of these fixtures is 1-D-only or too small), and some bars are finite
    expect(estimates).toBeGreaterThan(400);
    expect(finite).toBeGreaterThan(0);
  }, 600_000);

  for (const [i, file] of FILES.entries()) {
    it(`${file}: the YAML of every percent the page offers, both variants, is exact mode's byte for byte`, async () => {
      const c = (await checkpoints())[i];
      for (const variant of VARIANTS) {
        const exact = (await scan(c, 'exact', undefined)).result;
        for (const percents of [PHASE_PERCENTS, PAGE_PERCENTS]) {
          const { result, recomputed } = await scan(c, 'fast', { percents, variant });
          for (const p of percents) expect(yaml(result, p, variant), `${variant} ${p} %`).toBe(yaml(exact, p, variant));
          const share = recomputed.length / c.plan.jobs.length;
          console.log(
            `fast mode, ${file}, ${variant}, ${percents.length} percents: ${recomputed.length} of ${c.plan.jobs.length} recomputed (${(100 * share).toFixed(0)} %)`,
          );
        }
      }
    }, 600_000);
  }

  it('with narrow adversarial estimates, only the matrices near a cut are recomputed, and the YAML is still exact', async () => {
    // Each matrix's estimate is its exact SNR moved to the end of a ±1 % interval that works against
    // the 25 % cut (exact mode's selected ones down, the others up): without the recompute, the selection moves.
    const c = (await checkpoints())[1];
    const byType = new Map<string, MatrixRecord[]>();
    for (const r of c.exact.values())
      if (r.spectrum && r.spectrumType) byType.set(r.spectrumType, [...(byType.get(r.spectrumType) ?? []), r]);
    const selected = new Set<string>();
    for (const members of byType.values()) {
      const sorted = [...members].sort((x, y) => y.spectrum!.snr - x.spectrum!.snr);
      for (const r of sorted.slice(0, Math.floor((members.length * 25) / 100))) selected.add(r.name);
    }
    const adversarial = new Map<string, MatrixRecord>();
    for (const [name, r] of c.exact) {
      if (!r.spectrum) {
        adversarial.set(name, r);
        continue;
      }
      const snr = r.spectrum.snr;
      const lo = snr * 0.99,
        hi = snr * 1.01;
      const moved = selected.has(name) ? lo : hi;
      adversarial.set(name, { ...r, mode: 'fast', estimate: { lo, hi }, spectrum: { ...r.spectrum, snr: moved, snr_legacy: moved } });
    }
    const exact = (await scan(c, 'exact', undefined)).result;
    const unrefined = (await scan(c, 'fast', undefined, adversarial)).result;
    expect(PHASE_PERCENTS.some((p) => yaml(unrefined, p, 'current') !== yaml(exact, p, 'current'))).toBe(true);
    const { result, recomputed } = await scan(c, 'fast', { percents: PHASE_PERCENTS, variant: 'current' }, adversarial);
    for (const p of PHASE_PERCENTS) expect(yaml(result, p, 'current'), `${p} %`).toBe(yaml(exact, p, 'current'));
    expect(recomputed.length).toBeGreaterThan(0);
    expect(recomputed.length).toBeLessThan(c.plan.jobs.length / 2);
    console.log(`adversarial ±1 % estimates, ${c.file}: ${recomputed.length} of ${c.plan.jobs.length} recomputed`);
  }, 600_000);
});

describe('the proven interval (Chebyshev–Markov–Stieltjes + Hutchinson band)', () => {
  it('bounds every singular value of a known spectrum, and its SNR interval holds the exact SNR', async () => {
    // W diagonal (600 × 900): its singular values are the diagonal. σ uniform on [0.1, 2], four spikes above.
    const n = 600,
      cols = 900;
    const sigma = Float64Array.from({ length: n }, (_, i) => (i < 4 ? 6 - i : 0.1 + (1.9 * (i - 4)) / (n - 5)));
    const w = new Float32Array(n * cols);
    sigma.forEach((s, i) => (w[i * cols + i] = s));
    const exactDesc = Float64Array.from(w.filter((x) => x !== 0))
      .sort()
      .reverse();
    const ascending = Float64Array.from(exactDesc).reverse();
    const kr = await lanczosProbes(new CpuMachine(w), n, cols, 1, { b: 8, s: 48 });
    const rules = probeRules(kr, 1);
    const { lower, upper } = orderStatisticBounds(rules, n, exactDesc[0] * 1.001, 2 ** -53);
    let tight = 0;
    for (let i = 0; i < n; i++) {
      expect(lower[i], `σ(${i})`).toBeLessThanOrEqual(ascending[i]);
      expect(upper[i], `σ(${i})`).toBeGreaterThanOrEqual(ascending[i]);
      if (upper[i] - lower[i] < 0.5) tight++;
    }
    expect(tight).toBeGreaterThan(n / 2); // the band says something
    const exact = spectrumScore(exactDesc, n, cols).snr;
    const interval = snrInterval(rules, n, cols, frobeniusSquared(w, n * cols), 2 ** -53);
    expect(interval.lo).toBeLessThanOrEqual(exact);
    expect(interval.hi).toBeGreaterThanOrEqual(exact);
    console.log(
      `proven interval, n = 600, b = 8, s = 48: SNR ${exact.toExponential(3)} in [${interval.lo.toExponential(3)}, ${interval.hi.toExponential(3)}]`,
    );
  }, 120_000);
});
