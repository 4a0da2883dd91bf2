import { ScanError } from '../errors.ts';
import type { FloatDType } from '../formats/dtype.ts';

/**
 * float64 values → the bytes of a float dtype (little-endian), each rounded once to the nearest
 * representable value, ties to even (as torch's `.to(dtype)` rounds). Rounding straight from float64
 * avoids the double rounding of going through f32 first. float8 is not written (no rewrite changes an
 * f8 checkpoint's values in place: `encodeFloat64` refuses it, naming the tensor).
 */
export type WritableDType = 'F64' | 'F32' | 'BF16' | 'F16';

export function isWritableDType(d: string): d is WritableDType {
  return d === 'F64' || d === 'F32' || d === 'BF16' || d === 'F16';
}

export function encodeFloat64(dtype: FloatDType | string, values: Float64Array, file: string, tensor: string): Uint8Array {
  switch (dtype) {
    case 'F64':
      return new Uint8Array(Float64Array.from(values).buffer);
    case 'F32':
      return new Uint8Array(Float32Array.from(values).buffer);
    case 'BF16': {
      const out = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = float64ToBf16(values[i]);
      return new Uint8Array(out.buffer);
    }
    case 'F16': {
      const out = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = float64ToHalf(values[i]);
      return new Uint8Array(out.buffer);
    }
    default:
      throw new ScanError('UNKNOWN_DTYPE', file, tensor, `new values cannot be written as ${dtype} (F64, F32, BF16 and F16 can)`);
  }
}

/** x ≥ 0 rounded to a multiple of `quantum` (a power of two), ties to even. */
function roundToQuantum(x: number, quantum: number): number {
  const q = x / quantum; // exact: a division by a power of two
  const lo = Math.floor(q);
  const frac = q - lo;
  return (frac > 0.5 || (frac === 0.5 && lo % 2 !== 0) ? lo + 1 : lo) * quantum;
}

/** 2^e <= x < 2^(e+1) for x > 0 (Math.log2 can be off by one next to a power of two). */
function exponentOf(x: number): number {
  const e = Math.floor(Math.log2(x));
  return x < 2 ** e ? e - 1 : x >= 2 ** (e + 1) ? e + 1 : e;
}

/** x > 0 rounded to `bits` significant bits, ties to even. */
function roundSignificand(x: number, bits: number): number {
  return roundToQuantum(x, 2 ** (exponentOf(x) - bits + 1));
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float64 → bfloat16 bits: 8 significant bits, f32's exponent range (subnormals to 2^-133), overflow to ±Infinity. */
export function float64ToBf16(x: number): number {
  if (Number.isNaN(x)) return 0x7fc0;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === 0) return sign;
  const r = a === Infinity ? a : a < 2 ** -126 ? roundToQuantum(a, 2 ** -133) : roundSignificand(a, 8);
  f32[0] = r; // r is a bf16 value, so f32 holds it exactly (past bf16's largest finite value it is Infinity)
  return sign | (u32[0] >>> 16);
}

/** float64 → IEEE half bits: 11 significant bits, subnormals to 2^-24, overflow to ±Infinity. */
export function float64ToHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a < 2 ** -14) return sign | (roundToQuantum(a, 2 ** -24) / 2 ** -24); // 1024 is the smallest normal: the same bits
  const r = a === Infinity ? a : roundSignificand(a, 11);
  if (r >= 65536) return sign | 0x7c00;
  const e = exponentOf(r);
  return sign | ((e + 15) << 10) | ((r / 2 ** e - 1) * 1024);
}
