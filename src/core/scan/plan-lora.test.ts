import { describe, expect, it } from 'vitest';
import type { TensorInfo } from '../formats/tensor-info.ts';
import { adapterConfigErrors, findLoraPairs, peftPatternMatches } from './plan-lora.ts';

/** A LoRA pair for `module` (rank 8, 16 × 32): only names and shapes matter to the plan. */
function pair(module: string): TensorInfo[] {
  const t = (half: 'A' | 'B', shape: number[]): TensorInfo => ({
    name: `base_model.model.${module}.lora_${half}.weight`,
    dtype: 'F32',
    shape,
    file: 'adapter_model.safetensors',
    begin: 0,
    byteLength: 4 * shape[0] * shape[1],
  });
  return [t('A', [8, 32]), t('B', [16, 8])];
}

/** The scale alpha/r the plan gives `module` under `config`. */
function scaleOf(module: string, config: Record<string, unknown>): number {
  const { pairs } = findLoraPairs(pair(module), config);
  expect(pairs).toHaveLength(1);
  return pairs[0].scale;
}

// target_modules of the two real adapters the LoRA tests read (gpt2-lora-tigrinya, qwen2.5-0.5b-instruct-lora),
// copied here: their rank_pattern and alpha_pattern are empty, and these are the names such keys take in PEFT configs.
const REAL_KEYS = ['c_attn', 'c_proj', 'q_proj', 'v_proj'];

