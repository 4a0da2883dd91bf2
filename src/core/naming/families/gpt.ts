import type { NamingRule } from './types.ts';

const GPT2_BLOCK = new Map<string, { module: string; fused?: 'qkv' }>(
  Object.entries({
    'attn.c_attn': { module: 'attn.c_attn', fused: 'qkv' },
    'attn.c_proj': { module: 'self_attn.o_proj' },
    'mlp.c_fc': { module: 'mlp.up_proj' },
    'mlp.c_proj': { module: 'mlp.down_proj' },
    ln_1: { module: 'input_layernorm' },
    ln_2: { module: 'post_attention_layernorm' },
  }),
);

/**
 * GPT-2: Conv1D weights are stored in × out; c_attn holds q, k, v side by side (columns), and stays its
 * own type as Spectrum scans it. The hub's gpt2 files have no `transformer.` prefix; fine-tunes do.
 */
export const GPT2_RULES: NamingRule[] = [
  {
    family: 'gpt2',
    pattern: /^(?:transformer\.)?h\.(\d+)\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj|ln_1|ln_2)\.weight$/,
    map: (m) => {
      const b = GPT2_BLOCK.get(m[2]);
      if (!b) return null;
      const conv = m[2].includes('.');
      return {
        layer: Number(m[1]),
        module: b.module,
        ...(conv ? { layout: { transposed: true, ...(b.fused ? { fused: b.fused } : {}) } } : {}),
      };
    },
  },
  {
    family: 'gpt2',
    pattern: /^(?:transformer\.)?(wte|wpe|ln_f)\.weight$/,
    map: (m) => ({ layer: null, module: m[1] === 'wte' ? 'model.embed_tokens' : m[1] === 'ln_f' ? 'model.norm' : 'wpe' }),
  },
];

const NEOX_BLOCK = new Map<string, { module: string; fused?: 'qkv_heads' }>(
  Object.entries({
    'attention.query_key_value': { module: 'attention.query_key_value', fused: 'qkv_heads' },
    'attention.dense': { module: 'self_attn.o_proj' },
    'mlp.dense_h_to_4h': { module: 'mlp.up_proj' },
    'mlp.dense_4h_to_h': { module: 'mlp.down_proj' },
    input_layernorm: { module: 'input_layernorm' },
    post_attention_layernorm: { module: 'post_attention_layernorm' },
  }),
);

/** GPT-NeoX / Pythia: query_key_value's rows are [q_h, k_h, v_h] for each head h in turn. */
export const NEOX_RULES: NamingRule[] = [
  {
    family: 'gpt-neox',
    pattern:
      /^gpt_neox\.layers\.(\d+)\.(attention\.query_key_value|attention\.dense|mlp\.dense_h_to_4h|mlp\.dense_4h_to_h|input_layernorm|post_attention_layernorm)\.weight$/,
    map: (m) => {
      const b = NEOX_BLOCK.get(m[2]);
      if (!b) return null;
      return { layer: Number(m[1]), module: b.module, ...(b.fused ? { layout: { fused: b.fused } } : {}) };
    },
  },
  {
    family: 'gpt-neox',
    pattern: /^(?:gpt_neox\.(embed_in|final_layer_norm)|(embed_out))\.weight$/,
    map: (m) => ({
      layer: null,
      module: m[1] === 'embed_in' ? 'model.embed_tokens' : m[1] === 'final_layer_norm' ? 'model.norm' : 'lm_head',
    }),
  },
];
