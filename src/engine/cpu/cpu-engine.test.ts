import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { CpuEngine, singularValuesFromEigenvalues, singularValuesSync } from './cpu-engine.ts';
import { EngineError } from './errors.ts';
import type { Kernels } from './kernels.ts';
import { gaussian, jacobiSingularValues, maxRelError } from './testing.ts';
import { tsKernels } from './ts-kernels.ts';
import { createWasmKernels } from './wasm/wasm-kernels.ts';

const engine = new CpuEngine({ kernels: tsKernels });
const wasmKernels = await createWasmKernels('plain');
if (wasmKernels === null) throw new Error('WebAssembly SIMD is missing: Node 20 has it');
// Node 20's V8 has relaxed SIMD behind a flag (later Nodes and Chromium have it on): on, so that its build is tested too.
setFlagsFromString('--experimental-wasm-relaxed-simd');
const relaxedKernels = await createWasmKernels('relaxed');
if (relaxedKernels === null) throw new Error('relaxed SIMD is missing: Node 20 has it behind --experimental-wasm-relaxed-simd');

/** Sylvester's Hadamard matrix of order 2^p: entries ±1, H Hᵀ = n I, so every σ is exactly sqrt(n). */
function hadamard(p: number): Float32Array {
  let h = [[1]];
  for (let s = 0; s < p; s++) h = [...h.map((r) => [...r, ...r]), ...h.map((r) => [...r, ...r.map((x) => -x)])];
  return Float32Array.from(h.flat());
}

/** The integer pattern used for the NumPy literals below: exact in f32 and in float64. */
function pattern(rows: number, cols: number): Float32Array {
  const m = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m[i * cols + j] = (((i * 31 + j * 17 + ((i * j) % 7)) % 23) - 11) / 8;
  return m;
}

describe('CpuEngine', () => {
  it('is the cpu engine and returns min(rows, cols) values, descending', async () => {
    expect(engine.kind).toBe('cpu');
    for (const [r, c] of [
      [1, 1],
      [1, 9],
      [9, 1],
      [0, 5],
      [5, 0],
      [37, 53],
      [53, 37],
    ]) {
      const s = await engine.singularValues(gaussian(r * c, r + 7 * c), r, c);
      expect(s).toBeInstanceOf(Float64Array);
      expect(s).toHaveLength(Math.min(r, c));
      for (let i = 1; i < s.length; i++) expect(s[i]).toBeLessThanOrEqual(s[i - 1]);
    }
  });

  it('gives |x| for 1×1 and the norm for a vector', async () => {
    expect(Array.from(await engine.singularValues(Float32Array.of(-3), 1, 1))).toEqual([3]);
    const v = Float32Array.of(3, 4, 12);
    expect(Array.from(await engine.singularValues(v, 1, 3))).toEqual([13]);
    expect(Array.from(await engine.singularValues(v, 3, 1))).toEqual([13]);
  });
});

