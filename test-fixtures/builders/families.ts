/**
 * Tiny checkpoints of every family, with the real names and layouts (docs/formats.md): Conv1D stored
 * in × out, fused q|k|v by rows or interleaved per head, MoE experts, linear attention, LoRA adapters.
 * Each builder also returns the matrices it fused, so tests can check that a split gives them back.
 */
import { buildSafetensors, gaussianMatrix, type FixtureTensor } from './safetensors.ts';

export interface FamilyFixture {
  files: Map<string, Uint8Array>;
  /** out × in matrices, by the name their split view should have */
  parts: Map<string, { rows: number; cols: number; values: Float32Array }>;
}

const json = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));

class Writer {
  tensors: FixtureTensor[] = [];
  parts: FamilyFixture['parts'] = new Map();
  private seed = 1;
  mat(name: string, rows: number, cols: number, dtype = 'F32'): Float32Array {
    const values = gaussianMatrix(rows, cols, this.seed++, 1 / Math.sqrt(cols));
    this.tensors.push({ name, dtype, shape: [rows, cols], values });
    return values;
  }
  vec(name: string, n: number, dtype = 'F32'): void {
    this.tensors.push({ name, dtype, shape: [n], values: Float32Array.from({ length: n }, (_, i) => 1 + i / n) });
  }
  raw(name: string, shape: number[], values: Float32Array, dtype = 'F32'): void {
    this.tensors.push({ name, dtype, shape, values });
  }
  /** a matrix that only a split gives back: kept, not written */
  part(name: string, rows: number, cols: number): Float32Array {
    const values = gaussianMatrix(rows, cols, this.seed++, 1 / Math.sqrt(cols));
    this.parts.set(name, { rows, cols, values });
    return values;
  }
  done(file: string, side: Record<string, unknown> = {}): FamilyFixture {
    const files = new Map<string, Uint8Array>([[file, buildSafetensors(this.tensors)]]);
    for (const [n, v] of Object.entries(side)) files.set(n, json(v));
    return { files, parts: this.parts };
  }
}

function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = m[i * cols + j];
  return out;
}

/** GPT-2: Conv1D (in × out), c_attn = [q | k | v] by columns; `prefix` '' is the hub's own gpt2 file. */
export function gpt2(opts: { layers?: number; hidden?: number; prefix?: string } = {}): FamilyFixture {
  const { layers = 2, hidden: h = 16, prefix = 'transformer.' } = opts;
  const w = new Writer();
  w.mat(`${prefix}wte.weight`, 64, h);
  w.mat(`${prefix}wpe.weight`, 32, h);
  for (let l = 0; l < layers; l++) {
    const p = `${prefix}h.${l}`;
    const [q, k, v] = ['q', 'k', 'v'].map((s) => w.part(`${p}.attn.c_attn.${s}`, h, h));
    // stored in × out: row i holds input feature i's weights to q (cols 0..h), k, v
    const fused = new Float32Array(h * 3 * h);
    [q, k, v].forEach((m, s) => {
      const t = transpose(m, h, h);
      for (let i = 0; i < h; i++) fused.set(t.subarray(i * h, (i + 1) * h), i * 3 * h + s * h);
    });
    w.raw(`${p}.attn.c_attn.weight`, [h, 3 * h], fused);
    w.vec(`${p}.attn.c_attn.bias`, 3 * h);
    w.mat(`${p}.attn.c_proj.weight`, h, h);
    w.mat(`${p}.mlp.c_fc.weight`, h, 4 * h);
    w.mat(`${p}.mlp.c_proj.weight`, 4 * h, h);
    w.vec(`${p}.ln_1.weight`, h);
    w.vec(`${p}.ln_2.weight`, h);
  }
  w.vec(`${prefix}ln_f.weight`, h);
  return w.done('model.safetensors', { 'config.json': { model_type: 'gpt2', n_embd: h, n_head: 2, n_layer: layers } });
}

/** GPT-NeoX / Pythia: query_key_value rows are [q_h, k_h, v_h] for each head h. */
export function neox(opts: { layers?: number; hidden?: number; heads?: number; config?: boolean } = {}): FamilyFixture {
  const { layers = 2, hidden: h = 16, heads = 4, config = true } = opts;
  const hd = h / heads;
  const w = new Writer();
  w.mat('gpt_neox.embed_in.weight', 64, h);
  for (let l = 0; l < layers; l++) {
    const p = `gpt_neox.layers.${l}`;
    const [q, k, v] = ['q', 'k', 'v'].map((s) => w.part(`${p}.attention.query_key_value.${s}`, h, h));
    const fused = new Float32Array(3 * h * h);
    for (let head = 0; head < heads; head++) {
      [q, k, v].forEach((m, s) => fused.set(m.subarray(head * hd * h, (head + 1) * hd * h), (3 * head + s) * hd * h));
    }
    w.raw(`${p}.attention.query_key_value.weight`, [3 * h, h], fused);
    w.vec(`${p}.attention.rotary_emb.inv_freq`, hd / 2);
    w.mat(`${p}.attention.dense.weight`, h, h);
    w.mat(`${p}.mlp.dense_h_to_4h.weight`, 4 * h, h);
    w.mat(`${p}.mlp.dense_4h_to_h.weight`, h, 4 * h);
    w.vec(`${p}.input_layernorm.weight`, h);
    w.vec(`${p}.post_attention_layernorm.weight`, h);
  }
  w.vec('gpt_neox.final_layer_norm.weight', h);
  w.mat('embed_out.weight', 64, h);
  return w.done(
    'model.safetensors',
    config ? { 'config.json': { model_type: 'gpt_neox', hidden_size: h, num_attention_heads: heads } } : {},
  );
}

