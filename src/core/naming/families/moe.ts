import { HF_PREFIX, type NamingRule } from './types.ts';

/** Mixtral's expert projections by their Llama names: w1 = gate, w2 = down, w3 = up. */
const MIXTRAL_PROJ = new Map([
  ['w1', 'gate_proj'],
  ['w2', 'down_proj'],
  ['w3', 'up_proj'],
]);

/**
 * Mixture of experts (Mixtral, Qwen-MoE, Qwen3-MoE, DeepSeek): one module type per projection with the
 * expert index kept (Spectrum itself makes one type per expert: `mlp.experts.7.w1`; its exports keep
 * that, from the file's names). Shared experts and the router are types of their own.
 */
export const MOE_RULES: NamingRule[] = [
  {
    family: 'moe',
    pattern: new RegExp(`${HF_PREFIX}layers\\.(\\d+)\\.(?:mlp|block_sparse_moe)\\.experts\\.(\\d+)\\.(\\w+)\\.weight$`),
    map: (m) => ({ layer: Number(m[1]), module: `mlp.experts.${MIXTRAL_PROJ.get(m[3]) ?? m[3]}`, expert: Number(m[2]) }),
  },
  {
    family: 'moe',
    pattern: new RegExp(`${HF_PREFIX}layers\\.(\\d+)\\.(?:mlp|block_sparse_moe)\\.gate\\.weight$`),
    map: (m) => ({ layer: Number(m[1]), module: 'mlp.gate' }),
  },
  {
    family: 'moe',
    pattern: new RegExp(`${HF_PREFIX}layers\\.(\\d+)\\.mlp\\.(shared_experts?)\\.(\\w+)\\.weight$`),
    map: (m) => ({ layer: Number(m[1]), module: `mlp.${m[2]}.${m[3]}` }),
  },
];
