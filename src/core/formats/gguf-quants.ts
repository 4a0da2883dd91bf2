/**
 * Dequantization of ggml's block formats into f32, block by block, as llama.cpp's reference
 * `dequantize_row_*` (ggml-quants.c) define them. Each function decodes `blocks` whole blocks of `src`
 * into `out` from element `at`. Layouts (bytes, little-endian, f16 scales):
 *   Q4_0 [d][16 nibbles]            Q4_1 [d][m][16 nibbles]        Q5_0 [d][qh u32][16 nibbles]
 *   Q5_1 [d][m][qh u32][16 nibbles] Q8_0 [d][32 × i8]
 *   Q2_K [16 scales][64 qs][d][dmin]                Q3_K [32 hmask][64 qs][12 scales][d]
 *   Q4_K [d][dmin][12 scales][128 qs]               Q5_K [d][dmin][12 scales][32 qh][128 qs]
 *   Q6_K [128 ql][64 qh][16 × i8 scales][d]
 */
import { halfTable } from './dtype.ts';

export type Dequantizer = (src: Uint8Array, blocks: number, out: Float32Array, at: number) => void;

const f16 = (src: Uint8Array, o: number, h: Float32Array) => h[src[o] | (src[o + 1] << 8)];
const i8 = (b: number) => (b << 24) >> 24;

function q4_0(src: Uint8Array, blocks: number, out: Float32Array, at: number): void {
  const h = halfTable();
  for (let b = 0, o = 0, y = at; b < blocks; b++, o += 18, y += 32) {
    const d = f16(src, o, h);
    for (let j = 0; j < 16; j++) {
      const q = src[o + 2 + j];
      out[y + j] = ((q & 15) - 8) * d;
      out[y + j + 16] = ((q >> 4) - 8) * d;
    }
  }
}

function q4_1(src: Uint8Array, blocks: number, out: Float32Array, at: number): void {
  const h = halfTable();
  for (let b = 0, o = 0, y = at; b < blocks; b++, o += 20, y += 32) {
    const d = f16(src, o, h);
    const m = f16(src, o + 2, h);
    for (let j = 0; j < 16; j++) {
      const q = src[o + 4 + j];
      out[y + j] = (q & 15) * d + m;
      out[y + j + 16] = (q >> 4) * d + m;
    }
  }
}

/** Q5_0 and Q5_1: the fifth bit of element j is bit j of qh (j < 16), of element j + 16 bit j + 16. */
function q5(withMin: boolean): Dequantizer {
  const size = withMin ? 24 : 22;
  const qhAt = withMin ? 4 : 2;
  return (src, blocks, out, at) => {
    const h = halfTable();
    for (let b = 0, o = 0, y = at; b < blocks; b++, o += size, y += 32) {
      const d = f16(src, o, h);
      const m = withMin ? f16(src, o + 2, h) : -16 * d;
      const qh = (src[o + qhAt] | (src[o + qhAt + 1] << 8) | (src[o + qhAt + 2] << 16) | (src[o + qhAt + 3] << 24)) >>> 0;
      for (let j = 0; j < 16; j++) {
        const q = src[o + qhAt + 4 + j];
        out[y + j] = ((q & 15) | (((qh >>> j) & 1) << 4)) * d + m;
        out[y + j + 16] = ((q >> 4) | (((qh >>> (j + 16)) & 1) << 4)) * d + m;
      }
    }
  };
}

function q8_0(src: Uint8Array, blocks: number, out: Float32Array, at: number): void {
  const h = halfTable();
  for (let b = 0, o = 0, y = at; b < blocks; b++, o += 34, y += 32) {
    const d = f16(src, o, h);
    for (let j = 0; j < 32; j++) out[y + j] = i8(src[o + 2 + j]) * d;
  }
}

function q2_K(src: Uint8Array, blocks: number, out: Float32Array, at: number): void {
  const h = halfTable();
  for (let b = 0, o = 0, y = at; b < blocks; b++, o += 84) {
    const d = f16(src, o + 80, h);
    const dmin = f16(src, o + 82, h);
    let is = 0;
    for (let n = 0; n < 2; n++) {
      const q = o + 16 + 32 * n;
      for (let j = 0, shift = 0; j < 4; j++, shift += 2) {
        for (const half of [0, 16]) {
          const sc = src[o + is++];
          const dl = d * (sc & 15);
          const ml = dmin * (sc >> 4);
          for (let l = 0; l < 16; l++) out[y++] = dl * ((src[q + half + l] >> shift) & 3) - ml;
        }
      }
    }
  }
}