/** Phi-3: qkv_proj = [q; k; v] and gate_up_proj = [gate; up] by rows; `kvHeads` < heads for GQA. */
export function phi3(opts: { layers?: number; hidden?: number; heads?: number; kvHeads?: number } = {}): FamilyFixture {
  const { layers = 2, hidden: h = 16, heads = 4, kvHeads = 2 } = opts;
  const kv = (h / heads) * kvHeads;
  const w = new Writer();
  w.mat('model.embed_tokens.weight', 64, h);
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    const q = w.part(`${p}.self_attn.qkv_proj.q`, h, h);
    const k = w.part(`${p}.self_attn.qkv_proj.k`, kv, h);
    const v = w.part(`${p}.self_attn.qkv_proj.v`, kv, h);
    w.raw(`${p}.self_attn.qkv_proj.weight`, [h + 2 * kv, h], Float32Array.from([...q, ...k, ...v]));
    w.mat(`${p}.self_attn.o_proj.weight`, h, h);
    const gate = w.part(`${p}.mlp.gate_up_proj.gate`, 3 * h, h);
    const up = w.part(`${p}.mlp.gate_up_proj.up`, 3 * h, h);
    w.raw(`${p}.mlp.gate_up_proj.weight`, [6 * h, h], Float32Array.from([...gate, ...up]));
    w.mat(`${p}.mlp.down_proj.weight`, h, 3 * h);
    w.vec(`${p}.input_layernorm.weight`, h);
    w.vec(`${p}.post_attention_layernorm.weight`, h);
  }
  w.vec('model.norm.weight', h);
  w.mat('lm_head.weight', 64, h);
  return w.done('model.safetensors', {
    'config.json': {
      model_type: 'phi3',
      hidden_size: h,
      num_attention_heads: heads,
      num_key_value_heads: kvHeads,
      tie_word_embeddings: false,
    },
  });
}

/** Llama-layout families with their extra norms: Gemma 2 (four per layer), OLMo 2 and Qwen3 (q_norm, k_norm). */
export function llamaLike(kind: 'gemma2' | 'olmo2' | 'qwen3' | 'mistral', opts: { layers?: number; hidden?: number } = {}): FamilyFixture {
  const { layers = 2, hidden: h = 16 } = opts;
  const w = new Writer();
  w.mat('model.embed_tokens.weight', 64, h, 'BF16');
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    for (const m of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) w.mat(`${p}.self_attn.${m}.weight`, h, h, 'BF16');
    w.mat(`${p}.mlp.gate_proj.weight`, 2 * h, h, 'BF16');
    w.mat(`${p}.mlp.up_proj.weight`, 2 * h, h, 'BF16');
    w.mat(`${p}.mlp.down_proj.weight`, h, 2 * h, 'BF16');
    const norms = {
      gemma2: ['input_layernorm', 'post_attention_layernorm', 'pre_feedforward_layernorm', 'post_feedforward_layernorm'],
      olmo2: ['post_attention_layernorm', 'post_feedforward_layernorm'],
      qwen3: ['input_layernorm', 'post_attention_layernorm'],
      mistral: ['input_layernorm', 'post_attention_layernorm'],
    }[kind];
    for (const n of norms) w.vec(`${p}.${n}.weight`, h);
    if (kind === 'olmo2') for (const n of ['q_norm', 'k_norm']) w.vec(`${p}.self_attn.${n}.weight`, h);
    if (kind === 'qwen3') for (const n of ['q_norm', 'k_norm']) w.vec(`${p}.self_attn.${n}.weight`, h / 4);
  }
  w.vec('model.norm.weight', h);
  if (kind !== 'gemma2') w.mat('lm_head.weight', 64, h, 'BF16');
  return w.done('model.safetensors', { 'config.json': { model_type: kind, hidden_size: h, num_attention_heads: 4 } });
}

