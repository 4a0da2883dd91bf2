/**
 * npm run bench:cpu [-- --shapes 896x4864,2048x5632] [--kernels wasm|wasm-plain|wasm-relaxed|ts] [--numpy FILE] [--numpy-sigma FILE] [--reps N] [--workers N] [--no-peak] [--python PATH]
 *
 * Time per matrix of the CPU engine, single-threaded (the CLI runs one matrix per worker, one
 * worker per core), by stage, with the Gram's and the tridiagonalization's GFLOP/s, and those as a
 * share of this CPU's f64x2 peak in WebAssembly (bench/wasm-peak.ts, measured first).
 *
 * The references, at one BLAS thread: NumPy's float64 Gram + eigvalsh (the same algorithm, in
 * LAPACK), torch.linalg.svdvals on the float32 matrix (what spectrum.py runs) when torch is
 * installed, and numpy.linalg.svd. They are run by bench/numpy_svdvals.py right after each shape
 * of ours (interleaved, as the machine may be shared), unless --numpy FILE gives its results file. --python names the
 * interpreter that runs it (default python3; e.g. /usr/bin/python3 for Debian's, which has python3-torch).
 * Not a test: nothing here runs under vitest.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { singularValuesTimed } from '../src/engine/cpu/cpu-engine.ts';
import type { Kernels } from '../src/engine/cpu/kernels.ts';
import { tsKernels } from '../src/engine/cpu/ts-kernels.ts';
import { createWasmKernels } from '../src/engine/cpu/wasm/wasm-kernels.ts';
import { hashMatrix } from './hash-matrix.ts';
import { poolThroughput } from './pool.ts';
import { wasmPeak } from './wasm-peak.ts';

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
  torch_svdvals_f32?: number;
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
const python = arg('python', 'python3');
const numpyFile = arg('numpy', process.env.NUMPY_RESULTS ?? '');
const numpy = numpyFile ? loadNumpy(numpyFile) : null;
/** Without a results file: NumPy (and torch) at one thread on this shape, now, in a child process; null without `python`/numpy. */
function numpyNow(shape: string): NumpyRow | null {
  try {
    const out = execFileSync(python, [join(here, 'numpy_svdvals.py'), '--child', '--shapes', shape, '--reps', String(reps)], {
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'ignore'],
      encoding: 'utf8',
    });
    return (JSON.parse(out) as Record<string, NumpyRow>)[shape] ?? null;
  } catch {
    return null;
  }
}
const sigmaFile = arg('numpy-sigma', join(here, 'results', 'numpy-sigma.json'));
const numpySigma = existsSync(sigmaFile) ? (JSON.parse(readFileSync(sigmaFile, 'utf8')) as Record<string, number[]>) : {};
const kernels: Kernels =
  which === 'ts'
    ? tsKernels
    : ((await createWasmKernels(which === 'wasm-plain' ? 'plain' : which === 'wasm-relaxed' ? 'relaxed' : undefined)) ?? tsKernels);

const f = (x: number, d = 2) => x.toFixed(d);
const header = [
  'shape',
  'time s',
  'gram s',
  'gram GF/s',
  'gram %pk',
  'tridiag s',
  'tridiag GF/s',
  'tri %pk',
  'QL s',
  'np G+eigh s',
  'np gram s',
  'np eigh s',
  '/ G+eigh',
  'torch s',
  '/ torch',
  'np svd s',
  '/ svd',
  'max rel err',
  'err/σmax',
  ...(workers > 0 ? [`${workers} workers s`] : []),
];
const rows: string[][] = [];
console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
let peak = NaN;
if (!process.argv.includes('--no-peak')) {
  const peaks = await wasmPeak();
  for (const p of peaks) console.log(`WebAssembly peak, ${p.kernel.padEnd(26)} ${p.gflops.toFixed(1).padStart(6)} GFLOP/s`);
  peak = Math.max(...peaks.filter((p) => p.kernel.startsWith('f64x2')).map((p) => p.gflops));
  console.log(`shares below (%pk) are of the f64x2 peak, ${peak.toFixed(1)} GFLOP/s (one thread)`);
}
console.log(
  `CPU engine, kernels: ${kernels.name}${kernels.relaxedSimd === undefined ? '' : kernels.relaxedSimd ? ' (relaxed SIMD)' : ' (plain SIMD)'}, single thread, best of ${reps}; references: ${numpy ? `${numpyFile} (numpy ${numpy.numpy ?? '?'})` : 'NumPy/torch at one thread, run after each shape'}`,
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
  const np1 = numpy ? numpy.threads['1']?.[key] : numpyNow(key);
  const gramGf = gramFlops / timings.gram / 1e9;
  const triGf = triFlops / timings.tridiagonalize / 1e9;
  const gramEigh = np1?.gram_f64 !== undefined && np1.eigvalsh_f64 !== undefined ? np1.gram_f64 + np1.eigvalsh_f64 : undefined;
  const opt = (x: number | undefined, d = 2) => (x === undefined ? '-' : f(x, d));
  rows.push([
    key,
    f(bestTime),
    f(timings.gram),
    f(gramGf, 1),
    Number.isNaN(peak) ? '-' : f((100 * gramGf) / peak, 0),
    f(timings.tridiagonalize),
    f(triGf, 1),
    Number.isNaN(peak) ? '-' : f((100 * triGf) / peak, 0),
    f(timings.eigenvalues),
    opt(gramEigh),
    opt(np1?.gram_f64),
    opt(np1?.eigvalsh_f64),
    opt(gramEigh === undefined ? undefined : bestTime / gramEigh),
    opt(np1?.torch_svdvals_f32),
    opt(np1?.torch_svdvals_f32 === undefined ? undefined : bestTime / np1.torch_svdvals_f32),
    opt(np1?.svd_f32),
    opt(np1 ? bestTime / np1.svd_f32 : undefined),
    ...(numpySigma[key] ? accuracy(best!.sigma, numpySigma[key]).map((x) => x.toExponential(1)) : ['-', '-']),
    ...(workers > 0 ? [f(await poolThroughput(r, c, workers))] : []),
  ]);
  console.error(`${key}: ${f(bestTime)} s`);
}
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
const line = (cells: string[]) => cells.map((x, i) => x.padStart(widths[i])).join('  ');
console.log(line(header));
for (const row of rows) console.log(line(row));
console.log(
  'Ratios (/ …) = our single-thread time over: NumPy float64 Gram + eigvalsh (the same algorithm in OpenBLAS/LAPACK), ' +
    'torch.linalg.svdvals(float32 A) (what spectrum.py runs; "-" without torch), numpy.linalg.svd(float32 A, compute_uv=False); all at one BLAS thread.',
);
console.log('The CLI runs one matrix per worker on every core, so per-core throughput compares with these.');
console.log(
  `load average at the end ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
if (workers > 0)
  console.log(
    `${workers} workers s: seconds until ${workers} matrices of the shape, one per worker thread at once, are done (the CLI's pool).`,
  );
console.log(
  'max rel err: max |σ − σ_numpy| / σ_numpy against float64 LAPACK on the same matrix (python3 bench/numpy_svdvals.py --accuracy).',
);