describe("PEFT's rank_pattern / alpha_pattern keys", () => {
  it('match a module by its own name or a dotted suffix of it, as PEFT does', () => {
    for (const key of REAL_KEYS) {
      expect(peftPatternMatches(key, `model.layers.3.self_attn.${key}`), key).toBe(true);
      expect(peftPatternMatches(key, `transformer.h.0.attn.${key}`), key).toBe(true);
      expect(peftPatternMatches(key, key), key).toBe(true);
      // a key is a whole dotted part: "proj" is not q_proj, "q_proj" is not "xq_proj"
      expect(peftPatternMatches(key.slice(2), `model.layers.3.self_attn.${key}`), key).toBe(false);
      expect(peftPatternMatches(key, `model.layers.3.self_attn.x${key}`), key).toBe(false);
    }
    expect(peftPatternMatches('layers.1.self_attn.q_proj', 'model.layers.1.self_attn.q_proj')).toBe(true);
    expect(peftPatternMatches('layers.1.self_attn.q_proj', 'model.layers.11.self_attn.q_proj')).toBe(false);
  });

  it('match as Python\'s re.match("(.*\\.)?(key)$") does for the regular expressions PEFT configs use', () => {
    const cases: [string, string, boolean][] = [
      ['model.layers.\\d+.self_attn.(q|v)_proj', 'model.layers.12.self_attn.v_proj', true],
      ['model.layers.\\d+.self_attn.(q|v)_proj', 'model.layers.12.self_attn.k_proj', false],
      ['layers.[0-3].mlp.(gate|up)_proj', 'model.layers.2.mlp.up_proj', true],
      ['layers.[0-3].mlp.(gate|up)_proj', 'model.layers.4.mlp.up_proj', false],
      ['layers.[^0-3].mlp.down_proj', 'model.layers.7.mlp.down_proj', true],
      ['.*\\.q_proj', 'model.layers.0.self_attn.q_proj', true],
      ['.*attn.*', 'transformer.h.5.attn.c_attn', true],
      ['^model.layers.0.self_attn.q_proj', 'model.layers.0.self_attn.q_proj', true],
      // "^" anchors the key at the start of the name, which the optional prefix then cannot fill
      ['^layers.0.self_attn.q_proj', 'model.layers.0.self_attn.q_proj', false],
      ['h.(1[0-1]|[0-9]).attn.c_attn', 'transformer.h.11.attn.c_attn', true],
      ['h.(1[0-1]|[0-9]).attn.c_attn', 'transformer.h.12.attn.c_attn', false],
      ['layers.\\d{1,2}.mlp.down_proj', 'model.layers.31.mlp.down_proj', true],
      ['layers.\\d{1,2}.mlp.down_proj', 'model.layers.131.mlp.down_proj', false],
      ['(?:q|k)_proj', 'model.layers.1.self_attn.k_proj', true],
      ['q_proj$', 'model.layers.1.self_attn.q_proj', true],
      ['[qk]_proj', 'model.layers.1.self_attn.v_proj', false],
      ['model\\.layers\\.1\\.self_attn\\.q_proj', 'modelXlayers.1.self_attn.q_proj', false],
      ['model.layers.1.self_attn.q_proj', 'modelXlayers.1.self_attn.q_proj', true],
    ];
    for (const [key, name, expected] of cases) expect(peftPatternMatches(key, name), `${key} ~ ${name}`).toBe(expected);
  });

  it('finish on hostile keys that make a backtracking matcher run for ages, with the right answer', () => {
    const long = `model.layers.0.${'a'.repeat(30_000)}`;
    expect(peftPatternMatches('(a+)+', `${long}!`)).toBe(false);
    expect(peftPatternMatches('(a+)+', long)).toBe(true);
    expect(peftPatternMatches('(.*.*)*z', long)).toBe(false);
    expect(peftPatternMatches('(.*.*)*z', `${long}z`)).toBe(true);
    expect(peftPatternMatches('(a|aa)*b', `${long}c`)).toBe(false);
    expect(peftPatternMatches('((a*)*)*$', long)).toBe(true);
    // through the plan: the hostile keys do not match, so the module takes the config's r and lora_alpha
    const config = { r: 8, lora_alpha: 32, rank_pattern: { '(a+)+': 2, '(.*.*)*z': 4 }, alpha_pattern: { '(a+)+': 1 } };
    expect(scaleOf(`${long}.q_proj`, config)).toBe(32 / 8);
  });

  it('set r and alpha per module in key order, the first matching key winning', () => {
    const config = {
      r: 8,
      lora_alpha: 16,
      rank_pattern: { 'layers.0.self_attn.q_proj': 4, 'layers.\\d+.self_attn.q_proj': 2 },
      alpha_pattern: { q_proj: 64 },
    };
    expect(scaleOf('model.layers.0.self_attn.q_proj', config)).toBe(64 / 4);
    expect(scaleOf('model.layers.5.self_attn.q_proj', config)).toBe(64 / 2);
    expect(scaleOf('model.layers.5.self_attn.v_proj', config)).toBe(16 / 8);
  });

  it('ignore as regular expressions the keys a linear-time matcher cannot run, and say so naming adapter_config.json and the key', () => {
    const config = {
      r: 8,
      lora_alpha: 16,
      rank_pattern: { '(a)\\1': 2, '(?=q)q_proj': 2, v_proj: 4, 'layers.1(': 2 },
      alpha_pattern: { 'x{1,100000}': 1, 'mlp.(up|down)_proj': 32 },
    };
    const errors = adapterConfigErrors(config);
    expect(errors.map((e) => [e.file, e.tensor, e.code])).toEqual([
      ['adapter_config.json', undefined, 'INDEX_INVALID'],
      ['adapter_config.json', undefined, 'INDEX_INVALID'],
      ['adapter_config.json', undefined, 'INDEX_INVALID'],
      ['adapter_config.json', undefined, 'INDEX_INVALID'],
    ]);
    const keys = ['(a)\\1', '(?=q)q_proj', 'layers.1(', 'x{1,100000}'];
    errors.forEach((e, i) => {
      expect(e.message).toMatch(/^adapter_config\.json: (rank|alpha)_pattern key "/);
      expect(e.message).toContain(`"${keys[i]}"`);
      expect(e.message).not.toContain('\n');
    });
    // an ignored key still matches as a plain module name; the others as before
    expect(peftPatternMatches('(a)\\1', 'model.(a)\\1')).toBe(true);
    expect(peftPatternMatches('(a)\\1', 'model.aa')).toBe(false);
    expect(scaleOf('model.layers.1.self_attn.v_proj', config)).toBe(16 / 4);
    expect(scaleOf('model.layers.1.mlp.up_proj', config)).toBe(32 / 8);
    expect(adapterConfigErrors({ r: 8, rank_pattern: {}, alpha_pattern: {} })).toEqual([]);
    expect(adapterConfigErrors(null)).toEqual([]);
  });
});
