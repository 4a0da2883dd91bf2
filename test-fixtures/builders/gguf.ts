/**
 * Writes GGUF files in memory (v3, little-endian), from tensors given in our row-major shapes, and
 * converts a safetensors checkpoint of the Llama layout into one with llama.cpp's names.
 */
import { memorySource } from '../../src/core/formats/byte-source.ts';
import { GGML_TYPE_BY_NAME } from '../../src/core/formats/gguf-types.ts';
import { readTensorAsF32 } from '../../src/core/formats/read-tensor.ts';
import { readSafetensorsHeader } from '../../src/core/formats/safetensors.ts';
import { encodeValues } from './encode.ts';
import { quantize } from './gguf-quantize.ts';

export type GgufValue =
  { type: 'u32' | 'f32' | 'string' | 'bool' | 'u64'; value: number | string | boolean } | { type: 'strings'; value: string[] };

export interface GgufTensor {
  name: string;
  type: string;
  /** row-major, as our TensorInfo has it (GGUF stores it reversed) */
  shape: number[];
  values?: ArrayLike<number>;
  /** raw bytes instead of values */
  bytes?: Uint8Array;
}

class Out {
  private chunks: Uint8Array[] = [];
  length = 0;
  bytes(b: Uint8Array) {
    this.chunks.push(b);
    this.length += b.byteLength;
  }
  u32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.bytes(b);
  }
  u64(v: number | bigint) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    this.bytes(b);
  }
  string(s: string) {
    const t = new TextEncoder().encode(s);
    this.u64(t.byteLength);
    this.bytes(t);
  }
  pad(alignment: number) {
    const n = (alignment - (this.length % alignment)) % alignment;
    if (n) this.bytes(new Uint8Array(n));
  }
  join(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }
}

export function tensorBytes(t: GgufTensor): Uint8Array {
  if (t.bytes) return t.bytes;
  const values = t.values ?? [];
  if (t.type === 'F32' || t.type === 'F16' || t.type === 'BF16') return encodeValues(t.type, values);
  return quantize(t.type, values, t.shape[t.shape.length - 1]);
}

export function buildGguf(tensors: GgufTensor[], metadata: Record<string, GgufValue> = {}, opts: { alignment?: number } = {}): Uint8Array {
  const alignment = opts.alignment ?? 32;
  const out = new Out();
  out.bytes(new TextEncoder().encode('GGUF'));
  out.u32(3);
  out.u64(tensors.length);
  const kv = Object.entries(metadata);
  if (opts.alignment) kv.push(['general.alignment', { type: 'u32', value: alignment }]);
  out.u64(kv.length);
  const TYPE = { u32: 4, f32: 6, bool: 7, string: 8, u64: 10 } as const;
  for (const [key, v] of kv) {
    out.string(key);
    if (v.type === 'strings') {
      out.u32(9);
      out.u32(8);
      out.u64(v.value.length);
      for (const s of v.value) out.string(s);
      continue;
    }
    out.u32(TYPE[v.type]);
    if (v.type === 'string') out.string(v.value as string);
    else if (v.type === 'u32') out.u32(v.value as number);
    else if (v.type === 'u64') out.u64(v.value as number);
    else if (v.type === 'bool') out.bytes(Uint8Array.of(v.value ? 1 : 0));
    else out.bytes(new Uint8Array(Float32Array.of(v.value as number).buffer));
  }
  const data = tensors.map(tensorBytes);
  let offset = 0;
  tensors.forEach((t, i) => {
    out.string(t.name);
    out.u32(t.shape.length);
    for (const d of [...t.shape].reverse()) out.u64(d);
    out.u32(GGML_TYPE_BY_NAME.get(t.type)!.id);
    out.u64(offset);
    offset += Math.ceil(data[i].byteLength / alignment) * alignment;
  });
  out.pad(alignment);
  for (const d of data) {
    out.bytes(d);
    out.pad(alignment);
  }
  return out.join();
}

const GGUF_NAMES: [RegExp, string][] = [
  [/^model\.layers\.(\d+)\.self_attn\.(q|k|v)_proj\.weight$/, 'blk.$1.attn_$2.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.o_proj\.weight$/, 'blk.$1.attn_output.weight'],
  [/^model\.layers\.(\d+)\.mlp\.(gate|up|down)_proj\.weight$/, 'blk.$1.ffn_$2.weight'],
  [/^model\.layers\.(\d+)\.input_layernorm\.weight$/, 'blk.$1.attn_norm.weight'],
  [/^model\.layers\.(\d+)\.post_attention_layernorm\.weight$/, 'blk.$1.ffn_norm.weight'],
  [/^model\.embed_tokens\.weight$/, 'token_embd.weight'],
  [/^model\.norm\.weight$/, 'output_norm.weight'],
  [/^lm_head\.weight$/, 'output.weight'],
];

export function ggufName(hf: string): string {
  for (const [re, to] of GGUF_NAMES) if (re.test(hf)) return hf.replace(re, to);
  throw new Error(`no llama.cpp name for ${hf}`);
}

/**
 * A Llama-layout safetensors checkpoint as a GGUF: llama.cpp's names, `typeOf` choosing each tensor's
 * type (1-D norms stay F32, as llama.cpp keeps them), and llama.* metadata from `config`.
 */
export async function ggufFromSafetensors(
  bytes: Uint8Array,
  typeOf: (name: string, shape: number[]) => string,
  config: Record<string, number>,
): Promise<Uint8Array> {
  const source = memorySource('in.safetensors', bytes);
  const header = await readSafetensorsHeader(source);
  const tensors: GgufTensor[] = [];
  for (const t of header.tensors) {
    const values = await readTensorAsF32(source, t);
    tensors.push({ name: ggufName(t.name), type: t.shape.length === 1 ? 'F32' : typeOf(t.name, t.shape), shape: t.shape, values });
  }
  return buildGguf(tensors, {
    'general.architecture': { type: 'string', value: 'llama' },
    'general.name': { type: 'string', value: 'fixture' },
    'llama.block_count': { type: 'u32', value: config.num_hidden_layers },
    'llama.embedding_length': { type: 'u32', value: config.hidden_size },
    'llama.attention.head_count': { type: 'u32', value: config.num_attention_heads },
    'llama.attention.head_count_kv': { type: 'u32', value: config.num_key_value_heads },
    'tokenizer.ggml.tokens': { type: 'strings', value: Array.from({ length: 256 }, (_, i) => `<0x${i.toString(16).padStart(2, '0')}>`) },
  });
}
