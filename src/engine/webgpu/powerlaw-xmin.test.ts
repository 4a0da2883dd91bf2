import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitPowerLaw } from '../../core/metrics/powerlaw.ts';
import { ROOT } from '../conformance.ts';
import { testEngine } from './testing.ts';
import type { WebGpuEngine } from './webgpu-engine.ts';

const FIXTURES = ['reference-model', 'phase0-base', 'gaussian'];

describe('power-law xmin scan on the GPU (shaders/powerlaw-xmin.wgsl)', async () => {
  const made = await testEngine();
  const skip = 'skip' in made ? made.skip : '';
  const engine = made as WebGpuEngine;

  it.skipIf(skip)('picks the same xmin, alpha and D as fitPowerLaw on every fixture spectrum', async () => {
    let count = 0;
    for (const f of FIXTURES) {
      const { tensors } = JSON.parse(readFileSync(join(ROOT, `test-fixtures/spectra/${f}.json`), 'utf8')) as { tensors: Record<string, { sv: number[] }> };
      for (const [name, t] of Object.entries(tensors)) {
        const evals = Float64Array.from(t.sv, (s) => s * s).sort();
        expect(await engine.powerLawXmin(evals), `${f}: ${name}`).toEqual(fitPowerLaw(evals));
        count++;
      }
    }
    expect(count).toBeGreaterThan(100);
    // The float64 recount is for near-ties only: a small share of the candidates.
    expect(engine.fitStats.recomputed).toBeLessThan(engine.fitStats.candidates / 20);
  }, 300_000);

  it.skipIf(skip)('leaves degenerate inputs to the reference, with its reasons', async () => {
    for (const evals of [[], [3], [1e-9, 1e-8], [2, 1], [1, NaN], [1, 2, Infinity], [4, 4, 4, 4], [1, 1, 2, 2, 2]]) {
      const data = Float64Array.from(evals);
      expect(await engine.powerLawXmin(data), JSON.stringify(evals)).toEqual(fitPowerLaw(data));
    }
  }, 300_000);
});
