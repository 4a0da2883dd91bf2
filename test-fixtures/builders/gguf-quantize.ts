/**
 * Quantizers into ggml's block formats, for writing GGUF fixtures. Q8_0 and Q4_0 follow llama.cpp's
 * reference quantizers exactly; the K-quants choose their scales more simply than llama.cpp's searches
 * (min/max per sub-block instead of a weighted fit) but pack the very same bytes, so that the
 * dequantizers see the layout real files have.
 */
import { halfToFloat } from '../../src/core/formats/dtype.ts';
import { floatToHalf } from './encode.ts';

const half = (x: number): [number, number] => {
  const h = floatToHalf(x);
  return [h, halfToFloat(h)];
};
const put16 = (out: Uint8Array, o: number, h: number) => {
  out[o] = h & 255;
  out[o + 1] = h >> 8;
};
/** llama.cpp's nearest_int: round to nearest, ties to even */
const nearest = (v: number) => {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};
const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

function q8_0(x: Float32Array, out: Uint8Array, o: number): void {
  let amax = 0;
  for (const v of x) amax = Math.max(amax, Math.abs(v));
  const [h, d] = half(amax / 127);
  const id = d ? 1 / (amax / 127) : 0;
  put16(out, o, h);
  // roundf: halves away from zero
  for (let j = 0; j < 32; j++) out[o + 2 + j] = (Math.sign(x[j]) * Math.round(Math.abs(x[j] * id))) & 255;
}

function q4_0(x: Float32Array, out: Uint8Array, o: number): void {
  let amax = 0;
  let max = 0;
  for (const v of x) if (Math.abs(v) > amax) [amax, max] = [Math.abs(v), v];
  const d = max / -8;
  const id = d ? 1 / d : 0;
  put16(out, o, half(d)[0]);
  for (let j = 0; j < 16; j++) {
    const a = Math.min(15, Math.trunc(x[j] * id + 8.5));
    const b = Math.min(15, Math.trunc(x[j + 16] * id + 8.5));
    out[o + 2 + j] = a | (b << 4);
  }
}

/** Q4_K (levels 15) and Q5_K (levels 31): per 32-element sub-block a scale and a min, both 6-bit. */
function q45_K(x: Float32Array, out: Uint8Array, o: number, five: boolean): void {
  const levels = five ? 31 : 15;
  const scales: number[] = [];
  const mins: number[] = [];
  for (let j = 0; j < 8; j++) {
    const sub = x.subarray(32 * j, 32 * j + 32);
    const mn = Math.max(0, -Math.min(...sub));
    scales.push((Math.max(...sub) + mn) / levels);
    mins.push(mn);
  }
  const maxScale = Math.max(...scales);
  const maxMin = Math.max(...mins);
  const ls = scales.map((s) => (maxScale > 0 ? Math.min(63, nearest((63 * s) / maxScale)) : 0));
  const lm = mins.map((m) => (maxMin > 0 ? Math.min(63, nearest((63 * m) / maxMin)) : 0));
  const [hd, d] = half(maxScale / 63);
  const [hm, dmin] = half(maxMin / 63);
  put16(out, o, hd);
  put16(out, o + 2, hm);
  const sc = o + 4;
  for (let j = 0; j < 8; j++) {
    if (j < 4) {
      out[sc + j] = ls[j];
      out[sc + j + 4] = lm[j];
    } else {
      out[sc + j + 4] = (ls[j] & 15) | ((lm[j] & 15) << 4);
      out[sc + j - 4] |= (ls[j] >> 4) << 6;
      out[sc + j] |= (lm[j] >> 4) << 6;
    }
  }
  const L = new Uint8Array(256);
  for (let j = 0; j < 8; j++) {
    const dl = d * ls[j];
    if (!dl) continue;
    const ml = dmin * lm[j];
    for (let i = 0; i < 32; i++) L[32 * j + i] = clamp(nearest((x[32 * j + i] + ml) / dl), 0, levels);
  }
  const qs = o + (five ? 48 : 16);
  for (let j = 0; j < 4; j++) {
    for (let l = 0; l < 32; l++) {
      const a = L[64 * j + l];
      const b = L[64 * j + 32 + l];
      out[qs + 32 * j + l] = (a & 15) | ((b & 15) << 4);
      if (five) out[o + 16 + l] |= ((a >> 4) << (2 * j)) | ((b >> 4) << (2 * j + 1));
    }
  }
}

function q6_K(x: Float32Array, out: Uint8Array, o: number): void {
  const scales: number[] = [];
  for (let j = 0; j < 16; j++) {
    let amax = 0;
    let max = 0;
    for (const v of x.subarray(16 * j, 16 * j + 16)) if (Math.abs(v) > amax) [amax, max] = [Math.abs(v), v];
    scales.push(max / -32);
  }
  let maxScale = 0;
  for (const s of scales) if (Math.abs(s) > Math.abs(maxScale)) maxScale = s;
  if (!maxScale) return; // an all-zero block is all-zero bytes
  const iscale = -128 / maxScale;
  const [hd, d] = half(1 / iscale);
  put16(out, o + 208, hd);
  const sc = scales.map((s) => Math.min(127, nearest(iscale * s)));
  sc.forEach((s, j) => (out[o + 192 + j] = s & 255));
  const L = new Uint8Array(256);
  for (let j = 0; j < 16; j++) {
    const dl = d * sc[j];
    for (let i = 0; i < 16; i++) L[16 * j + i] = dl ? clamp(nearest(x[16 * j + i] / dl), -32, 31) + 32 : 32;
  }
  for (let n = 0; n < 2; n++) {
    const ql = o + 64 * n;
    const qh = o + 128 + 32 * n;
    for (let l = 0; l < 32; l++) {
      const [a, b, c, e] = [0, 32, 64, 96].map((k) => L[128 * n + l + k]);
      out[ql + l] = (a & 15) | ((c & 15) << 4);
      out[ql + l + 32] = (b & 15) | ((e & 15) << 4);
      out[qh + l] = (a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6);
    }
  }
}

const BLOCK: Record<string, [number, number, (x: Float32Array, out: Uint8Array, o: number) => void]> = {
  Q8_0: [32, 34, q8_0],
  Q4_0: [32, 18, q4_0],
  Q4_K: [256, 144, (x, out, o) => q45_K(x, out, o, false)],
  Q5_K: [256, 176, (x, out, o) => q45_K(x, out, o, true)],
  Q6_K: [256, 210, q6_K],
};

export const QUANTIZABLE = Object.keys(BLOCK);

/** The bytes of `values` (row-major, rows of `cols`) in a block format; `cols` must hold whole blocks. */
export function quantize(type: string, values: ArrayLike<number>, cols: number): Uint8Array {
  const [size, bytes, fn] = BLOCK[type];
  if (cols % size !== 0) throw new Error(`${type}: rows of ${cols} do not hold whole blocks of ${size}`);
  const blocks = values.length / size;
  const out = new Uint8Array(blocks * bytes);
  const x = Float32Array.from(values);
  for (let b = 0; b < blocks; b++) fn(x.subarray(b * size, (b + 1) * size), out, b * bytes);
  return out;
}
