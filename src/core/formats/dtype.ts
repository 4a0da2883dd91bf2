/**
 * Element types of safetensors (and GGUF's plain float types), and their decoding into f32,
 * the precision the engines take (Spectrum itself upcasts every weight to float32).
 */
export type FloatDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'F8_E4M3' | 'F8_E5M2';
const INTEGER_DTYPES = ['I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL'] as const;
export type IntegerDType = (typeof INTEGER_DTYPES)[number];

export const BYTES_PER_ELEMENT: Record<FloatDType | IntegerDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

export function isFloatDType(d: string): d is FloatDType {
  return d === 'F64' || d === 'F32' || d === 'F16' || d === 'BF16' || d === 'F8_E4M3' || d === 'F8_E5M2';
}

export function isKnownDType(d: string): d is FloatDType | IntegerDType {
  return isFloatDType(d) || (INTEGER_DTYPES as readonly string[]).includes(d);
}

let f16Table: Float32Array | undefined;
/** All 65536 half-precision values, built once: a lookup beats bit fiddling per element. */
export function halfTable(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = halfToFloat(h);
  }
  return f16Table;
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** float8 e4m3fn (no infinities; 0x7f/0xff are NaN), as torch.float8_e4m3fn and safetensors define it. */
export function e4m3ToFloat(b: number): number {
  const sign = b & 0x80 ? -1 : 1;
  const exp = (b >> 3) & 0xf;
  const frac = b & 0x7;
  if (exp === 15 && frac === 7) return NaN;
  if (exp === 0) return sign * frac * 2 ** -9;
  return sign * (1 + frac / 8) * 2 ** (exp - 7);
}

/** float8 e5m2: IEEE-like, with infinities and NaNs. */
export function e5m2ToFloat(b: number): number {
  return halfToFloat(b << 8);
}

let e4m3Table: Float32Array | undefined;
let e5m2Table: Float32Array | undefined;
function byteTable(kind: 'F8_E4M3' | 'F8_E5M2'): Float32Array {
  if (kind === 'F8_E4M3') {
    e4m3Table ??= Float32Array.from({ length: 256 }, (_, b) => e4m3ToFloat(b));
    return e4m3Table;
  }
  e5m2Table ??= Float32Array.from({ length: 256 }, (_, b) => e5m2ToFloat(b));
  return e5m2Table;
}

/** Bytes into a view that is aligned for `bytesPerElement` (copies only when the slice is not). */
function aligned(bytes: Uint8Array, bytesPerElement: number): ArrayBuffer | SharedArrayBuffer {
  if (bytes.byteOffset % bytesPerElement === 0) return bytes.buffer;
  return bytes.slice().buffer;
}

function alignedOffset(bytes: Uint8Array, bytesPerElement: number): number {
  return bytes.byteOffset % bytesPerElement === 0 ? bytes.byteOffset : 0;
}

/**
 * Decode `bytes` (a whole number of elements of `dtype`, little-endian) into `out` from element `at`.
 * Returns the number of elements written.
 */
export function decodeInto(dtype: FloatDType, bytes: Uint8Array, out: Float32Array, at: number): number {
  const width = BYTES_PER_ELEMENT[dtype];
  const count = Math.floor(bytes.byteLength / width);
  const buf = aligned(bytes, width);
  const off = alignedOffset(bytes, width);
  switch (dtype) {
    case 'F32':
      out.set(new Float32Array(buf, off, count), at);
      break;
    case 'F64': {
      const src = new Float64Array(buf, off, count);
      for (let i = 0; i < count; i++) out[at + i] = src[i];
      break;
    }
    case 'BF16': {
      // bf16 is the top half of an f32: shift into place through an integer view of `out`, two values per
      // 32-bit read where the bytes allow it (1.7× the speed of one per 16-bit read; little-endian: the
      // first value is the low half).
      const dst = new Uint32Array(out.buffer, out.byteOffset + at * 4, count);
      if (count === 0) break;
      const head = off % 4 === 0 ? 0 : 1;
      const pairs = (count - head) >> 1;
      const src16 = new Uint16Array(buf, off, count);
      if (head === 1) dst[0] = src16[0] << 16;
      const src32 = new Uint32Array(buf, off + 2 * head, pairs);
      for (let i = 0, j = head; i < pairs; i++, j += 2) {
        const w = src32[i];
        dst[j] = w << 16;
        dst[j + 1] = w & 0xffff0000;
      }
      if (head + 2 * pairs < count) dst[count - 1] = src16[count - 1] << 16;
      break;
    }
    case 'F16': {
      const src = new Uint16Array(buf, off, count);
      const table = halfTable();
      for (let i = 0; i < count; i++) out[at + i] = table[src[i]];
      break;
    }
    case 'F8_E4M3':
    case 'F8_E5M2': {
      const table = byteTable(dtype);
      for (let i = 0; i < count; i++) out[at + i] = table[bytes[i]];
      break;
    }
  }
  return count;
}
