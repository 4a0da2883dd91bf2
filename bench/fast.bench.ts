/**
 * npm run bench:fast [-- --layers 8 --hidden 1024 --mlp 2816 --percent 25 20 15 --no-demo --no-synthetic]
 *
 * Fast mode end to end against exact mode, in one process on one CPU engine (the float64 Krylov
 * machine; the WebGPU engine runs the same script in f32 — bench:gpu times it per matrix):
 *
 * - the demo (public/demo, 4 phases, n = 128): fast mode as it runs (below its Krylov threshold
 *   every matrix is exact, nothing to recompute) and with the Krylov path forced (b = 4, s = n/8, as
 *   the tests force it);
 * - a synthetic seeded checkpoint (Llama-shaped: hidden 1024, MLP 2816, k/v 256; Gaussian plus
 *   rank-one spikes, f32), where fast mode's default 8 × 64 Krylov method runs on every n ≥ 1024.
 *
 * For each: exact mode's time, fast mode's time to its last estimate and to the end (estimates,
 * then the exact recomputes of every matrix an SNR interval leaves undecided at a cut of the
 * percents), the share recomputed, the speed-up, whether the YAMLs are exact mode's byte for byte,
 * and the measured |SNR error| / sd of the error bars (bounds.ts). Not a test: it asserts nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { memorySource, type ByteSource } from '../src/core/formats/byte-source.ts';
import { openCheckpoint } from '../src/core/formats/checkpoint.ts';
import { spectrumYamlFor } from '../src/core/exports/spectrum-bundle.ts';
import { planScan, type ScanPlan } from '../src/core/scan/plan.ts';
import type { MatrixRecord } from '../src/core/scan/record.ts';
import { runScan, type RunScanResult } from '../src/core/scan/run.ts';
import { CpuEngine } from '../src/engine/cpu/cpu-engine.ts';
import { ERROR_BAR_Z } from '../src/engine/webgpu/fast/bounds.ts';
import { FAST_TOP_K, fastView, type FastOptions } from '../src/engine/webgpu/fast/fast.ts';
import { analyzeJob } from '../src/workers/analyze.ts';
import { buildSafetensors, gaussianMatrix, rng } from '../test-fixtures/builders/safetensors.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
function list(name: string, fallback: number[]): number[] {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const out: number[] = [];
  for (let j = i + 1; j < process.argv.length && /^\d/.test(process.argv[j]); j++) out.push(Number(process.argv[j]));
  return out;
}
// 8 layers: a cut in every type at 25/20/15 % (int(8·P/100) = 2, 1, 1)
const layers = Number(arg('layers', '8'));
const hidden = Number(arg('hidden', '1024'));
const mlp = Number(arg('mlp', '2816'));
const percents = list('percent', [25, 20, 15]);
const root = join(import.meta.dirname, '..');

interface Run {
  result: RunScanResult;
  millis: number;
  /** fast mode: when the last estimate was in (before the recomputes) */
  estimatesMillis: number;
  recomputed: number;
}

/** One scan of `plan`, in process, one job at a time. */
async function scan(source: ByteSource, plan: ScanPlan, mode: 'exact' | 'fast', fast: (n: number) => FastOptions): Promise<Run> {
  const cpu = new CpuEngine();
  let recomputed = 0,
    estimatesMillis = 0,
    estimating = true;
  const started = performance.now();
  const result = await runScan({ name: 'model', errors: [], missing: [] }, plan, {
    engine: 'cpu',
    mode,
    concurrency: 1,
    refine: { percents, variant: 'current' },
    keepSingularValues: false,
    run: async (job, _bytes, as = mode) => {
      if (mode === 'fast' && as === 'exact') {
        if (estimating) estimatesMillis = performance.now() - started;
        estimating = false;
        recomputed++;
      }
      const engine = as === 'fast' ? fastView(cpu, FAST_TOP_K, fast(Math.min(job.rows, job.cols))) : cpu;
      return analyzeJob(job, source, engine, { mode: as });
    },
  });
  const millis = performance.now() - started;
  return { result, millis, estimatesMillis: estimating ? millis : estimatesMillis, recomputed };
}

/** |SNR error| / sd of each finite error bar, against the exact scan's records. */
function errorRatios(
  estimates: readonly MatrixRecord[],
  exact: readonly MatrixRecord[],
): { finite: number; unknown: number; worst: number; covered: boolean } {
  const exactOf = new Map(exact.map((r) => [r.name, r]));
  let finite = 0,
    unknown = 0,
    worst = 0,
    covered = true;
  for (const r of estimates) {
    if (!r.estimate || !r.spectrum) continue;
    const want = exactOf.get(r.name)?.spectrum?.snr;
    if (want === undefined) continue;
    if (!(r.estimate.lo <= want && want <= r.estimate.hi)) covered = false;
    if (!Number.isFinite(r.estimate.hi)) {
      unknown++;
      continue;
    }
    finite++;
    const sd = (r.estimate.hi - r.estimate.lo) / 2 / ERROR_BAR_Z;
    worst = Math.max(worst, Math.abs(r.spectrum.snr - want) / sd);
  }
  return { finite, unknown, worst, covered };
}

