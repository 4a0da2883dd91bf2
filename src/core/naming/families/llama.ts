import { HF_PREFIX, type NamingRule } from './types.ts';

/**
 * Llama, Qwen2/2.5/3, Mistral, OLMo/OLMo 2, Gemma/Gemma 2/3, DeepSeek attention: the HF layout every
 * other family is mapped onto. Gemma's extra norms, OLMo 2's and Qwen3's q_norm/k_norm are 1-D: they
 * match here and become vectors (Spectrum's score only).
 */
export const LLAMA_RULES: NamingRule[] = [
  {
    family: 'llama',
    pattern: new RegExp(`${HF_PREFIX}layers\\.(\\d+)\\.(self_attn|mlp)\\.(\\w+)\\.weight$`),
    map: (m) => ({ layer: Number(m[1]), module: `${m[2]}.${m[3]}` }),
  },
  {
    // per-layer norms (1-D: Spectrum's score only)
    family: 'llama',
    pattern: new RegExp(`${HF_PREFIX}layers\\.(\\d+)\\.(\\w*norm\\w*)\\.weight$`),
    map: (m) => ({ layer: Number(m[1]), module: m[2] }),
  },
  {
    family: 'llama',
    pattern: new RegExp(`${HF_PREFIX}(embed_tokens|norm)\\.weight$`),
    map: (m) => ({ layer: null, module: `model.${m[1]}` }),
  },
  {
    family: 'llama',
    pattern: /^lm_head\.weight$/,
    map: () => ({ layer: null, module: 'lm_head' }),
  },
];

/** Phi-3: q|k|v and gate|up fused by rows. The fused tensor is its own type (Spectrum scans it so). */
export const PHI3_RULES: NamingRule[] = [
  {
    family: 'phi3',
    pattern: new RegExp(`${HF_PREFIX}layers\\.(\\d+)\\.self_attn\\.qkv_proj\\.weight$`),
    map: (m) => ({ layer: Number(m[1]), module: 'self_attn.qkv_proj', layout: { fused: 'qkv' } }),
  },
  {
    family: 'phi3',
    pattern: new RegExp(`${HF_PREFIX}layers\\.(\\d+)\\.mlp\\.gate_up_proj\\.weight$`),
    map: (m) => ({ layer: Number(m[1]), module: 'mlp.gate_up_proj', layout: { fused: 'gate_up' } }),
  },
];

/**
 * Qwen3.5 / Qwen3-Next hybrid layers: linear-attention (Gated DeltaNet) projections are their own types,
 * in the same grid as the full-attention layers (which match the Llama rules). Its conv1d is 3-D and
 * A_log / dt_bias are parameters, not module weights: tensorRole skips them with a reason.
 */
export const LINEAR_ATTENTION_RULES: NamingRule[] = [
  {
    family: 'qwen3-next',
    pattern: new RegExp(`${HF_PREFIX}layers\\.(\\d+)\\.linear_attn\\.(\\w+)\\.weight$`),
    map: (m) => ({ layer: Number(m[1]), module: `linear_attn.${m[2]}` }),
  },
];
