import { describe, expect, it } from 'vitest';
import { alphaImbalance, type ImbalanceInput } from './imbalance.ts';

const rec = (module: string, layer: number | null, alpha: number | null, extra: Partial<ImbalanceInput> = {}): ImbalanceInput => ({
  module,
  layer,
  vector: false,
  htsr: { alpha, alpha_peak: null, alpha_farms: null },
  ...extra,
});

describe('alphaImbalance', () => {
  it('is the mean over module types of the CV of alpha across layers', () => {
    const records = [
      rec('q_proj', 0, 2),
      rec('q_proj', 1, 4),
      rec('v_proj', 0, 3),
      rec('v_proj', 1, 3),
      rec('v_proj', 2, 3),
      // left out: a 1-D weight, a matrix outside the layers, a single expert, an unfitted alpha
      rec('input_layernorm', 0, 9, { vector: true }),
      rec('lm_head', null, 9),
      rec('mlp.experts.down_proj', 0, 9, { expert: 3 }),
      rec('q_proj', 2, null),
    ];
    const r = alphaImbalance(records);
    // q_proj: mean 3, population std 1, CV 1/3; v_proj: CV 0 → (1/3 + 0) / 2
    expect(r.imbalance).toBeCloseTo(1 / 6, 15);
    expect(r.byModule).toEqual([
      { module: 'q_proj', stat: { count: 2, mean: 3, std: 1, cv: 1 / 3 } },
      { module: 'v_proj', stat: { count: 3, mean: 3, std: 0, cv: 0 } },
    ]);
    // pooled 2, 4, 3, 3, 3: mean 3, variance 2/5
    expect(r.pooled?.count).toBe(5);
    expect(r.pooled?.std).toBeCloseTo(Math.sqrt(0.4), 15);
    expect(r.pooled?.cv).toBeCloseTo(Math.sqrt(0.4) / 3, 15);
  });

  it('leaves a module type with one layer out of the number, and is null without any spread', () => {
    const r = alphaImbalance([rec('q_proj', 0, 2), rec('k_proj', 0, 5)]);
    expect(r.imbalance).toBeNull();
    expect(r.byModule.map((m) => m.module)).toEqual(['q_proj', 'k_proj']);
  });

  it('takes the chosen fit', () => {
    const r = alphaImbalance(
      [
        { module: 'q', layer: 0, vector: false, htsr: { alpha: 1, alpha_peak: 2, alpha_farms: null } },
        { module: 'q', layer: 1, vector: false, htsr: { alpha: 1, alpha_peak: 6, alpha_farms: null } },
      ],
      'alpha_peak',
    );
    expect(r.imbalance).toBeCloseTo(0.5, 15);
  });
});
