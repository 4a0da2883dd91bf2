import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSpectrumJson } from '../core/exports/spectrum-files.ts';
import { PLAN_DEFAULTS } from '../core/plans/plans.ts';
import { importedRecord } from '../core/scan/record.ts';
import { selectTopPercent } from '../core/selection/select.ts';
import { parseSetting, perLayer, planFiles, planSourceOf, plansView } from './plans-view.ts';

const dir = join(import.meta.dirname, '../../test-fixtures/spectrum-results');

describe('perLayer', () => {
  it('groups by layer, ascending, with mean, lowest and highest; no layer and non-finite values left out', () => {
    const got = perLayer([
      { layer: 2, value: 3 },
      { layer: 0, value: 1 },
      { layer: 2, value: 5 },
      { layer: null, value: 9 },
      { layer: 0, value: NaN },
      { layer: 1, value: 4 },
    ]);
    expect(got).toEqual([
      { layer: 0, mean: 1, min: 1, max: 1 },
      { layer: 1, mean: 4, min: 4, max: 4 },
      { layer: 2, mean: 4, min: 3, max: 5 },
    ]);
  });
});

describe('parseSetting', () => {
  it('takes numbers inside the bounds and says why it refuses the rest', () => {
    expect(parseSetting(' 2e-5 ', { min: 0, max: 1, openMin: true })).toBe(2e-5);
    expect(parseSetting('0', { min: 0, max: 1, openMin: true })).toBe('between 0 and 1 (not 0)');
    expect(parseSetting('1', { min: 0, max: 1, openMax: true })).toBe('between 0 and 1 (not 1)');
    expect(parseSetting('0.999', { min: 0, max: 1, openMax: true })).toBe(0.999);
    expect(parseSetting('abc', { min: 0, max: 1 })).toBe('"abc" is not a number');
    expect(parseSetting('', { min: 0, max: 1 })).toBe('a number is needed');
    expect(parseSetting('2', { min: 0, max: 1 })).toBe('between 0 and 1');
  });
});

describe("a Spectrum result JSON's plans", () => {
  const file = 'snr_results_Qwen-Qwen2.5-14B.json';
  const entries = parseSpectrumJson(readFileSync(join(dir, file), 'utf8'), file);
  const records = entries.map((e) => importedRecord(e, file));

  it('is a Spectrum JSON source, and TempBalance chosen in the settings falls back to the SNR rule', () => {
    expect(planSourceOf(records)).toBe('spectrum-json');
    const view = plansView(records, { ...PLAN_DEFAULTS, lrRule: 'tempbalance' }, 'current');
    expect(view.plans.lrRule).toBe('snr');
  });

  it('offers lr_groups and the plan JSON, and says why sparsity and ranks are missing', () => {
    const view = plansView(records, PLAN_DEFAULTS, 'current');
    const files = planFiles('Qwen/Qwen2.5-14B', view, selectTopPercent(entries, 25));
    expect('text' in files.lrGroups && files.lrGroups.name).toBe('Qwen-Qwen2.5-14B_lr_groups.yaml');
    expect('reason' in files.sparsity && files.sparsity.reason).toMatch(/Spectrum result JSON/);
    expect('reason' in files.rankPattern).toBe(true);
    const yaml = 'text' in files.lrGroups ? files.lrGroups.text() : '';
    // the file starts with Spectrum's own unfrozen_parameters for the 25 % selection
    expect(yaml.startsWith('unfrozen_parameters:\n')).toBe(true);
    // by hand: layer 0's v_proj is the only Infinity of its 48 → the highest rank → s₂η = 1.5 · 2e-5;
    // layer 1's v_proj is the type's lowest (0.7501 in the file) → s₁η = 0.5 · 2e-5
    const lrOf = (module: string) =>
      new RegExp(`- name: ${module.replace(/\./g, '\\.')}\\n  modules:\\n  - [^\\n]+\\n  lr: ([^\\n]+)`).exec(yaml)?.[1];
    expect(Number(lrOf('model.layers.0.self_attn.v_proj'))).toBeCloseTo(3e-5, 18);
    expect(Number(lrOf('model.layers.1.self_attn.v_proj'))).toBeCloseTo(1e-5, 18);
  });
});
