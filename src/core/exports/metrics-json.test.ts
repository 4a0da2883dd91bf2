import { describe, expect, it } from 'vitest';
import type { MatrixJob } from '../scan/plan.ts';
import { recordFromSpectrum } from '../scan/record.ts';
import { metricsRow } from './metrics-json.ts';

const job: MatrixJob = {
  name: 'model.layers.3.self_attn.o_proj.weight',
  tensor: {
    name: 'model.layers.3.self_attn.o_proj.weight',
    dtype: 'F32',
    shape: [6, 8],
    file: 'model.safetensors',
    begin: 0,
    byteLength: 192,
  },
  layer: 3,
  module: 'self_attn.o_proj',
  spectrumModule: 'model.layers.3.self_attn.o_proj',
  spectrumType: 'self_attn.o_proj',
  vector: false,
  rows: 6,
  cols: 8,
  family: 'llama',
};
const sigma = Float64Array.of(9, 5, 3, 2, 1.5, 1);

describe('metrics.json rows: which backend computed each matrix', () => {
  it('ends every row with the engine, and the note when the engine in use did not compute it', () => {
    const own = metricsRow(recordFromSpectrum(job, sigma, { engine: 'webgpu' }, 'exact', 1), 'current');
    expect(own.engine).toBe('webgpu');
    expect(Object.keys(own).at(-1)).toBe('engine');
    expect('engine_note' in own).toBe(false);

    const note = 'recomputed in float64: precision guard (a singular value within f32 rounding of τ)';
    const moved = metricsRow(recordFromSpectrum(job, sigma, { engine: 'cpu', note }, 'exact', 1), 'current');
    expect(Object.keys(moved).slice(-2)).toEqual(['engine', 'engine_note']);
    expect([moved.engine, moved.engine_note]).toEqual(['cpu', note]);
  });

  it('writes the fields before them byte for byte as without them', () => {
    const row = metricsRow(recordFromSpectrum(job, sigma, { engine: 'cpu', note: 'moved to the CPU: x' }, 'exact', 1), 'current');
    const { engine: _e, engine_note: _n, ...before } = row;
    const text = JSON.stringify(row, null, 2);
    const withoutClose = JSON.stringify(before, null, 2).replace(/\n}$/, '');
    expect(text).toBe(`${withoutClose},\n  "engine": "cpu",\n  "engine_note": "moved to the CPU: x"\n}`);
    // the same numbers as a record stamped webgpu: only the provenance differs
    const other = metricsRow(recordFromSpectrum(job, sigma, { engine: 'webgpu' }, 'exact', 1), 'current');
    const { engine: _o, ...otherBefore } = other;
    expect(otherBefore).toEqual(before);
  });
});
