// The worker's analyzer on the WebGPU AutoEngine (Dawn; SwiftShader here and on CI): records computed
// on the GPU take their power-law fit from the GPU's xmin scan, and a device lost mid-scan (the
// loseDeviceAfter test hook, as the page's e2e uses it) sends the rest to the CPU, losing nothing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memorySource } from '../core/formats/byte-source.ts';
import { openCheckpoint } from '../core/formats/checkpoint.ts';
import { htsrMetrics } from '../core/metrics/htsr.ts';
import { planScan } from '../core/scan/plan.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import { singularValuesSync } from '../engine/cpu/cpu-engine.ts';
import { fixtureMatrices, ROOT } from '../engine/conformance.ts';
import { AutoEngine } from '../engine/webgpu/auto-engine.ts';
import { nodeGpu } from '../engine/webgpu/node-gpu.ts';
import { nodeShaders } from '../engine/webgpu/shaders-node.ts';
import { testKit } from '../engine/webgpu/testing.ts';
import { createAnalyzer } from './analyzer.ts';

const FILE = 'test-fixtures/reference/reference-model.safetensors';

async function scanWith(engine: AutoEngine): Promise<{ records: MatrixRecord[]; note: string }> {
  const bytes = new Uint8Array(readFileSync(join(ROOT, FILE)));
  const source = () => memorySource('reference-model.safetensors', bytes);
  const plan = planScan(await openCheckpoint([source()]));
  const analyzer = createAnalyzer((_ref: string) => source(), engine);
  const records: MatrixRecord[] = [];
  for (const job of plan.jobs) {
    const outcome = await analyzer.analyze(job, 'reference-model.safetensors', 'exact');
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

  it.skipIf(skip)(
    'fits the power law of every GPU record on the GPU, with the same xmin as fitPowerLaw',
    async () => {
      const engine = new AutoEngine({ preference: 'webgpu', gpu: nodeGpu, shaders: () => nodeShaders() });
      const gpu = (await engine.webgpu())!;
      const { records } = await scanWith(engine);
      const matrices = records.filter((r) => !r.vector);
      expect(records.every((r) => r.engine === 'webgpu')).toBe(true);
      // One xmin scan per matrix on the GPU (vectors have no HT-SR metrics).
      expect(gpu.fitStats.candidates).toBeGreaterThan(matrices.length * 10);
      for (const r of matrices) expect(r.htsr, r.name).toEqual(htsrMetrics(r.singularValues!, r.rows, r.cols));
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
      // The matrix on the GPU when the device went (the fourth) was redone on the CPU, and every later one.
      expect(records.map((r) => r.engine)).toEqual(records.map((_, i) => (i < loseAfter ? 'webgpu' : 'cpu')));
      for (const r of records) {
        const ref = want.get(r.name)!;
        const scale = ref[0] ** 2;
        const tol = r.engine === 'cpu' ? 1e-12 : 16 * ref.length * 2 ** -24;
        r.singularValues!.forEach((s, i) =>
          expect(Math.abs(s ** 2 - ref[i] ** 2) / scale, `${r.name} σ${i} (${r.engine})`).toBeLessThanOrEqual(tol),
        );
        if (!r.vector) expect(r.htsr, r.name).toEqual(htsrMetrics(r.singularValues!, r.rows, r.cols));
      }
      expect(note).toMatch(/^CPU engine \(float64\): the WebGPU device was lost \(.+\); the scan went on on the CPU$/);
      console.log(
        `device lost after ${loseAfter} matrices: ${records.filter((r) => r.engine === 'webgpu').length} on WebGPU, ${records.filter((r) => r.engine === 'cpu').length} on the CPU; "${note}"`,
      );
    },
    300_000,
  );
});
