// The plans against values worked out by hand and against test-fixtures/expected/plans-reference.json, which
// test-fixtures/make-plans.py computes with numpy/scipy ports of TempBalance's and AlphaPruning's own code.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alphaPruning, dropOrder, type SparsityPlan } from './blocks.ts';
import { averageRanks, snrRule, tempBalance } from './learning-rates.ts';
import { alphaMid, energyRanks, type PlanMatrix } from './plan-matrix.ts';
import { buildPlans, isUnavailable, PLAN_DEFAULTS } from './plans.ts';
import { peftModuleName, rankPlan } from './ranks.ts';
import { rankPattern } from './plan-files.ts';

interface Reference {
  tempbalance_phase1: { lr: number; alpha_mid: Record<string, number>; scheduled_lr: Record<string, number>; untuned: string[] };
  alphapruning: {
    names: string[];
    params: number[];
    metrics: number[];
    cases: { sparsity: number; epsilon: number; ratios: number[]; block_metrics: number[] }[];
  };
  snr_rule: { snr: (number | 'Infinity')[]; lr: number; scheduled_lr: number[] };
}
const ref = JSON.parse(readFileSync('test-fixtures/expected/plans-reference.json', 'utf8')) as Reference;
const spectra = JSON.parse(readFileSync('test-fixtures/spectra/phase0-base.json', 'utf8')) as {
  tensors: Record<string, { shape: number[]; sv: number[] }>;
};

/** A matrix with only what a test gives; every other metric unknown. */
function matrix(name: string, fields: Partial<PlanMatrix> = {}): PlanMatrix {
  const m = /layers\.(\d+)\.(.+)\.weight$/.exec(name);
  return {
    name,
    layer: m ? Number(m[1]) : null,
    module: m ? m[2] : name === 'lm_head.weight' ? 'lm_head' : 'model.embed_tokens',
    spectrumType: m ? m[2] : name.replace(/\.weight$/, ''),
    params: null,
    maxRank: null,
    snr: null,
    alpha: null,
    alphaPeak: null,
    alphaMid: null,
    mpRank: null,
    energyRank: null,
    ...fields,
  };
}

const lr = 2e-5;
const settings = { lr, minRatio: 0.5, maxRatio: 1.5 };

