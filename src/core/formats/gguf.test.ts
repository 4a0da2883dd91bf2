import { describe, expect, it } from 'vitest';
import { buildGguf } from '../../../test-fixtures/builders/gguf.ts';
import { rawGguf, type RawTensor } from '../../../test-fixtures/builders/gguf-fuzz-cases.ts';
import { gaussianMatrix } from '../../../test-fixtures/builders/safetensors.ts';
import { ScanError } from '../errors.ts';
import { memorySource, type ByteSource } from './byte-source.ts';
import { openCheckpoint } from './checkpoint.ts';
import { readGgufHeader } from './gguf.ts';
import { readTensorAsF32 } from './read-tensor.ts';

const llama = {
  'general.architecture': { type: 'string', value: 'llama' },
  'llama.attention.head_count': { type: 'u32', value: 4 },
  'llama.embedding_length': { type: 'u32', value: 64 },
} as const;

/** a source that records which bytes were asked for */
function watched(name: string, bytes: Uint8Array): ByteSource & { reads: [number, number][] } {
  const s = memorySource(name, bytes);
  const reads: [number, number][] = [];
  return { ...s, reads, read: (o, n) => (reads.push([o, n]), s.read(o, n)) };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'none';
  } catch (e) {
    return e instanceof ScanError ? e.code : String(e);
  }
}

