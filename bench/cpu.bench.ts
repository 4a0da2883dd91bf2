/**
 * npm run bench:cpu [-- --shapes 896x4864,2048x5632] [--kernels wasm|ts] [--numpy FILE] [--numpy-sigma FILE] [--reps N] [--workers N]
 *
 * Time per matrix of the CPU engine, single-threaded (the CLI runs one matrix per worker, one
 * worker per core), by stage, with the Gram's and the tridiagonalization's GFLOP/s. With NumPy's
 * numbers (bench/numpy_svdvals.py writes bench/results/numpy-svdvals.json) it prints the ratio to
 * numpy.linalg.svd(A, compute_uv=False) on float32 input with 1 and 2 OpenBLAS threads.
 * Not a test: nothing here runs under vitest.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { singularValuesTimed } from '../src/engine/cpu/cpu-engine.ts';
import type { Kernels } from '../src/engine/cpu/kernels.ts';
import { tsKernels } from '../src/engine/cpu/ts-kernels.ts';
import { createWasmKernels } from '../src/engine/cpu/wasm/wasm-kernels.ts';
import { hashMatrix } from './hash-matrix.ts';
import { poolThroughput } from './pool.ts';

const SHAPES = '896x4864,2048x5632,4096x4096,4096x14336,5120x13824';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

interface NumpyRow {
  svd_f32: number;
  svd_f64: number;
  gram_f64?: number;
  eigvalsh_f64?: number;
}
type NumpyResults = { numpy?: string; threads: Record<string, Record<string, NumpyRow>> };

function loadNumpy(file: string): NumpyResults | null {
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as NumpyResults;
}

/** Largest |ours − numpy| relative to each σ, and relative to σ_max. */
function accuracy(ours: Float64Array, ref: number[]): [number, number] {
  let rel = 0,
    abs = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ours[i] - ref[i]);
    rel = Math.max(rel, d / ref[i]);
    abs = Math.max(abs, d);
  }
  return [rel, abs / ref[0]];
}

const here = dirname(fileURLToPath(import.meta.url));
const shapes = arg('shapes', SHAPES)
  .split(',')
  .map((s) => s.split('x').map(Number) as [number, number]);
const which = arg('kernels', 'wasm');
const reps = Number(arg('reps', '1'));
const workers = Number(arg('workers', '0'));
const numpy = loadNumpy(arg('numpy', process.env.NUMPY_RESULTS ?? join(here, 'results', 'numpy-svdvals.json')));
const sigmaFile = arg('numpy-sigma', join(here, 'results', 'numpy-sigma.json'));
const numpySigma = existsSync(sigmaFile) ? (JSON.parse(readFileSync(sigmaFile, 'utf8')) as Record<string, number[]>) : {};
const kernels: Kernels = which === 'ts' ? tsKernels : ((await createWasmKernels()) ?? tsKernels);

const f = (x: number, d = 2) => x.toFixed(d);
const header = [
  'shape',
  'time s',
  'gram s',
  'gram GF/s',
  'tridiag s',
  'tridiag GF/s',
  'QL s',
  'np 1t s',
  'ratio 1t',
  'np 2t s',
  'ratio 2t',
  'np64 1t s',
  'max rel err',
  'err/σmax',
  ...(workers > 0 ? [`${workers} workers s`] : []),
];
const rows: string[][] = [];
console.log(
  `CPU engine, kernels: ${kernels.name}, single thread, best of ${reps}; NumPy: ${numpy ? `numpy ${numpy.numpy ?? '?'}` : 'no results file (run python3 bench/numpy_svdvals.py)'}`,
);
for (const [r, c] of shapes) {
  const m = hashMatrix(r * c);
  let best: ReturnType<typeof singularValuesTimed> | undefined;
  let bestTime = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const res = singularValuesTimed(m, r, c, kernels);
    const t = (performance.now() - t0) / 1e3;
    if (t < bestTime) [best, bestTime] = [res, t];
  }
  const { timings } = best!;
  const n = Math.min(r, c),
    k = Math.max(r, c);
  // Flops actually needed: the Gram's upper triangle, n(n+1)/2·k multiply-adds of 2 flops;
  // Householder tridiagonalization, 4/3·n³.
  const gramFlops = n * (n + 1) * k;
  const triFlops = (4 / 3) * n ** 3;
  const key = `${r}x${c}`;
  const np1 = numpy?.threads['1']?.[key];
  const np2 = numpy?.threads['2']?.[key];
  rows.push([
    key,
    f(bestTime),
    f(timings.gram),
    f(gramFlops / timings.gram / 1e9, 1),
    f(timings.tridiagonalize),
    f(triFlops / timings.tridiagonalize / 1e9, 1),
    f(timings.eigenvalues),
    np1 ? f(np1.svd_f32) : '-',
    np1 ? f(bestTime / np1.svd_f32) : '-',
    np2 ? f(np2.svd_f32) : '-',
    np2 ? f(bestTime / np2.svd_f32) : '-',
    np1 ? f(np1.svd_f64) : '-',
    ...(numpySigma[key] ? accuracy(best!.sigma, numpySigma[key]).map((x) => x.toExponential(1)) : ['-', '-']),
    ...(workers > 0 ? [f(await poolThroughput(r, c, workers))] : []),
  ]);
  console.error(`${key}: ${f(bestTime)} s`);
}
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
const line = (cells: string[]) => cells.map((x, i) => x.padStart(widths[i])).join('  ');
console.log(line(header));
for (const row of rows) console.log(line(row));
console.log('ratio = our single-thread time / numpy.linalg.svd(float32 A, compute_uv=False) with OPENBLAS_NUM_THREADS=1 (1t) or 2 (2t).');
console.log('The CLI runs one matrix per worker on every core, so per-core throughput compares with the 1t column.');
if (workers > 0)
  console.log(
    `${workers} workers s: seconds until ${workers} matrices of the shape, one per worker thread at once, are done (the CLI's pool).`,
  );
console.log(
  'max rel err: max |σ − σ_numpy| / σ_numpy against float64 LAPACK on the same matrix (python3 bench/numpy_svdvals.py --accuracy).',
);
