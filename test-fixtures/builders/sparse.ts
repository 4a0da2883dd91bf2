/**
 * Big checkpoints that cost no disk: safetensors files created at their full size with ftruncate
 * (sparse, so reading the unwritten bytes gives zeros), with real random values written only into
 * the tensors a test analyses. For checking that a reader touches the headers and the byte ranges it
 * needs, and nothing else, on a 28 GB model.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { floatToBf16 } from './encode.ts';
import { rng } from './safetensors.ts';

export interface SparseTensor {
  name: string;
  dtype: 'BF16' | 'F32';
  shape: number[];
}

const WIDTH = { BF16: 2, F32: 4 } as const;
const bytesOf = (t: SparseTensor) => t.shape.reduce((a, b) => a * b, 1) * WIDTH[t.dtype];

/** Qwen2.5-14B's tensors, in its files' order: 48 layers, hidden 5120, MLP 13824, 40 heads / 8 KV heads, vocab 152064, bf16. */
export function qwen25_14b(): SparseTensor[] {
  const [hidden, mlp, kv, vocab] = [5120, 13824, 1024, 152064];
  const t = (name: string, ...shape: number[]): SparseTensor => ({ name, dtype: 'BF16', shape });
  const out = [t('model.embed_tokens.weight', vocab, hidden)];
  for (let i = 0; i < 48; i++) {
    const p = `model.layers.${i}`;
    out.push(
      t(`${p}.input_layernorm.weight`, hidden),
      t(`${p}.mlp.down_proj.weight`, hidden, mlp),
      t(`${p}.mlp.gate_proj.weight`, mlp, hidden),
      t(`${p}.mlp.up_proj.weight`, mlp, hidden),
      t(`${p}.post_attention_layernorm.weight`, hidden),
      t(`${p}.self_attn.k_proj.bias`, kv),
      t(`${p}.self_attn.k_proj.weight`, kv, hidden),
      t(`${p}.self_attn.o_proj.weight`, hidden, hidden),
      t(`${p}.self_attn.q_proj.bias`, hidden),
      t(`${p}.self_attn.q_proj.weight`, hidden, hidden),
      t(`${p}.self_attn.v_proj.bias`, kv),
      t(`${p}.self_attn.v_proj.weight`, kv, hidden),
    );
  }
  out.push(t('model.norm.weight', hidden), t('lm_head.weight', vocab, hidden));
  return out;
}

/** A long embedding (vocab × hidden) and one small layer, bf16: a checkpoint whose embedding the CPU engine sums in Gram parts. */
export function longEmbeddingModel(vocab: number, hidden: number): SparseTensor[] {
  const t = (name: string, ...shape: number[]): SparseTensor => ({ name, dtype: 'BF16', shape });
  const p = 'model.layers.0';
  return [
    t('model.embed_tokens.weight', vocab, hidden),
    ...['q_proj', 'k_proj', 'v_proj', 'o_proj'].map((m) => t(`${p}.self_attn.${m}.weight`, hidden, hidden)),
    t(`${p}.mlp.gate_proj.weight`, 64, hidden),
    t(`${p}.mlp.up_proj.weight`, 64, hidden),
    t(`${p}.mlp.down_proj.weight`, hidden, 64),
  ];
}

export const QWEN25_14B_CONFIG = {
  architectures: ['Qwen2ForCausalLM'],
  model_type: 'qwen2',
  hidden_size: 5120,
  intermediate_size: 13824,
  num_hidden_layers: 48,
  num_attention_heads: 40,
  num_key_value_heads: 8,
  vocab_size: 152064,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
};

/** Values written in pieces of this many bytes: the builder's own memory stays small too. */
const WRITE_CHUNK = 4 * 1024 * 1024;

export interface SparseFile {
  path: string;
  size: number;
  /** bytes actually written (header and filled tensors) */
  written: number;
}

/**
 * One safetensors file of `tensors`, `size` bytes long but written only where `fill` says: those
 * tensors get Gaussian values (σ = 0.02, like trained weights), the rest stay unwritten zeros.
 */
export function writeSparseSafetensors(
  path: string,
  tensors: readonly SparseTensor[],
  fill: (t: SparseTensor) => boolean,
  seed = 1,
): SparseFile {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  const placed = tensors.map((t) => {
    const begin = offset;
    offset += bytesOf(t);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [begin, offset] };
    return { t, begin };
  });
  let json = JSON.stringify(header);
  while ((json.length + 8) % 8 !== 0) json += ' ';
  const text = Buffer.from(json, 'utf8');
  const dataStart = 8 + text.byteLength;
  const size = dataStart + offset;
  const fd = openSync(path, 'w');
  try {
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(text.byteLength));
    writeSync(fd, prefix, 0, 8, 0);
    writeSync(fd, text, 0, text.byteLength, 8);
    ftruncateSync(fd, size);
    let written = dataStart;
    const r = rng(seed);
    for (const { t, begin } of placed) {
      if (!fill(t)) continue;
      const total = bytesOf(t);
      for (let at = 0; at < total; at += WRITE_CHUNK) {
        const n = Math.min(WRITE_CHUNK, total - at);
        writeSync(fd, randomValues(t.dtype, n / WIDTH[t.dtype], r.normal), 0, n, dataStart + begin + at);
      }
      written += total;
    }
    return { path, size, written };
  } finally {
    closeSync(fd);
  }
}

function randomValues(dtype: SparseTensor['dtype'], count: number, normal: () => number): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(Float32Array.from({ length: count }, () => normal() * 0.02).buffer);
  const out = new Uint16Array(count);
  for (let i = 0; i < count; i++) out[i] = floatToBf16(normal() * 0.02);
  return new Uint8Array(out.buffer);
}

export interface SparseCheckpoint {
  dir: string;
  files: SparseFile[];
  /** bytes of all shards together */
  size: number;
  tensorCount: number;
}

/**
 * A sharded checkpoint in `dir`: the tensors in order across `shards` files of about equal size,
 * model.safetensors.index.json and config.json, as transformers writes them.
 */
export function writeSparseCheckpoint(
  dir: string,
  tensors: readonly SparseTensor[],
  opts: { shards: number; fill: (t: SparseTensor) => boolean; config?: object },
): SparseCheckpoint {
  mkdirSync(dir, { recursive: true });
  const total = tensors.reduce((a, t) => a + bytesOf(t), 0);
  const per = total / opts.shards;
  const groups: SparseTensor[][] = Array.from({ length: opts.shards }, () => []);
  let acc = 0;
  for (const t of tensors) {
    groups[Math.min(opts.shards - 1, Math.floor(acc / per))].push(t);
    acc += bytesOf(t);
  }
  const name = (i: number) => `model-${String(i + 1).padStart(5, '0')}-of-${String(opts.shards).padStart(5, '0')}.safetensors`;
  const weightMap: Record<string, string> = {};
  const files = groups.map((g, i) => {
    for (const t of g) weightMap[t.name] = name(i);
    return writeSparseSafetensors(join(dir, name(i)), g, opts.fill, i + 1);
  });
  writeFileSync(
    join(dir, 'model.safetensors.index.json'),
    JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2),
  );
  if (opts.config) writeFileSync(join(dir, 'config.json'), JSON.stringify(opts.config, null, 2));
  return { dir, files, size: files.reduce((a, f) => a + f.size, 0), tensorCount: tensors.length };
}

/** Bytes a file really holds on disk: a file system without sparse files would hold them all. */
export function allocatedBytes(path: string): number {
  return statSync(path).blocks * 512;
}
