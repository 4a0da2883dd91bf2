import { describe, expect, it } from 'vitest';
import { gpt2, llamaLike, moe, neox, phi3, qwen3Next, type FamilyFixture } from '../../../test-fixtures/builders/families.ts';
import { memorySource } from '../formats/byte-source.ts';
import { openCheckpoint } from '../formats/checkpoint.ts';
import { planScan, type MatrixJob, type ScanPlan } from '../scan/plan.ts';
import { tensorRole } from './map-tensor.ts';

async function plan(f: FamilyFixture): Promise<ScanPlan> {
  return planScan(await openCheckpoint([...f.files].map(([n, b]) => memorySource(n, b))));
}

/** name → [layer, module, spectrumModule] of every matrix job (vectors left out) */
const cells = (p: ScanPlan) =>
  Object.fromEntries(p.jobs.filter((j) => !j.vector).map((j: MatrixJob) => [j.name, [j.layer, j.module, j.spectrumModule]]));

describe('naming: GPT-2', () => {
  it.each(['transformer.', ''])(
    'maps Conv1D weights (prefix %j), keeps c_attn fused for Spectrum and splits q/k/v beside it',
    async (prefix) => {
      const p = await plan(gpt2({ layers: 2, prefix }));
      const c = cells(p);
      expect(c[`${prefix}h.1.attn.c_attn.weight`]).toEqual([1, 'attn.c_attn', `${prefix}h.1.attn.c_attn`]);
      expect(c[`${prefix}h.1.attn.c_attn.q`]).toEqual([1, 'self_attn.q_proj', null]);
      expect(c[`${prefix}h.1.attn.c_attn.v`]).toEqual([1, 'self_attn.v_proj', null]);
      expect(c[`${prefix}h.0.attn.c_proj.weight`]).toEqual([0, 'self_attn.o_proj', `${prefix}h.0.attn.c_proj`]);
      expect(c[`${prefix}h.0.mlp.c_fc.weight`]).toEqual([0, 'mlp.up_proj', `${prefix}h.0.mlp.c_fc`]);
      expect(c[`${prefix}h.0.mlp.c_proj.weight`]).toEqual([0, 'mlp.down_proj', `${prefix}h.0.mlp.c_proj`]);
      expect(c[`${prefix}wte.weight`]).toEqual([null, 'model.embed_tokens', `${prefix}wte`]);
      expect(c[`${prefix}wpe.weight`]).toEqual([null, 'wpe', `${prefix}wpe`]);
      // the split views are out × in (16 × 16) whatever the Conv1D stores
      const q = p.jobs.find((j) => j.name === `${prefix}h.0.attn.c_attn.q`)!;
      expect([q.rows, q.cols, q.source]).toEqual([16, 16, [`${prefix}h.0.attn.c_attn.weight`]]);
      expect(p.unmapped).toEqual([]);
      expect(p.skipped.map((s) => s.name)).toContain(`${prefix}h.0.attn.c_attn.bias`);
      expect(p.aliases.map((a) => a.of)).toEqual([`${prefix}wte.weight`]); // GPT-2 ties lm_head to wte
    },
  );
});

describe('naming: GPT-NeoX / Pythia', () => {
  it('de-interleaves query_key_value by head, from config.json', async () => {
    const p = await plan(neox({ heads: 4 }));
    const c = cells(p);
    expect(c['gpt_neox.layers.1.attention.query_key_value.weight']).toEqual([
      1,
      'attention.query_key_value',
      'gpt_neox.layers.1.attention.query_key_value',
    ]);
    expect(c['gpt_neox.layers.1.attention.query_key_value.k']).toEqual([1, 'self_attn.k_proj', null]);
    expect(c['gpt_neox.layers.0.attention.dense.weight']).toEqual([0, 'self_attn.o_proj', 'gpt_neox.layers.0.attention.dense']);
    expect(c['gpt_neox.layers.0.mlp.dense_h_to_4h.weight']).toEqual([0, 'mlp.up_proj', 'gpt_neox.layers.0.mlp.dense_h_to_4h']);
    expect(c['gpt_neox.layers.0.mlp.dense_4h_to_h.weight']).toEqual([0, 'mlp.down_proj', 'gpt_neox.layers.0.mlp.dense_4h_to_h']);
    expect(c['embed_out.weight']).toEqual([null, 'lm_head', 'embed_out']);
    const q = p.jobs.find((j) => j.name === 'gpt_neox.layers.0.attention.query_key_value.q')!;
    expect(q.derive).toMatchObject({
      op: 'rows',
      ranges: [
        [0, 4],
        [12, 16],
        [24, 28],
        [36, 40],
      ],
    });
    expect(p.aliases).toEqual([]); // embed_out is the head
    expect(p.skipped.find((s) => s.name.endsWith('inv_freq'))?.reason).toMatch(/rotary/);
  });

  it('says why it does not split when the head count is unknown', async () => {
    const p = await plan(neox({ config: false }));
    expect(p.jobs.some((j) => j.name.endsWith('query_key_value.q'))).toBe(false);
    expect(p.jobs.some((j) => j.name.endsWith('query_key_value.weight'))).toBe(true);
    expect(p.skipped.find((s) => s.name === 'gpt_neox.layers.0.attention.query_key_value.{q,k,v}')?.reason).toMatch(/num_attention_heads/);
  });
});

