/**
 * The naming table (design.md §4): each family maps its tensor names to a heatmap row ("module",
 * named as in Llama/Qwen checkpoints so that families line up) and a layer. New families are new
 * rows here. Rules are tried in order; the first match wins.
 */
export interface NameMatch {
  layer: number | null;
  module: string;
  /** MoE: which expert, kept so the heatmap can aggregate or expand */
  expert?: number;
}

export interface NamingRule {
  family: string;
  pattern: RegExp;
  map(m: RegExpExecArray): NameMatch;
}

const LLAMA_PREFIX = String.raw`^(?:model\.)?(?:language_model\.)?(?:model\.)?`;

export const NAMING_RULES: NamingRule[] = [
  {
    // Llama, Qwen2/2.5/3, Mistral, OLMo/OLMo 2, Gemma: model.layers.N.{self_attn,mlp}.X_proj.weight
    family: 'llama',
    pattern: new RegExp(`${LLAMA_PREFIX}layers\\.(\\d+)\\.(self_attn|mlp)\\.(\\w+)\\.weight$`),
    map: (m) => ({ layer: Number(m[1]), module: `${m[2]}.${m[3]}` }),
  },
  {
    // per-layer norms of the same families (1-D: Spectrum's score only)
    family: 'llama',
    pattern: new RegExp(`${LLAMA_PREFIX}layers\\.(\\d+)\\.(\\w*norm\\w*)\\.weight$`),
    map: (m) => ({ layer: Number(m[1]), module: m[2] }),
  },
  {
    family: 'llama',
    pattern: new RegExp(`${LLAMA_PREFIX}(embed_tokens|norm)\\.weight$`),
    map: (m) => ({ layer: null, module: `model.${m[1]}` }),
  },
  {
    family: 'llama',
    pattern: /^lm_head\.weight$/,
    map: () => ({ layer: null, module: 'lm_head' }),
  },
];

/** Heatmap row order: attention, then MLP, as users read a block; other types follow, sorted. */
export const MODULE_ORDER = [
  'self_attn.q_proj',
  'self_attn.k_proj',
  'self_attn.v_proj',
  'self_attn.o_proj',
  'mlp.gate_proj',
  'mlp.up_proj',
  'mlp.down_proj',
];

export function compareModules(a: string, b: string): number {
  const ia = MODULE_ORDER.indexOf(a);
  const ib = MODULE_ORDER.indexOf(b);
  if (ia >= 0 || ib >= 0) return (ia < 0 ? Infinity : ia) - (ib < 0 ? Infinity : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}
