/**
 * What a naming rule says of a tensor name (docs/formats.md): the heatmap row ("module", named as in
 * Llama/Qwen checkpoints so that families line up), the layer, and how the stored tensor relates to
 * the out × in matrix of that module.
 */
export interface NameMatch {
  layer: number | null;
  module: string;
  /** MoE: which expert, kept so the heatmap can aggregate or expand */
  expert?: number;
  layout?: TensorLayout;
  /** Spectrum's module name when it is not the file's name without ".weight" (GGUF: the HF name) */
  spectrumName?: string;
}

/** fused projections: q|k|v by rows, q,k,v interleaved per head (GPT-NeoX), gate|up by rows */
export type FusedKind = 'qkv' | 'qkv_heads' | 'gate_up';

export interface TensorLayout {
  /** Conv1D (GPT-2): stored in × out; the module's out × in matrix is its transpose */
  transposed?: boolean;
  /** a fused tensor: analysed as stored (Spectrum's view) and split into per-projection views */
  fused?: FusedKind;
  /** GGUF: experts stacked in one 3-D tensor [experts, out, in]; one matrix per expert */
  stackedExperts?: boolean;
}

export interface NamingRule {
  family: string;
  pattern: RegExp;
  /** null: the pattern matched but the name is not one this family knows (the next rule is tried) */
  map(m: RegExpExecArray): NameMatch | null;
}

/** `model.`, `language_model.` (multimodal Gemma 3, Qwen3.5) and `model.` again, each optional */
export const HF_PREFIX = String.raw`^(?:model\.)?(?:language_model\.)?(?:model\.)?`;
