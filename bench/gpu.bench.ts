/**
 * npm run bench:gpu [-- --shapes 896x4864,2048x5632] [--reps N] [--torch FILE] [--check] [--shaders DIR] [--allow-software]
 *                    [--krylov BxS] [--krylov-fraction F]
 *
 * Time per matrix of the WebGPU engine (Dawn, the `webgpu` package) by shape, in exact mode (by
 * stage: upload, Gram, eigensolver = Householder tridiagonalization + bisection) and in fast mode
 * (Lanczos probes), with the Gram's GFLOP/s. With --torch (bench/torch_reference.py's JSON, made in
 * the same call on the same GPU) it prints the ratios to torch.linalg.svdvals (what Spectrum uses)
 * and to torch's Gram + eigvalsh. --check compares Spectrum's SNR with the float64 CPU engine
 * (small shapes only: the CPU takes seconds per large matrix). --krylov/--krylov-fraction set
 * the fast mode's probes × steps and the share of n its space may take (defaults 8x64 and 0.5: below
 * n = 1024 fast mode is exact), so that small shapes can show the Krylov path. Not a test.
 *
 * The matrix is bench/hash-matrix.ts's (uniform in [−1, 1) from a hash of the index), the same one
 * torch_reference.py and numpy_svdvals.py build. Times are the best of --reps after one warm-up
 * (the warm-up compiles the pipelines). On a software adapter (SwiftShader) the numbers say
 * nothing about a GPU: the bench refuses it unless --allow-software.
 *
 * On a GPU machine, one device-tool call: bench/gpu-h100.sh runs this bundle with torch_reference.py's times
 * and a whole synthetic checkpoint through the packed CLI (its header says how); docs/engines.md has the table.
 */
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { spectrumScore } from '../src/core/metrics/spectrum.ts';
import { singularValuesSync } from '../src/engine/cpu/cpu-engine.ts';
import { FAST_TOP_K, usesKrylov, type FastOptions } from '../src/engine/webgpu/fast/fast.ts';
import { expandSketch } from '../src/engine/webgpu/fast/sketch.ts';
import { nodeGpu } from '../src/engine/webgpu/node-gpu.ts';
import { nodeShaders } from '../src/engine/webgpu/shaders-node.ts';
import { WebGpuEngine } from '../src/engine/webgpu/webgpu-engine.ts';
import { hashMatrix } from './hash-matrix.ts';

const SHAPES = '896x4864,2048x5632,4096x4096,4096x14336,5120x13824';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

interface TorchRow {
  svdvals_ms: number;
  gram_ms: number;
  eigvalsh_ms: number;
}
type TorchResults = { device: string; torch: string; shapes: Record<string, TorchRow> };

async function best<T>(reps: number, run: () => Promise<T>): Promise<{ ms: number; last: T }> {
  let last = await run(); // warm-up: pipelines compile on first use
  let ms = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    last = await run();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { ms, last };
}

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toPrecision(3));

async function main(): Promise<void> {
  const shapes = arg('shapes', SHAPES)
    .split(',')
    .map((s) => s.split('x').map(Number) as [number, number]);
  const reps = Math.max(1, Number(arg('reps', '3')));
  const torchFile = arg('torch', '');
  const torch = torchFile && existsSync(torchFile) ? (JSON.parse(readFileSync(torchFile, 'utf8')) as TorchResults) : null;
  const shaderDir = arg('shaders', '');
  const shaders = shaderDir ? nodeShaders(pathToFileURL(shaderDir.endsWith('/') ? shaderDir : `${shaderDir}/`)) : nodeShaders();
  const krylov = arg('krylov', '');
  const fastOptions: FastOptions = {
    ...(krylov ? { size: { b: Number(krylov.split('x')[0]), s: Number(krylov.split('x')[1]) } } : {}),
    maxFraction: Number(arg('krylov-fraction', '0.5')),
  };
  const gpu = await nodeGpu();
  if (!gpu) throw new Error('the webgpu package (Dawn) did not load');
  const made = await WebGpuEngine.create(gpu, shaders, { allowFallbackAdapter: flag('allow-software') });
  if ('reason' in made) throw new Error(`${made.reason} (--allow-software to time it anyway)`);
  const engine = made;
  const { limits } = engine.kit.ctx;
  console.log(`adapter: ${engine.adapter.description}${engine.adapter.fallback ? ' (SOFTWARE: these times say nothing about a GPU)' : ''}`);
  console.log(
    `limits: maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}, maxBufferSize ${limits.maxBufferSize}, maxComputeWorkgroupStorageSize ${limits.maxComputeWorkgroupStorageSize}`,
  );
  if (torch) console.log(`torch ${torch.torch} on ${torch.device}`);
  console.log(
    'shape         exact ms  upload   Gram  Gram GFLOP/s  eigensolver   fast ms  exact/fast' +
      (torch ? '  svdvals ms  ×svdvals  gram+eigvalsh ms  ×(gram+eigvalsh)' : '') +
      (flag('check') ? '  SNR err exact  SNR err fast' : ''),
  );
  for (const [r, c] of shapes) {
    const key = `${r}x${c}`;
    const m = hashMatrix(r * c);
    const n = Math.min(r, c),
      k = Math.max(r, c);
    // Whole calls, as a scan makes them (no waits between stages)...
    const exact = await best(reps, () => engine.singularValues(m, r, c));
    // ...and the same with a wait after each stage, for the split.
    const staged = await best(Math.min(reps, 2), () => engine.singularValuesTimed(m, r, c));
    const t = staged.last.timings;
    const fast = await best(reps, () => engine.topSingularValues(m, r, c, FAST_TOP_K, fastOptions));
    // 2n²k: a general product's count (what torch does for W Wᵀ); the kernel does the half above the diagonal.
    const gflops = (2 * n * n * k) / t.gram / 1e9;
    const fastKind = usesKrylov(n, fastOptions) ? 'K' : '=';
    let line = `${key.padEnd(12)} ${fmt(exact.ms).padStart(9)} ${fmt(t.upload * 1e3).padStart(7)} ${fmt(t.gram * 1e3).padStart(6)} ${gflops.toPrecision(3).padStart(13)} ${fmt(t.eigen * 1e3).padStart(12)} ${fmt(fast.ms).padStart(8)}${fastKind} ${(exact.ms / fast.ms).toFixed(1).padStart(11)}`;
    const tr = torch?.shapes[key];
    if (tr)
      line += `  ${fmt(tr.svdvals_ms).padStart(10)} ${(tr.svdvals_ms / exact.ms).toFixed(1).padStart(9)} ${fmt(tr.gram_ms + tr.eigvalsh_ms).padStart(17)} ${((tr.gram_ms + tr.eigvalsh_ms) / exact.ms).toFixed(2).padStart(17)}`;
    if (flag('check')) {
      const ref = spectrumScore(singularValuesSync(m, r, c), r, c).snr;
      const err = (s: Float64Array) => (Math.abs(spectrumScore(s, r, c).snr - ref) / ref).toExponential(1);
      line += `  ${err(exact.last).padStart(13)} ${err(expandSketch(fast.last)).padStart(13)}`;
    }
    console.log(line);
  }
  console.log('fast ms: K = Krylov probes, = = below the Krylov threshold (the exact spectrum as its sketch)');
  console.log(`matrices recomputed in float64 by the precision guard: ${engine.stats.recomputedInFloat64} of ${engine.stats.matrices}`);
  engine.dispose();
}

await main();
