// The worker's analyzer on the WebGPU AutoEngine (Dawn; SwiftShader here and on CI): records computed
// on the GPU take their power-law fit from the GPU's xmin scan, and a device lost mid-scan (the
// loseDeviceAfter test hook, as the page's e2e uses it) sends the rest to the CPU, losing nothing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memorySource } from '../core/formats/byte-source.ts';
import { openCheckpoint } from '../core/formats/checkpoint.ts';
import { FARMS_NOT_ASKED } from '../core/metrics/farms.ts';
import { htsrMetrics } from '../core/metrics/htsr.ts';
import { planScan } from '../core/scan/plan.ts';
import type { MatrixRecord, ScanMode } from '../core/scan/record.ts';
import { singularValuesSync } from '../engine/cpu/cpu-engine.ts';
import { fixtureMatrices, ROOT } from '../engine/conformance.ts';
import { AutoEngine } from '../engine/webgpu/auto-engine.ts';
import { nodeGpu } from '../engine/webgpu/node-gpu.ts';
import { nodeShaders } from '../engine/webgpu/shaders-node.ts';
import { testKit } from '../engine/webgpu/testing.ts';
import { createAnalyzer } from './analyzer.ts';

const FILE = 'test-fixtures/reference/reference-model.safetensors';

async function scanWith(engine: AutoEngine, mode: ScanMode = 'exact'): Promise<{ records: MatrixRecord[]; note: string }> {
  const bytes = new Uint8Array(readFileSync(join(ROOT, FILE)));
  const source = () => memorySource('reference-model.safetensors', bytes);
  const plan = planScan(await openCheckpoint([source()]));
  const analyzer = createAnalyzer((_ref: string) => source(), engine);
  const records: MatrixRecord[] = [];
  for (const job of plan.jobs) {
    const outcome = await analyzer.analyze(job, 'reference-model.safetensors', mode);
    if (!outcome.ok) throw new Error(`${job.name}: ${outcome.error.message}`);
    records.push(outcome.record);
  }
  const { note } = await analyzer.engineStatus();
  await analyzer.dispose();
  return { records, note };
}