describe('GGUF header', () => {
  it('lists tensors with shapes reversed into row-major, byte ranges, metadata, and the config it implies', async () => {
    const q = gaussianMatrix(8, 64, 1);
    const bytes = buildGguf(
      [
        { name: 'token_embd.weight', type: 'F16', shape: [32, 64], values: gaussianMatrix(32, 64, 2) },
        { name: 'blk.0.attn_q.weight', type: 'Q8_0', shape: [8, 64], values: q },
        { name: 'blk.0.attn_norm.weight', type: 'F32', shape: [64], values: new Float32Array(64).fill(1) },
      ],
      {
        ...llama,
        'tokenizer.ggml.tokens': { type: 'strings', value: ['a', 'b', 'c'] },
        'general.name': { type: 'string', value: 'x'.repeat(300) },
      },
      { alignment: 64 },
    );
    const h = await readGgufHeader(memorySource('m.gguf', bytes));
    expect(h.version).toBe(3);
    expect(h.errors).toEqual([]);
    expect(h.tensors.map((t) => [t.name, t.dtype, t.shape, t.byteLength])).toEqual([
      ['token_embd.weight', 'F16', [32, 64], 4096],
      ['blk.0.attn_q.weight', 'Q8_0', [8, 64], 8 * 2 * 34],
      ['blk.0.attn_norm.weight', 'F32', [64], 256],
    ]);
    expect(h.tensors.every((t) => t.begin % 64 === 0)).toBe(true);
    expect(h.metadata['tokenizer.ggml.tokens']).toBe('[3 items]');
    expect(h.metadata['general.name']).toMatch(/… \(300 characters\)$/);
    expect(h.config).toEqual({ model_type: 'llama', num_attention_heads: 4, hidden_size: 64 });
    // Q8_0 read back through the common reader: within half a quantization step d of each value, plus
    // the rounding of d itself to f16 (relative 2⁻¹¹) times the largest quant, 127.
    const got = await readTensorAsF32(memorySource('m.gguf', bytes), h.tensors[1]);
    for (let b = 0; b < 16; b++) {
      const block = q.subarray(32 * b, 32 * b + 32);
      const step = Math.max(...block.map(Math.abs)) / 127;
      block.forEach((v, i) => expect(Math.abs(got[32 * b + i] - v)).toBeLessThanOrEqual(step * (0.5 + 127 * 2 ** -11)));
    }
  });

  it('reads only the header region of a large file', async () => {
    const bytes = buildGguf(
      [{ name: 'blk.0.ffn_up.weight', type: 'F32', shape: [1024, 2048], values: new Float32Array(1024 * 2048) }],
      llama,
    );
    const s = watched('big.gguf', bytes);
    const h = await readGgufHeader(s);
    expect(h.tensors[0].byteLength).toBe(8 * 1024 * 1024);
    expect(Math.max(...s.reads.map(([o, n]) => o + n))).toBeLessThanOrEqual(1 << 20);
  });

  it('opens as a checkpoint: llama.cpp names mapped, config from metadata, tied head when there is no output.weight', async () => {
    const bytes = buildGguf(
      [
        { name: 'token_embd.weight', type: 'F32', shape: [32, 64], values: gaussianMatrix(32, 64, 2) },
        { name: 'blk.0.attn_qkv.weight', type: 'Q8_0', shape: [192, 64], values: gaussianMatrix(192, 64, 3) },
      ],
      llama,
    );
    const ckpt = await openCheckpoint([memorySource('tiny-model.Q8_0.gguf', bytes)]);
    expect(ckpt.name).toBe('tiny-model.Q8_0');
    expect(ckpt.config).toMatchObject({ num_attention_heads: 4, hidden_size: 64 });
    expect(ckpt.totalBytes).toBe(32 * 64 * 4 + 192 * 2 * 34);
  });

  it.each<[string, (b: Uint8Array) => Uint8Array, string]>([
    ['bad magic', (b) => Uint8Array.from(b, (x, i) => (i === 0 ? 0x47 + 1 : x)), 'NOT_A_CHECKPOINT'],
    ['version 9', (b) => Uint8Array.from(b, (x, i) => (i === 4 ? 9 : x)), 'GGUF_INVALID'],
    ['big-endian', (b) => Uint8Array.from(b, (x, i) => (i === 4 ? 0 : i === 7 ? 3 : x)), 'GGUF_INVALID'],
    ['2^40 tensors', (b) => Uint8Array.from(b, (x, i) => (i === 13 ? 1 : x)), 'HEADER_TOO_LARGE'],
    ['a 2^33-byte key', (b) => Uint8Array.from(b, (x, i) => (i === 28 ? 2 : x)), 'GGUF_INVALID'],
    ['cut inside the metadata', (b) => b.slice(0, 40), 'TRUNCATED'],
    ['shorter than any header', (b) => b.slice(0, 12), 'HEADER_TOO_SHORT'],
  ])('rejects %s with a code', async (_label, damage, expected) => {
    const bytes = buildGguf([{ name: 'blk.0.attn_q.weight', type: 'F32', shape: [4, 4], values: new Float32Array(16) }], llama);
    expect(await code(readGgufHeader(memorySource('bad.gguf', damage(bytes))))).toBe(expected);
  });

  it('keeps the good tensors when one reaches past the end or has an unknown type', async () => {
    const bytes = buildGguf(
      [
        { name: 'blk.0.attn_q.weight', type: 'F32', shape: [4, 32], values: new Float32Array(128) },
        { name: 'blk.0.attn_k.weight', type: 'F32', shape: [4, 32], values: new Float32Array(128) },
      ],
      llama,
    );
    const h = await readGgufHeader(memorySource('cut.gguf', bytes.slice(0, bytes.length - 100)));
    expect(h.tensors.map((t) => t.name)).toEqual(['blk.0.attn_q.weight']);
    expect(h.errors).toEqual([expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE', tensor: 'blk.0.attn_k.weight' })]);
    // type id of the second tensor → 99 (unknown): find its info by the name's bytes
    const at = new TextDecoder('latin1').decode(bytes).lastIndexOf('blk.0.attn_k.weight') + 'blk.0.attn_k.weight'.length + 4 + 16;
    const unknown = Uint8Array.from(bytes, (x, i) => (i === at ? 99 : x));
    const h2 = await readGgufHeader(memorySource('odd.gguf', unknown));
    expect(h2.errors).toEqual([expect.objectContaining({ code: 'UNKNOWN_DTYPE', tensor: 'blk.0.attn_k.weight' })]);
  });
});

describe('GGUF tensors the header cannot place', () => {
  const f32 = (name: string, dims: number[], offset: number): RawTensor => ({ name, dims, typeId: 0, offset, data: new Uint8Array(0) });
  const padding = (bytes: number): RawTensor => ({ ...f32('padding', [0], 0), data: new Uint8Array(bytes) });

  it('a 2^30 × 2^30 matrix is too large, in one line naming the file, the tensor and the element count', async () => {
    const bytes = rawGguf({ kvs: [], tensors: [f32('huge.weight', [2 ** 30, 2 ** 30], 0), f32('ok.weight', [8], 0), padding(64)] });
    const header = await readGgufHeader(memorySource('m.gguf', bytes));
    expect(header.tensors.map((t) => t.name)).toEqual(['ok.weight', 'padding']);
    expect(header.errors).toEqual([
      {
        code: 'TOO_LARGE',
        file: 'm.gguf',
        tensor: 'huge.weight',
        message: `m.gguf: tensor "huge.weight": dims [1073741824, 1073741824] make ${2n ** 60n} elements, more than any file can hold (at most 2^53)`,
      },
    ]);
  });

  it('a data offset off the file alignment is refused for that tensor, the others are read', async () => {
    const bytes = rawGguf({
      kvs: [],
      tensors: [f32('a.weight', [8], 0), f32('b.weight', [8], 40), f32('c.weight', [8], 96), padding(160)],
    });
    const source = memorySource('m.gguf', bytes);
    const header = await readGgufHeader(source);
    expect(header.tensors.map((t) => t.name)).toEqual(['a.weight', 'c.weight', 'padding']);
    expect(header.errors).toEqual([
      {
        code: 'OFFSET_MISALIGNED',
        file: 'm.gguf',
        tensor: 'b.weight',
        message: `m.gguf: tensor "b.weight": data offset 40 is not a multiple of the file's alignment (32): not read`,
      },
    ]);
    // with general.alignment 8, the same offset is in place
    const aligned = rawGguf({
      kvs: [{ key: 'general.alignment', type: 4, value: Uint8Array.of(8, 0, 0, 0) }],
      tensors: [f32('a.weight', [8], 0), f32('b.weight', [8], 40), padding(160)],
    });
    expect((await readGgufHeader(memorySource('m.gguf', aligned))).errors).toEqual([]);
  });
});
