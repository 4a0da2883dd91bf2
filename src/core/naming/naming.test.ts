import { describe, expect, it } from 'vitest';
import { buildSafetensors } from '../../../test-fixtures/builders/safetensors.ts';
import { memorySource } from '../formats/byte-source.ts';
import { openCheckpoint } from '../formats/checkpoint.ts';
import { planScan } from '../scan/plan.ts';
import { compareModules } from './naming-rules.ts';
import { tensorRole } from './map-tensor.ts';
import { compareModelOrder, compareSpectrumTypes, spectrumType } from './spectrum-type.ts';

const info = (name: string, shape = [4, 4], dtype = 'BF16') => ({ name, dtype, shape, file: 'f', begin: 0, byteLength: 0 });

describe('naming: Llama, Qwen2/2.5, Mistral, OLMo', () => {
  it.each([
    ['model.layers.7.self_attn.q_proj.weight', 7, 'self_attn.q_proj'],
    ['model.layers.12.mlp.down_proj.weight', 12, 'mlp.down_proj'],
    ['model.layers.0.self_attn.o_proj.weight', 0, 'self_attn.o_proj'],
    ['model.embed_tokens.weight', null, 'model.embed_tokens'],
    ['lm_head.weight', null, 'lm_head'],
  ])('%s → layer %s, %s', (name, layer, module) => {
    const role = tensorRole(info(name));
    expect(role).toMatchObject({ kind: 'matrix', family: 'llama', match: { layer, module } });
  });

  it('treats norms as vectors, biases and buffers as skipped', () => {
    expect(tensorRole(info('model.layers.3.input_layernorm.weight', [64]))).toMatchObject({
      kind: 'vector',
      match: { layer: 3, module: 'input_layernorm' },
    });
    expect(tensorRole(info('model.norm.weight', [64]))).toMatchObject({ kind: 'vector', match: { layer: null, module: 'model.norm' } });
    expect(tensorRole(info('model.layers.3.self_attn.q_proj.bias', [64]))).toMatchObject({ kind: 'skipped' });
    expect(tensorRole(info('model.rotary_emb.inv_freq', [32]))).toEqual({
      kind: 'skipped',
      reason: 'rotary-embedding buffer, not a weight',
    });
    expect(tensorRole(info('model.layers.3.mlp.step_count', [1]))).toEqual({ kind: 'skipped', reason: 'not a weight' });
    expect(tensorRole(info('x.weight', [2, 2], 'I64'))).toMatchObject({ kind: 'skipped' });
  });

  it('keeps names no rule knows, under Spectrum generic type', () => {
    expect(tensorRole(info('encoder.block.5.layer.0.SelfAttention.q.weight'))).toMatchObject({
      kind: 'matrix',
      family: null,
      match: { layer: 5, module: 'layer.0.SelfAttention.q' },
    });
  });
});

describe("Spectrum's names and orders", () => {
  it('derives the type after the first digit part', () => {
    expect(spectrumType('model.layers.3.mlp.down_proj')).toBe('mlp.down_proj');
    expect(spectrumType('model.layers.0.mlp.experts.7.w1')).toBe('mlp.experts.7.w1');
    expect(spectrumType('lm_head')).toBe('lm_head');
  });
  it('groups types by first dotted part before sorting', () => {
    expect(['a.b', 'a-b', 'mlp.up_proj', 'input_layernorm'].sort(compareSpectrumTypes)).toEqual([
      'a.b',
      'a-b',
      'input_layernorm',
      'mlp.up_proj',
    ]);
  });
  it('puts layer 2 before layer 10', () => {
    expect(['model.layers.10.mlp', 'model.layers.2.mlp', 'model.layers.1.mlp'].sort(compareModelOrder)).toEqual([
      'model.layers.1.mlp',
      'model.layers.2.mlp',
      'model.layers.10.mlp',
    ]);
  });
  it('orders heatmap rows q k v o gate up down, then the rest', () => {
    expect(['mlp.down_proj', 'zz', 'self_attn.v_proj', 'aa', 'self_attn.q_proj'].sort(compareModules)).toEqual([
      'self_attn.q_proj',
      'self_attn.v_proj',
      'mlp.down_proj',
      'aa',
      'zz',
    ]);
  });
});

describe('scan plan', () => {
  const w = (name: string, shape: number[]) => ({ name, dtype: 'F32', shape, values: new Array(shape.reduce((a, b) => a * b, 1)).fill(1) });
  it('adds a tied lm_head when the checkpoint has none, unless config says untied', async () => {
    const bytes = buildSafetensors([
      w('model.embed_tokens.weight', [8, 4]),
      w('model.layers.0.mlp.up_proj.weight', [6, 4]),
      w('model.norm.weight', [4]),
    ]);
    const tied = planScan(await openCheckpoint([memorySource('m.safetensors', bytes)]));
    expect(tied.aliases).toEqual([
      { name: 'lm_head.weight', of: 'model.embed_tokens.weight', module: 'lm_head', spectrumModule: 'lm_head', spectrumType: 'lm_head' },
    ]);
    expect(tied.jobs.map((j) => j.name)).toEqual(['model.layers.0.mlp.up_proj.weight', 'model.embed_tokens.weight', 'model.norm.weight']);
    const cfg = memorySource('config.json', new TextEncoder().encode('{"tie_word_embeddings": false}'));
    expect(planScan(await openCheckpoint([memorySource('m.safetensors', bytes), cfg])).aliases).toEqual([]);
  });
});