describe('naming: Phi-3', () => {
  it('has both views: the fused types for Spectrum, and q/k/v, gate/up (GQA from config.json)', async () => {
    const p = await plan(phi3({ heads: 4, kvHeads: 2 }));
    const c = cells(p);
    expect(c['model.layers.0.self_attn.qkv_proj.weight']).toEqual([0, 'self_attn.qkv_proj', 'model.layers.0.self_attn.qkv_proj']);
    expect(c['model.layers.0.mlp.gate_up_proj.weight']).toEqual([0, 'mlp.gate_up_proj', 'model.layers.0.mlp.gate_up_proj']);
    const byName = new Map(p.jobs.map((j) => [j.name, j]));
    expect(['q', 'k', 'v'].map((s) => byName.get(`model.layers.1.self_attn.qkv_proj.${s}`)!.rows)).toEqual([16, 8, 8]);
    expect(['gate', 'up'].map((s) => byName.get(`model.layers.1.mlp.gate_up_proj.${s}`)!.module)).toEqual(['mlp.gate_proj', 'mlp.up_proj']);
    expect(p.unmapped).toEqual([]);
  });
});

describe('naming: Gemma 2, OLMo 2, Qwen3, Mistral', () => {
  it.each(['gemma2', 'olmo2', 'qwen3', 'mistral'] as const)(
    '%s: projections direct, norms (and q_norm/k_norm) 1-D vectors',
    async (kind) => {
      const p = await plan(llamaLike(kind));
      expect(p.unmapped).toEqual([]);
      const modules = new Set(p.jobs.filter((j) => !j.vector && j.layer !== null).map((j) => j.module));
      expect([...modules].sort()).toEqual([
        'mlp.down_proj',
        'mlp.gate_proj',
        'mlp.up_proj',
        'self_attn.k_proj',
        'self_attn.o_proj',
        'self_attn.q_proj',
        'self_attn.v_proj',
      ]);
      const vectors = new Set(p.jobs.filter((j) => j.vector).map((j) => j.module));
      if (kind === 'gemma2')
        expect(vectors).toEqual(
          new Set(['input_layernorm', 'post_attention_layernorm', 'pre_feedforward_layernorm', 'post_feedforward_layernorm', 'model.norm']),
        );
      if (kind === 'qwen3' || kind === 'olmo2') expect(vectors.has('self_attn.q_norm') && vectors.has('self_attn.k_norm')).toBe(true);
      expect(p.aliases.length).toBe(kind === 'gemma2' ? 1 : 0);
    },
  );
});

describe('naming: mixture of experts', () => {
  it('Mixtral: w1/w2/w3 → mlp.experts gate/down/up with the expert kept; router its own type', async () => {
    const p = await plan(moe('mixtral', { experts: 4 }));
    const c = cells(p);
    expect(c['model.layers.1.block_sparse_moe.experts.3.w1.weight']).toEqual([
      1,
      'mlp.experts.gate_proj',
      'model.layers.1.block_sparse_moe.experts.3.w1',
    ]);
    expect(c['model.layers.1.block_sparse_moe.experts.3.w2.weight']).toEqual([
      1,
      'mlp.experts.down_proj',
      'model.layers.1.block_sparse_moe.experts.3.w2',
    ]);
    expect(c['model.layers.1.block_sparse_moe.experts.3.w3.weight']).toEqual([
      1,
      'mlp.experts.up_proj',
      'model.layers.1.block_sparse_moe.experts.3.w3',
    ]);
    expect(c['model.layers.0.block_sparse_moe.gate.weight']).toEqual([0, 'mlp.gate', 'model.layers.0.block_sparse_moe.gate']);
    const experts = p.jobs.filter((j) => j.module === 'mlp.experts.up_proj' && j.layer === 0).map((j) => j.expert);
    expect(experts).toEqual([0, 1, 2, 3]);
    // Spectrum's type keeps one type per expert (its own naming)
    expect(p.jobs.find((j) => j.name === 'model.layers.1.block_sparse_moe.experts.3.w1.weight')!.spectrumType).toBe(
      'block_sparse_moe.experts.3.w1',
    );
  });

  it.each(['qwen-moe', 'deepseek'] as const)('%s: experts, shared expert(s), router', async (kind) => {
    const p = await plan(moe(kind));
    expect(p.unmapped).toEqual([]);
    const shared = kind === 'deepseek' ? 'shared_experts' : 'shared_expert';
    const modules = new Set(p.jobs.filter((j) => j.layer === 1).map((j) => j.module));
    for (const m of [
      'mlp.gate',
      'mlp.experts.gate_proj',
      'mlp.experts.up_proj',
      'mlp.experts.down_proj',
      `mlp.${shared}.gate_proj`,
      `mlp.${shared}.down_proj`,
    ])
      expect(modules.has(m), m).toBe(true);
    if (kind === 'qwen-moe') expect(modules.has('mlp.shared_expert_gate')).toBe(true);
    if (kind === 'deepseek') expect(new Set(p.jobs.filter((j) => j.layer === 0).map((j) => j.module)).has('mlp.gate_proj')).toBe(true);
  });
});

