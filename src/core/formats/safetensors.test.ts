import { describe, expect, it } from 'vitest';
import { buildSafetensors, joinSafetensors, safetensorsParts } from '../../../test-fixtures/builders/safetensors.ts';
import { ScanError } from '../errors.ts';
import { memorySource } from './byte-source.ts';
import { openCheckpoint } from './checkpoint.ts';
import { decodeInto, e4m3ToFloat, e5m2ToFloat, halfToFloat, type FloatDType } from './dtype.ts';
import { readSafetensorsHeader } from './safetensors.ts';
import { countNonFinite, readTensorAsF32 } from './read-tensor.ts';

const values = [0, 1, -2, 0.5, 3.5, -0.125, 256, 6]; // exact in every float type, float8 included

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    expect(e).toBeInstanceOf(ScanError);
    const err = e as ScanError;
    expect(err.message).not.toContain('\n');
    expect(err.message).toContain('bad.safetensors');
    return err.code;
  }
}

describe('dtype decoding', () => {
  it.each(['F32', 'F64', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2'] as FloatDType[])(
    '%s values that the type holds exactly come back exactly',
    async (dtype) => {
      const bytes = buildSafetensors([{ name: 'w.weight', dtype, shape: [2, 4], values }]);
      const src = memorySource('m.safetensors', bytes);
      const h = await readSafetensorsHeader(src);
      expect(h.tensors[0]).toMatchObject({ name: 'w.weight', dtype, shape: [2, 4] });
      expect(Array.from(await readTensorAsF32(src, h.tensors[0]))).toEqual(values);
    },
  );

  it('decodes the special values of each format', () => {
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(e4m3ToFloat(0x7e)).toBe(448); // e4m3fn's largest normal
    expect(e4m3ToFloat(0x7f)).toBeNaN();
    expect(e4m3ToFloat(0x01)).toBe(2 ** -9);
    expect(e5m2ToFloat(0x7c)).toBe(Infinity);
    expect(e5m2ToFloat(0x7b)).toBe(57344);
  });

  it('decodes bf16 two values at a time from any even offset, any count, into any position', () => {
    // bit patterns and their values by the format's definition (the top half of an IEEE f32)
    const bits = [0x3f80, 0xc000, 0x4049, 0x0001, 0x7f80, 0xff80, 0x8000, 0x3e80, 0x4780];
    const want = [1, -2, 3.140625, 2 ** -133, Infinity, -Infinity, -0, 0.25, 65536];
    for (const byteOffset of [0, 2, 4, 6])
      for (let count = 0; count <= bits.length; count++)
        for (const at of [0, 1]) {
          const bytes = new Uint8Array(byteOffset + 2 * count);
          bits.slice(0, count).forEach((b, i) => {
            bytes[byteOffset + 2 * i] = b & 0xff;
            bytes[byteOffset + 2 * i + 1] = b >> 8;
          });
          const out = new Float32Array(count + 2).fill(7);
          expect(decodeInto('BF16', bytes.subarray(byteOffset), out, at)).toBe(count);
          expect(Array.from(out)).toEqual([...(at ? [7] : []), ...want.slice(0, count), ...(at ? [7] : [7, 7])]);
        }
  });

  it('reads in slices no larger than asked, from unaligned offsets', async () => {
    const big = Array.from({ length: 1001 }, (_, i) => i - 500);
    const bytes = buildSafetensors([
      { name: 'a.weight', dtype: 'F8_E4M3', shape: [3], values: [1, 2, 3] },
      { name: 'b.weight', dtype: 'F32', shape: [7, 143], values: big },
    ]);
    const src = memorySource('m.safetensors', bytes);
    const reads: number[] = [];
    const spy = { ...src, read: (o: number, l: number) => (reads.push(l), src.read(o, l)) };
    const h = await readSafetensorsHeader(spy);
    reads.length = 0;
    const out = await readTensorAsF32(
      spy,
      h.tensors.find((t) => t.name === 'b.weight')!,
      { sliceBytes: 256 },
    );
    expect(Array.from(out)).toEqual(big);
    expect(Math.max(...reads)).toBe(256);
    expect(reads.reduce((a, b) => a + b, 0)).toBe(1001 * 4);
  });

  it('decodes into a longer array given to it, as a view of its first values, and leaves the rest alone', async () => {
    const src = memorySource('m.safetensors', buildSafetensors([{ name: 'w.weight', dtype: 'BF16', shape: [2, 4], values }]));
    const h = await readSafetensorsHeader(src);
    const into = new Float32Array(10).fill(7);
    const out = await readTensorAsF32(src, h.tensors[0], { into });
    expect(out.buffer).toBe(into.buffer);
    expect(Array.from(out)).toEqual(values);
    expect(Array.from(into.subarray(8))).toEqual([7, 7]);
    // too short to hold the tensor: a new array, the one given untouched
    const short = new Float32Array(4).fill(7);
    const fresh = await readTensorAsF32(src, h.tensors[0], { into: short });
    expect(fresh.buffer).not.toBe(short.buffer);
    expect(Array.from(fresh)).toEqual(values);
    expect(Array.from(short)).toEqual([7, 7, 7, 7]);
  });

  it('counts non-finite values', () => {
    expect(countNonFinite(Float32Array.from([1, NaN, Infinity, -Infinity, 0]))).toBe(3);
  });
});

describe('bad input: one-line errors with a code, naming the file and the tensor', () => {
  const good = () =>
    safetensorsParts([
      { name: 'a.weight', dtype: 'F32', shape: [2, 2], values: [1, 2, 3, 4] },
      { name: 'b.weight', dtype: 'F32', shape: [2], values: [5, 6] },
    ]);
  const open = (bytes: Uint8Array) => readSafetensorsHeader(memorySource('bad.safetensors', bytes));

  it('rejects files shorter than the header length field', async () => {
    expect(await codeOf(open(new Uint8Array(5)))).toBe('HEADER_TOO_SHORT');
  });
  it('rejects a header length beyond the file', async () => {
    const { header, data } = good();
    expect(await codeOf(open(joinSafetensors(header, data, 10_000n)))).toBe('HEADER_LENGTH_OUT_OF_RANGE');
    expect(await codeOf(open(joinSafetensors(header, data, 2n ** 62n)))).toBe('HEADER_LENGTH_OUT_OF_RANGE');
  });
  it('rejects a zero header length and invalid JSON', async () => {
    const { data } = good();
    expect(await codeOf(open(joinSafetensors('{}', data, 0n)))).toBe('HEADER_INVALID_JSON');
    expect(await codeOf(open(joinSafetensors('{"a.weight": {', data)))).toBe('HEADER_INVALID_JSON');
    expect(await codeOf(open(joinSafetensors('[1,2]', data)))).toBe('HEADER_NOT_OBJECT');
  });
  it('keeps good tensors when one entry is bad', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ dtype: 'Q4_WHAT', shape: [2], data_offsets: [16, 24] }, 'UNKNOWN_DTYPE'],
      [{ dtype: 'F32', shape: [3], data_offsets: [16, 24] }, 'SHAPE_BYTE_MISMATCH'],
      [{ dtype: 'F32', shape: [-2], data_offsets: [16, 24] }, 'SHAPE_INVALID'],
      [{ dtype: 'F32', shape: [2], data_offsets: [16, 4000] }, 'OFFSET_OUT_OF_RANGE'],
      [{ dtype: 'F32', shape: [2], data_offsets: [8, 16] }, 'OFFSETS_OVERLAP'],
      [{ dtype: 'F32', shape: [2] }, 'TENSOR_ENTRY_INVALID'],
    ];
    for (const [entry, code] of cases) {
      const { header, data } = good();
      header['b.weight'] = entry;
      const h = await open(joinSafetensors(header, data));
      expect(
        h.errors.map((e) => e.code),
        code,
      ).toContain(code);
      expect(h.errors.find((e) => e.code === code)!.message).toMatch(/^bad\.safetensors: tensor "[ab]\.weight": /);
      if (code !== 'OFFSETS_OVERLAP') expect(h.tensors.map((t) => t.name)).toEqual(['a.weight']);
    }
  });
  it('finds duplicate tensor names that JSON.parse would hide', async () => {
    const { data } = good();
    const text =
      '{"a.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"a.weight":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}';
    const h = await open(joinSafetensors(text, data));
    expect(h.errors.map((e) => e.code)).toEqual(['DUPLICATE_TENSOR']);
    expect(h.tensors).toHaveLength(0);
  });
  it('reports a truncated file per tensor', async () => {
    const full = buildSafetensors([
      { name: 'a.weight', dtype: 'F32', shape: [2, 2], values: [1, 2, 3, 4] },
      { name: 'b.weight', dtype: 'F32', shape: [4], values: [5, 6, 7, 8] },
    ]);
    const h = await open(full.subarray(0, full.byteLength - 6));
    expect(h.tensors.map((t) => t.name)).toEqual(['a.weight']);
    expect(h.errors[0]).toMatchObject({ code: 'OFFSET_OUT_OF_RANGE', tensor: 'b.weight' });
  });
});