describe('TempBalance', () => {
  it('maps alpha linearly onto [s₁η, s₂η], the smallest alpha to s₁η and the largest to s₂η, leaving the first and last Linear at η', () => {
    // model order: layer 0 (q, up), layer 1 (q, up), layer 2 (q), lm_head; the embedding is not a Linear layer
    const ms = [
      matrix('model.embed_tokens.weight', { alphaMid: 9 }),
      matrix('model.layers.0.self_attn.q_proj.weight', { alphaMid: 10 }),
      matrix('model.layers.0.mlp.up_proj.weight', { alphaMid: 3 }),
      matrix('model.layers.1.self_attn.q_proj.weight', { alphaMid: 5 }),
      matrix('model.layers.1.mlp.up_proj.weight', { alphaMid: 2 }),
      matrix('model.layers.2.self_attn.q_proj.weight', { alphaMid: 6 }),
      matrix('lm_head.weight', { alphaMid: 1 }),
    ];
    const plan = tempBalance(ms, settings);
    expect(plan.metric).toBe('alpha_mid');
    const byName = new Map(plan.entries.map((e) => [e.name, e]));
    // tuned alphas 3, 5, 2, 6: min 2 → 0.5η, max 6 → 1.5η, 3 → 0.75η, 5 → 1.25η (worked by hand)
    expect(byName.get('model.layers.1.mlp.up_proj.weight')!.lr).toBe(0.5 * lr);
    expect(byName.get('model.layers.2.self_attn.q_proj.weight')!.lr).toBe(1.5 * lr);
    expect(byName.get('model.layers.0.mlp.up_proj.weight')!.lr).toBeCloseTo(0.75 * lr, 18);
    expect(byName.get('model.layers.1.self_attn.q_proj.weight')!.lr).toBeCloseTo(1.25 * lr, 18);
    for (const untuned of ['model.embed_tokens.weight', 'model.layers.0.self_attn.q_proj.weight', 'lm_head.weight']) {
      expect(byName.get(untuned)).toMatchObject({ tuned: false, lr });
    }
    expect(byName.get('model.layers.0.self_attn.q_proj.weight')!.reason).toMatch(/first layer/);
    expect(byName.get('lm_head.weight')!.reason).toMatch(/last layer/);
  });

  it("matches TempBalance's own estimator and tb_linear_map (numpy port) on the demo's phase 1 checkpoint", () => {
    const t = ref.tempbalance_phase1;
    // alphaMid against the reference on the base checkpoint's float64 spectra is checked below; here the plan
    // is built from the reference's own alphas, so that only the mapping and the first/last handling are tested
    const ms = Object.keys(t.alpha_mid).map((name) => matrix(name, { alphaMid: t.alpha_mid[name] }));
    const plan = tempBalance(ms, { ...settings, lr: t.lr });
    for (const e of plan.entries) {
      if (t.untuned.includes(e.name)) expect(e).toMatchObject({ tuned: false, lr: t.lr });
      else expect(e.lr).toBeCloseTo(t.scheduled_lr[e.name], 17);
    }
    const tuned = plan.entries.filter((e) => e.tuned).map((e) => e.lr);
    expect(Math.min(...tuned)).toBe(0.5 * t.lr);
    expect(Math.max(...tuned)).toBe(1.5 * t.lr);
  });

  it('alphaMid is 1 + n / Σ ln(λⱼ/λᵢ) from the median eigenvalue', () => {
    // σ = 3, 2, 1, 0.5: λ ascending 0.25, 1, 4, 9; i = 2, xmin = 4, n = 2: 1 + 2 / (ln 1 + ln 2.25)
    expect(alphaMid(Float64Array.of(3, 2, 1, 0.5))).toBeCloseTo(1 + 2 / Math.log(2.25), 14);
    // five values: i = 2 (int(5/2)), the three largest
    expect(alphaMid(Float64Array.of(5, 4, 3, 2, 1))).toBeCloseTo(1 + 3 / (Math.log(16 / 9) + Math.log(25 / 9)), 14);
    expect(alphaMid(Float64Array.of(1, 1, 1, 1))).toBeNull(); // a flat tail: alpha infinite
    expect(alphaMid(Float64Array.of(1, 0, 0, 0))).toBeNull(); // λ at the median is 0
  });

  it("alphaMid agrees with TempBalance's formula written out on real spectra (the phase 0 base, float64 SVD)", () => {
    for (const [name, t] of Object.entries(spectra.tensors).slice(0, 12)) {
      const eigs = t.sv.map((s) => s * s).sort((a, b) => a - b);
      const i = Math.floor(eigs.length / 2);
      let denom = 0;
      for (let j = i; j < eigs.length; j++) denom += Math.log(eigs[j]) - Math.log(eigs[i]);
      expect(alphaMid(Float64Array.from(t.sv)), name).toBeCloseTo(1 + (eigs.length - i) / denom, 10);
    }
  });

  it('falls back to plain alpha when no matrix has singular values, and says so', () => {
    const ms = [
      matrix('model.layers.0.self_attn.q_proj.weight', { alpha: 4 }),
      matrix('model.layers.0.mlp.up_proj.weight', { alpha: 3 }),
      matrix('model.layers.1.self_attn.q_proj.weight', { alpha: 5 }),
      matrix('lm_head.weight', { alpha: 1 }),
    ];
    const plan = tempBalance(ms, settings);
    expect(plan.metric).toBe('alpha');
    expect(plan.notes.join()).toMatch(/WeightWatcher's alpha/);
    // two tuned, alphas 3 and 5: exactly the endpoints
    expect(plan.entries.filter((e) => e.tuned).map((e) => e.lr)).toEqual([0.5 * lr, 1.5 * lr]);
  });
});

describe('the SNR rule', () => {
  it('ranks SNR within each module type (ties share their mean rank, Infinity highest) onto [s₁η, s₂η], as scipy.stats.rankdata gives', () => {
    const r = ref.snr_rule;
    const snr = r.snr.map((v) => (v === 'Infinity' ? Infinity : v));
    const ms = snr.map((v, l) => matrix(`model.layers.${l}.mlp.down_proj.weight`, { snr: v }));
    ms.push(matrix('model.layers.0.self_attn.q_proj.weight', { snr: 12 })); // alone in its type: the midpoint
    ms.push(matrix('model.layers.1.self_attn.q_proj.weight', { snr: null })); // no SNR: η, not tuned
    const plan = snrRule(ms, { ...settings, lr: r.lr });
    const down = plan.entries.filter((e) => e.module === 'mlp.down_proj').map((e) => e.lr);
    down.forEach((x, i) => expect(x).toBeCloseTo(r.scheduled_lr[i], 18));
    expect(Math.min(...down)).toBe(0.5 * r.lr);
    expect(Math.max(...down)).toBe(1.5 * r.lr);
    expect(plan.entries.find((e) => e.name === 'model.layers.0.self_attn.q_proj.weight')!.lr).toBe(r.lr);
    expect(plan.entries.find((e) => e.name === 'model.layers.1.self_attn.q_proj.weight')).toMatchObject({ tuned: false, lr: r.lr });
  });

  it('average ranks by hand', () => {
    expect(averageRanks([10, 20, 20, 5])).toEqual([1, 2.5, 2.5, 0]);
    expect(averageRanks([Infinity, 1, Infinity])).toEqual([1.5, 0, 1.5]);
  });

  it('leaves embeddings and lm_head at η: axolotl trains them in its embeddings group', () => {
    const plan = snrRule([matrix('lm_head.weight', { snr: 3 }), matrix('model.embed_tokens.weight', { snr: 4 })], settings);
    for (const e of plan.entries) expect(e).toMatchObject({ tuned: false, lr, reason: expect.stringMatching(/embedding_lr/) as unknown });
  });
});

describe('AlphaPruning', () => {
  const weightedMean = (p: SparsityPlan) => {
    let num = 0;
    let den = 0;
    for (const m of p.matrices) {
      num += m.params * m.ratio;
      den += m.params;
    }
    return num / den;
  };

  it('by hand: block means mapped onto [1 − ε, 1 + ε] and scaled so that the parameter-weighted mean is S', () => {
    // blocks 0, 1, 2 of 100, 200 and 100 parameters; alpha_peak means 2, 4, 3
    const ms = [
      matrix('model.layers.0.self_attn.q_proj.weight', { params: 60, alphaPeak: 1 }),
      matrix('model.layers.0.mlp.up_proj.weight', { params: 40, alphaPeak: 3 }),
      matrix('model.layers.1.self_attn.q_proj.weight', { params: 200, alphaPeak: 4 }),
      matrix('model.layers.2.self_attn.q_proj.weight', { params: 100, alphaPeak: 3 }),
    ];
    const plan = alphaPruning(ms, { sparsity: 0.5, epsilon: 0.3, metric: 'alpha_peak' }) as SparsityPlan;
    // unscaled 0.7, 1.3, 1.0; Σ params·ratio = 70 + 260 + 100 = 430; scaler = 0.5 · 400 / 430
    expect(plan.blocks.map((b) => b.score)).toEqual([2, 4, 3]);
    expect(plan.blocks[0].ratio).toBeCloseTo(140 / 430, 15);
    expect(plan.blocks[1].ratio).toBeCloseTo(260 / 430, 15);
    expect(plan.blocks[2].ratio).toBeCloseTo(200 / 430, 15);
    expect(Math.abs(weightedMean(plan) - 0.5)).toBeLessThan(1e-12);
    // every matrix of a block has its block's ratio, in layer order
    expect(plan.matrices.map((m) => m.layer)).toEqual([0, 0, 1, 2]);
    expect(plan.matrices[1].ratio).toBe(plan.blocks[0].ratio);
  });

  it("matches AlphaPruning's ww_sparsity (numpy port) on 16 blocks of 7 matrices, mean S to 1e-12, order following alpha", () => {
    const a = ref.alphapruning;
    const ms = a.names.map((name, i) => matrix(name, { params: a.params[i], alphaPeak: a.metrics[i] }));
    for (const c of a.cases) {
      const plan = alphaPruning(ms, { sparsity: c.sparsity, epsilon: c.epsilon, metric: 'alpha_peak' }) as SparsityPlan;
      plan.matrices.forEach((m, i) => expect(m.ratio).toBeCloseTo(c.ratios[i], 14));
      plan.blocks.forEach((b, i) => expect(b.score).toBeCloseTo(c.block_metrics[i], 14));
      expect(Math.abs(weightedMean(plan) - c.sparsity)).toBeLessThan(1e-12);
      // higher mean alpha → more pruning
      const byScore = [...plan.blocks].sort((x, y) => x.score - y.score);
      for (let i = 1; i < byScore.length; i++) expect(byScore[i].ratio).toBeGreaterThan(byScore[i - 1].ratio);
      // before scaling the ratios span exactly [1 − ε, 1 + ε]: max/min = (1 + ε)/(1 − ε)
      const ratios = plan.blocks.map((b) => b.ratio);
      expect(Math.max(...ratios) / Math.min(...ratios)).toBeCloseTo((1 + c.epsilon) / (1 - c.epsilon), 12);
    }
  });

  it('is unavailable without the metric or without sizes', () => {
    expect(
      alphaPruning([matrix('model.layers.0.mlp.up_proj.weight', { params: 10 })], { sparsity: 0.5, epsilon: 0.3, metric: 'alpha_peak' }),
    ).toEqual({
      reason: 'no alpha_peak for any matrix of block 0',
    });
    expect(
      alphaPruning([matrix('model.layers.0.mlp.up_proj.weight', { snr: 1 })], { sparsity: 0.5, epsilon: 0.3, metric: 'alpha_peak' }),
    ).toMatchObject({
      reason: expect.stringMatching(/no matrix with a known size/) as unknown,
    });
  });
});

describe('block drop order', () => {
  it('by mean alpha, highest first (ties: the later block first), beside the last-N order', () => {
    const ms = [
      matrix('model.layers.0.self_attn.q_proj.weight', { alpha: 2 }),
      matrix('model.layers.0.mlp.up_proj.weight', { alpha: 4 }), // block 0: 3
      matrix('model.layers.1.self_attn.q_proj.weight', { alpha: 5 }), // block 1: 5
      matrix('model.layers.2.self_attn.q_proj.weight', { alpha: 3 }),
      matrix('model.layers.2.mlp.up_proj.weight', { alpha: 5 }), // block 2: 4
      matrix('model.layers.3.self_attn.q_proj.weight', { alpha: 5 }), // block 3: 5
      matrix('model.layers.4.self_attn.q_proj.weight'), // no alpha
      matrix('lm_head.weight', { alpha: 9 }), // not a block
    ];
    const d = dropOrder(ms);
    expect(d.byAlpha.map((b) => b.layer)).toEqual([3, 1, 2, 0]);
    expect(d.byAlpha.map((b) => b.meanAlpha)).toEqual([5, 5, 4, 3]);
    expect(d.lastN).toEqual([4, 3, 2, 1, 0]);
    expect(d.withoutAlpha).toEqual([4]);
  });
});

describe('ranks', () => {
  it('energy ranks by hand and by the rule written out on real spectra (the phase 0 base)', () => {
    // σ² = 9, 4, 1, 0.25 of 14.25: 90 % = 12.825 → 2; 95 % = 13.5375 → 3; 99 % = 14.1075 → 4
    expect(energyRanks(Float64Array.of(3, 2, 1, 0.5))).toEqual({ 90: 2, 95: 3, 99: 4 });
    for (const [name, t] of Object.entries(spectra.tensors)) {
      const e = t.sv.map((s) => s * s);
      const total = e.reduce((x, y) => x + y, 0);
      const expected: Record<number, number> = {};
      for (const p of [90, 95, 99]) {
        let c = 0;
        expected[p] = e.findIndex((x) => (c += x) >= (p / 100) * total) + 1;
      }
      expect(energyRanks(Float64Array.from(t.sv)), name).toEqual(expected);
    }
  });

  it("rank_pattern keys are module names that PEFT's get_pattern_key resolves to themselves only", () => {
    // PEFT (src/peft/utils/other.py): the first key with re.match(rf"(.*\.)?({key})$", module_name)
    const pegKey = (keys: string[], module: string) => keys.find((k) => new RegExp(`^(.*\\.)?(${k})$`).test(module)) ?? module;
    const names = Object.keys(spectra.tensors).filter((n) => n.includes('layers'));
    const ms = names.map((n) => matrix(n, { mpRank: 7, maxRank: 128, energyRank: { 90: 50, 95: 60, 99: 0 } }));
    const pattern = rankPattern(rankPlan(ms), 'mp');
    const keys = Object.keys(pattern);
    expect(keys).toContain('model.layers.1.self_attn.q_proj');
    expect(keys).toContain('model.layers.11.self_attn.q_proj');
    const modules = Object.keys(spectra.tensors).map(peftModuleName);
    for (const module of modules) expect(pegKey(keys, module)).toBe(module);
    // a rank of 0 is no LoRA rank: left out
    expect(Object.keys(rankPattern(rankPlan(ms), 99))).toEqual([]);
  });
});

describe('buildPlans', () => {
  it('a Spectrum result JSON gives the SNR rule only', () => {
    const plans = buildPlans([matrix('model.layers.0.mlp.up_proj.weight', { snr: 2 })], 'spectrum-json', PLAN_DEFAULTS);
    expect(isUnavailable(plans.tempBalance)).toBe(true);
    expect(isUnavailable(plans.sparsity)).toBe(true);
    expect(isUnavailable(plans.dropOrder)).toBe(true);
    expect(isUnavailable(plans.ranks)).toBe(true);
    expect(isUnavailable(plans.snr)).toBe(false);
  });
});
