import type { LowRankOptions, SingularTriplets } from '../../core/low-rank.ts';
import { topSingularTripletsCpuAsync } from '../low-rank/randomized-svd.ts';
import type { SingularValueOptions, SlicedMatrix, SpectralEngine } from '../types.ts';
import { gramParts } from '../../core/gram-parts.ts';
import { EngineError, abortError } from './errors.ts';
import { compactGram, gramLayout, gramScratchLength, gramSteps, GramSum, type GramLayout } from './gram.ts';
import type { Kernels } from './kernels.ts';
import { drain, drainAsync, type Steps } from './steps.ts';
import { tridiagonalEigenvalues } from './tridiagonal-eigenvalues.ts';
import { tridiagonalizeSteps, tridiagonalWorkspace, tridiagonalWorkspaceLengths } from './tridiagonalize.ts';
import { tsKernels } from './ts-kernels.ts';
import { createWasmKernels } from './wasm/wasm-kernels.ts';

/**
 * σ = sqrt(max(λ, 0)) for eigenvalues λ of a Gram matrix (any order), DESCENDING. Rounding can
 * leave the eigenvalues of a singular Gram slightly negative: those become 0. NaN stays NaN (and
 * sorts first).
 */
export function singularValuesFromEigenvalues(lambda: Float64Array): Float64Array {
  const s = new Float64Array(lambda.length);
  for (let i = 0; i < lambda.length; i++) s[i] = Math.sqrt(Math.max(lambda[i], 0));
  // max(NaN, 0) is NaN, so NaN survives; sort ascending (NaN last), then reverse.
  return s.sort().reverse();
}

/** Seconds spent in each stage of one matrix. */
export interface StageTimings {
  gram: number;
  tridiagonalize: number;
  eigenvalues: number;
}

/** Where one run of the pipeline leaves its result. */
export interface SingularValueResult {
  sigma: Float64Array;
  timings: StageTimings;
}

function emptyResult(): SingularValueResult {
  return { sigma: new Float64Array(0), timings: { gram: 0, tridiagonalize: 0, eigenvalues: 0 } };
}

function checkShape(m: Float32Array, rows: number, cols: number): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) throw new RangeError(`invalid shape ${rows}x${cols}`);
  if (m.length < rows * cols) throw new RangeError(`matrix has ${m.length} values, shape ${rows}x${cols} needs ${rows * cols}`);
}

/** The arrays of one matrix's pipeline, allocated at once (the WebAssembly kernels' arrays are views into one memory). */
interface Workspace {
  lay: GramLayout;
  kernels: Kernels;
  /** the Gram, leading dimension lay.ld, zero until summed */
  g: Float64Array;
  /** where each Gram part is summed before it is added to g (null for a matrix of one part) */
  scratch: Float64Array | null;
  packBuf: Float64Array;
  d: Float64Array;
  e: Float64Array;
  ws: Float64Array[];
}

/**
 * Arrays from the kernels (the WebAssembly kernels' are views into their memory). wasm32 memory stops at 4 GiB
 * (a Gram of n ≈ 22000) and a browser may refuse less: the TypeScript kernels then work on ordinary arrays.
 */
function allocateArrays(kernelsIn: Kernels, lengths: number[]): { kernels: Kernels; arrays: Float64Array[] } {
  try {
    return { kernels: kernelsIn, arrays: kernelsIn.allocate(lengths) };
  } catch (err) {
    if (!(err instanceof RangeError) || kernelsIn === tsKernels) throw err;
    return { kernels: tsKernels, arrays: tsKernels.allocate(lengths) };
  }
}

function allocateWorkspace(rows: number, cols: number, kernelsIn: Kernels): Workspace {
  const lay = gramLayout(rows, cols);
  const { n, ld } = lay;
  const lengths = [ld * ld, gramScratchLength(lay), lay.packLength, n, Math.max(0, n - 1), ...tridiagonalWorkspaceLengths(n)];
  const { kernels, arrays } = allocateArrays(kernelsIn, lengths);
  const [g, scratch, packBuf, d, e, ...ws] = arrays;
  return { lay, kernels, g, scratch: scratch.length > 0 ? scratch : null, packBuf, d, e, ws };
}

/**
 * Feeds a SlicedMatrix to a GramSum: each slice at its `start` (or where the one before ended), counted from
 * `origin`, and each part's Gram summed elsewhere — refused with 'slices only' (gramOfPart sums one part itself).
 */
