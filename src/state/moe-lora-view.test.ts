import { describe, expect, it } from 'vitest';
import type { MatrixRecord } from '../core/scan/record.ts';
import { aggregateExperts, DEFAULT_EXPERT_VIEW, expandedExperts, expertIndices, loraSummary } from './moe-lora-view.ts';

function rec(name: string, layer: number, module: string, snr: number, expert?: number): MatrixRecord {
  return {
    name,
    file: 'f',
    layer,
    module,
    ...(expert !== undefined ? { expert } : {}),
    spectrumModule: name,
    spectrumType: module,
    vector: false,
    family: 'moe',
    shape: [4, 4],
    rows: 4,
    cols: 4,
    dtype: 'F32',
    status: 'ok',
    spectrum: {
      snr,
      snr_legacy: snr,
      signal_to_noise: 2 * snr,
      sigma_max: 1,
      iqr_sigma: 0,
      tau: 0,
      signal: 1,
      noise: 1,
      n_signal: expert ?? 0,
      frobenius: 1,
    } as unknown as MatrixRecord['spectrum'],
    htsr: null,
    singularValues: Float64Array.of(3, 2, 1, 1e-9),
    engine: 'cpu',
    mode: 'exact',
    millis: 0,
  };
}

const records = [
  rec('q0', 0, 'self_attn.q_proj', 5),
  ...[1, 4, 7].map((v, e) => rec(`l0.e${e}`, 0, 'mlp.experts.up_proj', v, e)),
  ...[2, 9, 4].map((v, e) => rec(`l1.e${e}`, 1, 'mlp.experts.up_proj', v, e)),
];
const snr = (r: MatrixRecord) => r.spectrum?.snr ?? null;

describe('MoE heatmap', () => {
  it('finds the experts', () => expect(expertIndices(records)).toEqual([0, 1, 2]));

  it('averages each metric over a cell’s experts', () => {
    const out = aggregateExperts(records, DEFAULT_EXPERT_VIEW, snr);
    expect(out.map((r) => [r.module, r.layer, r.spectrum?.snr])).toEqual([
      ['self_attn.q_proj', 0, 5],
      ['mlp.experts.up_proj', 0, 4],
      ['mlp.experts.up_proj', 1, 5],
    ]);
    const mean = out[1];
    expect([mean.expert, mean.spectrumModule, mean.singularValues, mean.source]).toEqual([
      undefined,
      null,
      null,
      ['l0.e0', 'l0.e1', 'l0.e2'],
    ]);
    expect(mean.spectrum!.n_signal).toBe(1);
  });

  it('a cell whose first expert has non-finite weights is the mean of the others, not hatched; all non-finite is hatched', () => {
    const nonFinite = (r: MatrixRecord): MatrixRecord => ({
      ...r,
      status: 'non-finite',
      nonFinite: 3,
      spectrum: null,
      htsr: null,
      singularValues: null,
    });
    const [q, e0, e1, e2] = records;
    const firstBad = aggregateExperts([q, nonFinite(e0), e1, e2], DEFAULT_EXPERT_VIEW, snr)[1];
    expect([firstBad.status, firstBad.spectrum?.snr]).toEqual(['ok', 5.5]);
    const allBad = aggregateExperts([q, ...[e0, e1, e2].map(nonFinite)], DEFAULT_EXPERT_VIEW, snr)[1];
    expect([allBad.status, allBad.spectrum]).toEqual(['non-finite', null]);
  });

  it('shows the strongest expert of each cell, as its own record', () => {
    const out = aggregateExperts(records, { ...DEFAULT_EXPERT_VIEW, aggregate: 'max' }, snr);
    expect(out.map((r) => r.name)).toEqual(['q0', 'l0.e2', 'l1.e1']);
  });

  it('shows one chosen expert', () => {
    expect(aggregateExperts(records, { ...DEFAULT_EXPERT_VIEW, aggregate: 'one', expert: 2 }, snr).map((r) => r.name)).toEqual([
      'q0',
      'l0.e2',
      'l1.e2',
    ]);
  });

  it('spreads one layer’s experts out, one column per expert', () => {
    expect(expandedExperts(records, 1).map((r) => [r.name, r.layer])).toEqual([
      ['l1.e0', 0],
      ['l1.e1', 1],
      ['l1.e2', 2],
    ]);
  });
});

describe('LoRA detail', () => {
  it('gives the rank bound and the r non-zero singular values', () => {
    const r = { ...rec('d', 0, 'self_attn.q_proj', 1), lora: { rank: 3, scale: 2 } };
    expect(loraSummary(r)).toEqual({ rank: 3, scale: 2, top: [3, 2, 1], residual: 1e-9 / 3 });
    expect(loraSummary(rec('w', 0, 'self_attn.q_proj', 1))).toBeNull();
  });
});
