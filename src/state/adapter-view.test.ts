import { describe, expect, it } from 'vitest';
import { loraAdapter } from '../../test-fixtures/builders/families.ts';
import { buildSafetensors, gaussianMatrix, type FixtureTensor } from '../../test-fixtures/builders/safetensors.ts';
import { scanFixture } from '../../test-fixtures/builders/scan-file.ts';
import { adapterDelta, adapterMetricValue, adapterOverview, isAdapterAlone, NO_BASE_REASON, ranksOf } from './adapter-view.ts';
import { recordSelected, spectrumSelection } from './heatmap-data.ts';

const json = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));

/**
 * An adapter whose ΔW has known singular values: A's rows are the first r unit vectors, B's column i is
 * b_i times unit vector i, so ΔW = (alpha/r)·B·A is diagonal with σ_i = (alpha/r)·b_i.
 */
function knownAdapter(modules: { module: string; b: number[] }[], r: number, alpha: number) {
  const [out, inn] = [24, 32];
  const tensors: FixtureTensor[] = [];
  for (const { module, b } of modules) {
    const a = new Float32Array(r * inn);
    const bm = new Float32Array(out * r);
    for (let i = 0; i < r; i++) {
      a[i * inn + i] = 1;
      bm[i * r + i] = b[i] ?? 0;
    }
    tensors.push({ name: `base_model.model.${module}.lora_A.weight`, dtype: 'F32', shape: [r, inn], values: a });
    tensors.push({ name: `base_model.model.${module}.lora_B.weight`, dtype: 'F32', shape: [out, r], values: bm });
  }
  return new Map([
    ['adapter_model.safetensors', buildSafetensors(tensors)],
    ['adapter_config.json', json({ peft_type: 'LORA', r, lora_alpha: alpha, target_modules: ['q_proj', 'v_proj'] })],
  ]);
}

describe('a LoRA adapter alone', () => {
  it('has the ΔW metrics of its singular values: ‖ΔW‖, stable rank, and the ranks that keep 90/95/99% of the energy', async () => {
    // alpha/r = 2: σ = 8, 4, 2, 1, 0.5, 0, 0, 0; Σσ² = 64 + 16 + 4 + 1 + 0.25 = 85.25
    const records = await scanFixture(knownAdapter([{ module: 'model.layers.0.self_attn.q_proj', b: [4, 2, 1, 0.5, 0.25] }], 8, 16));
    const r = Object.values(records)[0];
    expect(isAdapterAlone(Object.values(records))).toBe(true);
    const d = adapterDelta(r)!;
    expect(d.frobenius).toBeCloseTo(Math.sqrt(85.25), 9);
    expect(d.sigma_max).toBeCloseTo(8, 9);
    expect(d.stable_rank).toBeCloseTo(85.25 / 64, 9);
    // 90%: 76.725 ≤ 64 + 16; 95%: 80.99 ≤ 64 + 16 + 4; 99%: 84.40 > 84, so the fourth σ too
    expect(d.energy_rank).toEqual({ 90: 2, 95: 3, 99: 4 });
    expect(d.relative_norm).toBeNull();
    expect(d.reasons.relative_norm).toBe(NO_BASE_REASON);
    expect(adapterMetricValue(r, 'energy_rank_95')).toBe(3);
    expect(adapterMetricValue(r, 'head_max')).toBeNull();
    // Spectrum's SNR of this ΔW is not a figure of the layer: its threshold sits among the zeros
    expect(r.spectrum!.snr).toBeGreaterThan(1);
  });

  it('says how many of its r ranks it uses, per module type and overall (medians), and counts a ΔW still at zero', async () => {
    const records = await scanFixture(
      knownAdapter(
        [
          { module: 'model.layers.0.self_attn.q_proj', b: [4, 2, 1, 0.5, 0.25] }, // 95%: 3
          { module: 'model.layers.1.self_attn.q_proj', b: [1, 1, 1, 1, 1, 1, 1, 1] }, // flat: 95% of 8 equal σ² needs 8
          { module: 'model.layers.0.self_attn.v_proj', b: [1] }, // rank 1
          { module: 'model.layers.1.self_attn.v_proj', b: [] }, // lora_B at its initial zeros: ΔW = 0
        ],
        8,
        8,
      ),
    );
    const o = adapterOverview(Object.values(records));
    expect([o.matrices, o.unchanged, o.rank, o.scales]).toEqual([4, 1, 8, [1]]);
    // the three changed ΔWs use 3, 8 and 1 ranks for 95%: median 3
    expect(o.energyRank[95]).toBe(3);
    expect(ranksOf(o, o.energyRank[95]!)).toBe('3 of its 8 ranks');
    expect(o.modules.map((m) => [m.module, m.matrices, m.energyRank[95]])).toEqual([
      ['self_attn.q_proj', 2, (3 + 8) / 2],
      ['self_attn.v_proj', 2, 1],
    ]);
    // stable ranks: 85.25 / 64 and 8 (eight equal σ); the zero ΔW has none
    expect(o.modules[0].stableRank).toBeCloseTo((85.25 / 64 + 8) / 2, 9);
    expect(o.modules[1].stableRank).toBeCloseTo(1, 9);
    expect(ranksOf(o.modules[0], o.modules[0].energyRank[95]!)).toBe('5.5 of its 8 ranks');
  });

  it('merged with its base it is not an adapter alone, and at 100% every matrix is selected', async () => {
    const targets = [
      { module: 'model.layers.0.self_attn.q_proj', out: 16, in: 16 },
      { module: 'model.layers.1.self_attn.q_proj', out: 16, in: 16 },
    ];
    const adapter = loraAdapter(targets, { r: 2, alpha: 4 });
    const base: FixtureTensor[] = [0, 1].flatMap((l) => [
      { name: `model.layers.${l}.self_attn.q_proj.weight`, dtype: 'F32', shape: [16, 16], values: gaussianMatrix(16, 16, 10 + l) },
      // layer 0's is a zero matrix: Spectrum's value is not finite (no spread, no noise); it is selected at 100% all the same
      {
        name: `model.layers.${l}.mlp.down_proj.weight`,
        dtype: 'F32',
        shape: [16, 32],
        values: l === 0 ? new Float32Array(16 * 32) : gaussianMatrix(16, 32, 20),
      },
    ]);
    const records = await scanFixture(new Map([...adapter.files, ['model.safetensors', buildSafetensors(base)]]));
    const all = Object.values(records);
    expect(isAdapterAlone(all)).toBe(false);
    expect(all.some((r) => r.lora)).toBe(false);
    expect(records['model.layers.0.self_attn.q_proj.weight'].source).toHaveLength(3);
    for (const variant of ['current', 'legacy'] as const) {
      const selected = new Set(spectrumSelection(all, 100, variant).flatMap((t) => t.selected.map((m) => m.name)));
      for (const r of all) expect(recordSelected(r, selected, records), `${variant} ${r.name}`).toBe(true);
    }
    expect(Number.isFinite(records['model.layers.0.mlp.down_proj.weight'].spectrum!.snr_legacy)).toBe(false);
  });
});