async function sumItems(m: SlicedMatrix, sum: GramSum, check: () => void, origin: number, only?: 'slices only'): Promise<void> {
  let end = origin;
  for await (const item of m.slices) {
    if ('gram' in item) {
      if (only) throw new RangeError('gramOfPart sums slices, not Grams');
      sum.addPart(item.part, item.gram);
      continue;
    }
    const start = item.start ?? end;
    await drainAsync(sum.sliceSteps(item.values, item.length, start - origin), check);
    end = start + item.length;
  }
}

/** From a summed Gram to σ: the finiteness check, tridiagonalization in place, QL. */
function* eigenSteps(w: Workspace, rows: number, cols: number, out: SingularValueResult): Steps {
  const { n, ld } = w.lay;
  // Every input value is squared into some diagonal entry, so NaN or ±Infinity anywhere in the
  // input shows on the diagonal (f32 squares cannot overflow f64).
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(w.g[i * ld + i]))
      throw new EngineError('NON_FINITE', `singular values: the ${rows}x${cols} matrix holds NaN or Infinity`);
  }
  let t0 = performance.now();
  yield* tridiagonalizeSteps(w.g, n, ld, w.d, w.e, tridiagonalWorkspace(w.ws), w.kernels);
  const t1 = performance.now();
  out.timings.tridiagonalize = (t1 - t0) / 1e3;
  t0 = t1;
  out.sigma = singularValuesFromEigenvalues(tridiagonalEigenvalues(w.d, w.e));
  out.timings.eigenvalues = (performance.now() - t0) / 1e3;
}

/**
 * The whole pipeline as steps: Gram of the smaller side (float64), tridiagonalization in place,
 * QL. Memory: the Gram (n² f64, n = min(rows, cols)) plus about 200·n f64 of workspace; the input is
 * read, never copied.
 */
export function* singularValueSteps(m: Float32Array, rows: number, cols: number, kernelsIn: Kernels, out: SingularValueResult): Steps {
  checkShape(m, rows, cols);
  if (Math.min(rows, cols) === 0) {
    out.sigma = new Float64Array(0);
    return;
  }
  const w = allocateWorkspace(rows, cols, kernelsIn);
  const t0 = performance.now();
  yield* gramSteps(m, rows, cols, w.g, w.packBuf, w.kernels, w.scratch);
  out.timings.gram = (performance.now() - t0) / 1e3;
  yield* eigenSteps(w, rows, cols, out);
}

/** Synchronous form of CpuEngine.singularValues, with the time of each stage (tests, benchmarks). */
export function singularValuesTimed(m: Float32Array, rows: number, cols: number, kernels: Kernels = tsKernels): SingularValueResult {
  const out = emptyResult();
  drain(singularValueSteps(m, rows, cols, kernels, out));
  return out;
}

/** Synchronous form of CpuEngine.singularValues (tests, scripts). */
export function singularValuesSync(m: Float32Array, rows: number, cols: number, kernels: Kernels = tsKernels): Float64Array {
  return singularValuesTimed(m, rows, cols, kernels).sigma;
}

export interface CpuEngineOptions {
  /** the inner-loop kernels; default: WebAssembly SIMD where it runs, else the plain TypeScript ones */
  kernels?: Kernels | Promise<Kernels>;
}

async function defaultKernels(): Promise<Kernels> {
  try {
    return (await createWasmKernels()) ?? tsKernels;
  } catch {
    // e.g. a Content-Security-Policy without 'wasm-unsafe-eval' refuses to compile it
    return tsKernels;
  }
}

/**
 * The float64 reference engine (docs/engines.md): all singular values, descending, of any shape.
 * Single-threaded per matrix: run one engine per worker, one matrix at a time.
 *
 * Errors: NaN or ±Infinity in the input rejects with EngineError code 'NON_FINITE' (it never
 * hangs and never returns made-up values); an aborted signal rejects with EngineError code
 * 'ABORTED', name 'AbortError', checked before starting and about every 50 ms while computing
 * (the computation yields to the event loop then, so abort messages get through); a call after
 * dispose() rejects with 'ENGINE_FAILED'.
 */
export class CpuEngine implements SpectralEngine {
  readonly kind = 'cpu' as const;
  private kernels: Kernels | Promise<Kernels> | undefined;
  private disposed = false;

  constructor(opts: CpuEngineOptions = {}) {
    this.kernels = opts.kernels;
  }

  /**
   * Calls run one after another: the WebAssembly kernels' arrays are views into one memory, which a
   * second matrix's workspace would take over while the first yields to the event loop (every 50 ms),
   * and a worker may hold two jobs (the WebGPU worker hands some matrices to its CPU engine).
   */
  singularValues(m: Float32Array, rows: number, cols: number, opts: SingularValueOptions = {}): Promise<Float64Array> {
    return this.oneAtATime(() => this.wholeMatrix(m, rows, cols, opts));
  }