describe('sharded checkpoints', () => {
  const t = (name: string, v: number) => ({ name, dtype: 'F32', shape: [2, 2], values: [v, v + 1, v + 2, v + 3] });
  const index = (map: Record<string, string>) =>
    memorySource('model.safetensors.index.json', new TextEncoder().encode(JSON.stringify({ metadata: {}, weight_map: map })));

  it('merges shards in any order and reports missing shards and tensors', async () => {
    const s1 = memorySource('model-00001-of-00003.safetensors', buildSafetensors([t('x.layers.1.weight', 10), t('x.layers.0.weight', 0)]));
    const s2 = memorySource('model-00002-of-00003.safetensors', buildSafetensors([t('x.layers.2.weight', 20)]));
    const idx = index({
      'x.layers.0.weight': 'model-00001-of-00003.safetensors',
      'x.layers.1.weight': 'model-00001-of-00003.safetensors',
      'x.layers.2.weight': 'model-00002-of-00003.safetensors',
      'x.layers.3.weight': 'model-00003-of-00003.safetensors',
      'x.layers.4.weight': 'model-00002-of-00003.safetensors',
    });
    const ckpt = await openCheckpoint([s2, idx, s1]);
    expect(ckpt.name).toBe('model');
    expect(ckpt.tensors.map((x) => x.name).sort()).toEqual(['x.layers.0.weight', 'x.layers.1.weight', 'x.layers.2.weight']);
    expect(ckpt.missing).toEqual([
      { name: 'x.layers.3.weight', file: 'model-00003-of-00003.safetensors' },
      { name: 'x.layers.4.weight', file: 'model-00002-of-00003.safetensors' },
    ]);
    expect(ckpt.errors.map((e) => [e.code, e.file])).toEqual([
      ['MISSING_TENSOR', 'model-00002-of-00003.safetensors'],
      ['MISSING_SHARD', 'model-00003-of-00003.safetensors'],
    ]);
    const x2 = ckpt.tensors.find((x) => x.name === 'x.layers.2.weight')!;
    expect(Array.from(await readTensorAsF32(ckpt.sources.get(x2.file)!, x2))).toEqual([20, 21, 22, 23]);
  });

  it('says why each tensor the index places is missing: absent from its shard, or in a file that is not a shard', async () => {
    const s1 = memorySource('model-00001-of-00002.safetensors', buildSafetensors([t('x.layers.0.weight', 0)]));
    const idx = index({
      'x.layers.0.weight': 'model-00001-of-00002.safetensors',
      'x.layers.1.weight': 'model-00001-of-00002.safetensors',
      'x.layers.2.weight': 'pytorch_model-00002-of-00002.bin',
      'x.layers.3.weight': 'pytorch_model-00002-of-00002.bin',
    });
    const bin = memorySource('pytorch_model-00002-of-00002.bin', new Uint8Array(64));
    const ckpt = await openCheckpoint([idx, s1, bin]);
    expect(ckpt.missing.map((m) => m.name)).toEqual(['x.layers.1.weight', 'x.layers.2.weight', 'x.layers.3.weight']);
    expect(ckpt.errors.map((e) => [e.code, e.message])).toEqual([
      [
        'MISSING_TENSOR',
        'model-00001-of-00002.safetensors: tensor "x.layers.1.weight": the index places this tensor here but the file does not hold it',
      ],
      [
        'MISSING_SHARD',
        'pytorch_model-00002-of-00002.bin: named by the index as a shard, but not a .safetensors or .gguf file: 2 tensors not analysed',
      ],
    ]);
  });

  it('says when nothing given is a checkpoint', async () => {
    await expect(openCheckpoint([memorySource('notes.txt', new Uint8Array(3))])).rejects.toMatchObject({ code: 'NOT_A_CHECKPOINT' });
  });
});
