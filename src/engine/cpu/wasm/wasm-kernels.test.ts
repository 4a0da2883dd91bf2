import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { gramOfSmallerSide } from '../gram.ts';
import { gaussian, maxRelError } from '../testing.ts';
import type { Kernels } from '../kernels.ts';
import { tsKernels } from '../ts-kernels.ts';
import { createWasmKernels } from './wasm-kernels.ts';

// Node 20's V8 has relaxed SIMD behind a flag (later Nodes and Chromium have it on): on, so that both builds run here.
setFlagsFromString('--experimental-wasm-relaxed-simd');
const plain = await createWasmKernels('plain');
const relaxed = await createWasmKernels('relaxed');
if (plain === null || relaxed === null)
  throw new Error('WebAssembly SIMD or relaxed SIMD is missing: Node 20 has both (the latter behind the flag)');

describe('the default build', () => {
  it('is the relaxed-SIMD one where the runtime validates it, and says so', async () => {
    expect(plain.relaxedSimd).toBe(false);
    expect(relaxed.relaxedSimd).toBe(true);
    expect((await createWasmKernels())?.relaxedSimd).toBe(true);
  });
});

describe('the two builds', () => {
  it('give the Gram of an f32 matrix to the same bits: products of two f32 are exact in f64, so fusing skips no rounding', () => {
    const [rows, cols] = [37, 300];
    const m = gaussian(rows * cols, 5);
    const a = gramOfSmallerSide(m, rows, cols, plain).gram;
    const b = gramOfSmallerSide(m, rows, cols, relaxed).gram;
    expect(a).toHaveLength(rows * rows);
    expect(Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength))).toBe(0);
  });
});

describe.each([
  ['plain SIMD', plain],
  ['relaxed SIMD (fused multiply-add)', relaxed],
] as [string, Kernels][])('WebAssembly kernels, %s build, equal the TypeScript reference', (_name, wasm) => {
  /** The same arrays in wasm memory and in plain Float64Arrays. */
  function twin(lengths: number[], seed: number): [Float64Array[], Float64Array[]] {
    const w = wasm.allocate(lengths);
    const t = lengths.map((len, i) => {
      const src = Float64Array.from(gaussian(len, seed + i));
      w[i].set(src);
      return src;
    });
    return [w, t];
  }

  it('symvUpper, for every parity of m, every remainder after the blocks of four rows, and offsets', () => {
    for (const m of [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 33, 64, 101]) {
      const ld = m + 7;
      const [[wa, wx, wy], [ta, tx, ty]] = twin([ld * ld + 10, m + 3, m + 3], m);
      wasm.symvUpper(wa, 5, ld, m, wx, 1, wy, 2);
      tsKernels.symvUpper(ta, 5, ld, m, tx, 1, ty, 2);
      expect(maxRelError(wy, ty, 1)).toBeLessThan(1e-13);
      expect(wy[0]).toBe(ty[0]); // nothing written outside y[2 .. 2+m)
      expect(wy[m + 2]).toBe(ty[m + 2]);
    }
  });

  it('dots and subtractColumns, for lengths off the vector width', () => {
    for (const len of [1, 3, 4, 7, 30]) {
      const ld = len + 3,
        ncols = 5;
      const [[wz, wx, wo, wy], [tz, tx, to, ty]] = twin([ld * ncols + 2, len + 1, ncols + 1, len + 1], len * 10);
      wasm.dots(wz, 2, ld, ncols, wx, 1, len, wo, 1);
      tsKernels.dots(tz, 2, ld, ncols, tx, 1, len, to, 1);
      expect(maxRelError(wo, to, 1)).toBeLessThan(1e-13);
      wasm.subtractColumns(wz, 2, ld, ncols, wo, 1, wy, 1, len);
      tsKernels.subtractColumns(tz, 2, ld, ncols, to, 1, ty, 1, len);
      expect(maxRelError(wy, ty, 1)).toBeLessThan(1e-13);
    }
  });

  it('panelProducts over a block range', () => {
    const kc = 13,
      np = 6,
      ldc = 4 * np + 4;
    const [[wa, wb, wc], [ta, tb, tc]] = twin([np * kc * 4 + 4, np * kc * 4 + 8, ldc * ldc + 4], 99);
    wasm.panelProducts(wa, 4, wb, 8, kc, 1, 5, 2, 6, wc, 3, ldc);
    tsKernels.panelProducts(ta, 4, tb, 8, kc, 1, 5, 2, 6, tc, 3, ldc);
    expect(maxRelError(wc, tc, 1)).toBeLessThan(1e-13);
  });

  it('falls back to TypeScript for arrays outside its memory', () => {
    const y = new Float64Array(3);
    wasm.symvUpper(Float64Array.of(1, 2, 0, 3), 0, 2, 2, Float64Array.of(1, 1), 0, y, 0);
    expect(Array.from(y)).toEqual([3, 5, 0]);
  });
});
