import type { FusedKind } from './families/types.ts';

/** One projection split off a fused tensor: rows of its out × in matrix, concatenated. */
export interface SplitPart {
  /** appended to the module's name for the record's name: `…qkv_proj.q` */
  suffix: string;
  module: string;
  ranges: [number, number][];
}

const MODULES: Record<FusedKind, [string, string][]> = {
  qkv: [
    ['q', 'self_attn.q_proj'],
    ['k', 'self_attn.k_proj'],
    ['v', 'self_attn.v_proj'],
  ],
  qkv_heads: [
    ['q', 'self_attn.q_proj'],
    ['k', 'self_attn.k_proj'],
    ['v', 'self_attn.v_proj'],
  ],
  gate_up: [
    ['gate', 'mlp.gate_proj'],
    ['up', 'mlp.up_proj'],
  ],
};

/** A config.json integer: the first of `keys` that is a positive integer. */
export function num(config: Record<string, unknown> | null, ...keys: string[]): number | null {
  for (const k of keys) {
    const v = config && Object.hasOwn(config, k) ? config[k] : undefined;
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  }
  return null;
}

/**
 * The views of a fused `rows × cols` (out × in) matrix. q|k|v by rows (Phi-3, GPT-2 after transposing,
 * GGUF's attn_qkv): q has as many rows as the hidden size, k and v share the rest, unless config.json
 * gives heads and head size (GQA). GPT-NeoX interleaves [q_h, k_h, v_h] per head, so it needs the head
 * count: without it the split is not guessed, and the reason is returned instead.
 */
export function splitFused(
  kind: FusedKind,
  rows: number,
  cols: number,
  config: Record<string, unknown> | null,
): SplitPart[] | { reason: string } {
  const parts = (ranges: [number, number][][]): SplitPart[] =>
    MODULES[kind].map(([suffix, module], i) => ({ suffix, module, ranges: ranges[i] }));
  if (kind === 'gate_up') {
    if (rows % 2 !== 0) return { reason: `gate|up split: ${rows} rows do not halve` };
    return parts([[[0, rows / 2]], [[rows / 2, rows]]]);
  }
  const heads = num(config, 'num_attention_heads', 'n_head');
  if (kind === 'qkv_heads') {
    if (heads === null)
      return { reason: 'q/k/v split needs num_attention_heads (config.json beside the weights): rows are interleaved per head' };
    if (rows % (3 * heads) !== 0) return { reason: `q/k/v split: ${rows} rows are not 3 × ${heads} heads` };
    const hd = rows / (3 * heads);
    const ranges = [0, 1, 2].map((p) =>
      Array.from({ length: heads }, (_, h): [number, number] => [(3 * h + p) * hd, (3 * h + p + 1) * hd]),
    );
    return parts(ranges);
  }
  let q = cols;
  let kv = (rows - cols) / 2;
  if (heads !== null) {
    const hidden = num(config, 'hidden_size', 'n_embd') ?? cols;
    const hd = num(config, 'head_dim') ?? hidden / heads;
    const kvHeads = num(config, 'num_key_value_heads') ?? heads;
    if (Number.isInteger(hd) && (heads + 2 * kvHeads) * hd === rows) {
      q = heads * hd;
      kv = kvHeads * hd;
    }
  }
  if (!(Number.isInteger(kv) && kv > 0 && q + 2 * kv === rows))
    return { reason: `q/k/v split: ${rows} rows are not q (${q}) plus two equal k and v` };
  return parts([[[0, q]], [[q, q + kv]], [[q + kv, rows]]]);
}
