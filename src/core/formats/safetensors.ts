import { dataRecord } from '../data-record.ts';
import { errorRecord, ScanError, type ErrorCode, type ErrorRecord } from '../errors.ts';
import type { ByteSource } from './byte-source.ts';
import { BYTES_PER_ELEMENT, isKnownDType } from './dtype.ts';
import { fnv1a } from './hash.ts';
import { previewJson, scanJsonText } from './json-keys.ts';
import { elementCount, type TensorInfo } from './tensor-info.ts';

/**
 * Named limits for untrusted headers. The safetensors library itself refuses headers over 100 MB;
 * real ones are at most a few MB (a 1,000-expert shard), so 64 MiB leaves room and bounds memory.
 */
export const MAX_HEADER_BYTES = 64 * 1024 * 1024;
/** No real weight has more dimensions; a deeper shape is damage or mischief. */
export const MAX_TENSOR_RANK = 8;
/**
 * The most tensors one header may list. The largest real shards hold a few thousand; a merged
 * single file of a 384-expert model holds about 140,000. Each listed tensor costs a few hundred bytes
 * of parsed JSON and TensorInfo, so this bounds the header's memory well below the page's.
 */
export const MAX_TENSORS_PER_HEADER = 1 << 18;
/**
 * A header nests 3 deep (header → entry → shape); a little room is left for writers that put JSON
 * into __metadata__. Deeper is damage, and it would put recursive walks (messages, structured clone
 * across workers) at the mercy of the stack.
 */
export const MAX_HEADER_DEPTH = 8;
/**
 * The most JSON values (objects, arrays, separators) a header may hold: a real one has about 10 per
 * tensor. Without it, 60 MB of `[],[],…` under MAX_HEADER_BYTES makes JSON.parse build 20 million
 * arrays (21 s, 860 MB); at this limit the worst case (all empty arrays) parses in 1–3 s and ~200 MB.
 * A 2^18-tensor header has about 2 million.
 */
export const MAX_HEADER_ITEMS = 1 << 22;

export interface SafetensorsHeader {
  file: string;
  /** absolute offset of the data section (8 + header length) */
  dataStart: number;
  /** a hash of the header's bytes: with name and size, it identifies the file for caching */
  headerHash: string;
  metadata: Record<string, string>;
  /** the tensors that passed validation, in header order */
  tensors: TensorInfo[];
  /** per-tensor problems: the tensor is left out, the rest of the file is still usable */
  errors: ErrorRecord[];
}

