import { ScanError, type ErrorRecord } from '../errors.ts';
import type { ByteSource } from './byte-source.ts';
import { BYTES_PER_ELEMENT, isKnownDType } from './dtype.ts';
import { fnv1a } from './hash.ts';
import { duplicateTopLevelKeys } from './json-keys.ts';
import { elementCount, type TensorInfo } from './tensor-info.ts';

/**
 * Named limits for untrusted headers. The safetensors library itself refuses headers over 100 MB;
 * real ones are at most a few MB (a 1,000-expert shard), so 64 MiB leaves room and bounds memory.
 */
export const MAX_HEADER_BYTES = 64 * 1024 * 1024;
/** No real weight has more dimensions; a deeper shape is damage or mischief. */
export const MAX_TENSOR_RANK = 8;

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
  if (source.size < 8) throw new ScanError('HEADER_TOO_SHORT', file, undefined, `file is ${source.size} bytes, shorter than the 8-byte header length`);
  const prefix = await source.read(0, 8);
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  const headerLength = high * 2 ** 32 + low;
  if (headerLength === 0) throw new ScanError('HEADER_INVALID_JSON', file, undefined, 'header length is 0');
  if (headerLength > MAX_HEADER_BYTES) {
    if (headerLength > source.size - 8) {
      throw new ScanError('HEADER_LENGTH_OUT_OF_RANGE', file, undefined, `header length ${headerLength} is beyond the end of the file (${source.size} bytes): not a safetensors file, or truncated`);
    }
    throw new ScanError('HEADER_TOO_LARGE', file, undefined, `header of ${headerLength} bytes exceeds the limit of ${MAX_HEADER_BYTES}`);
  }
  if (headerLength > source.size - 8) {
    throw new ScanError('HEADER_LENGTH_OUT_OF_RANGE', file, undefined, `header length ${headerLength} is beyond the end of the file (${source.size} bytes): truncated file or not a safetensors file`);
  }
  const headerBytes = await source.read(8, headerLength);
  const text = new TextDecoder('utf-8').decode(headerBytes);
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
  for (const name of duplicateTopLevelKeys(text)) {
    errors.push(new ScanError('DUPLICATE_TENSOR', file, name, 'the header names this tensor more than once').toRecord());
  }
  const duplicated = new Set(errors.map((e) => e.tensor));
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(entries)) {
    if (name === '__metadata__') {
      metadata = stringRecord(entry);
      continue;
    }
    if (duplicated.has(name)) continue;
    try {
      tensors.push(validateEntry(file, name, entry, dataStart, dataLength));
    } catch (e) {
      if (e instanceof ScanError) errors.push(e.toRecord());
      else throw e;
    }
  }
  errors.push(...overlapErrors(file, tensors));
  const overlapping = new Set(errors.filter((e) => e.code === 'OFFSETS_OVERLAP').map((e) => e.tensor));
  return { file, dataStart, headerHash: fnv1a(text), metadata, tensors: tensors.filter((t) => !overlapping.has(t.name)), errors };
}

function stringRecord(x: unknown): Record<string, string> {
  if (typeof x !== 'object' || x === null) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(x)) if (typeof v === 'string') out[k] = v;
  return out;
}

function isNonNegativeInteger(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function validateEntry(file: string, name: string, entry: unknown, dataStart: number, dataLength: number): TensorInfo {
  if (typeof entry !== 'object' || entry === null) throw new ScanError('TENSOR_ENTRY_INVALID', file, name, 'header entry is not an object');
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string') throw new ScanError('TENSOR_ENTRY_INVALID', file, name, 'header entry has no dtype');
  if (!isKnownDType(dtype)) throw new ScanError('UNKNOWN_DTYPE', file, name, `unknown dtype "${dtype.slice(0, 40)}"`);
  if (!Array.isArray(shape) || shape.length > MAX_TENSOR_RANK || !shape.every(isNonNegativeInteger)) {
    throw new ScanError('SHAPE_INVALID', file, name, `shape ${JSON.stringify(shape)?.slice(0, 80)} is not a list of at most ${MAX_TENSOR_RANK} non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger) || offsets[0] > offsets[1]) {
    throw new ScanError('TENSOR_ENTRY_INVALID', file, name, `data_offsets ${JSON.stringify(offsets)?.slice(0, 80)} are not [begin, end] with 0 <= begin <= end`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLength) {
    throw new ScanError('OFFSET_OUT_OF_RANGE', file, name, `data_offsets [${begin}, ${end}] reach beyond the end of the data (${dataLength} bytes): the file is truncated or the offsets are wrong`);
  }
  const expected = elementCount(shape as number[]) * BYTES_PER_ELEMENT[dtype];
  if (expected !== end - begin) {
    throw new ScanError('SHAPE_BYTE_MISMATCH', file, name, `shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${expected} bytes but data_offsets give ${end - begin}`);
  }
  return { name, dtype, shape: shape as number[], file, begin: dataStart + begin, byteLength: end - begin };
}

function overlapErrors(file: string, tensors: TensorInfo[]): ErrorRecord[] {
  const byStart = tensors.filter((t) => t.byteLength > 0).sort((a, b) => a.begin - b.begin);
  const flagged = new Map<string, ErrorRecord>();
  const flag = (t: TensorInfo, other: TensorInfo) => {
    if (!flagged.has(t.name)) flagged.set(t.name, new ScanError('OFFSETS_OVERLAP', file, t.name, `its bytes overlap those of "${other.name}"`).toRecord());
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