// The same cases for every set of kernels: the plain TypeScript reference and both WebAssembly builds.
describe.each([
  ['ts', tsKernels],
  ['wasm (plain SIMD)', wasmKernels],
  ['wasm (relaxed SIMD, fused multiply-add)', relaxedKernels],
] as [string, Kernels][])('singular values with the %s kernels', (_name, kernels) => {
  it('orthogonal rows: Hadamard matrices have every σ = sqrt(n)', () => {
    const h = hadamard(5); // 32×32
    expect(maxRelError(singularValuesSync(h, 32, 32, kernels), new Float64Array(32).fill(Math.sqrt(32)))).toBeLessThan(1e-14);
    // [H H] is 32×64 with orthogonal rows of squared norm 64: every σ = 8; its transpose too.
    const hh = new Float32Array(32 * 64);
    for (let i = 0; i < 32; i++) for (let j = 0; j < 64; j++) hh[i * 64 + j] = h[i * 32 + (j % 32)];
    expect(maxRelError(singularValuesSync(hh, 32, 64, kernels), new Float64Array(32).fill(8))).toBeLessThan(1e-14);
    const ht = new Float32Array(64 * 32);
    for (let i = 0; i < 32; i++) for (let j = 0; j < 64; j++) ht[j * 32 + i] = hh[i * 64 + j];
    expect(maxRelError(singularValuesSync(ht, 64, 32, kernels), new Float64Array(32).fill(8))).toBeLessThan(1e-14);
  });

  it('orthogonal: a signed permutation has every σ = 1', () => {
    const n = 45;
    const m = new Float32Array(n * n);
    for (let i = 0; i < n; i++) m[i * n + ((i * 17) % n)] = i % 3 === 0 ? -1 : 1;
    expect(maxRelError(singularValuesSync(m, n, n, kernels), new Float64Array(n).fill(1))).toBeLessThan(1e-14);
  });

  it('diagonal: σ are the sorted |d_i|, tall and wide', () => {
    const diag = [3, -0.5, 7.25, 0, 2, -11, 1.5];
    const want = Float64Array.from(diag.map(Math.abs)).sort().reverse();
    for (const [r, c] of [
      [7, 12],
      [12, 7],
    ]) {
      const m = new Float32Array(r * c);
      diag.forEach((x, i) => (m[i * c + i] = x));
      expect(maxRelError(singularValuesSync(m, r, c, kernels), want, 1e-300)).toBeLessThan(1e-14);
    }
  });

  it('rank 1: u vᵀ has σ1 = |u||v| and the rest ≈ 0', () => {
    const u = [1, -2, 0.5, 4, 3, -1, 2, 0.25, 1, 1, -3];
    const v = [2, 1, -1, 0.5, 3, -2, 1, 4, -0.75, 1.5, 2, -1, 1, 0.5, 3, 2, 1];
    const m = new Float32Array(u.length * v.length);
    u.forEach((ui, i) => v.forEach((vj, j) => (m[i * v.length + j] = ui * vj)));
    const norm = (x: number[]) => Math.sqrt(x.reduce((s, t) => s + t * t, 0));
    for (const s of [singularValuesSync(m, u.length, v.length, kernels), jacobiSingularValues(m, u.length, v.length)]) {
      expect(Math.abs(s[0] - norm(u) * norm(v)) / s[0]).toBeLessThan(1e-14);
      // A zero σ comes out of the Gram as sqrt(rounding of λ1), about sqrt(ε)·σ1 at worst.
      for (let i = 1; i < s.length; i++) expect(s[i]).toBeLessThan(1e-6 * s[0]);
    }
  });

  it('rank 1 plus small noise agrees with the Jacobi reference', () => {
    const r = 60,
      c = 90;
    const u = gaussian(r, 1),
      v = gaussian(c, 2),
      noise = gaussian(r * c, 3, 0.01);
    const m = new Float32Array(r * c);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) m[i * c + j] = u[i] * v[j] + noise[i * c + j];
    const got = singularValuesSync(m, r, c, kernels);
    const want = jacobiSingularValues(m, r, c);
    expect(got[0] / got[1]).toBeGreaterThan(50);
    expect(Math.abs(got[0] - want[0]) / want[0]).toBeLessThan(1e-13);
    expect(maxRelError(got, want)).toBeLessThan(1e-9); // the noise σ are ~100× below σ1: error ~ ε·(σ1/σ)²
  });

  it('scales: σ(cW) = c·σ(W) near the ends of the f32 range, with no overflow or underflow', () => {
    const r = 23,
      c = 41;
    const m = gaussian(r * c, 21);
    const base = singularValuesSync(m, r, c, kernels);
    for (const scale of [2 ** 100, 2 ** -100, 2 ** -120]) {
      const scaled = m.map((x) => x * scale); // powers of two: exact in f32 (2^-120 goes subnormal for some entries)
      const want = base.map((x) => x * scale);
      expect(maxRelError(singularValuesSync(scaled, r, c, kernels), want)).toBeLessThan(scale < 2 ** -110 ? 1e-5 : 1e-14);
    }
  });

  it('zeros give exact zeros', () => {
    expect(Array.from(singularValuesSync(new Float32Array(6 * 10), 6, 10, kernels))).toEqual(new Array(6).fill(0));
  });

  // Tall, wide, primes, n past one 32-column panel of the tridiagonalization, k past one 256-step chunk.
  for (const [r, c] of [
    [1, 50],
    [50, 1],
    [2, 3],
    [37, 53],
    [53, 37],
    [97, 31],
    [200, 7],
    [5, 300],
    [70, 130],
    [130, 70],
    [40, 300],
  ]) {
    it(`random Gaussian ${r}x${c} agrees with one-sided Jacobi to 1e-10`, () => {
      const m = gaussian(r * c, r * 131 + c);
      const want = jacobiSingularValues(m, r, c);
      expect(maxRelError(singularValuesSync(m, r, c, kernels), want)).toBeLessThan(1e-10);
    });
  }

  it('matches NumPy on integer matrices', () => {
    // Computed once with numpy 2.4.6: np.linalg.svd(W, compute_uv=False) on W = pattern(r, c) in float64.
    const numpy: [number, number, number[]][] = [
      [
        7,
        11,
        [
          4.557937274769534, 3.918394354173284, 2.6988069836730704, 2.3124246300713382, 1.7916421812836871, 1.5051874934888918,
          0.21495484003844434,
        ],
      ],
      [13, 5, [4.895218463877591, 3.173378879989447, 2.3820832111269565, 1.6519878188956472, 1.5362270328425796]],
      [
        40,
        97,
        [
          27.680509881672773, 25.41368866888536, 11.40071272466, 10.183921560402169, 8.553447088118661, 8.395280867017805,
          7.363247448041278, 7.170770745664703,
        ],
      ],
    ];
    for (const [r, c, want] of numpy) {
      const got = singularValuesSync(pattern(r, c), r, c, kernels).subarray(0, want.length);
      // the smallest σ of 7×11 is 21× below σ1: the Gram squares that into ~1e-13
      expect(maxRelError(got, want)).toBeLessThan(5e-13);
      expect(maxRelError(got.subarray(0, 2), want.slice(0, 2))).toBeLessThan(1e-14);
    }
  });
});

