/**
 * The naming table (docs/formats.md): each family maps its tensor names to a heatmap row ("module",
 * named as in Llama/Qwen checkpoints so that families line up) and a layer. New families are new
 * rules in families/; rules are tried in order and the first that knows a name wins.
 */
import { GGUF_RULES } from './families/gguf.ts';
import { GPT2_RULES, NEOX_RULES } from './families/gpt.ts';
import { LINEAR_ATTENTION_RULES, LLAMA_RULES, PHI3_RULES } from './families/llama.ts';
import { MOE_RULES } from './families/moe.ts';
import type { NamingRule } from './families/types.ts';

export type { FusedKind, NameMatch, NamingRule, TensorLayout } from './families/types.ts';

export const NAMING_RULES: NamingRule[] = [
  // specific layouts before the generic Llama rule, which would otherwise take qkv_proj as a plain type
  ...PHI3_RULES,
  ...MOE_RULES,
  ...LINEAR_ATTENTION_RULES,
  ...LLAMA_RULES,
  ...GPT2_RULES,
  ...NEOX_RULES,
  ...GGUF_RULES,
];

/**
 * Heatmap row order: attention, then MLP, as users read a block; fused and MoE types beside the
 * projections they hold; other types follow, sorted.
 */
export const MODULE_ORDER = [
  'self_attn.q_proj',
  'self_attn.k_proj',
  'self_attn.v_proj',
  'self_attn.o_proj',
  'mlp.gate_proj',
  'mlp.up_proj',
  'mlp.down_proj',
  'self_attn.qkv_proj',
  'attn.c_attn',
  'attention.query_key_value',
  'mlp.gate_up_proj',
  'mlp.gate',
  'mlp.experts.gate_proj',
  'mlp.experts.up_proj',
  'mlp.experts.down_proj',
  'mlp.shared_expert.gate_proj',
  'mlp.shared_expert.up_proj',
  'mlp.shared_expert.down_proj',
  'mlp.shared_experts.gate_proj',
  'mlp.shared_experts.up_proj',
  'mlp.shared_experts.down_proj',
  'mlp.shared_expert_gate',
];

export function compareModules(a: string, b: string): number {
  const ia = MODULE_ORDER.indexOf(a);
  const ib = MODULE_ORDER.indexOf(b);
  if (ia >= 0 || ib >= 0) return (ia < 0 ? Infinity : ia) - (ib < 0 ? Infinity : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}
