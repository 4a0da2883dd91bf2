import { describe, expect, it } from 'vitest';
import { deltaMetrics, headLayout, largestHeadShare, subtractInPlaceMeasured, type DeltaMetrics } from './weight-delta.ts';

/** rows × cols from a function of (i, j), in f32 (small integers: every sum and product below is exact). */
const dense = (rows: number, cols: number, f: (i: number, j: number) => number) => ({
  rows,
  cols,
  values: Float32Array.from({ length: rows * cols }, (_, k) => f(Math.floor(k / cols), k % cols)),
});

/** Every number of a metrics object, nested ones included. */
const numbersOf = (d: DeltaMetrics): number[] =>
  JSON.stringify(d)
    .match(/-?\d+(\.\d+)?(e[-+]?\d+)?|NaN|null/g)!
    .filter((t) => t !== 'null')
    .map(Number);

describe('subtractInPlaceMeasured: ΔW and the entry sums', () => {
  const prev = dense(4, 6, (i, j) => i + j - 3);
  const baseEnergy = prev.values.reduce((a, v) => a + v * v, 0);

  it('q/k/v heads are row blocks: a change confined to head 0 is all of its share', () => {
    // ΔW = u vᵀ with u = (1, 2, 0, 0), v = (1, 0, −1, 0, 2, 0): ‖ΔW‖² = ‖u‖²‖v‖² = 5 · 6
    const u = [1, 2, 0, 0];
    const v = [1, 0, -1, 0, 2, 0];
    const next = dense(4, 6, (i, j) => i + j - 3 + u[i] * v[j]);
    const m = subtractInPlaceMeasured(next, prev, { axis: 'rows', count: 2, size: 2 });
    expect(Array.from(m.values)).toEqual(Array.from(dense(4, 6, (i, j) => u[i] * v[j] || 0).values));
    expect(m.energy).toBe(30);
    expect(m.baseEnergy).toBe(baseEnergy);
    expect(Array.from(m.headEnergy!)).toEqual([30, 0]);
  });

  it('o_proj heads are column blocks', () => {
    // ΔW = 1 in column 1 (head 0 of size 3), 2 in column 4 (head 1): energies 4·1 and 4·4
    const next = dense(4, 6, (i, j) => i + j - 3 + (j === 1 ? 1 : j === 4 ? 2 : 0));
    const m = subtractInPlaceMeasured(next, prev, { axis: 'cols', count: 2, size: 3 });
    expect(m.energy).toBe(20);
    expect(Array.from(m.headEnergy!)).toEqual([4, 16]);
    const d = deltaMetrics(new Float64Array([Math.sqrt(20), 0, 0, 0]), m, { axis: 'cols', count: 2, size: 3 });
    expect(d.heads).toEqual({ axis: 'cols', shares: [0.2, 0.8] });
    expect(largestHeadShare(d)).toBe(0.8);
  });

  it('equal matrices give exactly zero: unchanged', () => {
    const next = { ...prev, values: prev.values.slice() };
    const m = subtractInPlaceMeasured(next, prev, { axis: 'rows', count: 4, size: 1 });
    expect(m.values).toBe(next.values); // written over next's own copy: no third matrix
    expect(m.values.every((v) => v === 0)).toBe(true);
    expect(m.energy).toBe(0);
    expect(Array.from(m.headEnergy!)).toEqual([0, 0, 0, 0]);
  });
});

