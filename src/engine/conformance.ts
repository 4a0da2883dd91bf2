/**
 * One conformance suite for every SpectralEngine (docs/testing.md): closed-form spectra, odd
 * shapes, zeros, NaN, the reference fixtures and the demo, written once as a function of the
 * engine. The tolerances follow from the engine's arithmetic: `eps` is its unit roundoff (2^-53
 * for the float64 CPU engine, 2^-24 for WebGPU's f32), and a Gram-based method knows each
 * eigenvalue λ = σ² to about n·eps·λ_max, so that is the bound, in λ, not a relative one in σ.
 * Imported by *.test.ts only (it calls vitest's describe/it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memorySource } from '../core/formats/byte-source.ts';
import { openCheckpoint } from '../core/formats/checkpoint.ts';
import { readTensorAsF32 } from '../core/formats/read-tensor.ts';
import { spectrumScore } from '../core/metrics/spectrum.ts';
import { planScan, type MatrixJob } from '../core/scan/plan.ts';
import { recordFromSpectrum, type MatrixRecord } from '../core/scan/record.ts';
import { spectrumModules } from '../core/scan/result.ts';
import { spectrumEntries } from '../core/exports/spectrum-files.ts';
import { selectedNames, selectTopPercent } from '../core/selection/select.ts';
import { gaussian, jacobiSingularValues } from './cpu/testing.ts';
import { lowRankConformance } from './low-rank/conformance.ts';
import type { SpectralEngine } from './types.ts';

export const ROOT = join(import.meta.dirname, '../..');
export const DEMO_PHASES = ['phase0-base', 'phase1-25pct', 'phase2-20pct', 'phase3-15pct'] as const;

export interface ConformanceOptions {
  /** unit roundoff of the engine's arithmetic */
  eps: number;
  /** relative tolerance on Spectrum's SNR against the float64 reference values */
  snrTolerance: number;
  /** demo matrices per phase checked against the reference values; 'all' also checks the selections */
  demo: number | 'all';
}

/** The engine under test, or why it cannot run here (the suite then skips with that reason). */
export type EngineFactory = () => Promise<SpectralEngine | { skip: string }>;

/** Sylvester's Hadamard matrix of order 2^p: H Hᵀ = n I, every σ is exactly sqrt(n). */
export function hadamard(p: number): Float32Array {
  let h = [[1]];
  for (let s = 0; s < p; s++) h = [...h.map((r) => [...r, ...r]), ...h.map((r) => [...r, ...r.map((x) => -x)])];
  return Float32Array.from(h.flat());
}

