/**
 * The cases of the GGUF fuzz suite. GGUF is binary: every count and length is a field a file can lie
 * in, so the cases are written by a raw writer that takes any value for any field (tensor and key
 * counts, string lengths, array counts and types, dims, type ids, offsets, the alignment), starting
 * from small valid files of every type we read.
 */
import { GGML_TYPE_BY_NAME } from '../../src/core/formats/gguf-types.ts';
import { GGUF_MAX_ARRAY, GGUF_MAX_TENSORS } from '../../src/core/formats/gguf.ts';
import { flipBits, spliceBytes, type Fuzz } from './fuzz.ts';
import { tensorBytes } from './gguf.ts';
import { QUANTIZABLE } from './gguf-quantize.ts';
import type { FuzzCase } from './fuzz.ts';

const FILE = 'case.gguf';
const TYPES = [
  'F32',
  'F16',
  'BF16',
  'Q8_0',
  'Q4_0',
  'Q4_1',
  'Q5_0',
  'Q5_1',
  'Q2_K',
  'Q3_K',
  'Q4_K',
  'Q5_K',
  'Q6_K',
  'F64',
  'I8',
  'I32',
  'IQ2_XXS',
  'MXFP4',
];

export interface RawTensor {
  name: string;
  dims: (number | bigint)[];
  typeId: number;
  offset: number | bigint;
  data: Uint8Array;
}
interface RawKv {
  key: string;
  type: number;
  value: Uint8Array;
}

/** Little-endian bytes, any value in any field. */
class W {
  parts: Uint8Array[] = [];
  length = 0;
  put(b: Uint8Array) {
    this.parts.push(b);
    this.length += b.byteLength;
  }
  u32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    this.put(b);
  }
  u64(v: number | bigint) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(v)), true);
    this.put(b);
  }
  str(s: string, lengthField?: number | bigint) {
    const t = new TextEncoder().encode(s);
    this.u64(lengthField ?? t.byteLength);
    this.put(t);
  }
  pad(a: number) {
    const n = (a - (this.length % a)) % a;
    if (n) this.put(new Uint8Array(n));
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }
}

const kvString = (key: string, s: string): RawKv => {
  const w = new W();
  w.str(s);
  return { key, type: 8, value: w.bytes() };
};
const kvU32 = (key: string, v: number): RawKv => {
  const w = new W();
  w.u32(v);
  return { key, type: 4, value: w.bytes() };
};
function kvStrings(key: string, items: string[], count: number | bigint = items.length, inner = 8): RawKv {
  const w = new W();
  w.u32(inner);
  w.u64(count);
  for (const s of items) w.str(s);
  return { key, type: 9, value: w.bytes() };
}

