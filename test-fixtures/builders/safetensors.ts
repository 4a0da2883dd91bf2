/** Writes safetensors files in memory, for tests: every dtype, sharded layouts, and damaged files. */
import type { FloatDType } from '../../src/core/formats/dtype.ts';
import { e4m3ToFloat, e5m2ToFloat } from '../../src/core/formats/dtype.ts';
import { encodeValues } from './encode.ts';
import { seededUniform, standardNormal } from '../../src/core/random.ts';

export interface FixtureTensor {
  name: string;
  dtype: FloatDType | string;
  shape: number[];
  /** values to encode, or raw bytes as they should appear */
  values?: ArrayLike<number>;
  bytes?: Uint8Array;
}

export function tensorBytes(t: FixtureTensor): Uint8Array {
  if (t.bytes) return t.bytes;
  const decode = t.dtype === 'F8_E4M3' ? e4m3ToFloat : t.dtype === 'F8_E5M2' ? e5m2ToFloat : undefined;
  return encodeValues(t.dtype as FloatDType, t.values ?? [], decode);
}

/** A header object and data, before they are joined; tests may tamper with either. */
export function safetensorsParts(tensors: FixtureTensor[], metadata?: Record<string, string>) {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of tensors) {
    const bytes = tensorBytes(t);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.byteLength;
  }
  return { header, data };
}

/** Join a header (object or raw JSON text) and data into a file, padding the header to 8 bytes as writers do. */
export function joinSafetensors(header: Record<string, unknown> | string, data: Uint8Array, headerLengthOverride?: bigint): Uint8Array {
  let json = typeof header === 'string' ? header : JSON.stringify(header);
  while ((json.length + 8) % 8 !== 0) json += ' ';
  const text = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + text.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, headerLengthOverride ?? BigInt(text.byteLength), true);
  out.set(text, 8);
  out.set(data, 8 + text.byteLength);
  return out;
}

export function buildSafetensors(tensors: FixtureTensor[], metadata?: Record<string, string>): Uint8Array {
  const { header, data } = safetensorsParts(tensors, metadata);
  return joinSafetensors(header, data);
}

/** Deterministic uniform and Gaussian samples for fixtures (the project's one seeded generator). */
export function rng(seed: number): { uniform(): number; normal(): number } {
  const uniform = seededUniform(seed);
  return { uniform, normal: () => standardNormal(uniform) };
}

export function gaussianMatrix(rows: number, cols: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: rows * cols }, () => r.normal() * scale);
}