describe('naming: Qwen3-Next / Qwen3.5 linear attention', () => {
  it.each(['model.', 'model.language_model.'])(
    'own linear_attn types beside the full-attention layers (prefix %s); conv1d, A_log, dt_bias skipped with reasons',
    async (prefix) => {
      const p = await plan(qwen3Next({ prefix }));
      expect(p.unmapped).toEqual([]);
      const byLayer = (l: number) => new Set(p.jobs.filter((j) => j.layer === l && !j.vector).map((j) => j.module));
      expect(byLayer(0)).toEqual(
        new Set([
          'linear_attn.in_proj_qkvz',
          'linear_attn.in_proj_ba',
          'linear_attn.out_proj',
          'mlp.gate_proj',
          'mlp.up_proj',
          'mlp.down_proj',
        ]),
      );
      expect(byLayer(3).has('self_attn.q_proj')).toBe(true);
      const reason = (suffix: string) => p.skipped.find((s) => s.name === `${prefix}layers.0.linear_attn.${suffix}`)?.reason;
      expect(reason('A_log')).toMatch(/A_log/);
      expect(reason('dt_bias')).toMatch(/dt_bias/);
      expect(reason('conv1d.weight')).toMatch(/3-D/);
    },
  );
});

describe('naming: GGUF (llama.cpp names)', () => {
  const info = (name: string, shape = [8, 32], dtype = 'Q8_0') => ({ name, dtype, shape, file: 'm.gguf', begin: 0, byteLength: 0 });
  it.each([
    ['blk.7.attn_q.weight', 7, 'self_attn.q_proj', 'model.layers.7.self_attn.q_proj'],
    ['blk.7.attn_output.weight', 7, 'self_attn.o_proj', 'model.layers.7.self_attn.o_proj'],
    ['blk.2.ffn_gate.weight', 2, 'mlp.gate_proj', 'model.layers.2.mlp.gate_proj'],
    ['blk.2.ffn_down.weight', 2, 'mlp.down_proj', 'model.layers.2.mlp.down_proj'],
    ['blk.2.ffn_gate_inp.weight', 2, 'mlp.gate', 'model.layers.2.mlp.gate'],
    ['token_embd.weight', null, 'model.embed_tokens', 'model.embed_tokens'],
    ['output.weight', null, 'lm_head', 'lm_head'],
  ])('%s → layer %s, %s (Spectrum name %s)', (name, layer, module, spectrumName) => {
    expect(tensorRole(info(name))).toMatchObject({ kind: 'matrix', family: 'gguf', match: { layer, module, spectrumName } });
  });
  it('treats stacked experts as a stack, norms as vectors, unknown quantizations as skipped', () => {
    expect(tensorRole(info('blk.1.ffn_up_exps.weight', [4, 16, 32]))).toMatchObject({
      kind: 'stacked',
      match: { module: 'mlp.experts.up_proj' },
    });
    expect(tensorRole(info('blk.1.attn_norm.weight', [32], 'F32'))).toMatchObject({ kind: 'vector', match: { module: 'input_layernorm' } });
    expect(tensorRole(info('blk.1.attn_q.weight', [8, 256], 'IQ2_XXS'))).toEqual({
      kind: 'skipped',
      reason: expect.stringMatching(/IQ2_XXS quantization is not dequantized/),
    });
  });
});