describe('the analyzer on the WebGPU engine', async () => {
  const kit = await testKit();
  const skip = 'skip' in kit ? kit.skip : '';
  const want = new Map((await fixtureMatrices(FILE)).map(({ job, values }) => [job.name, singularValuesSync(values, job.rows, job.cols)]));
  /** Largest |σ² − σ*²| / σ*max² against the float64 reference. */
  const error = (r: MatrixRecord): number => {
    const ref = want.get(r.name)!;
    return Math.max(0, ...Array.from(r.singularValues!, (s, i) => Math.abs(s ** 2 - ref[i] ** 2) / ref[0] ** 2));
  };

  it.skipIf(skip)(
    'fits the power law of every GPU record on the GPU, with the same xmin as fitPowerLaw',
    async () => {
      const engine = new AutoEngine({ preference: 'webgpu', gpu: nodeGpu, shaders: () => nodeShaders() });
      const gpu = (await engine.webgpu())!;
      const { records } = await scanWith(engine);
      const matrices = records.filter((r) => !r.vector);
      // Stamped with the backend that computed each: the precision guard's float64 recomputes (the
      // reference model's ill-conditioned o_proj) say so, and hold float64's values, not f32's.
      const recomputed = records.filter((r) => r.engine !== 'webgpu');
      expect(recomputed.length).toBeGreaterThan(0);
      expect(recomputed.length).toBe(gpu.stats.recomputedInFloat64);
      for (const r of recomputed) {
        expect(r.engine, r.name).toBe('cpu');
        expect(r.engineNote, r.name).toMatch(
          /^recomputed in float64: precision guard \((f32 rounding could move the SNR by|a singular value within)/,
        );
        expect(error(r), r.name).toBeLessThanOrEqual(1e-12);
      }
      for (const r of records.filter((r) => r.engine === 'webgpu')) expect(r.engineNote, r.name).toBeUndefined();
      // One xmin scan per matrix on the GPU (vectors have no HT-SR metrics).
      expect(gpu.fitStats.candidates).toBeGreaterThan(matrices.length * 10);
      for (const r of matrices)
        expect(r.htsr, r.name).toEqual(htsrMetrics(r.singularValues!, r.rows, r.cols, undefined, { farmsSkipped: FARMS_NOT_ASKED }));
      console.log(
        `analyzer on WebGPU: ${matrices.length} power-law fits on the GPU, ${gpu.fitStats.candidates} xmin candidates, ${gpu.fitStats.recomputed} recounted in float64`,
      );
    },
    300_000,
  );

  it.skipIf(skip)(
    'goes on on the CPU when the device is destroyed mid-scan (test hook), and loses no matrix',
    async () => {
      const loseAfter = 3;
      const engine = new AutoEngine({ preference: 'webgpu', gpu: nodeGpu, shaders: () => nodeShaders(), loseDeviceAfter: loseAfter });
      expect((await engine.status()).kind).toBe('webgpu');
      const { records, note } = await scanWith(engine);
      expect(records.map((r) => r.name).sort()).toEqual([...want.keys()].sort());
      // The matrix on the GPU when the device went (the fourth) was redone on the CPU and says why;
      // every later one is the CPU engine's own.
      expect(records.map((r) => r.engine)).toEqual(records.map((_, i) => (i < loseAfter ? 'webgpu' : 'cpu')));
      expect(records[loseAfter].engineNote).toMatch(/^moved to the CPU: .*device lost/);
      expect(records.filter((r) => r.engineNote !== undefined)).toEqual([records[loseAfter]]);
      for (const r of records) {
        const tol = r.engine === 'cpu' ? 1e-12 : 16 * want.get(r.name)!.length * 2 ** -24;
        expect(error(r), `${r.name} (${r.engine})`).toBeLessThanOrEqual(tol);
        if (!r.vector)
          expect(r.htsr, r.name).toEqual(htsrMetrics(r.singularValues!, r.rows, r.cols, undefined, { farmsSkipped: FARMS_NOT_ASKED }));
      }
      expect(note).toMatch(/^CPU engine \(float64\): the WebGPU device was lost \(.+\); the scan went on on the CPU$/);
      console.log(
        `device lost after ${loseAfter} matrices: ${records.filter((r) => r.engine === 'webgpu').length} on WebGPU, ${records.filter((r) => r.engine === 'cpu').length} on the CPU; "${note}"`,
      );
    },
    300_000,
  );

  // A binding limit of 6000 bytes: a Gram of n = 64 cannot take even one 32-step chunk (8192
  // bytes), which the WebGPU engine reports as ENGINE_FAILED; n = 32 goes in chunks and a vector whole.
  for (const mode of ['exact', 'fast'] as const) {
    it.skipIf(skip)(
      `${mode} mode: a matrix the GPU fails on (ENGINE_FAILED) is stamped cpu with the failure, the others webgpu`,
      async () => {
        const limit = 6000;
        const engine = new AutoEngine({
          preference: 'webgpu',
          gpu: nodeGpu,
          shaders: () => nodeShaders(),
          gpuOptions: { maxChunkBytes: limit },
        });
        const { records, note } = await scanWith(engine, mode);
        const fails = (r: MatrixRecord) => r.rows * r.cols * 4 > limit && Math.min(r.rows, r.cols) * 4 * 32 > limit;
        expect(records.filter(fails).length).toBeGreaterThan(0);
        expect(records.filter((r) => !fails(r)).length).toBeGreaterThan(0);
        for (const r of records) {
          if (fails(r)) {
            expect(r.engine, r.name).toBe('cpu');
            expect(r.engineNote, r.name).toBe(
              `moved to the CPU: Gram: 32 steps of ${Math.min(r.rows, r.cols)} values exceed the ${limit}-byte binding limit`,
            );
            if (mode === 'exact') expect(error(r), r.name).toBeLessThanOrEqual(1e-12);
          } else if (r.engine === 'cpu') {
            expect(r.engineNote, r.name).toMatch(/^recomputed in float64: precision guard/);
          } else {
            expect(r.engineNote, r.name).toBeUndefined();
          }
        }
        // one matrix's failure leaves the GPU in use for the next
        expect(note).toMatch(/^WebGPU engine/);
      },
      300_000,
    );
  }
});
