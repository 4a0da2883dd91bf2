/**
 * GGUF (llama.cpp) headers: key–value metadata and tensor infos, read through a ByteSource.
 *
 * Why not @huggingface/gguf: its parser takes a URL and reads it with `fetch` Range requests (or, in
 * Node only, a path through fs); it has no entry point for bytes, a Blob or a reader. Feeding it a File
 * would mean a fake https URL and a `fetch` that forges 206 responses, and it would bring
 * @huggingface/tasks (3.9 MB, no sideEffects flag) into the worker bundle for one enum. It does not
 * dequantize either. So the header is read here, with its named limits (counts, string lengths,
 * nesting, dims, parameters against the file size) carried over.
 *
 * Layout (v2/v3; v1 has u32 counts and lengths): "GGUF" u32 version, u64 tensor_count, u64 kv_count,
 * kv × (string key, u32 type, value), tensor × (string name, u32 n_dims, u64 dims[n_dims], u32 ggml
 * type, u64 offset), then data from the next multiple of general.alignment (32). dims run fastest
 * first: a matrix's ne[0] is its row length, so our row-major shape is the reverse.
 */
import { dataRecord } from '../data-record.ts';
import { errorRecord, ScanError, type ErrorRecord } from '../errors.ts';
import type { ByteSource } from './byte-source.ts';
import { GGML_TYPES } from './gguf-types.ts';
import { fnv1a } from './hash.ts';
import type { TensorInfo } from './tensor-info.ts';

/** the header region we read at most: real ones (a 256k-token vocabulary and its merges) are < 30 MB */
export const GGUF_MAX_HEADER_BYTES = 128 * 1024 * 1024;
/**
 * tensors in one file: the largest real GGUFs hold a few thousand (experts are stacked). Each listed
 * tensor costs a record (and a bad one an error line): 2^20 of them took 12–40 s to list.
 */
export const GGUF_MAX_TENSORS = 1 << 16;
export const GGUF_MAX_KV = 1 << 16;
/** one string (chat templates are the longest real ones, ~100 KB) */
export const GGUF_MAX_STRING_BYTES = 16 * 1024 * 1024;
/** elements of one metadata array (vocabularies and merges: < 1M) */
export const GGUF_MAX_ARRAY = 1 << 22;
/** arrays of arrays, as deep as any writer makes them */
export const GGUF_MAX_NESTING = 4;
/** ggml tensors have at most 4 dims (GGML_MAX_DIMS) */
export const GGUF_MAX_DIMS = 4;
/** scalar metadata kept for display; longer strings and arrays are summarised */
const KEEP_STRING = 256;

export interface GgufHeader {
  file: string;
  version: number;
  tensors: TensorInfo[];
  metadata: Record<string, string>;
  /** config.json's keys that the GGUF's metadata answers (heads, hidden size), for splitting fused q|k|v */
  config: Record<string, unknown>;
  errors: ErrorRecord[];
  headerHash: string;
}

const bad = (file: string, why: string) => new ScanError('GGUF_INVALID', file, undefined, why);

/** Reads forward through the header, fetching more of the file only when the next value needs it. */
class Cursor {
  private buf = new Uint8Array(0);
  private view = new DataView(this.buf.buffer);
  pos = 0;
  constructor(
    private readonly source: ByteSource,
    readonly size: 4 | 8,
  ) {}