/** The estimates alone (fast mode without the recomputes), to measure the error bars. */
async function estimatesOnly(source: ByteSource, plan: ScanPlan, fast: (n: number) => FastOptions): Promise<MatrixRecord[]> {
  const cpu = new CpuEngine();
  const out: MatrixRecord[] = [];
  for (const job of plan.jobs) {
    const o = await analyzeJob(job, source, fastView(cpu, FAST_TOP_K, fast(Math.min(job.rows, job.cols))), { mode: 'fast' });
    if (o.ok) out.push(o.record);
  }
  return out;
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function compare(label: string, source: ByteSource, fast: (n: number) => FastOptions): Promise<void> {
  const plan = planScan(await openCheckpoint([source]));
  const exact = await scan(source, plan, 'exact', fast);
  const quick = await scan(source, plan, 'fast', fast);
  const same = percents.every((p) => spectrumYamlFor(quick.result, p, 'current').text === spectrumYamlFor(exact.result, p, 'current').text);
  const estimated = quick.result.records.filter((r) => r.estimate).length;
  console.log(
    `${label}: ${plan.jobs.length} matrices, percents ${percents.join('/')}\n` +
      `  exact mode ${s(exact.millis)}; fast mode: estimates in ${s(quick.estimatesMillis)}, done in ${s(quick.millis)} ` +
      `(${quick.recomputed} of ${plan.jobs.length} recomputed, ${((100 * quick.recomputed) / plan.jobs.length).toFixed(0)} %; ${estimated} left as estimates)\n` +
      `  speed-up over exact mode: ${(exact.millis / quick.millis).toFixed(2)}× to the end, ${(exact.millis / quick.estimatesMillis).toFixed(2)}× to the estimates; ` +
      `YAMLs byte for byte exact mode's: ${same ? 'yes' : 'NO'}`,
  );
  const bars = errorRatios(await estimatesOnly(source, plan, fast), exact.result.records);
  if (bars.finite + bars.unknown > 0)
    console.log(
      `  error bars (±${ERROR_BAR_Z} sd): ${bars.finite} finite, ${bars.unknown} [0, ∞); worst |error| / sd ${bars.worst.toFixed(2)}; every exact SNR inside: ${bars.covered ? 'yes' : 'NO'}`,
    );
}

/** Llama-shaped, seeded: Gaussian (1/√cols) plus 1–4 rank-one spikes above the bulk's edge, f32. */
function synthetic(): Uint8Array {
  const kv = hidden / 4;
  const shapes: [string, number, number][] = [
    ['self_attn.q_proj', hidden, hidden],
    ['self_attn.k_proj', kv, hidden],
    ['self_attn.v_proj', kv, hidden],
    ['self_attn.o_proj', hidden, hidden],
    ['mlp.gate_proj', mlp, hidden],
    ['mlp.up_proj', mlp, hidden],
    ['mlp.down_proj', hidden, mlp],
  ];
  const tensors = [];
  let seed = 1;
  for (let l = 0; l < layers; l++) {
    for (const [module, rows, cols] of shapes) {
      const values = gaussianMatrix(rows, cols, seed, 1 / Math.sqrt(cols));
      const r = rng(1000 + seed);
      for (let k = 0; k < 1 + (seed % 4); k++) {
        const u = Array.from({ length: rows }, () => r.normal() / Math.sqrt(rows));
        const v = Array.from({ length: cols }, () => r.normal() / Math.sqrt(cols));
        const size = 2.5 + 2 * r.uniform();
        for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) values[i * cols + j] += size * u[i] * v[j];
      }
      seed++;
      tensors.push({ name: `model.layers.${l}.${module}.weight`, dtype: 'F32', shape: [rows, cols], values });
    }
  }
  return buildSafetensors(tensors);
}

const asRuns = (_n: number): FastOptions => ({});
const forced = (n: number): FastOptions => ({ size: { b: 4, s: Math.max(4, Math.floor(n / 8)) }, maxFraction: 0.5 });

if (!process.argv.includes('--no-demo')) {
  for (const phase of ['phase0-base', 'phase1-25pct', 'phase2-20pct', 'phase3-15pct']) {
    const bytes = new Uint8Array(readFileSync(join(root, `public/demo/${phase}.safetensors`)));
    await compare(`demo ${phase}, fast mode as it runs`, memorySource(`${phase}.safetensors`, bytes), asRuns);
    await compare(`demo ${phase}, Krylov forced (b = 4, s = n/8)`, memorySource(`${phase}.safetensors`, bytes), forced);
  }
}
if (!process.argv.includes('--no-synthetic')) {
  await compare(
    `synthetic checkpoint (${layers} layers, hidden ${hidden}, MLP ${mlp})`,
    memorySource('synthetic.safetensors', synthetic()),
    asRuns,
  );
}
