import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSpectrumJson } from '../exports/spectrum-files.ts';
import { selectTopPercent, type ScoredModule } from '../selection/select.ts';
import { SNR_HUGE, snrFlag, snrSanity, typeSanityLine } from './snr-sanity.ts';

const dir = join(import.meta.dirname, '../../../test-fixtures/spectrum-results');

const mod = (type: string, layer: number, value: number): ScoredModule => ({ name: `model.layers.${layer}.${type}`, type, value });

describe('snrFlag', () => {
  it('flags Infinity, an empty noise set and scores at or above the threshold; nothing else', () => {
    expect(snrFlag(Infinity)).toBe('infinite');
    expect(snrFlag(Infinity, 0)).toBe('infinite');
    expect(snrFlag(3.2, 0)).toBe('empty-noise');
    expect(snrFlag(SNR_HUGE)).toBe('huge');
    expect(snrFlag(999.99)).toBeNull();
    expect(snrFlag(999.99, 12)).toBeNull();
    expect(snrFlag(0)).toBeNull();
    expect(snrFlag(NaN)).toBeNull();
  });
});

describe('snrSanity on hand-made selections', () => {
  it('counts flags per type and how many of the selected they are', () => {
    // v: 8 modules, two ∞ and one 1500 among them; top 25 % = int(8·25/100) = 2 → the two ∞
    const v = [1, Infinity, 5, 1500, 2, Infinity, 3, 4].map((x, i) => mod('self_attn.v_proj', i, x));
    // q: 8 modules, one 2000; top 50 % = 4: the 2000 and the next three
    const q = [0.1, 0.2, 2000, 0.4, 0.5, 0.6, 0.7, 0.8].map((x, i) => mod('self_attn.q_proj', i, x));
    // k: nothing flagged
    const k = [1, 2, 3, 4].map((x, i) => mod('self_attn.k_proj', i, x));
    const at25 = snrSanity(selectTopPercent([...v, ...q, ...k], 25));
    const vs = at25.types.find((t) => t.type === 'self_attn.v_proj')!;
    expect(vs).toEqual({
      type: 'self_attn.v_proj',
      members: 8,
      flagged: 3,
      byReason: { infinite: 2, 'empty-noise': 0, huge: 1 },
      selected: 2,
      selectedFlagged: 2,
      tiedAtCutoff: false,
    });
    const qs = at25.types.find((t) => t.type === 'self_attn.q_proj')!;
    expect([qs.flagged, qs.selected, qs.selectedFlagged]).toEqual([1, 2, 1]);
    expect(at25.flagged).toBe(4);
    expect([...at25.flags.keys()].sort()).toEqual([
      'model.layers.1.self_attn.v_proj',
      'model.layers.2.self_attn.q_proj',
      'model.layers.3.self_attn.v_proj',
      'model.layers.5.self_attn.v_proj',
    ]);
    expect(at25.selected).toBe(2 + 2 + 1);
    expect(at25.selectedFlagged).toBe(3);
    expect(typeSanityLine(vs, 25)).toBe(
      'self_attn.v_proj: 3 of 8 flagged (2 ∞, 1 ≥ 1000); all 2 selected at 25% are flagged: the selection is decided by them',
    );
    expect(typeSanityLine(qs, 25)).toBe(
      'self_attn.q_proj: 1 of 8 flagged (1 ≥ 1000); 1 of the 2 selected at 25% are flagged: they decide part of the selection',
    );
    expect(
      typeSanityLine(
        at25.types.find((t) => t.type === 'self_attn.k_proj')!,
        25,
      ),
    ).toBeNull();
  });

  it('says when the cut-off falls among equal infinite values (model order picks)', () => {
    // 5 of 8 are ∞; 25 % selects 2 of them, by model order
    const g = [Infinity, 1, Infinity, Infinity, 2, Infinity, Infinity, 3].map((x, i) => mod('mlp.gate', i, x));
    const [t] = snrSanity(selectTopPercent(g, 25)).types;
    expect([t.flagged, t.selected, t.selectedFlagged, t.tiedAtCutoff]).toEqual([5, 2, 2, true]);
    expect(typeSanityLine(t, 25)).toContain('model order picks among them');
  });

  it('flags an empty noise set from the spectrum and leaves out what it is told to', () => {
    const v = [0.5, 0.7, 0.9, 0.3].map((x, i) => mod('mlp.down_proj', i, x));
    const norms = [1, 1].map((x, i) => mod('input_layernorm', i, x));
    const sanity = snrSanity(selectTopPercent([...v, ...norms], 50), {
      noiseCount: (name) => (name === 'model.layers.2.mlp.down_proj' ? 0 : name.includes('layernorm') ? 0 : 100),
      exclude: (name) => name.includes('layernorm'),
    });
    expect(sanity.types.map((t) => t.type)).toEqual(['mlp.down_proj']);
    expect(sanity.flags).toEqual(new Map([['model.layers.2.mlp.down_proj', 'empty-noise']]));
    expect(sanity.types[0].selectedFlagged).toBe(1);
  });
});

/**
 * The shipped Spectrum scans at 25 %. Expected numbers, per type with a flag: [type, members, ∞, finite ≥ 1000,
 * selected, selected and flagged], from this command, independent of the code under test:
 *   python3 -c "import json,sys,math;P=int(sys.argv[2]);d=json.load(open(sys.argv[1]));T={};[T.setdefault(v['type'],[]).append(v['snr']) for v in d.values()];[print(t,len(x),sum(map(math.isinf,x)),sum(1e3<=v<math.inf for v in x),int(len(x)*P/100),sum(v>=1e3 for v in sorted(x,reverse=True)[:int(len(x)*P/100)])) for t,x in T.items() if any(v>=1e3 for v in x)]" FILE 25
 */
describe("snrSanity on Spectrum's published scans at 25 %", () => {
  const expected: Record<string, [string, number, number, number, number, number][]> = {
    'snr_results_Qwen-Qwen2.5-14B.json': [['self_attn.v_proj', 48, 1, 1, 12, 2]],
    'snr_results_mistralai-Mistral-7B-v0.1.json': [],
    'snr_results_mistralai-Mixtral-8x22B-v0.1.json': [
      ['block_sparse_moe.gate', 56, 54, 0, 14, 14],
      ['self_attn.v_proj', 56, 6, 7, 14, 13],
    ],
  };
  it.each(Object.keys(expected))('%s', (file) => {
    const entries = parseSpectrumJson(readFileSync(join(dir, file), 'utf8'), file);
    const sanity = snrSanity(selectTopPercent(entries, 25));
    const got = sanity.types
      .filter((t) => t.flagged > 0)
      .map((t) => [t.type, t.members, t.byReason.infinite, t.byReason.huge, t.selected, t.selectedFlagged]);
    expect(got).toEqual(expected[file]);
    expect(sanity.flagged).toBe(expected[file].reduce((n, e) => n + e[2] + e[3], 0));
  });

  it('Mixtral-8x22B: the router gates are ∞ in 54 of 56 layers, so model order picks the 14 selected', () => {
    const entries = parseSpectrumJson(readFileSync(join(dir, 'snr_results_mistralai-Mixtral-8x22B-v0.1.json'), 'utf8'));
    const gate = snrSanity(selectTopPercent(entries, 25)).types.find((t) => t.type === 'block_sparse_moe.gate')!;
    expect(gate.tiedAtCutoff).toBe(true);
  });
});
