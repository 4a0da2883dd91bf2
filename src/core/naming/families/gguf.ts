import type { NameMatch, NamingRule } from './types.ts';

/**
 * llama.cpp's tensor names (GGUF) mapped onto the HF ones. Spectrum never sees a GGUF, so its module
 * names for these are the HF names of the same weights (`spectrumName`): a YAML made from a GGUF
 * selects the same modules of the model it was converted from.
 */
const BLOCK = new Map<string, { module: string; fused?: 'qkv'; stacked?: boolean }>(
  Object.entries({
    attn_q: { module: 'self_attn.q_proj' },
    attn_k: { module: 'self_attn.k_proj' },
    attn_v: { module: 'self_attn.v_proj' },
    attn_output: { module: 'self_attn.o_proj' },
    // llama.cpp's converters write q|k|v by rows for every family (GPT-NeoX's heads are de-interleaved on conversion)
    attn_qkv: { module: 'self_attn.qkv_proj', fused: 'qkv' },
    ffn_gate: { module: 'mlp.gate_proj' },
    ffn_up: { module: 'mlp.up_proj' },
    ffn_down: { module: 'mlp.down_proj' },
    ffn_gate_inp: { module: 'mlp.gate' },
    ffn_gate_exps: { module: 'mlp.experts.gate_proj', stacked: true },
    ffn_up_exps: { module: 'mlp.experts.up_proj', stacked: true },
    ffn_down_exps: { module: 'mlp.experts.down_proj', stacked: true },
    ffn_gate_shexp: { module: 'mlp.shared_expert.gate_proj' },
    ffn_up_shexp: { module: 'mlp.shared_expert.up_proj' },
    ffn_down_shexp: { module: 'mlp.shared_expert.down_proj' },
    ffn_gate_inp_shexp: { module: 'mlp.shared_expert_gate' },
    // Norms by their Llama roles; Gemma 2's post_attention_norm keeps its own name so no two collide.
    attn_norm: { module: 'input_layernorm' },
    ffn_norm: { module: 'post_attention_layernorm' },
    post_attention_norm: { module: 'post_attention_norm' },
    post_ffw_norm: { module: 'post_feedforward_layernorm' },
    attn_q_norm: { module: 'self_attn.q_norm' },
    attn_k_norm: { module: 'self_attn.k_norm' },
  }),
);

const TOP = new Map([
  ['token_embd', 'model.embed_tokens'],
  ['output', 'lm_head'],
  ['output_norm', 'model.norm'],
]);

export const GGUF_RULES: NamingRule[] = [
  {
    family: 'gguf',
    pattern: /^blk\.(\d+)\.(\w+)\.weight$/,
    map: (m): NameMatch | null => {
      const b = BLOCK.get(m[2]);
      if (!b) return null;
      const layer = Number(m[1]);
      const layout = b.fused ? { fused: b.fused } : b.stacked ? { stackedExperts: true } : undefined;
      return { layer, module: b.module, spectrumName: `model.layers.${layer}.${b.module}`, ...(layout ? { layout } : {}) };
    },
  },
  {
    family: 'gguf',
    pattern: /^(token_embd|output|output_norm)\.weight$/,
    map: (m) => {
      const module = TOP.get(m[1]);
      return module === undefined ? null : { layer: null, module, spectrumName: module };
    },
  },
];
