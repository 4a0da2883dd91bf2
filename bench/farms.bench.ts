// FARMS' cost: a scan of the demo checkpoint on the CPU engine with and without FARMS windows, and
// one 4096 × 14336 matrix (a Llama-3-8B MLP shape): its full spectrum against its 100 windows.
// Prints figures; asserts nothing. `npx tsx bench/farms.bench.ts [--no-large]`.
import { readFileSync } from 'node:fs';
import { memorySource } from '../src/core/formats/byte-source.ts';
import { openCheckpoint } from '../src/core/formats/checkpoint.ts';
import { alphaFitsDisagree } from '../src/core/metrics/alpha-peak.ts';
import { farmsAlpha } from '../src/core/metrics/farms.ts';
import { seededUniform, standardNormal } from '../src/core/random.ts';
import { planScan } from '../src/core/scan/plan.ts';
import type { MatrixRecord } from '../src/core/scan/record.ts';
import { CpuEngine } from '../src/engine/cpu/cpu-engine.ts';
import { analyzeJob, farmsExtras } from '../src/workers/analyze.ts';

async function scanDemo(farms: boolean): Promise<{ millis: number; records: MatrixRecord[] }> {
  const path = 'public/demo/phase0-base.safetensors';
  const source = memorySource('phase0-base.safetensors', new Uint8Array(readFileSync(path)));
  const ckpt = await openCheckpoint([source]);
  const engine = new CpuEngine();
  const records: MatrixRecord[] = [];
  const t0 = performance.now();
  for (const job of planScan(ckpt).jobs) {
    const out = await analyzeJob(job, source, engine, { farms });
    if (out.ok) records.push(out.record);
  }
  return { millis: performance.now() - t0, records };
}

// warm up once (WASM compile, JIT), then measure each way
await scanDemo(false);
const without = await scanDemo(false);
const withFarms = await scanDemo(true);
const matrices = withFarms.records.filter((r) => r.htsr);
console.log(
  `demo scan (CPU engine, ${matrices.length} matrices): ${without.millis.toFixed(0)} ms without FARMS, ${withFarms.millis.toFixed(0)} ms with (× ${(withFarms.millis / without.millis).toFixed(2)})`,
);
const disagree = matrices.filter((r) => alphaFitsDisagree(r.htsr?.alpha_peak_ratio ?? null));
console.log(`demo: alpha vs alpha_peak disagree (ratio beyond 1.25) on ${disagree.length} of ${matrices.length}`);
for (const r of disagree) console.log(`  ${r.name}: alpha ${r.htsr?.alpha?.toFixed(2)}, alpha_peak ${r.htsr?.alpha_peak?.toFixed(2)}`);

if (!process.argv.includes('--no-large')) {
  const rows = 4096;
  const cols = 14336;
  const uniform = seededUniform(7);
  const values = new Float32Array(rows * cols);
  for (let i = 0; i < values.length; i++) values[i] = standardNormal(uniform) / Math.sqrt(cols);
  const engine = new CpuEngine();
  let t0 = performance.now();
  const extras = await farmsExtras(engine, values, rows, cols);
  const fit = farmsAlpha(extras.farmsEigenvalues ?? new Float64Array());
  const farmsMs = performance.now() - t0;
  t0 = performance.now();
  await engine.singularValues(values, rows, cols);
  const fullMs = performance.now() - t0;
  console.log(
    `${rows} × ${cols}: full spectrum ${(fullMs / 1000).toFixed(1)} s, FARMS windows + fit ${farmsMs.toFixed(0)} ms (${((100 * farmsMs) / fullMs).toFixed(2)} %), alpha_farms ${fit.status === 'success' ? fit.alpha.toFixed(3) : fit.reason}`,
  );
}