  private queue: Promise<void> = Promise.resolve();

  private oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async wholeMatrix(m: Float32Array, rows: number, cols: number, opts: SingularValueOptions): Promise<Float64Array> {
    const { signal } = opts;
    const check = (): void => {
      if (signal?.aborted) throw abortError();
    };
    check();
    if (this.disposed) throw new EngineError('ENGINE_FAILED', 'singular values: the CPU engine was disposed');
    this.kernels ??= defaultKernels();
    const kernels = await this.kernels;
    const out = emptyResult();
    await drainAsync(singularValueSteps(m, rows, cols, kernels, out), check);
    opts.onProvenance?.({ engine: 'cpu' });
    return out.sigma;
  }

  /**
   * The same singular values as singularValues of the whole matrix (the same Gram, to the bit, when
   * the slices follow SlicedMatrix's rule), holding only the Gram's workspace and the slice at hand.
   * One after another with every other call, as singularValues.
   */
  singularValuesOfSlices(m: SlicedMatrix, opts: SingularValueOptions = {}): Promise<Float64Array> {
    return this.oneAtATime(() => this.sumSlices(m, opts));
  }

  private async sumSlices(m: SlicedMatrix, opts: SingularValueOptions): Promise<Float64Array> {
    const { kernels, check } = await this.slicedStart(m, opts);
    const out = emptyResult();
    if (Math.min(m.rows, m.cols) === 0) return out.sigma;
    const w = allocateWorkspace(m.rows, m.cols, kernels);
    const sum = new GramSum(w.lay, w, w.kernels);
    await sumItems(m, sum, check, 0);
    sum.finish();
    await drainAsync(eigenSteps(w, m.rows, m.cols, out), check);
    opts.onProvenance?.({ engine: 'cpu' });
    return out.sigma;
  }

  /**
   * The Gram of part `part` (core/gram-parts.ts) of a matrix from that part's slices, in order, compact n × n:
   * what singularValuesOfSlices of the same matrix adds for that part. One after another with every other call.
   */
  gramOfPart(m: SlicedMatrix, part: number, opts: SingularValueOptions = {}): Promise<Float64Array> {
    return this.oneAtATime(async () => {
      const { rows, cols } = m;
      const lay = gramLayout(rows, cols);
      const parts = gramParts(lay.n, lay.k);
      const range = parts[part];
      if (!Number.isInteger(part) || !range) throw new RangeError(`no Gram part ${part} of ${parts.length}`);
      const { kernels: chosen, check } = await this.slicedStart(m, opts);
      if (lay.n === 0) return new Float64Array(0);
      const {
        kernels,
        arrays: [g, packBuf],
      } = allocateArrays(chosen, [lay.ld * lay.ld, lay.packLength]);
      // summed straight into g, from zero: a one-part GramSum over this part's steps alone
      const sum = new GramSum({ ...lay, k: range.length }, { g, scratch: null, packBuf }, kernels);
      await sumItems(m, sum, check, range.start, 'slices only');
      sum.finish();
      return compactGram(g, lay.ld, lay.n);
    });
  }

  /** The checks before a sliced matrix, and the kernels. */
  private async slicedStart(m: SlicedMatrix, opts: SingularValueOptions): Promise<{ kernels: Kernels; check: () => void }> {
    const { signal } = opts;
    const check = (): void => {
      if (signal?.aborted) throw abortError();
    };
    check();
    if (this.disposed) throw new EngineError('ENGINE_FAILED', 'singular values: the CPU engine was disposed');
    const { rows, cols } = m;
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) throw new RangeError(`invalid shape ${rows}x${cols}`);
    this.kernels ??= defaultKernels();
    return { kernels: await this.kernels, check };
  }

  /** The top singular triplets in float64 (low-rank/randomized-svd.ts), one after another with every other call. */
  topSingularTriplets(m: Float32Array, rows: number, cols: number, opts: LowRankOptions & SingularValueOptions): Promise<SingularTriplets> {
    return this.oneAtATime(async () => {
      if (this.disposed) throw new EngineError('ENGINE_FAILED', 'singular triplets: the CPU engine was disposed');
      const result = await topSingularTripletsCpuAsync(m, rows, cols, opts);
      opts.onProvenance?.({ engine: 'cpu' });
      return result;
    });
  }

  /** Lets go of the kernels and their memory (the WebAssembly memory keeps its largest size until then); later calls reject. */
  dispose(): void {
    this.disposed = true;
    this.kernels = undefined;
  }
}
