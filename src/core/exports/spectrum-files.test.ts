import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectTopPercent } from '../selection/select.ts';
import {
  parseSpectrumJson,
  spectrumEntries,
  spectrumYamlFileName,
  writeSpectrumJson,
  writeSpectrumSortedJson,
  writeSpectrumYaml,
} from './spectrum-files.ts';
import { pyFloatRepr } from './python-json.ts';

const dir = join(import.meta.dirname, '../../../test-fixtures/spectrum-results');
const jsonFiles = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('Python float repr', () => {
  it.each([
    [1, '1.0'],
    [0.1, '0.1'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [1e16, '1e+16'],
    [1e15, '1000000000000000.0'],
    [123456789012345680, '1.2345678901234568e+17'],
    [-2.5e-7, '-2.5e-07'],
    [Infinity, 'Infinity'],
    [NaN, 'NaN'],
    [0.07914765924215317, '0.07914765924215317'],
    [Math.fround(0.1), '0.10000000149011612'],
    [0, '0.0'],
    [-0, '-0.0'],
    [1.5e300, '1.5e+300'],
  ])('%s → %s', (x, s) => expect(pyFloatRepr(x)).toBe(s));
});

describe("Spectrum's own result files", () => {
  it('finds the fixtures', () => expect(jsonFiles.length).toBe(10));

  it.each(jsonFiles)('%s is rewritten byte for byte in its own layout', (file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const entries = parseSpectrumJson(text, file);
    expect(entries.length).toBeGreaterThan(0);
    const sorted = /"snr":/.test(text.slice(0, 200)) === false;
    expect(sorted ? writeSpectrumSortedJson(entries) : writeSpectrumJson(entries)).toBe(text);
  });

  it.each(readdirSync(dir).filter((f) => f.endsWith('.yaml')))('%s is regenerated from its JSON', (yamlFile) => {
    const model = /^snr_results_(.*)_unfrozenparameters_(\d+)percent\.yaml$/.exec(yamlFile)!;
    const entries = parseSpectrumJson(readFileSync(join(dir, `snr_results_${model[1]}.json`), 'utf8'));
    expect(spectrumYamlFileName(model[1], Number(model[2]))).toBe(yamlFile);
    expect(writeSpectrumYaml(selectTopPercent(entries, Number(model[2])))).toBe(readFileSync(join(dir, yamlFile), 'utf8'));
  });

  it('re-derives the raw layout order from module names alone (types grouped and sorted, model order within)', () => {
    for (const file of jsonFiles) {
      const text = readFileSync(join(dir, file), 'utf8');
      if (!/"snr":/.test(text.slice(0, 200))) continue;
      const entries = parseSpectrumJson(text);
      const shuffled = [...entries].reverse().map((e) => ({ name: e.name, value: e.value }));
      expect(writeSpectrumJson(spectrumEntries(shuffled)), file).toBe(text);
    }
  });

  it('selects Qwen2.5-14B layers of the published multi-phase figure at 25%', () => {
    const entries = parseSpectrumJson(readFileSync(join(dir, 'snr_results_Qwen-Qwen2.5-14B.json'), 'utf8'));
    const sel = selectTopPercent(entries, 25);
    const layers = (type: string) =>
      sel
        .find((t) => t.type === type)!
        .selected.map((m) => Number(/layers\.(\d+)\./.exec(m.name)![1]))
        .sort((a, b) => a - b);
    expect(layers('mlp.down_proj')).toEqual(expect.arrayContaining([1, 11, 15, 35, 36, 37, 38]));
    expect(layers('mlp.gate_proj')).toEqual(expect.arrayContaining([1, 42, 43, 44, 45, 46, 47]));
    expect(layers('self_attn.k_proj')).toEqual(expect.arrayContaining([35, 37, 38, 39, 41, 44, 47]));
    expect(layers('mlp.down_proj')).toHaveLength(12); // int(48 × 25 / 100)
  });
});