/** Q3_K's 16 six-bit scales: low 4 bits in bytes 0–7 (two per byte), high 2 bits in bytes 8–11. */
function q3Scale(src: Uint8Array, s: number, j: number): number {
  const low = j < 8 ? src[s + j] & 15 : src[s + j - 8] >> 4;
  return (low | (((src[s + 8 + (j % 4)] >> (2 * Math.floor(j / 4))) & 3) << 4)) - 32;
}

function q3_K(src: Uint8Array, blocks: number, out: Float32Array, at: number): void {
  const h = halfTable();
  for (let b = 0, o = 0, y = at; b < blocks; b++, o += 110) {
    const d = f16(src, o + 108, h);
    let is = 0;
    let m = 1;
    for (let n = 0; n < 2; n++) {
      const q = o + 32 + 32 * n;
      for (let j = 0, shift = 0; j < 4; j++, shift += 2, m <<= 1) {
        for (const half of [0, 16]) {
          const dl = d * q3Scale(src, o + 96, is++);
          for (let l = 0; l < 16; l++) out[y++] = dl * (((src[q + half + l] >> shift) & 3) - (src[o + half + l] & m ? 0 : 4));
        }
      }
    }
  }
}

/** Q4_K and Q5_K's eight six-bit (scale, min) pairs, packed into 12 bytes (get_scale_min_k4). */
function scaleMin(src: Uint8Array, s: number, j: number): [number, number] {
  if (j < 4) return [src[s + j] & 63, src[s + j + 4] & 63];
  return [(src[s + j + 4] & 15) | ((src[s + j - 4] >> 6) << 4), (src[s + j + 4] >> 4) | ((src[s + j] >> 6) << 4)];
}

/** Q4_K (4-bit quants) and Q5_K (the same, plus a fifth bit from qh): 8 sub-blocks of 32, each with a scale and a min. */
function q45_K(five: boolean): Dequantizer {
  const size = five ? 176 : 144;
  const qsAt = five ? 48 : 16;
  return (src, blocks, out, at) => {
    const h = halfTable();
    for (let b = 0, o = 0, y = at; b < blocks; b++, o += size) {
      const d = f16(src, o, h);
      const dmin = f16(src, o + 2, h);
      for (let j = 0; j < 4; j++) {
        const q = o + qsAt + 32 * j;
        for (const hi of [0, 1]) {
          const [sc, mn] = scaleMin(src, o + 4, 2 * j + hi);
          const dl = d * sc;
          const ml = dmin * mn;
          const bit = 1 << (2 * j + hi);
          for (let l = 0; l < 32; l++) {
            const low = hi ? src[q + l] >> 4 : src[q + l] & 15;
            const high = five && src[o + 16 + l] & bit ? 16 : 0;
            out[y++] = dl * (low + high) - ml;
          }
        }
      }
    }
  };
}

function q6_K(src: Uint8Array, blocks: number, out: Float32Array, at: number): void {
  const h = halfTable();
  for (let b = 0, o = 0, y = at; b < blocks; b++, o += 210, y += 256) {
    const d = f16(src, o + 208, h);
    for (let n = 0; n < 2; n++) {
      const ql = o + 64 * n;
      const qh = o + 128 + 32 * n;
      const sc = o + 192 + 8 * n;
      const base = y + 128 * n;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const hb = src[qh + l];
        out[base + l] = d * i8(src[sc + is]) * (((src[ql + l] & 15) | ((hb & 3) << 4)) - 32);
        out[base + l + 32] = d * i8(src[sc + is + 2]) * (((src[ql + l + 32] & 15) | (((hb >> 2) & 3) << 4)) - 32);
        out[base + l + 64] = d * i8(src[sc + is + 4]) * (((src[ql + l] >> 4) | (((hb >> 4) & 3) << 4)) - 32);
        out[base + l + 96] = d * i8(src[sc + is + 6]) * (((src[ql + l + 32] >> 4) | (((hb >> 6) & 3) << 4)) - 32);
      }
    }
  }
}

export const DEQUANTIZERS: Readonly<Record<string, Dequantizer>> = {
  Q4_0: q4_0,
  Q4_1: q4_1,
  Q5_0: q5(false),
  Q5_1: q5(true),
  Q8_0: q8_0,
  Q2_K: q2_K,
  Q3_K: q3_K,
  Q4_K: q45_K(false),
  Q5_K: q45_K(true),
  Q6_K: q6_K,
};
