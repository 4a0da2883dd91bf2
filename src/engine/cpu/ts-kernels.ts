import type { Kernels } from './kernels.ts';

/** 4×4 register block of C += Aᵀ B over kc steps (16 accumulators: the scalar JIT keeps most in registers). */
function block4x4(a: Float64Array, ao: number, b: Float64Array, bo: number, kc: number, c: Float64Array, co: number, ldc: number): void {
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0,
    c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0,
    c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  const end = ao + 4 * kc;
  for (let p = ao, q = bo; p < end; p += 4, q += 4) {
    const a0 = a[p],
      a1 = a[p + 1],
      a2 = a[p + 2],
      a3 = a[p + 3];
    const b0 = b[q],
      b1 = b[q + 1],
      b2 = b[q + 2],
      b3 = b[q + 3];
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    c03 += a0 * b3;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    c13 += a1 * b3;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    c23 += a2 * b3;
    c30 += a3 * b0;
    c31 += a3 * b1;
    c32 += a3 * b2;
    c33 += a3 * b3;
  }
  let o = co;
  c[o] += c00;
  c[o + 1] += c01;
  c[o + 2] += c02;
  c[o + 3] += c03;
  o += ldc;
  c[o] += c10;
  c[o + 1] += c11;
  c[o + 2] += c12;
  c[o + 3] += c13;
  o += ldc;
  c[o] += c20;
  c[o + 1] += c21;
  c[o + 2] += c22;
  c[o + 3] += c23;
  o += ldc;
  c[o] += c30;
  c[o + 1] += c31;
  c[o + 2] += c32;
  c[o + 3] += c33;
}

/** The plain TypeScript kernels: the reference, and the fallback where WebAssembly SIMD is missing. */
export const tsKernels: Kernels = {
  name: 'ts',
  allocate(lengths) {
    return lengths.map((len) => new Float64Array(len));
  },
  panelProducts(a, aOff, b, bOff, kc, pi0, pi1, pj0, pj1, c, cOff, ldc) {
    const step = 4 * kc;
    for (let pi = pi0; pi < pi1; pi++) {
      for (let pj = Math.max(pi, pj0); pj < pj1; pj++) {
        block4x4(a, aOff + pi * step, b, bOff + pj * step, kc, c, cOff + 4 * pi * ldc + 4 * pj, ldc);
      }
    }
  },
  symvUpper(a, aOff, lda, m, x, xOff, y, yOff) {
    y.fill(0, yOff, yOff + m);
    // One pass over each row of the upper triangle serves both its row (a dot product) and,
    // by symmetry, its column (an axpy): the matrix is read once.
    for (let i = 0; i < m; i++) {
      const row = aOff + i * lda;
      const xi = x[xOff + i];
      let dot = a[row + i] * xi;
      for (let j = i + 1; j < m; j++) {
        const aij = a[row + j];
        dot += aij * x[xOff + j];
        y[yOff + j] += aij * xi;
      }
      y[yOff + i] += dot;
    }
  },
  dots(z, zOff, ldz, ncols, x, xOff, len, out, outOff) {
    for (let c = 0; c < ncols; c++) {
      const col = zOff + c * ldz;
      let s = 0;
      for (let t = 0; t < len; t++) s += z[col + t] * x[xOff + t];
      out[outOff + c] = s;
    }
  },
  subtractColumns(z, zOff, ldz, ncols, coef, coefOff, y, yOff, len) {
    for (let c = 0; c < ncols; c++) {
      const col = zOff + c * ldz,
        f = coef[coefOff + c];
      if (f === 0) continue;
      for (let t = 0; t < len; t++) y[yOff + t] -= z[col + t] * f;
    }
  },
};
