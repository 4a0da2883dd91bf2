import { describe, expect, it } from 'vitest';
import { buildSafetensors } from '../../test-fixtures/builders/safetensors.ts';
import { memorySource, type ByteSource } from '../core/formats/byte-source.ts';
import { openCheckpoint } from '../core/formats/checkpoint.ts';
import { planDelta } from '../core/scan/plan-delta.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import { CpuEngine } from '../engine/cpu/cpu-engine.ts';
import { analyzeJob } from './analyze.ts';

// Two 1-layer Llama checkpoints whose weights are small integers and whose ΔW are small integers too:
// next − prev is exact in f32, so every ΔW metric has a closed form. Heads: 2 of size 4 (hidden 8).
const config = { hidden_size: 8, num_attention_heads: 2, num_key_value_heads: 2 };
const base = (rows: number, cols: number) =>
  Float32Array.from({ length: rows * cols }, (_, k) => ((Math.floor(k / cols) * 7 + (k % cols) * 3) % 11) - 5);
const withDelta = (w: Float32Array, cols: number, d: Record<string, number>) => {
  const out = w.slice();
  for (const [ij, v] of Object.entries(d)) {
    const [i, j] = ij.split(',').map(Number);
    out[i * cols + j] += v;
  }
  return out;
};
const frob2 = (w: Float32Array) => w.reduce((a, v) => a + v * v, 0);

const shapes: Record<string, [number, number]> = { q_proj: [8, 8], k_proj: [8, 8], o_proj: [8, 8], down_proj: [8, 16] };
const name = (m: string) => `model.layers.0.${m === 'down_proj' ? 'mlp' : 'self_attn'}.${m}.weight`;
const prevW = Object.fromEntries(Object.entries(shapes).map(([m, [r, c]]) => [m, base(r, c)]));
const eye2 = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`${i},${i}`, 2]));
const nextW: Record<string, Float32Array> = {
  // rank 1, in head 1's rows only: ΔW = 3 e_5 e_2ᵀ
  q_proj: withDelta(prevW.q_proj, 8, { '5,2': 3 }),
  // 2·I: eight equal σ = 2, spread evenly over both heads
  k_proj: withDelta(prevW.k_proj, 8, eye2),
  // diag(3, 1) in head 0's columns: σ = (3, 1, 0, …)
  o_proj: withDelta(prevW.o_proj, 8, { '0,0': 3, '1,1': 1 }),
  down_proj: prevW.down_proj,
};

async function deltaRecords(): Promise<Map<string, MatrixRecord>> {
  const file = (w: Record<string, Float32Array>) =>
    buildSafetensors(Object.entries(shapes).map(([m, s]) => ({ name: name(m), dtype: 'F32', shape: s, values: w[m] })));
  const cfg = new TextEncoder().encode(JSON.stringify(config));
  const sides = { a: file(prevW), b: file(nextW) };
  const sources = new Map<string, ByteSource>(
    Object.entries(sides).map(([k, bytes]) => [`${k}/model.safetensors`, memorySource('model.safetensors', bytes)]),
  );
  const open = (k: 'a' | 'b') => openCheckpoint([memorySource('model.safetensors', sides[k]), memorySource('config.json', cfg)], k);
  const plan = planDelta({ ckpt: await open('a'), refOf: (f) => `a/${f}` }, { ckpt: await open('b'), refOf: (f) => `b/${f}` });
  const engine = new CpuEngine();
  const out = new Map<string, MatrixRecord>();
  for (const job of plan.jobs) {
    const r = await analyzeJob(job, sources.get(`b/${job.tensor.file}`)!, engine, { sourceFor: (ref) => sources.get(ref)! });
    if (!r.ok) throw new Error(r.error.message);
    out.set(job.module, r.record);
  }
  return out;
}

describe('ΔW through the analyser: read both checkpoints, subtract, measure, take the spectrum', async () => {
  const records = await deltaRecords();
  const rel = (m: string, dw2: number) => Math.sqrt(dw2 / frob2(prevW[m]));

  it('rank-1 change in one head: stable rank 1, all of it in head 1', () => {
    const d = records.get('self_attn.q_proj')!.delta!;
    expect(d.unchanged).toBe(false);
    expect(d.relative_norm).toBeCloseTo(rel('q_proj', 9), 14);
    expect(d.sigma_max).toBeCloseTo(3, 12);
    expect(d.stable_rank).toBeCloseTo(1, 12);
    expect(d.energy_rank).toEqual({ 90: 1, 95: 1, 99: 1 });
    expect(d.truncatable).toEqual({ 90: 7 / 8, 95: 7 / 8, 99: 7 / 8 });
    expect(d.heads).toEqual({ axis: 'rows', shares: [0, 1] });
  });

  it('2·I: stable rank 8, nothing to truncate at 90%, even over the heads', () => {
    const d = records.get('self_attn.k_proj')!.delta!;
    expect(d.relative_norm).toBeCloseTo(rel('k_proj', 32), 14);
    expect(d.stable_rank).toBeCloseTo(8, 10);
    expect(d.energy_rank).toEqual({ 90: 8, 95: 8, 99: 8 });
    expect(d.truncatable[90]).toBe(0);
    expect(d.heads).toEqual({ axis: 'rows', shares: [0.5, 0.5] });
  });

  it('diag(3, 1) in o_proj columns of head 0: one σ keeps 90%, head 0 carries it all', () => {
    const d = records.get('self_attn.o_proj')!.delta!;
    expect(d.relative_norm).toBeCloseTo(rel('o_proj', 10), 14);
    expect(d.stable_rank).toBeCloseTo(10 / 9, 12);
    expect(d.energy_rank).toEqual({ 90: 1, 95: 2, 99: 2 });
    expect(d.heads).toEqual({ axis: 'cols', shares: [1, 0] });
    const sv = records.get('self_attn.o_proj')!.singularValues!;
    expect(sv[0]).toBeCloseTo(3, 12);
    expect(sv[1]).toBeCloseTo(1, 12);
  });

  it('an untouched matrix is unchanged: zero singular values, zero metrics, not NaN', () => {
    const r = records.get('mlp.down_proj')!;
    expect(r.delta!.unchanged).toBe(true);
    expect(Array.from(r.singularValues!)).toEqual(new Array(8).fill(0));
    expect([r.delta!.relative_norm, r.delta!.stable_rank, r.delta!.base_frobenius]).toEqual([0, 0, Math.sqrt(frob2(prevW.down_proj))]);
    expect(r.delta!.heads).toBeNull();
    expect(r.delta!.reasons.heads).toBeUndefined();
  });
});
