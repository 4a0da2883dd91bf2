/**
 * The two inner loops where nearly all of the time goes, behind one interface so that a
 * WebAssembly SIMD version can stand in for the plain TypeScript one (which stays the reference).
 *
 * Packed panel layout (shared by the Gram and the tridiagonalization's rank-2k update): panel p
 * holds 4 rows of an operand over kc steps, step-major: value (p, k, r) at `off + (p*kc + k)*4 + r`.
 * Rows past the end of the operand are packed as zeros, so blocks that stick out of the matrix
 * add exact zeros to the padding of C (callers give C a leading dimension with room for it).
 */
export interface Kernels {
  readonly name: 'ts' | 'wasm';
  /** WebAssembly only: true for the build whose multiply-adds are relaxed SIMD's fused f64x2.relaxed_madd */
  readonly relaxedSimd?: boolean;
  /**
   * Arrays the kernels can work on, one per length (for the WebAssembly kernels: views into its
   * memory, so ask for everything a matrix needs in one call; earlier arrays become invalid).
   * Zero-filled.
   */
  allocate(lengths: readonly number[]): Float64Array[];
  /**
   * C(4pi+r, 4pj+s) += Σ_k A(pi, k, r) · B(pj, k, s) for pi in [pi0, pi1), pj in [max(pi, pj0), pj1):
   * the block upper triangle of C = Aᵀ B, C row-major at c[cOff + row*ldc + col].
   */
  panelProducts(
    a: Float64Array,
    aOff: number,
    b: Float64Array,
    bOff: number,
    kc: number,
    pi0: number,
    pi1: number,
    pj0: number,
    pj1: number,
    c: Float64Array,
    cOff: number,
    ldc: number,
  ): void;
  /** y[yOff + i] = Σ_j A(i, j) x[xOff + j], A symmetric m×m given by its upper triangle at a[aOff + i*lda + j], j >= i. */
  symvUpper(a: Float64Array, aOff: number, lda: number, m: number, x: Float64Array, xOff: number, y: Float64Array, yOff: number): void;
  /** out[outOff + c] = Σ_t Z(t, c) x[xOff + t] for c < ncols, t < len; column c of Z at z[zOff + c*ldz ..]. */
  dots(
    z: Float64Array,
    zOff: number,
    ldz: number,
    ncols: number,
    x: Float64Array,
    xOff: number,
    len: number,
    out: Float64Array,
    outOff: number,
  ): void;
  /** y[yOff + t] −= Σ_c Z(t, c) coef[coefOff + c] for t < len, c < ncols (columns as in dots). */
  subtractColumns(
    z: Float64Array,
    zOff: number,
    ldz: number,
    ncols: number,
    coef: Float64Array,
    coefOff: number,
    y: Float64Array,
    yOff: number,
    len: number,
  ): void;
}

/** Panel rows, fixed: the kernels' register blocks are 4×4. */
export const PANEL = 4;

/** Leading dimension for an n×n matrix that the kernels may overrun by up to 3 rows and columns of zeros. */
export function paddedLd(n: number): number {
  return Math.ceil(n / PANEL) * PANEL + PANEL;
}