/** MoE: Mixtral (block_sparse_moe.experts.E.w1/w2/w3), Qwen-MoE (shared_expert, shared_expert_gate), DeepSeek (shared_experts, dense first layer). */
export function moe(
  kind: 'mixtral' | 'qwen-moe' | 'deepseek',
  opts: { layers?: number; experts?: number; hidden?: number } = {},
): FamilyFixture {
  const { layers = 2, experts = 4, hidden: h = 16 } = opts;
  const w = new Writer();
  w.mat('model.embed_tokens.weight', 64, h);
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    for (const m of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) w.mat(`${p}.self_attn.${m}.weight`, h, h);
    if (kind === 'deepseek' && l === 0) {
      w.mat(`${p}.mlp.gate_proj.weight`, 2 * h, h);
      w.mat(`${p}.mlp.up_proj.weight`, 2 * h, h);
      w.mat(`${p}.mlp.down_proj.weight`, h, 2 * h);
      continue;
    }
    const block = kind === 'mixtral' ? 'block_sparse_moe' : 'mlp';
    w.mat(`${p}.${block}.gate.weight`, experts, h);
    for (let e = 0; e < experts; e++) {
      const names = kind === 'mixtral' ? ['w1', 'w2', 'w3'] : ['gate_proj', 'down_proj', 'up_proj'];
      w.mat(`${p}.${block}.experts.${e}.${names[0]}.weight`, h, h);
      w.mat(`${p}.${block}.experts.${e}.${names[1]}.weight`, h, h);
      w.mat(`${p}.${block}.experts.${e}.${names[2]}.weight`, h, h);
    }
    if (kind !== 'mixtral') {
      const shared = kind === 'deepseek' ? 'shared_experts' : 'shared_expert';
      w.mat(`${p}.mlp.${shared}.gate_proj.weight`, 2 * h, h);
      w.mat(`${p}.mlp.${shared}.up_proj.weight`, 2 * h, h);
      w.mat(`${p}.mlp.${shared}.down_proj.weight`, h, 2 * h);
      if (kind === 'qwen-moe') w.mat(`${p}.mlp.shared_expert_gate.weight`, 1, h);
    }
  }
  w.vec('model.norm.weight', h);
  w.mat('lm_head.weight', 64, h);
  return w.done('model.safetensors');
}

/** Qwen3-Next / Qwen3.5 hybrid: linear-attention layers (in_proj_qkvz, in_proj_ba, out_proj, conv1d, A_log, dt_bias), every 4th layer full attention. */
export function qwen3Next(opts: { layers?: number; hidden?: number; prefix?: string } = {}): FamilyFixture {
  const { layers = 4, hidden: h = 16, prefix = 'model.' } = opts;
  const w = new Writer();
  w.mat(`${prefix}embed_tokens.weight`, 64, h);
  for (let l = 0; l < layers; l++) {
    const p = `${prefix}layers.${l}`;
    if (l % 4 === 3) {
      w.mat(`${p}.self_attn.q_proj.weight`, 2 * h, h);
      for (const m of ['k_proj', 'v_proj', 'o_proj']) w.mat(`${p}.self_attn.${m}.weight`, h, h);
      for (const m of ['q_norm', 'k_norm']) w.vec(`${p}.self_attn.${m}.weight`, 4);
    } else {
      w.mat(`${p}.linear_attn.in_proj_qkvz.weight`, 4 * h, h);
      w.mat(`${p}.linear_attn.in_proj_ba.weight`, 8, h);
      w.mat(`${p}.linear_attn.out_proj.weight`, h, h);
      w.raw(`${p}.linear_attn.conv1d.weight`, [3 * h, 1, 4], gaussianMatrix(3 * h, 4, 7));
      w.raw(`${p}.linear_attn.A_log`, [4], Float32Array.from([0.1, 0.2, 0.3, 0.4]));
      w.raw(`${p}.linear_attn.dt_bias`, [4], Float32Array.from([1, 1, 1, 1]));
      w.vec(`${p}.linear_attn.norm.weight`, 4);
    }
    w.mat(`${p}.mlp.gate_proj.weight`, 2 * h, h);
    w.mat(`${p}.mlp.up_proj.weight`, 2 * h, h);
    w.mat(`${p}.mlp.down_proj.weight`, h, 2 * h);
    w.vec(`${p}.input_layernorm.weight`, h);
  }
  w.vec(`${prefix}norm.weight`, h);
  w.mat('lm_head.weight', 64, h);
  return w.done('model.safetensors');
}

/**
 * A PEFT LoRA adapter of `targets` (module paths of the base, e.g. `model.layers.0.self_attn.q_proj`),
 * with the base's out × in shapes. `parts` holds each module's B and A.
 */
export function loraAdapter(
  targets: { module: string; out: number; in: number }[],
  opts: { r?: number; alpha?: number } = {},
): FamilyFixture {
  const { r = 4, alpha = 8 } = opts;
  const w = new Writer();
  for (const t of targets) {
    const a = w.mat(`base_model.model.${t.module}.lora_A.weight`, r, t.in);
    const b = w.mat(`base_model.model.${t.module}.lora_B.weight`, t.out, r);
    w.parts.set(`${t.module}.A`, { rows: r, cols: t.in, values: a });
    w.parts.set(`${t.module}.B`, { rows: t.out, cols: r, values: b });
  }
  return w.done('adapter_model.safetensors', {
    'adapter_config.json': {
      peft_type: 'LORA',
      r,
      lora_alpha: alpha,
      target_modules: [...new Set(targets.map((t) => t.module.split('.').pop()))],
    },
  });
}