describe('deltaMetrics against closed forms', () => {
  it('rank 1: stable rank 1, one singular value keeps all the energy, the other n − 1 can go', () => {
    // σ(ΔW) of s·u vᵀ (unit u, v) = (s, 0, …); ‖W‖_F = 10, ‖ΔW‖_F = 5
    const d = deltaMetrics(new Float64Array([5, 0, 0, 0]), { energy: 25, baseEnergy: 100, headEnergy: null });
    expect(d.unchanged).toBe(false);
    expect(d.relative_norm).toBe(0.5);
    expect(d.frobenius).toBe(5);
    expect(d.base_frobenius).toBe(10);
    expect(d.sigma_max).toBe(5);
    expect(d.stable_rank).toBe(1);
    expect(d.energy_rank).toEqual({ 90: 1, 95: 1, 99: 1 });
    expect(d.truncatable).toEqual({ 90: 0.75, 95: 0.75, 99: 0.75 });
    expect(d.heads).toBeNull();
  });

  it('diag(3, 1): the first σ keeps exactly 90% (9 of 10), 95% needs both', () => {
    const d = deltaMetrics(new Float64Array([3, 1]), { energy: 10, baseEnergy: 40, headEnergy: null });
    expect(d.energy_rank).toEqual({ 90: 1, 95: 2, 99: 2 });
    expect(d.truncatable).toEqual({ 90: 0.5, 95: 0, 99: 0 });
    expect(d.stable_rank).toBeCloseTo(10 / 9, 15);
    expect(d.relative_norm).toBeCloseTo(Math.sqrt(10 / 40), 15);
  });

  it('diag(4, 2, 2, 1, 1, 1): Σσ² = 27; 90%, 95%, 99% need 4, 5 and 6 of them', () => {
    // cumulative 16, 20, 24, 25, 26, 27 against 24.3, 25.65, 26.73
    const d = deltaMetrics(new Float64Array([4, 2, 2, 1, 1, 1]), { energy: 27, baseEnergy: 27, headEnergy: null });
    expect(d.energy_rank).toEqual({ 90: 4, 95: 5, 99: 6 });
    expect(d.truncatable[90]).toBeCloseTo(2 / 6, 15);
    expect(d.truncatable[95]).toBeCloseTo(1 / 6, 15);
    expect(d.truncatable[99]).toBe(0);
    expect(d.stable_rank).toBeCloseTo(27 / 16, 15);
    expect(d.relative_norm).toBe(1);
  });

  it('an isotropic change (all σ equal) can lose only a tenth of its directions at 90%', () => {
    const d = deltaMetrics(new Float64Array(10).fill(0.5), { energy: 2.5, baseEnergy: 1, headEnergy: null });
    expect(d.energy_rank).toEqual({ 90: 9, 95: 10, 99: 10 });
    expect(d.truncatable[90]).toBeCloseTo(0.1, 15);
    expect(d.stable_rank).toBeCloseTo(10, 12);
  });

  it('an exactly zero ΔW is unchanged: zeros throughout, no NaN', () => {
    const d = deltaMetrics(
      new Float64Array(4),
      { energy: 0, baseEnergy: 9, headEnergy: new Float64Array(2) },
      { axis: 'rows', count: 2, size: 2 },
    );
    expect(d.unchanged).toBe(true);
    expect([d.relative_norm, d.frobenius, d.stable_rank, d.sigma_max]).toEqual([0, 0, 0, 0]);
    expect(d.energy_rank).toEqual({ 90: 0, 95: 0, 99: 0 });
    expect(d.truncatable).toEqual({ 90: 1, 95: 1, 99: 1 });
    expect(d.heads).toBeNull();
    expect(d.reasons.heads).toMatch(/unchanged/);
    expect(numbersOf(d).every(Number.isFinite)).toBe(true);
  });

  it('a change to a zero matrix has no relative norm, and says why', () => {
    const d = deltaMetrics(new Float64Array([2, 0]), { energy: 4, baseEnergy: 0, headEnergy: null });
    expect(d.relative_norm).toBeNull();
    expect(d.reasons.relative_norm).toMatch(/zero/);
    expect(d.stable_rank).toBe(1);
  });
});

describe('headLayout from config.json', () => {
  const demo = { hidden_size: 128, num_attention_heads: 4, num_key_value_heads: 4 };
  const gqa = { hidden_size: 128, num_attention_heads: 8, num_key_value_heads: 2, head_dim: 16 };

  it('q/k/v by rows, o by columns; GQA k/v have the key-value heads', () => {
    expect(headLayout('self_attn.q_proj', 128, 128, demo)).toEqual({ axis: 'rows', count: 4, size: 32 });
    expect(headLayout('self_attn.o_proj', 128, 128, demo)).toEqual({ axis: 'cols', count: 4, size: 32 });
    expect(headLayout('self_attn.k_proj', 32, 128, gqa)).toEqual({ axis: 'rows', count: 2, size: 16 });
    expect(headLayout('self_attn.q_proj', 128, 128, gqa)).toEqual({ axis: 'rows', count: 8, size: 16 });
    expect(headLayout('self_attn.o_proj', 128, 128, gqa)).toEqual({ axis: 'cols', count: 8, size: 16 });
  });

  it('other modules have none; a missing or inconsistent config gives the reason', () => {
    expect(headLayout('mlp.down_proj', 128, 352, demo)).toBeNull();
    expect(headLayout('self_attn.q_proj', 128, 128, null)).toEqual({ reason: expect.stringMatching(/num_attention_heads/) });
    expect(headLayout('self_attn.k_proj', 48, 128, gqa)).toEqual({ reason: expect.stringMatching(/do not tile the 48 rows/) });
  });
});