/** Read and validate a safetensors header; throws a ScanError when the file as a whole is unusable. */
export async function readSafetensorsHeader(source: ByteSource): Promise<SafetensorsHeader> {
  const file = source.name;
  if (source.size < 8)
    throw new ScanError('HEADER_TOO_SHORT', file, undefined, `file is ${source.size} bytes, shorter than the 8-byte header length`);
  const prefix = await readOrFail(source, 0, 8);
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  const headerLength = high * 2 ** 32 + low;
  if (headerLength === 0) throw new ScanError('HEADER_INVALID_JSON', file, undefined, 'header length is 0');
  if (headerLength > MAX_HEADER_BYTES) {
    if (headerLength > source.size - 8) {
      throw new ScanError(
        'HEADER_LENGTH_OUT_OF_RANGE',
        file,
        undefined,
        `header length ${headerLength} is beyond the end of the file (${source.size} bytes): not a safetensors file, or truncated`,
      );
    }
    throw new ScanError('HEADER_TOO_LARGE', file, undefined, `header of ${headerLength} bytes exceeds the limit of ${MAX_HEADER_BYTES}`);
  }
  if (headerLength > source.size - 8) {
    throw new ScanError(
      'HEADER_LENGTH_OUT_OF_RANGE',
      file,
      undefined,
      `header length ${headerLength} is beyond the end of the file (${source.size} bytes): truncated file or not a safetensors file`,
    );
  }
  const headerBytes = await readOrFail(source, 8, headerLength);
  const text = new TextDecoder('utf-8').decode(headerBytes);
  const shape = scanJsonText(text, { maxDepth: MAX_HEADER_DEPTH, maxItems: MAX_HEADER_ITEMS });
  if (shape.exceeded === 'depth')
    throw new ScanError(
      'HEADER_TOO_LARGE',
      file,
      undefined,
      `header nests deeper than ${MAX_HEADER_DEPTH} levels: not a safetensors header`,
    );
  if (shape.exceeded === 'items')
    throw new ScanError(
      'HEADER_TOO_LARGE',
      file,
      undefined,
      `header holds more than ${MAX_HEADER_ITEMS} JSON values, beyond the limit for a safetensors header`,
    );
  const listed = shape.topLevelKeys - (shape.keys.has('__metadata__') ? 1 : 0);
  if (listed > MAX_TENSORS_PER_HEADER) {
    throw new ScanError(
      'HEADER_TOO_LARGE',
      file,
      undefined,
      `header lists ${listed} tensors, more than the limit of ${MAX_TENSORS_PER_HEADER}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ScanError('HEADER_INVALID_JSON', file, undefined, `header is not valid JSON (${why.slice(0, 120)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ScanError('HEADER_NOT_OBJECT', file, undefined, 'header is not a JSON object');
  }
  const dataStart = 8 + headerLength;
  const dataLength = source.size - dataStart;
  const entries = parsed as Record<string, unknown>;
  const errors: ErrorRecord[] = [];
  const tensors: TensorInfo[] = [];
  for (const name of shape.duplicates) {
    errors.push(errorRecord('DUPLICATE_TENSOR', file, name, 'the header names this tensor more than once'));
  }
  const duplicated = new Set(errors.map((e) => e.tensor));
  let metadata = dataRecord<string>();
  for (const [name, entry] of Object.entries(entries)) {
    if (name === '__metadata__') {
      metadata = stringRecord(entry);
      continue;
    }
    if (duplicated.has(name)) continue;
    const t = validateEntry(file, name, entry, dataStart, dataLength);
    if ('code' in t) errors.push(t);
    else tensors.push(t);
  }
  errors.push(...overlapErrors(file, tensors));
  const overlapping = new Set(errors.filter((e) => e.code === 'OFFSETS_OVERLAP').map((e) => e.tensor));
  return { file, dataStart, headerHash: fnv1a(text), metadata, tensors: tensors.filter((t) => !overlapping.has(t.name)), errors };
}

/** A source that cannot give its bytes (a file removed or changed since it was picked) is a typed failure too. */
async function readOrFail(source: ByteSource, offset: number, length: number): Promise<Uint8Array> {
  try {
    return await source.read(offset, length);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ScanError('READ_FAILED', source.name, undefined, `could not read the header (bytes ${offset}–${offset + length}): ${why}`);
  }
}

function stringRecord(x: unknown): Record<string, string> {
  const out = dataRecord<string>();
  if (typeof x !== 'object' || x === null) return out;
  for (const [k, v] of Object.entries(x)) if (typeof v === 'string') out[k] = v;
  return out;
}

function isNonNegativeInteger(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function validateEntry(file: string, name: string, entry: unknown, dataStart: number, dataLength: number): TensorInfo | ErrorRecord {
  // a record, not a thrown ScanError: a header may hold 2^18 bad entries, and a stack trace each costs seconds
  const bad = (code: ErrorCode, detail: string) => errorRecord(code, file, name, detail);
  if (typeof entry !== 'object' || entry === null) return bad('TENSOR_ENTRY_INVALID', 'header entry is not an object');
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string') return bad('TENSOR_ENTRY_INVALID', 'header entry has no dtype');
  if (!isKnownDType(dtype)) return bad('UNKNOWN_DTYPE', `unknown dtype "${dtype.slice(0, 40)}"`);
  if (!Array.isArray(shape) || shape.length > MAX_TENSOR_RANK || !shape.every(isNonNegativeInteger)) {
    return bad('SHAPE_INVALID', `shape ${previewJson(shape)} is not a list of at most ${MAX_TENSOR_RANK} non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger) || offsets[0] > offsets[1]) {
    return bad('TENSOR_ENTRY_INVALID', `data_offsets ${previewJson(offsets)} are not [begin, end] with 0 <= begin <= end`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLength) {
    return bad(
      'OFFSET_OUT_OF_RANGE',
      `data_offsets [${begin}, ${end}] reach beyond the end of the data (${dataLength} bytes): the file is truncated or the offsets are wrong`,
    );
  }
  const expected = elementCount(shape as number[]) * BYTES_PER_ELEMENT[dtype];
  // Past 2^53 products round, and a rounded product could match a byte range by accident.
  if (!Number.isSafeInteger(expected) || expected !== end - begin) {
    return bad(
      'SHAPE_BYTE_MISMATCH',
      `shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${expected} bytes but data_offsets give ${end - begin}`,
    );
  }
  return { name, dtype, shape: shape as number[], file, begin: dataStart + begin, byteLength: end - begin };
}

function overlapErrors(file: string, tensors: TensorInfo[]): ErrorRecord[] {
  const byStart = tensors.filter((t) => t.byteLength > 0).sort((a, b) => a.begin - b.begin);
  const flagged = new Map<string, ErrorRecord>();
  const flag = (t: TensorInfo, other: TensorInfo) => {
    if (!flagged.has(t.name))
      flagged.set(t.name, errorRecord('OFFSETS_OVERLAP', file, t.name, `its bytes overlap those of "${other.name}"`));
  };
  // The tensor reaching furthest so far: any later start before its end overlaps it.
  let reach: TensorInfo | undefined;
  for (const cur of byStart) {
    if (reach && cur.begin < reach.begin + reach.byteLength) {
      flag(reach, cur);
      flag(cur, reach);
    }
    if (!reach || cur.begin + cur.byteLength > reach.begin + reach.byteLength) reach = cur;
  }
  return [...flagged.values()];
}
