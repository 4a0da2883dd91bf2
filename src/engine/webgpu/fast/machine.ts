/**
 * The few operations the fast mode's block Krylov method is made of, behind one interface so
 * that the same script runs in float64 on the CPU (the reference, and the fallback) and in f32
 * on the GPU (krylov.wgsl). Blocks are row-major; W stays as the caller gave it.
 */
export interface GemmParams {
  /** out is M × N, the sum runs over K */
  M: number;
  N: number;
  K: number;
  /** P(i, k) = p[pOff + i·ldp + k], or p[pOff + k·ldp + i] when transposed */
  transP: boolean;
  ldp: number;
  pOff: number;
  /** X(k, c) = x[xOff + k·ldx + c] */
  ldx: number;
  xOff: number;
  /** out(i, c) = o[oOff + i·ldo + c] */
  ldo: number;
  oOff: number;
  alpha: number;
  /** 0: out is overwritten (never read) */
  beta: number;
  /** > 0: X(k, c) counts only where k mod maskMod = c (each probe's coefficients on its own vectors) */
  maskMod: number;
}

/** A product's parameters from its sizes and what differs from a plain dense out = P·X (row-major, no offsets). */
export const gemm = (p: Partial<GemmParams> & Pick<GemmParams, 'M' | 'N' | 'K'>): GemmParams => ({
  transP: false,
  ldp: p.K,
  pOff: 0,
  ldx: p.N,
  xOff: 0,
  ldo: p.N,
  oOff: 0,
  alpha: 1,
  beta: 0,
  maskMod: 0,
  ...p,
});

export interface Machine<B> {
  /** the matrix, as given (rows × cols, row-major) */
  readonly w: B;
  /** unit roundoff of the arithmetic (2^-53 or 2^-24) */
  readonly eps: number;
  /** a zeroed buffer of `floats` values */
  alloc(label: string, floats: number): B;
  upload(buf: B, data: Float64Array): void;
  /** out = beta·out + alpha·P·X */
  gemm(out: B, p: B, x: B, g: GemmParams): void;
  /** rinv = diag(1 / sqrt(s_cc)): each column normalized on its own (0 where s_cc is not above deadRel·max s_cc) */
  normInv(s: B, rinv: B, b: number, deadRel: number): void;
  /** the values of `buf` once everything recorded before has run */
  read(buf: B, floats: number): Promise<Float64Array>;
}

/** Float64 on the CPU: the reference the GPU machine is checked against, and the CPU's fast mode. */
export class CpuMachine implements Machine<Float64Array> {
  readonly eps = 2 ** -53;
  readonly w: Float64Array;

  constructor(w: Float32Array | Float64Array) {
    this.w = w instanceof Float64Array ? w : Float64Array.from(w);
  }

  alloc(_label: string, floats: number): Float64Array {
    return new Float64Array(floats);
  }

  upload(buf: Float64Array, data: Float64Array): void {
    buf.set(data);
  }

  gemm(o: Float64Array, p: Float64Array, x: Float64Array, g: GemmParams): void {
    const acc = new Float64Array(g.N);
    for (let i = 0; i < g.M; i++) {
      acc.fill(0);
      for (let k = 0; k < g.K; k++) {
        const pik = g.transP ? p[g.pOff + k * g.ldp + i] : p[g.pOff + i * g.ldp + k];
        if (pik === 0) continue;
        const xo = g.xOff + k * g.ldx;
        if (g.maskMod > 0) acc[k % g.maskMod] += pik * x[xo + (k % g.maskMod)];
        else for (let c = 0; c < g.N; c++) acc[c] += pik * x[xo + c];
      }
      const oo = g.oOff + i * g.ldo;
      for (let c = 0; c < g.N; c++) o[oo + c] = (g.beta === 0 ? 0 : g.beta * o[oo + c]) + g.alpha * acc[c];
    }
  }

  normInv(s: Float64Array, rinv: Float64Array, b: number, deadRel: number): void {
    let maxDiag = 0;
    for (let i = 0; i < b; i++) maxDiag = Math.max(maxDiag, s[i * b + i]);
    rinv.fill(0, 0, b * b);
    for (let c = 0; c < b; c++) {
      const d = s[c * b + c];
      if (d > deadRel * maxDiag && d > 0) rinv[c * b + c] = 1 / Math.sqrt(d);
    }
  }

  async read(buf: Float64Array, floats: number): Promise<Float64Array> {
    return buf.slice(0, floats);
  }
}