/** Every σ of `got` against `want`, with the Gram's error bound |σ² − σ*²| ≤ 16·n·eps·σ*max². */
export function expectSpectrum(got: Float64Array, want: ArrayLike<number>, eps: number, what: string): void {
  expect(got, what).toBeInstanceOf(Float64Array);
  expect(got.length, what).toBe(want.length);
  const n = want.length;
  const lmax = (want[0] ?? 0) ** 2;
  for (let i = 0; i < n; i++) {
    if (i > 0) expect(got[i], `${what}: descending at ${i}`).toBeLessThanOrEqual(got[i - 1]);
    const bound = 16 * Math.max(n, 4) * eps * lmax + 1e-300;
    expect(Math.abs(got[i] ** 2 - want[i] ** 2), `${what}: σ${i} = ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(bound);
  }
  // The largest σ is far better than the bound above: relative, a few roundoffs times √n.
  if (n > 0 && want[0] > 0)
    expect(Math.abs(got[0] - want[0]) / want[0], `${what}: σmax`).toBeLessThanOrEqual(32 * Math.sqrt(Math.max(n, 4)) * eps);
}

export interface FixtureMatrix {
  job: MatrixJob;
  values: Float32Array;
}

/** The analysable matrices of a safetensors file, decoded to f32 as the workers do. */
export async function fixtureMatrices(path: string): Promise<FixtureMatrix[]> {
  const source = memorySource(path.split('/').pop()!, new Uint8Array(readFileSync(join(ROOT, path))));
  const ckpt = await openCheckpoint([source]);
  const out: FixtureMatrix[] = [];
  for (const job of planScan(ckpt).jobs) out.push({ job, values: await readTensorAsF32(source, job.tensor) });
  return out;
}

interface ExpectedSpectrum {
  tensors: Record<string, { spectrum: { snr: number; n_signal: number; sigma_max: number; singular_values_head: number[] } }>;
}

export function expectedSpectra(path: string): ExpectedSpectrum {
  return JSON.parse(readFileSync(join(ROOT, path), 'utf8').replace(/\bInfinity\b/g, '1e999')) as ExpectedSpectrum;
}

/** Spectrum's selection (names) at `percent` from a set of records. */
export function selection(records: readonly MatrixRecord[], percent: number): Set<string> {
  return selectedNames(selectTopPercent(spectrumEntries(spectrumModules(records, 'current')), percent));
}

export function jaccard(a: Set<string>, b: Set<string>): number {
  const union = new Set([...a, ...b]);
  if (union.size === 0) return 1;
  let both = 0;
  for (const x of a) if (b.has(x)) both++;
  return both / union.size;
}

/** Spectrum's SNR of each matrix against the float64 reference file; returns the worst relative error. */
async function checkAgainstReference(
  engine: SpectralEngine,
  file: string,
  expectedFile: string,
  limit: number,
  opts: ConformanceOptions,
): Promise<{ worst: number; records: MatrixRecord[] }> {
  const expected = expectedSpectra(expectedFile);
  const matrices = (await fixtureMatrices(file)).filter((x) => expected.tensors[x.job.name]);
  // A spread-out subset when limited: every module type and both ends of the model.
  const step = Math.max(1, Math.floor(matrices.length / limit));
  const chosen = limit >= matrices.length ? matrices : matrices.filter((_, i) => i % step === 0).slice(0, limit);
  let worst = 0;
  const records: MatrixRecord[] = [];
  for (const { job, values } of chosen) {
    const sv = await engine.singularValues(values, job.rows, job.cols);
    const score = spectrumScore(sv, job.rows, job.cols);
    const want = expected.tensors[job.name].spectrum;
    const err = Math.abs(score.snr - want.snr) / Math.abs(want.snr);
    worst = Math.max(worst, err);
    expect(err, `${job.name}: SNR ${score.snr} vs ${want.snr}`).toBeLessThanOrEqual(opts.snrTolerance);
    expect(score.n_signal, `${job.name}: n_signal`).toBe(want.n_signal);
    const lmax = want.singular_values_head[0] ** 2;
    want.singular_values_head.forEach((v, i) =>
      expect(Math.abs(sv[i] ** 2 - v * v), `${job.name}: σ${i}`).toBeLessThanOrEqual(16 * sv.length * opts.eps * lmax),
    );
    records.push(recordFromSpectrum(job, sv, { engine: engine.kind }, 'exact', 0));
  }
  return { worst, records };
}

/**
 * Registers the suite under `name`. `make` is called once; the engine is disposed at the end.
 * Shapes stay small (≤ 352 on a side, one 4097-long side with n = 3) so that a software GPU runs it.
 */
export function describeConformance(name: string, make: EngineFactory, opts: ConformanceOptions): void {
  let engine: SpectralEngine | { skip: string } | undefined;
  const get = async (): Promise<SpectralEngine | null> => {
    engine ??= await make();
    return 'skip' in engine ? null : engine;
  };

  describe(`engine conformance: ${name}`, () => {
    it('is available here, or says why not', async (ctx) => {
      const e = await get();
      if (!e) ctx.skip(`${name}: ${(engine as { skip: string }).skip}`);
      expect(['cpu', 'webgpu']).toContain(e!.kind);
    });

    const test = (title: string, body: (e: SpectralEngine) => Promise<void>, timeout?: number) =>
      it(
        title,
        async (ctx) => {
          const e = await get();
          if (!e) ctx.skip((engine as { skip: string }).skip);
          await body(e!);
        },
        timeout ?? 300_000,
      );

    test('returns min(rows, cols) values, descending, for empty and degenerate shapes', async (e) => {
      for (const [r, c] of [
        [0, 5],
        [5, 0],
        [1, 1],
        [1, 9],
        [9, 1],
      ]) {
        const s = await e.singularValues(gaussian(r * c, r + 7 * c), r, c);
        expect(s).toBeInstanceOf(Float64Array);
        expect(s).toHaveLength(Math.min(r, c));
      }
      expect(Array.from(await e.singularValues(Float32Array.of(-3), 1, 1))).toEqual([3]);
      const v = Float32Array.of(3, 4, 12);
      for (const [r, c] of [
        [1, 3],
        [3, 1],
      ])
        expectSpectrum(await e.singularValues(v, r, c), [13], opts.eps, `${r}x${c} vector`);
    });

    test('orthogonal: Hadamard, [H H], its transpose and a signed permutation', async (e) => {
      const h = hadamard(5);
      expectSpectrum(await e.singularValues(h, 32, 32), new Array(32).fill(Math.sqrt(32)), opts.eps, 'H32');
      const hh = new Float32Array(32 * 64);
      for (let i = 0; i < 32; i++) for (let j = 0; j < 64; j++) hh[i * 64 + j] = h[i * 32 + (j % 32)];
      expectSpectrum(await e.singularValues(hh, 32, 64), new Array(32).fill(8), opts.eps, '[H H]');
      const ht = new Float32Array(64 * 32);
      for (let i = 0; i < 32; i++) for (let j = 0; j < 64; j++) ht[j * 32 + i] = hh[i * 64 + j];
      expectSpectrum(await e.singularValues(ht, 64, 32), new Array(32).fill(8), opts.eps, '[H H]ᵀ');
      const n = 45;
      const p = new Float32Array(n * n);
      for (let i = 0; i < n; i++) p[i * n + ((i * 17) % n)] = i % 3 === 0 ? -1 : 1;
      expectSpectrum(await e.singularValues(p, n, n), new Array(n).fill(1), opts.eps, 'signed permutation');
    });

    test('diagonal: σ are the sorted |d|, tall and wide', async (e) => {
      const diag = [3, -0.5, 7.25, 0, 2, -11, 1.5];
      const want = diag.map(Math.abs).sort((a, b) => b - a);
      for (const [r, c] of [
        [7, 12],
        [12, 7],
      ]) {
        const m = new Float32Array(r * c);
        diag.forEach((x, i) => (m[i * c + i] = x));
        expectSpectrum(await e.singularValues(m, r, c), want, opts.eps, `diagonal ${r}x${c}`);
      }
    });

    test('rank 1, and rank 1 plus noise', async (e) => {
      const u = gaussian(23, 1),
        v = gaussian(41, 2);
      const m = new Float32Array(23 * 41);
      for (let i = 0; i < 23; i++) for (let j = 0; j < 41; j++) m[i * 41 + j] = u[i] * v[j];
      expectSpectrum(await e.singularValues(m, 23, 41), jacobiSingularValues(m, 23, 41), opts.eps, 'rank 1');
      const noise = gaussian(60 * 90, 3, 0.01);
      const w = new Float32Array(60 * 90);
      const a = gaussian(60, 4),
        b = gaussian(90, 5);
      for (let i = 0; i < 60; i++) for (let j = 0; j < 90; j++) w[i * 90 + j] = a[i] * b[j] + noise[i * 90 + j];
      const got = await e.singularValues(w, 60, 90);
      expectSpectrum(got, jacobiSingularValues(w, 60, 90), opts.eps, 'rank 1 + noise');
      expect(got[0] / got[1]).toBeGreaterThan(50);
    });

    test('zeros give exact zeros', async (e) => {
      for (const [r, c] of [
        [6, 10],
        [10, 6],
      ])
        expect(Array.from(await e.singularValues(new Float32Array(r * c), r, c))).toEqual(new Array(6).fill(0));
    });

    test('odd shapes against one-sided Jacobi: vectors, primes, long thin', async (e) => {
      for (const [r, c] of [
        [1, 50],
        [50, 1],
        [2, 3],
        [37, 53],
        [53, 37],
        [97, 31],
        [5, 300],
        [127, 131],
        [3, 4097],
        [4097, 3],
      ]) {
        const m = gaussian(r * c, r * 131 + c);
        expectSpectrum(await e.singularValues(m, r, c), jacobiSingularValues(m, r, c), opts.eps, `${r}x${c}`);
      }
    });

    test('NaN or Infinity rejects with NON_FINITE at once, and the engine still works after', async (e) => {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const m = gaussian(40 * 60, 5);
        m[1234] = bad;
        const err = await e.singularValues(m, 40, 60).catch((x: unknown) => x);
        expect(err).toMatchObject({ code: 'NON_FINITE' });
      }
      expectSpectrum(await e.singularValues(hadamard(3), 8, 8), new Array(8).fill(Math.sqrt(8)), opts.eps, 'after NaN');
    });

    test('an aborted signal rejects with an AbortError', async (e) => {
      const ctl = new AbortController();
      ctl.abort();
      const err = await e.singularValues(gaussian(16, 1), 4, 4, { signal: ctl.signal }).catch((x: unknown) => x);
      expect(err).toMatchObject({ name: 'AbortError', code: 'ABORTED' });
    });

    test('reference model: Spectrum SNR against the float64 reference', async (e) => {
      const { worst } = await checkAgainstReference(
        e,
        'test-fixtures/reference/reference-model.safetensors',
        'test-fixtures/expected/reference-model.json',
        Infinity,
        opts,
      );
      console.log(`${name}: reference model, worst relative SNR error ${worst.toExponential(2)}`);
    }, 300_000);

    test(
      opts.demo === 'all'
        ? 'demo: SNR of every matrix, and the same selection at 25/20/15 % per phase'
        : `demo: SNR of ${opts.demo} matrices per phase`,
      async (e) => {
        let worst = 0;
        for (const phase of DEMO_PHASES) {
          const limit = opts.demo === 'all' ? Infinity : opts.demo;
          const got = await checkAgainstReference(
            e,
            `public/demo/${phase}.safetensors`,
            `test-fixtures/expected/demo-phases/${phase}.json`,
            limit,
            opts,
          );
          worst = Math.max(worst, got.worst);
          if (opts.demo !== 'all') continue;
          const expected = expectedSpectra(`test-fixtures/expected/demo-phases/${phase}.json`);
          const reference = got.records.map((r) => ({ ...r, spectrum: { ...r.spectrum!, snr: expected.tensors[r.name].spectrum.snr } }));
          for (const p of [25, 20, 15]) expect(jaccard(selection(got.records, p), selection(reference, p)), `${phase} at ${p} %`).toBe(1);
        }
        const stats = (e as { stats?: object }).stats;
        console.log(`${name}: demo, worst relative SNR error ${worst.toExponential(2)}${stats ? `; ${JSON.stringify(stats)}` : ''}`);
      },
      1_800_000,
    );

    lowRankConformance(test, opts.eps, name);

    // Last: the engine is gone after this one.
    test('lets go when disposed: a later call rejects with ENGINE_FAILED', async (e) => {
      e.dispose();
      await expect(e.singularValues(hadamard(2), 4, 4)).rejects.toMatchObject({ code: 'ENGINE_FAILED' });
    });
  });
}
