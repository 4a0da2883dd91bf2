/**
 * The synthetic checkpoint of the whole-checkpoint benchmarks (bench/checkpoint.bench.ts here, bench/gpu-h100.sh on a
 * GPU machine): Qwen2.5-0.5B's tensors (24 layers, hidden 896, MLP 4864, 14 / 2 heads, the full 151,936 vocabulary,
 * tied embeddings, bf16: 988 MB), each matrix Gaussian plus a few planted rank-one spikes above the Marchenko–Pastur
 * edge (so that Spectrum's SNR has signal to find), seeded: the same bytes on every machine.
 *
 *   node synthetic-checkpoint.mjs --write FILE [--layers 24] [--vocab 151936] [--hidden 896] [--mlp 4864]
 *   (the bundle gpu-h100.sh makes of this file)
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { rng } from '../test-fixtures/builders/safetensors.ts';
import { floatToBf16 } from '../test-fixtures/builders/encode.ts';

export interface SyntheticShape {
  layers: number;
  vocab: number;
  /** the model width (896) and the MLP's (4864): smaller only to try the scripts on a software GPU */
  hidden?: number;
  mlp?: number;
}

/** Qwen2.5-0.5B itself. */
export const QWEN25_05B: Required<SyntheticShape> = { layers: 24, vocab: 151936, hidden: 896, mlp: 4864 };

export interface Tensor {
  name: string;
  shape: number[];
}

/** Qwen2.5-0.5B's tensors in its file's order (tied embeddings: no lm_head), with `layers` layers and a `vocab` vocabulary. */
export function qwen25_05b({ layers, vocab, hidden = QWEN25_05B.hidden, mlp = QWEN25_05B.mlp }: SyntheticShape): Tensor[] {
  const kv = 128;
  const out: Tensor[] = [{ name: 'model.embed_tokens.weight', shape: [vocab, hidden] }];
  for (let i = 0; i < layers; i++) {
    const p = `model.layers.${i}`;
    out.push(
      { name: `${p}.input_layernorm.weight`, shape: [hidden] },
      { name: `${p}.mlp.down_proj.weight`, shape: [hidden, mlp] },
      { name: `${p}.mlp.gate_proj.weight`, shape: [mlp, hidden] },
      { name: `${p}.mlp.up_proj.weight`, shape: [mlp, hidden] },
      { name: `${p}.post_attention_layernorm.weight`, shape: [hidden] },
      { name: `${p}.self_attn.k_proj.bias`, shape: [kv] },
      { name: `${p}.self_attn.k_proj.weight`, shape: [kv, hidden] },
      { name: `${p}.self_attn.o_proj.weight`, shape: [hidden, hidden] },
      { name: `${p}.self_attn.q_proj.bias`, shape: [hidden] },
      { name: `${p}.self_attn.q_proj.weight`, shape: [hidden, hidden] },
      { name: `${p}.self_attn.v_proj.bias`, shape: [kv] },
      { name: `${p}.self_attn.v_proj.weight`, shape: [kv, hidden] },
    );
  }
  out.push({ name: 'model.norm.weight', shape: [hidden] });
  return out;
}

/**
 * One tensor's bf16 bytes: a vector of ones (norms, biases) as a real checkpoint has them near 1, or a matrix
 * σ·G (G standard Gaussian) plus 1–4 rank-one spikes s·u vᵀ (u, v unit Gaussian) of 1.5 to 4.5 times the
 * Marchenko–Pastur edge σ(√rows + √cols).
 */
function tensorValues(t: Tensor, seed: number): Uint16Array {
  const r = rng(seed);
  const len = t.shape.reduce((a, b) => a * b, 1);
  const out = new Uint16Array(len);
  if (t.shape.length === 1) {
    for (let i = 0; i < len; i++) out[i] = floatToBf16(1 + 0.05 * r.normal());
    return out;
  }
  const [rows, cols] = t.shape;
  const sigma = 0.02;
  const w = new Float32Array(len);
  for (let i = 0; i < len; i++) w[i] = sigma * r.normal();
  const edge = sigma * (Math.sqrt(rows) + Math.sqrt(cols));
  const spikes = 1 + (seed % 4);
  const unit = (n: number) => {
    const v = Float64Array.from({ length: n }, () => r.normal());
    let ss = 0;
    for (const x of v) ss += x * x;
    return v.map((x) => x / Math.sqrt(ss));
  };
  for (let s = 0; s < spikes; s++) {
    const strength = edge * (1.5 + s);
    const u = unit(rows),
      v = unit(cols);
    for (let i = 0; i < rows; i++) {
      const ui = strength * u[i];
      for (let j = 0, o = i * cols; j < cols; j++) w[o + j] += ui * v[j];
    }
  }
  for (let i = 0; i < len; i++) out[i] = floatToBf16(w[i]);
  return out;
}

/** Writes the checkpoint tensor by tensor (never more than one tensor in memory): its size in bytes. */
export function writeCheckpoint(path: string, shape: SyntheticShape): { bytes: number; matrices: number } {
  const tensors = qwen25_05b(shape);
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let at = 0;
  for (const t of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 2);
    header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [at, at + size] };
    at += size;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(json.length), true);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, prefix);
    writeSync(fd, new TextEncoder().encode(json));
    tensors.forEach((t, i) => {
      const values = tensorValues(t, 1000 + i);
      writeSync(fd, new Uint8Array(values.buffer));
    });
  } finally {
    closeSync(fd);
  }
  return { bytes: 8 + json.length + at, matrices: tensors.filter((t) => t.shape.length === 2).length };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : undefined;
}

// Run as a script (the bundle on a GPU machine, where neither tsx nor the repository's node_modules travel).
const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) {
  const file = arg('write');
  if (!file) {
    console.error('usage: synthetic-checkpoint --write FILE [--layers N] [--vocab N] [--hidden N] [--mlp N]');
    process.exit(2);
  }
  const t0 = performance.now();
  const num = (key: keyof SyntheticShape) => Number(arg(key) ?? QWEN25_05B[key]);
  const shape = { layers: num('layers'), vocab: num('vocab'), hidden: num('hidden'), mlp: num('mlp') };
  const { bytes, matrices } = writeCheckpoint(file, shape);
  console.log(
    `${file}: synthetic Qwen2.5-0.5B-shaped, ${shape.layers} layers, vocab ${shape.vocab}, hidden ${shape.hidden}, MLP ${shape.mlp}, bf16, ${(bytes / 1e6).toFixed(0)} MB, ${matrices} matrices (written in ${((performance.now() - t0) / 1e3).toFixed(1)} s)`,
  );
}
