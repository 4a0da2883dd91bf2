/** f32 → the bytes of each float dtype, for writing fixtures (round to nearest, ties to even). */
import type { FloatDType } from '../../src/core/formats/dtype.ts';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function floatToBf16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if (Number.isNaN(x)) return 0x7fc0;
  return ((bits + 0x7fff + ((bits >> 16) & 1)) >>> 16) & 0xffff;
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function floatToHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  let exp = Math.floor(Math.log2(a));
  if (exp < -14) return sign | roundHalfEven(a / 2 ** -24); // subnormal (or zero)
  let mant = roundHalfEven((a / 2 ** exp - 1) * 1024);
  if (mant === 1024) {
    mant = 0;
    exp++;
  }
  return sign | ((exp + 15) << 10) | mant;
}

/** Nearest representable value by exhaustive search of a 256-entry table (tiny fixtures only). */
export function floatToByte(x: number, decode: (b: number) => number): number {
  let best = 0;
  let bestErr = Infinity;
  for (let b = 0; b < 256; b++) {
    const v = decode(b);
    if (Number.isNaN(v)) continue;
    const err = Math.abs(v - x);
    if (err < bestErr) {
      best = b;
      bestErr = err;
    }
  }
  return best;
}

export function encodeValues(dtype: FloatDType, values: ArrayLike<number>, decodeByte?: (b: number) => number): Uint8Array {
  const n = values.length;
  switch (dtype) {
    case 'F32':
      return new Uint8Array(Float32Array.from(values).buffer);
    case 'F64':
      return new Uint8Array(Float64Array.from(values).buffer);
    case 'BF16':
      return new Uint8Array(Uint16Array.from({ length: n }, (_, i) => floatToBf16(values[i])).buffer);
    case 'F16':
      return new Uint8Array(Uint16Array.from({ length: n }, (_, i) => floatToHalf(values[i])).buffer);
    case 'F8_E4M3':
    case 'F8_E5M2':
      if (!decodeByte) throw new Error('float8 encoding needs the decoder');
      return Uint8Array.from({ length: n }, (_, i) => floatToByte(values[i], decodeByte));
  }
}