describe('CpuEngine errors and helpers', () => {
  it('uses the WebAssembly kernels by default, with the same values as the reference', async () => {
    const m = gaussian(70 * 130, 77);
    const byDefault = new CpuEngine();
    const got = await byDefault.singularValues(m, 130, 70);
    expect(maxRelError(got, singularValuesSync(m, 130, 70, tsKernels))).toBeLessThan(1e-12);
    byDefault.dispose();
    await expect(byDefault.singularValues(Float32Array.of(2), 1, 1)).rejects.toMatchObject({ code: 'ENGINE_FAILED' });
  });

  it('two matrices asked for at once on one engine (a worker holding two jobs) each get their own singular values', async () => {
    // big enough that each yields to the event loop (every 50 ms) while the other is in flight
    const shapes: [number, number][] = [
      [700, 500],
      [520, 640],
    ];
    const matrices = shapes.map(([r, c], i) => gaussian(r * c, 900 + i));
    const shared = new CpuEngine({ kernels: wasmKernels! });
    const together = await Promise.all(matrices.map((m, i) => shared.singularValues(m, shapes[i][0], shapes[i][1])));
    shared.dispose();
    for (const [i, m] of matrices.entries()) {
      const alone = singularValuesSync(m, shapes[i][0], shapes[i][1], tsKernels);
      expect(maxRelError(together[i], alone), `matrix ${i}`).toBeLessThan(1e-12);
    }
  });

  it('falls back to the TypeScript kernels when memory for the others runs out', () => {
    const refusing: Kernels = {
      ...wasmKernels!,
      allocate() {
        throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
      },
    };
    const m = gaussian(9 * 14, 8);
    expect(singularValuesSync(m, 9, 14, refusing)).toEqual(singularValuesSync(m, 9, 14, tsKernels));
  });

  it('NaN or Infinity in the input rejects with EngineError NON_FINITE, at once', async () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const m = gaussian(40 * 60, 5);
      m[1234] = bad;
      const err = await engine.singularValues(m, 40, 60).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineError);
      expect((err as EngineError).code).toBe('NON_FINITE');
      expect(() => singularValuesSync(m, 60, 40)).toThrow(EngineError);
    }
  });

  it('an aborted signal rejects with an AbortError before and while computing', async () => {
    const already = new AbortController();
    already.abort();
    const err = await engine.singularValues(gaussian(16, 1), 4, 4, { signal: already.signal }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORTED' });

    // Aborted from inside the first Gram block, which then outlasts the engine's 50 ms slice: the
    // engine must stop at its next check, after that block, not run the other blocks first.
    const r = 400,
      c = 3000;
    const m = gaussian(r * c, 9);
    let blocks = 0;
    const counting = (onBlock: () => void): Kernels => ({
      ...tsKernels,
      panelProducts(...args) {
        if (++blocks === 1) onBlock();
        tsKernels.panelProducts(...args);
      },
    });
    singularValuesSync(
      m,
      r,
      c,
      counting(() => {}),
    );
    const all = blocks;
    blocks = 0;
    const ctl = new AbortController();
    const abortInFirstBlock = () => {
      ctl.abort();
      const until = performance.now() + 60;
      while (performance.now() < until) {
        // the block takes longer than a slice, whatever the machine's speed
      }
    };
    const late = await new CpuEngine({ kernels: counting(abortInFirstBlock) })
      .singularValues(m, r, c, { signal: ctl.signal })
      .catch((e: unknown) => e);
    expect(late).toMatchObject({ name: 'AbortError', code: 'ABORTED' });
    expect(all).toBeGreaterThan(10);
    expect(blocks).toBeGreaterThan(0);
    expect(blocks).toBeLessThanOrEqual(2);
  });

  it('singularValuesFromEigenvalues: sqrt of max(λ, 0), descending, NaN kept', () => {
    expect(Array.from(singularValuesFromEigenvalues(Float64Array.of(4, -1e-18, 9, 0, 1)))).toEqual([3, 2, 1, 0, 0]);
    const withNaN = singularValuesFromEigenvalues(Float64Array.of(1, NaN));
    expect(Number.isNaN(withNaN[0])).toBe(true); // NaN sorts first
    expect(withNaN[1]).toBe(1);
  });
});