export function rawGguf(o: {
  version?: number;
  tensorCount?: number | bigint;
  kvCount?: number | bigint;
  kvs: RawKv[];
  tensors: RawTensor[];
  alignment?: number;
}): Uint8Array {
  const w = new W();
  w.put(new TextEncoder().encode('GGUF'));
  w.u32(o.version ?? 3);
  w.u64(o.tensorCount ?? o.tensors.length);
  w.u64(o.kvCount ?? o.kvs.length);
  for (const kv of o.kvs) {
    w.str(kv.key);
    w.u32(kv.type);
    w.put(kv.value);
  }
  for (const t of o.tensors) {
    w.str(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(t.typeId);
    w.u64(t.offset);
  }
  const alignment = o.alignment ?? 32;
  w.pad(alignment);
  for (const t of o.tensors) {
    w.put(t.data);
    w.pad(alignment);
  }
  return w.bytes();
}

/** Small valid tensors: row lengths a multiple of each type's block, values Gaussian. */
function tensors(f: Fuzz, alignment: number): RawTensor[] {
  let offset = 0;
  return Array.from({ length: f.int(0, 4) }, (_, i) => {
    const type = f.pick(TYPES);
    const t = GGML_TYPE_BY_NAME.get(type)!;
    const shape = f.chance(0.2) ? [t.blockSize * f.int(1, 2)] : [f.int(1, 3), t.blockSize * f.int(1, 2)];
    const count = shape.reduce((a, b) => a * b, 1);
    // real encodings where the fixture builder has a quantizer; random bytes (any scale, NaN included) otherwise
    const known = ['F32', 'F16', 'BF16', ...QUANTIZABLE].includes(type);
    const data =
      known && f.chance(0.7)
        ? tensorBytes({ name: '', type, shape, values: Array.from({ length: count }, () => f.next() - 0.5) })
        : f.bytes((count / t.blockSize) * t.blockBytes);
    const r: RawTensor = {
      name: `blk.${i}.${f.pick(['attn_q', 'attn_k', 'ffn_up', 'ffn_down', '<img src=x onerror=alert(1)>', 'a\nb'])}.weight`,
      dims: [...shape].reverse(),
      typeId: t.id,
      offset,
      data,
    };
    offset += Math.ceil(data.byteLength / alignment) * alignment;
    return r;
  });
}

function base(f: Fuzz) {
  const alignment = f.chance(0.8) ? 32 : f.pick([1, 8, 64, 4096]);
  const kvs = [kvString('general.architecture', f.pick(['llama', 'qwen2', 'gpt2', ''])), kvU32('llama.attention.head_count', f.int(1, 8))];
  if (alignment !== 32) kvs.push(kvU32('general.alignment', alignment));
  if (f.chance(0.3))
    kvs.push(
      kvStrings(
        'tokenizer.ggml.tokens',
        Array.from({ length: f.int(0, 20) }, (_, i) => `tok${i}`),
      ),
    );
  return { kvs, tensors: tensors(f, alignment), alignment };
}

const ABSURD = [0, 1, 7, 255, 2 ** 16, 2 ** 20, 2 ** 20 + 1, 2 ** 31, 2 ** 32, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];

export function randomGgufCase(f: Fuzz): FuzzCase {
  const b = base(f);
  const kind = f.pick([
    'valid',
    'truncate',
    'truncate',
    'bit-flip',
    'bit-flip',
    'splice',
    'counts',
    'version',
    'strings',
    'arrays',
    'tensor-info',
    'tensor-info',
    'alignment',
  ]);
  let note = '';
  let o: Parameters<typeof rawGguf>[0] = { ...b };
  switch (kind) {
    case 'counts': {
      const which = f.pick(['tensorCount', 'kvCount'] as const);
      const v = f.pick(ABSURD);
      o = { ...o, [which]: v };
      note = `${which} ${v}`;
      break;
    }
    case 'version': {
      const v = f.pick([0, 1, 2, 4, 0x03000000, 0xffffffff]);
      o = { ...o, version: v };
      note = `version ${v}`;
      break;
    }
    case 'strings': {
      // a metadata string whose length field lies
      const lie = f.pick([...ABSURD, 3]);
      const w = new W();
      w.str('model', lie);
      o = { ...o, kvs: [...o.kvs, { key: 'general.name', type: 8, value: w.bytes() }] };
      note = `string length ${lie}`;
      break;
    }
    case 'arrays': {
      const count = f.pick([...ABSURD, GGUF_MAX_ARRAY, GGUF_MAX_ARRAY + 1]);
      const inner = f.pick([8, 9, 4, 13, 99, 0xffffffff]);
      o = { ...o, kvs: [...o.kvs, kvStrings('tokenizer.ggml.merges', ['a b'], count, inner)] };
      note = `array of ${count} × type ${inner}`;
      break;
    }
    case 'tensor-info': {
      if (o.tensors.length === 0) break;
      const i = f.int(0, o.tensors.length - 1);
      const t = { ...o.tensors[i] };
      const choice = f.int(0, 5);
      if (choice === 0) t.dims = f.pick([[], [0], [2n ** 53n], [2 ** 26, 2 ** 26, 2 ** 26], [1, 1, 1, 1, 1], [3, 5], [2n ** 64n - 1n]]);
      else if (choice === 1) t.typeId = f.pick([4, 5, 31, 99, 0xffffffff]);
      else if (choice === 2) t.offset = f.pick([1, 2n ** 40n, 2n ** 53n, 2n ** 64n - 1n, 0]);
      else if (choice === 3)
        t.name = o.tensors[0].name; // a name listed twice
      else if (choice === 4)
        t.offset = Number(o.tensors[0].offset) + f.int(0, 64); // over another tensor's bytes
      else t.dims = [...t.dims].reverse();
      // a duplicate or an overlap is an extra entry; the other changes replace the tensor's own
      const list = [...o.tensors];
      if (choice === 3 || choice === 4) list.push({ ...t, data: new Uint8Array(0) });
      else list[i] = t;
      o = { ...o, tensors: list };
      note = `tensor info ${choice}`;
      break;
    }
    case 'alignment': {
      const a = f.pick([0, 3, 2 ** 21]);
      o = { ...o, kvs: [...o.kvs, kvU32('general.alignment', a)] };
      note = `alignment ${a}`;
      break;
    }
  }
  let bytes = rawGguf(o);
  const headerEnd = Math.min(
    bytes.byteLength,
    64 + o.kvs.reduce((a, k) => a + k.value.byteLength + k.key.length + 12, 0) + o.tensors.length * 64,
  );
  if (kind === 'truncate') {
    const cut = f.int(0, bytes.byteLength);
    bytes = bytes.subarray(0, cut);
    note = `cut at ${cut}`;
  } else if (kind === 'bit-flip') {
    const n = f.int(1, 8);
    bytes = flipBits(f, bytes, n, 0, f.chance(0.8) ? headerEnd : bytes.byteLength);
    note = `${n} bits`;
  } else if (kind === 'splice') {
    bytes = spliceBytes(f, bytes);
  }
  return { kind, note, file: FILE, bytes };
}

/** At and past the named limits: run once each. */
export const GGUF_FIXED_CASES: (() => FuzzCase)[] = [
  () => ({ kind: 'fixed', note: 'empty', file: FILE, bytes: new Uint8Array(0), expect: 'HEADER_TOO_SHORT' }),
  () => ({ kind: 'fixed', note: 'magic only', file: FILE, bytes: new TextEncoder().encode('GGUF'), expect: 'HEADER_TOO_SHORT' }),
  () => ({
    kind: 'fixed',
    note: `${GGUF_MAX_TENSORS + 1} tensors claimed`,
    file: FILE,
    bytes: rawGguf({ tensorCount: GGUF_MAX_TENSORS + 1, kvs: [], tensors: [] }),
    expect: 'HEADER_TOO_LARGE',
  }),
  () => {
    // every tensor info the limit allows, each the smallest possible (24 bytes): the header is all there is
    const tensors = Array.from({ length: 1 << 16 }, (_, i) => ({ name: '', dims: [], typeId: 0, offset: i * 32, data: new Uint8Array(0) }));
    return {
      kind: 'fixed',
      note: '65536 scalars beyond the data',
      file: FILE,
      bytes: rawGguf({ kvs: [], tensors: tensors.map((t) => ({ ...t, name: String(t.offset) })) }),
      expect: 'OFFSET_OUT_OF_RANGE',
    };
  },
  () => {
    // the most elements an array may have, each an empty string (a u64 length of 0): 32 MiB of header, in a few growing reads
    const value = new Uint8Array(12 + 8 * GGUF_MAX_ARRAY);
    new DataView(value.buffer).setUint32(0, 8, true);
    new DataView(value.buffer).setBigUint64(4, BigInt(GGUF_MAX_ARRAY), true);
    return {
      kind: 'fixed',
      note: `an array of ${GGUF_MAX_ARRAY} empty strings`,
      file: FILE,
      bytes: rawGguf({ kvs: [{ key: 'tokenizer.ggml.tokens', type: 9, value }], tensors: [] }),
      expect: 'valid',
      maxReads: 16,
    };
  },
  () => {
    // one large tensor holding two small ones: each small one overlaps the large one, not each other
    const f32 = (name: string, n: number, offset: number): RawTensor => ({ name, dims: [n], typeId: 0, offset, data: new Uint8Array(0) });
    const tensors = [f32('a.weight', 256, 0), f32('b.weight', 8, 32), f32('c.weight', 8, 128)];
    return {
      kind: 'fixed',
      note: 'two tensors inside a third',
      file: FILE,
      bytes: rawGguf({ kvs: [], tensors: [...tensors, { ...f32('data', 0, 0), data: new Uint8Array(1024) }] }),
      expect: 'OFFSETS_OVERLAP',
    };
  },
  () => ({
    // 2^60 elements: more than a double counts exactly, refused as too large (not as a block-size mismatch)
    kind: 'fixed',
    note: 'a 2^30 × 2^30 F32 matrix',
    file: FILE,
    bytes: rawGguf({
      kvs: [],
      tensors: [{ name: 'huge.weight', dims: [2 ** 30, 2 ** 30], typeId: 0, offset: 0, data: new Uint8Array(0) }],
    }),
    expect: 'TOO_LARGE',
  }),
  () => {
    // the second tensor's data starts 16 bytes into the 32-byte alignment: llama.cpp refuses it, and so do we
    const f32 = (name: string, offset: number): RawTensor => ({ name, dims: [8], typeId: 0, offset, data: new Uint8Array(0) });
    return {
      kind: 'fixed',
      note: 'a data offset off the alignment',
      file: FILE,
      bytes: rawGguf({
        kvs: [],
        tensors: [f32('a.weight', 0), f32('b.weight', 48), { ...f32('data', 0), dims: [0], data: new Uint8Array(128) }],
      }),
      expect: 'OFFSET_MISALIGNED',
    };
  },
  () => {
    // arrays of arrays as deep as allowed, then one level deeper
    const nest = (depth: number): Uint8Array => {
      const w = new W();
      if (depth === 0) {
        w.u32(4);
        w.u64(1);
        w.u32(7);
        return w.bytes();
      }
      w.u32(9);
      w.u64(1);
      w.put(nest(depth - 1));
      return w.bytes();
    };
    return {
      kind: 'fixed',
      note: 'arrays nested 6 deep',
      file: FILE,
      bytes: rawGguf({ kvs: [{ key: 'x', type: 9, value: nest(6) }], tensors: [] }),
      expect: 'GGUF_INVALID',
    };
  },
];