  async need(n: number): Promise<void> {
    if (this.pos + n <= this.buf.byteLength) return;
    const end = this.pos + n;
    if (end > this.source.size)
      throw new ScanError(
        'TRUNCATED',
        this.source.name,
        undefined,
        `the GGUF header needs ${end} bytes but the file has ${this.source.size}`,
      );
    if (end > GGUF_MAX_HEADER_BYTES)
      throw new ScanError('HEADER_TOO_LARGE', this.source.name, undefined, `GGUF header beyond ${GGUF_MAX_HEADER_BYTES} bytes`);
    // grow geometrically so that a large vocabulary costs a few reads, not one per string
    const want = Math.min(this.source.size, GGUF_MAX_HEADER_BYTES, Math.max(end, 2 * this.buf.byteLength, 1 << 20));
    const more = await readOrFail(this.source, this.buf.byteLength, want - this.buf.byteLength);
    const next = new Uint8Array(want);
    next.set(this.buf);
    next.set(more, this.buf.byteLength);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  async u32(): Promise<number> {
    await this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  async u64(): Promise<number> {
    await this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER))
      throw bad(this.source.name, `a 64-bit value ${v} at byte ${this.pos - 8} is beyond any real file`);
    return Number(v);
  }
  /** counts and lengths: u32 in version 1, u64 after */
  async count(): Promise<number> {
    return this.size === 4 ? this.u32() : this.u64();
  }
  async string(limit = GGUF_MAX_STRING_BYTES): Promise<string> {
    const n = await this.count();
    if (n > limit) throw bad(this.source.name, `a string of ${n} bytes at byte ${this.pos} exceeds the limit of ${limit}`);
    await this.need(n);
    const s = new TextDecoder().decode(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  /**
   * Step over `n` strings (arrays are summarised, not kept): lengths read in place, nothing decoded,
   * and no promise per string while the buffer holds them — 4M vocabulary entries took 7 s one by one.
   */
  async skipStrings(n: number): Promise<void> {
    const length = (at: number) => (this.size === 4 ? this.view.getUint32(at, true) : Number(this.view.getBigUint64(at, true)));
    for (let i = 0; i < n;) {
      while (i < n && this.pos + this.size <= this.buf.byteLength) {
        const len = length(this.pos);
        if (len > GGUF_MAX_STRING_BYTES || this.pos + this.size + len > this.buf.byteLength) break;
        this.pos += this.size + len;
        i++;
      }
      if (i < n) {
        await this.string(); // the slow path: fetch more, or fail with the reason
        i++;
      }
    }
  }
  async scalar(type: number): Promise<number | boolean> {
    const width = SCALAR_WIDTH[type];
    await this.need(width);
    const p = this.pos;
    this.pos += width;
    const v = this.view;
    switch (type) {
      case 0:
        return v.getUint8(p);
      case 1:
        return v.getInt8(p);
      case 2:
        return v.getUint16(p, true);
      case 3:
        return v.getInt16(p, true);
      case 4:
        return v.getUint32(p, true);
      case 5:
        return v.getInt32(p, true);
      case 6:
        return v.getFloat32(p, true);
      case 7:
        return v.getUint8(p) !== 0;
      case 10:
        return Number(v.getBigUint64(p, true));
      case 11:
        return Number(v.getBigInt64(p, true));
      default:
        return v.getFloat64(p, true);
    }
  }
}

/** A file that cannot give its bytes (changed or removed since it was picked) is a typed failure too. */
async function readOrFail(source: ByteSource, offset: number, length: number): Promise<Uint8Array> {
  try {
    return await source.read(offset, length);
  } catch (e) {
    throw new ScanError(
      'READ_FAILED',
      source.name,
      undefined,
      `could not read the GGUF header (bytes ${offset}–${offset + length}): ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

const SCALAR_WIDTH: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const STRING = 8;
const ARRAY = 9;

/** A metadata value: scalars and short strings as they are; long strings and arrays as a summary. */
async function readValue(c: Cursor, type: number, file: string, depth: number): Promise<string | number | boolean | { array: number }> {
  if (type === STRING) return c.string();
  if (type === ARRAY) {
    if (depth >= GGUF_MAX_NESTING) throw bad(file, `metadata arrays nested deeper than ${GGUF_MAX_NESTING}`);
    const inner = await c.u32();
    const n = await c.count();
    if (n > GGUF_MAX_ARRAY) throw bad(file, `a metadata array of ${n} elements exceeds the limit of ${GGUF_MAX_ARRAY}`);
    if (inner === STRING) {
      await c.skipStrings(n);
    } else if (inner in SCALAR_WIDTH) {
      await c.need(n * SCALAR_WIDTH[inner]);
      c.pos += n * SCALAR_WIDTH[inner];
    } else {
      for (let i = 0; i < n; i++) await readValue(c, inner, file, depth + 1);
    }
    return { array: n };
  }
  if (!(type in SCALAR_WIDTH)) throw bad(file, `unknown metadata value type ${type} at byte ${c.pos - 4}`);
  return c.scalar(type);
}

export async function readGgufHeader(source: ByteSource): Promise<GgufHeader> {
  const file = source.name;
  if (source.size < 24)
    throw new ScanError('HEADER_TOO_SHORT', file, undefined, `file is ${source.size} bytes, shorter than a GGUF header`);
  const head = new DataView((await readOrFail(source, 0, 8)).slice().buffer);
  if (head.getUint32(0, true) !== 0x46554747)
    throw new ScanError('NOT_A_CHECKPOINT', file, undefined, 'does not start with the GGUF magic');
  const version = head.getUint32(4, true);
  if ((version & 0xffff) === 0) throw bad(file, 'is a big-endian GGUF, which is not supported');
  if (version < 1 || version > 3) throw bad(file, `GGUF version ${version} is not supported (1–3)`);
  const c = new Cursor(source, version === 1 ? 4 : 8);
  c.pos = 8;
  const tensorCount = await c.count();
  const kvCount = await c.count();
  if (tensorCount > GGUF_MAX_TENSORS)
    throw new ScanError('HEADER_TOO_LARGE', file, undefined, `${tensorCount} tensors exceed the limit of ${GGUF_MAX_TENSORS}`);
  if (kvCount > GGUF_MAX_KV)
    throw new ScanError('HEADER_TOO_LARGE', file, undefined, `${kvCount} metadata keys exceed the limit of ${GGUF_MAX_KV}`);

  const meta = new Map<string, string | number | boolean | { array: number }>();
  for (let i = 0; i < kvCount; i++) {
    const key = await c.string(1 << 16);
    meta.set(key, await readValue(c, await c.u32(), file, 0));
  }

  const raw: { name: string; dims: number[]; type: number; offset: number }[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = await c.string(1 << 16);
    const nDims = await c.u32();
    if (nDims > GGUF_MAX_DIMS) throw bad(file, `tensor "${name}" has ${nDims} dims (ggml has at most ${GGUF_MAX_DIMS})`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(await c.u64());
    raw.push({ name, dims, type: await c.u32(), offset: await c.u64() });
  }
  const alignment = meta.get('general.alignment') ?? 32;
  if (typeof alignment !== 'number' || !Number.isInteger(alignment) || alignment < 1 || alignment > 1 << 20)
    throw bad(file, `general.alignment ${String(alignment)} is not a sensible alignment`);
  const dataStart = Math.ceil(c.pos / alignment) * alignment;

  const { tensors, errors } = tensorInfos(file, source.size, dataStart, alignment, raw);
  const metadata = dataRecord<string>();
  for (const [k, v] of meta) {
    if (typeof v === 'object') metadata[k] = `[${v.array} items]`;
    else if (typeof v !== 'string' || v.length <= KEEP_STRING) metadata[k] = String(v);
    else metadata[k] = `${v.slice(0, KEEP_STRING)}… (${v.length} characters)`;
  }
  const hashInput = `${version}|${kvCount}|${raw.map((t) => `${t.name}:${t.type}:${t.dims.join('x')}@${t.offset}`).join(',')}`;
  return { file, version, tensors, metadata, config: configOf(meta), errors, headerHash: fnv1a(hashInput) };
}

/** Each tensor's byte range, checked: its type's size, within the file, not overlapping another. */
function tensorInfos(
  file: string,
  fileSize: number,
  dataStart: number,
  alignment: number,
  raw: { name: string; dims: number[]; type: number; offset: number }[],
) {
  const tensors: TensorInfo[] = [];
  const errors: ErrorRecord[] = [];
  const seen = new Set<string>();
  for (const r of raw) {
    const type = GGML_TYPES.get(r.type);
    const fail = (code: ErrorRecord['code'], why: string) => errors.push(errorRecord(code, file, r.name, why));
    if (seen.has(r.name)) {
      fail('DUPLICATE_TENSOR', 'listed twice; the first is used');
      continue;
    }
    seen.add(r.name);
    if (!type) {
      fail('UNKNOWN_DTYPE', `unknown ggml type ${r.type}`);
      continue;
    }
    const count = r.dims.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(count)) {
      const exact = r.dims.reduce((a, b) => a * BigInt(b), 1n);
      fail('TOO_LARGE', `dims [${r.dims.join(', ')}] make ${exact} elements, more than any file can hold (at most 2^53)`);
      continue;
    }
    // (a tensor with no dims is one element: whole blocks only for the plain types)
    if ((r.dims[0] ?? 1) % type.blockSize !== 0) {
      fail('SHAPE_INVALID', `dims [${r.dims.join(', ')}] do not hold whole ${type.name} blocks of ${type.blockSize}`);
      continue;
    }
    // llama.cpp refuses a file whose tensor data does not start on the alignment: a writer that
    // forgot the padding, or a damaged offset, and the bytes there are not (only) this tensor's
    if (r.offset % alignment !== 0) {
      fail('OFFSET_MISALIGNED', `data offset ${r.offset} is not a multiple of the file's alignment (${alignment}): not read`);
      continue;
    }
    const byteLength = (count / type.blockSize) * type.blockBytes;
    const begin = dataStart + r.offset;
    if (begin + byteLength > fileSize) {
      fail('OFFSET_OUT_OF_RANGE', `bytes ${begin}–${begin + byteLength} reach beyond the end of the file (${fileSize} bytes)`);
      continue;
    }
    tensors.push({ name: r.name, dtype: type.name, shape: [...r.dims].reverse(), file, begin, byteLength });
  }
  const byBegin = tensors.filter((t) => t.byteLength > 0).sort((a, b) => a.begin - b.begin);
  const overlapping = new Set<string>();
  // against the tensor reaching furthest so far, not just the one before: a large tensor can hold several
  let reach: TensorInfo | undefined;
  for (const t of byBegin) {
    if (reach && t.begin < reach.begin + reach.byteLength) {
      overlapping.add(t.name);
      errors.push(errorRecord('OFFSETS_OVERLAP', file, t.name, `its bytes overlap those of "${reach.name}"`));
    } else if (!reach || t.begin + t.byteLength > reach.begin + reach.byteLength) {
      reach = t;
    }
  }
  return { tensors: tensors.filter((t) => !overlapping.has(t.name)), errors };
}

/** What config.json would say, from `<arch>.attention.head_count` and friends (used to split attn_qkv). */
function configOf(meta: Map<string, unknown>): Record<string, unknown> {
  const arch = meta.get('general.architecture');
  if (typeof arch !== 'string') return {};
  const keys: [string, string][] = [
    ['attention.head_count', 'num_attention_heads'],
    ['attention.head_count_kv', 'num_key_value_heads'],
    ['embedding_length', 'hidden_size'],
    ['attention.key_length', 'head_dim'],
    ['block_count', 'num_hidden_layers'],
  ];
  const config: Record<string, unknown> = { model_type: arch };
  for (const [k, name] of keys) {
    const v = meta.get(`${arch}.${k}`);
    if (typeof v === 'number') config[name] = v;
  }
  return config;
}
