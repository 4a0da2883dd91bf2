// The plan files as the receiving tools read them: axolotl's lr_groups (its config schema and its substring
// rule, both written out here), Spectrum's unfrozen_parameters bytes, PyYAML's float format.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { writeSpectrumYaml } from '../exports/spectrum-files.ts';
import { selectTopPercent } from '../selection/select.ts';
import { tempBalance } from './learning-rates.ts';
import { lrGroupCollisions, lrGroups, writeLrGroupsYaml, writeSparsityJson, yamlFloat } from './plan-files.ts';
import { alphaPruning, type SparsityPlan } from './blocks.ts';
import type { PlanMatrix } from './plan-matrix.ts';

/** The demo's parameter names, from its safetensors header (8-byte length, then JSON). */
function demoParameters(): string[] {
  const bytes = readFileSync('public/demo/phase1-25pct.safetensors');
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { shape: number[] }>;
  return Object.keys(header).filter((k) => k !== '__metadata__');
}

function planMatrix(name: string, alphaMid: number): PlanMatrix {
  const m = /layers\.(\d+)\.(.+)\.weight$/.exec(name);
  return {
    name,
    layer: m ? Number(m[1]) : null,
    module: m ? m[2] : name.startsWith('lm_head') ? 'lm_head' : 'model.embed_tokens',
    spectrumType: m ? m[2] : name.replace(/\.weight$/, ''),
    params: 128 * 128,
    maxRank: 128,
    snr: 1,
    alpha: alphaMid,
    alphaPeak: alphaMid,
    alphaMid,
    mpRank: null,
    energyRank: null,
  };
}

/**
 * axolotl's grouping (src/axolotl/core/trainers/mixins/optimizer.py, create_optimizer_grouped_parameters),
 * written out: a {module: group} lookup built group by group (a later group takes a repeated module), then per
 * trainable parameter: embed_tokens / lm_head → the embeddings group; a parameter without weight decay
 * (norms, biases) → no_weight_decay; else the group of the first module string in the lookup that is a
 * substring of its name, or the default group.
 */
function axolotlGroupOf(name: string, groups: { name: string; modules: string[] }[]): string {
  const lookup = new Map<string, string>();
  for (const g of groups) for (const m of g.modules) lookup.set(m, g.name);
  if (['embed_tokens', 'lm_head'].some((e) => name.includes(e))) return 'embeddings';
  if (/norm|bias/.test(name)) return 'no_weight_decay';
  const hit = [...lookup.keys()].find((m) => name.includes(m));
  return hit === undefined ? 'to_weight_decay' : lookup.get(hit)!;
}

describe('axolotl lr_groups', () => {
  const params = demoParameters();
  const matrices = params
    .filter((p) => !p.includes('norm'))
    .sort()
    .map((p, i) => planMatrix(p, 2 + ((i * 37) % 11) / 3));
  const plan = tempBalance(matrices, { lr: 2e-5, minRatio: 0.5, maxRatio: 1.5 });
  const groups = lrGroups(plan);

  it('puts every parameter of the demo in its intended group under axolotl’s substring rule', () => {
    const tuned = new Set(plan.entries.filter((e) => e.tuned).map((e) => e.name));
    expect(tuned.size).toBeGreaterThan(100);
    for (const p of params) {
      const expected = tuned.has(p)
        ? p.replace(/\.weight$/, '')
        : /embed_tokens|lm_head/.test(p)
          ? 'embeddings'
          : p.includes('norm')
            ? 'no_weight_decay'
            : 'to_weight_decay';
      expect(axolotlGroupOf(p, groups), p).toBe(expected);
    }
    // and the group's lr is the plan's
    const lrOf = new Map(groups.map((g) => [g.name, g.lr]));
    for (const e of plan.entries.filter((x) => x.tuned)) expect(lrOf.get(e.name.replace(/\.weight$/, ''))).toBe(e.lr);
  });

  it('no module string matches any other parameter of the model', () => {
    for (const g of groups) for (const m of g.modules) expect(params.filter((p) => p.includes(m))).toEqual([m]);
    expect(lrGroupCollisions(groups, params)).toEqual([]);
    // a short module string would: `layers.1` is inside the 9 tensors of each of layers 1 and 10–15
    const short = lrGroupCollisions([{ name: 'x', modules: ['layers.1'], lr: 1 }], params);
    expect(short[0].catches.length).toBe(7 * 9);
  });

  it('loads as axolotl’s config schema reads it (LrGroup: name str, modules list[str], lr float) in YAML 1.1, after Spectrum’s bytes', () => {
    const selection = selectTopPercent(
      matrices.map((m) => ({ name: m.name.replace(/\.weight$/, ''), type: m.spectrumType, value: m.alphaMid! })),
      25,
    );
    const text = writeLrGroupsYaml(plan, selection);
    const spectrumBytes = writeSpectrumYaml(selection);
    expect(text.startsWith(spectrumBytes)).toBe(true);
    const doc = parse(text, { version: '1.1' }) as { unfrozen_parameters: string[]; learning_rate: unknown; lr_groups: unknown[] };
    expect(doc.learning_rate).toBe(2e-5);
    expect(doc.unfrozen_parameters[0]).toBe('^lm_head.weight$');
    expect(doc.lr_groups.length).toBe(groups.length);
    for (const [i, g] of doc.lr_groups.entries()) {
      const group = g as Record<string, unknown>;
      expect(Object.keys(group).sort()).toEqual(['lr', 'modules', 'name']);
      expect(typeof group.name).toBe('string');
      expect(Array.isArray(group.modules) && (group.modules as unknown[]).every((m) => typeof m === 'string')).toBe(true);
      expect(typeof group.lr).toBe('number');
      expect(group.lr).toBe(groups[i].lr);
    }
  });

  it('writes floats as PyYAML’s yaml.dump does (repr, with .0 before a bare exponent)', () => {
    // python3 -c "import yaml; print(yaml.dump([2e-05, 1e-07, 1.5e-05, 0.0001, 3.0]))"
    expect([2e-5, 1e-7, 1.5e-5, 0.0001, 3].map(yamlFloat)).toEqual(['2.0e-05', '1.0e-07', '1.5e-05', '0.0001', '3.0']);
  });
});

describe('sparsity.json', () => {
  it('lists blocks, matrices in layer order and the flat ratios list AlphaPruning indexes', () => {
    const ms = [
      planMatrix('model.layers.1.self_attn.q_proj.weight', 4),
      planMatrix('model.layers.0.self_attn.q_proj.weight', 2),
      planMatrix('model.layers.0.mlp.up_proj.weight', 2),
    ];
    const plan = alphaPruning(ms, { sparsity: 0.5, epsilon: 0.3, metric: 'alpha_peak' }) as SparsityPlan;
    const file = JSON.parse(writeSparsityJson(plan)) as { ratios: number[]; matrices: { name: string }[]; blocks: { layer: number }[] };
    expect(file.blocks.map((b) => b.layer)).toEqual([0, 1]);
    expect(file.matrices.map((m) => m.name)).toEqual([
      'model.layers.0.self_attn.q_proj.weight',
      'model.layers.0.mlp.up_proj.weight',
      'model.layers.1.self_attn.q_proj.weight',
    ]);
    // blocks of 2·16384 and 16384 parameters, unscaled 0.7 and 1.3: scaler = 0.5·3 / (1.4 + 1.3)
    expect(file.ratios[0]).toBeCloseTo((0.7 * 1.5) / 2.7, 15);
    expect(file.ratios[2]).toBeCloseTo((1.3 * 1.5) / 2.7, 15);
  });
});
