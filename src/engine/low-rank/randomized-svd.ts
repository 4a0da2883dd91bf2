/**
 * The top singular triplets of W (U, σ, V) by randomized block Krylov iteration (docs/low-rank.md):
 * a Gaussian block on the long side, A·Ω, then `passes` products with G = A Aᵀ, every block
 * orthonormalized against all earlier ones, and the Rayleigh–Ritz projection of G on the whole
 * Krylov space. A is the short-side view of W (n × m, n = min(rows, cols)): W for a wide matrix,
 * Wᵀ for a tall one, read in place. The script runs on a Machine (fast/machine.ts): float64 on the
 * CPU, f32 on the GPU; the small dense steps (b × b and N × N eigenproblems) run in float64 on the
 * CPU between the machine's products.
 */
import type { LowRankOptions, SingularTriplets } from '../../core/low-rank.ts';
import { abortError, EngineError } from '../cpu/errors.ts';
import { gemm, type Machine } from '../webgpu/fast/machine.ts';
import { gaussianBlock } from '../webgpu/fast/krylov.ts';
import { smallEigen } from '../webgpu/fast/small-eigen.ts';
import { BlockedCpuMachine } from './cpu-machine.ts';

/** Extra probe vectors beyond the rank. */
export const DEFAULT_OVERSAMPLE = 10;
/** Products with G = A Aᵀ after the first block: the Krylov space has passes + 1 blocks. */
export const DEFAULT_PASSES = 3;
export const DEFAULT_SEED = 1;
/** The first block size tried for an energy target (doubled until the target is reached). */
export const ENERGY_START_RANK = 16;

/** One buffer the script needs back, and how many of its values. */
interface ReadRequest<B> {
  buf: B;
  floats: number;
}

/** What one run of the script gives: the short side's U, the long side's V, σ descending. */
interface Ritz {
  keep: number;
  sigma: Float64Array;
  /** n × keep */
  uShort: Float64Array;
  /** m × keep */
  vLong: Float64Array;
}

/** How many triplets to keep out of the Ritz values (descending σ), or null: a larger block is needed. */
type Choose = (sigma: Float64Array, exact: boolean) => number | null;

/**
 * smallEigen of a symmetric N × N matrix whose rows and columns are exactly zero where a basis
 * vector was dropped: those coordinates are eigenvectors of eigenvalue 0 as they are, and the rest
 * is solved on its own (implicit QL stalls on such a matrix when the zeros are scattered through
 * it). Same layout as smallEigen: values ascending, head[r·N + l] component r of vector l.
 */
export function eigenOfDeflated(h: Float64Array, N: number): { values: Float64Array; head: Float64Array } {
  const live: number[] = [];
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++)
      if (h[i * N + j] !== 0) {
        live.push(i);
        break;
      }
  }
  const L = live.length;
  const compact = new Float64Array(L * L);
  for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) compact[i * L + j] = h[live[i] * N + live[j]];
  const part = smallEigen(compact, L, L);
  // Merge the live eigenpairs with the dead coordinates' (0, e_i) in ascending order.
  const isLive = new Uint8Array(N);
  for (const i of live) isLive[i] = 1;
  const dead = Array.from({ length: N }, (_, i) => i).filter((i) => !isLive[i]);
  const values = new Float64Array(N);
  const head = new Float64Array(N * N);
  let a = 0,
    d = 0;
  for (let l = 0; l < N; l++) {
    if (d < dead.length && (a >= L || part.values[a] >= 0)) {
      head[dead[d++] * N + l] = 1;
      values[l] = 0;
    } else {
      values[l] = part.values[a];
      for (let r = 0; r < L; r++) head[live[r] * N + l] = part.head[r * L + a];
      a++;
    }
  }
  return { values, head };
}

/**
 * SVQB (Stathopoulos & Wu 2002): from the b × b Gram S = ZᵀZ of a block, the b × b transform M with
 * Z·M orthonormal, M = V Λ^(−1/2) over the eigenpairs with λ above both `floor` and relToLargest·λ_max;
 * the others (directions that are rounding noise: a Krylov space that ran out, a rank-deficient W)
 * get zero columns. S itself is known to about eps·λ_max, hence relToLargest.
 */
export function orthonormalizer(s: Float64Array, b: number, relToLargest: number, floor: number): Float64Array {
  const sym = new Float64Array(b * b);
  for (let i = 0; i < b; i++) for (let j = 0; j < b; j++) sym[i * b + j] = 0.5 * (s[i * b + j] + s[j * b + i]);
  const { values, head } = eigenOfDeflated(sym, b);
  const out = new Float64Array(b * b);
  const cut = Math.max(floor, relToLargest * (b > 0 ? values[b - 1] : 0));
  for (let l = 0; l < b; l++) {
    if (!(values[l] > cut) || !(values[l] > 0)) continue;
    const f = 1 / Math.sqrt(values[l]);
    for (let r = 0; r < b; r++) out[r * b + l] = head[r * b + l] * f;
  }
  return out;
}

/**
 * The script, as a generator that yields each buffer it needs read and receives its values, so that
 * the CPU runs it synchronously and the GPU with awaited read-backs. `block` probe vectors (at
 * least rank + oversample); when the Krylov space would reach n, A Aᵀ is projected on the whole
 * space instead (Q = I): exact to rounding.
 */
function* tripletScript<B>(
  mc: Machine<B>,
  rows: number,
  cols: number,
  scale: number,
  block: number,
  passes: number,
  seed: number,
  choose: Choose,
): Generator<ReadRequest<B>, Ritz | null, Float64Array> {
  const wide = rows <= cols;
  const n = Math.min(rows, cols),
    m = Math.max(rows, cols);
  const exact = block >= n || block * (passes + 1) >= n;
  const b = exact ? n : block;
  const N = exact ? n : b * (passes + 1);
  // Aᵀ·X (m × c) and A·X (n × c) for X with c columns: W read in place, transposed for the side asked.
  const aT = (out: B, x: B, c: number, at: { ldx: number; xOff: number; ldo: number; oOff: number }): void =>
    mc.gemm(out, mc.w, x, gemm({ M: m, N: c, K: n, transP: wide, ldp: cols, alpha: scale, ...at }));
  const a = (out: B, x: B, c: number, at: { ldx: number; xOff: number }): void =>
    mc.gemm(out, mc.w, x, gemm({ M: n, N: c, K: m, transP: !wide, ldp: cols, alpha: scale, ...at }));

  const q = mc.alloc('basis', n * N);
  const bm = mc.alloc('A^T basis', m * N);
  const h = mc.alloc('projection', N * N);
  if (exact) {
    const eye = new Float64Array(n * n);
    for (let i = 0; i < n; i++) eye[i * n + i] = 1;
    mc.upload(q, eye);
    aT(bm, q, N, { ldx: N, xOff: 0, ldo: N, oOff: 0 });
  } else {
    const z = mc.alloc('block', n * b);
    const z2 = mc.alloc('block, once orthonormalized', n * b);
    const t = mc.alloc('coefficients', N * b);
    const s = mc.alloc('block gram', 2 * b * b);
    const mm = mc.alloc('orthonormalizer', b * b);
    const omega = mc.alloc('probes', m * b);
    // Block Gram–Schmidt of x against the first J basis vectors: x −= Q (Qᵀ x).
    const project = (x: B, J: number): void => {
      if (J === 0) return;
      mc.gemm(t, q, x, gemm({ M: J, N: b, K: n, transP: true, ldp: N }));
      mc.gemm(x, q, t, gemm({ M: n, N: b, K: J, ldp: N, alpha: -1, beta: 1 }));
    };
    // z orthonormalized against the basis so far and itself into basis block j: projection and
    // SVQB, twice ("twice is enough"). The first SVQB drops what is rounding noise: below the
    // projection's error (about eps times the block before it, (1e3·eps)² in squared norms) or
    // below what the block's own Gram resolves (32·eps of its largest eigenvalue); the second,
    // directions that lost half their norm to the second projection.
    const orthonormalizeInto = function* (j: number): Generator<ReadRequest<B>, void, Float64Array> {
      const J = j * b;
      mc.gemm(s, z, z, gemm({ M: b, N: b, K: n, transP: true, ldp: b }));
      project(z, J);
      mc.gemm(s, z, z, gemm({ M: b, N: b, K: n, transP: true, ldp: b, oOff: b * b }));
      const grams = yield { buf: s, floats: 2 * b * b };
      let ref = 0;
      for (let i = 0; i < b; i++) ref = Math.max(ref, grams[i * b + i]);
      mc.upload(mm, orthonormalizer(grams.subarray(b * b), b, 32 * mc.eps, (1e3 * mc.eps) ** 2 * ref));
      mc.gemm(z2, z, mm, gemm({ M: n, N: b, K: b }));
      project(z2, J);
      mc.gemm(s, z2, z2, gemm({ M: b, N: b, K: n, transP: true, ldp: b }));
      const again = yield { buf: s, floats: b * b };
      mc.upload(mm, orthonormalizer(again, b, 0, 0.25));
      mc.gemm(q, z2, mm, gemm({ M: n, N: b, K: b, ldo: N, oOff: J }));
    };
    mc.upload(omega, gaussianBlock(m * b, seed));
    a(z, omega, b, { ldx: b, xOff: 0 });
    yield* orthonormalizeInto(0);
    for (let j = 0; j < passes; j++) {
      aT(bm, q, b, { ldx: N, xOff: j * b, ldo: N, oOff: j * b });
      a(z, bm, b, { ldx: N, xOff: j * b });
      yield* orthonormalizeInto(j + 1);
    }
    aT(bm, q, b, { ldx: N, xOff: passes * b, ldo: N, oOff: passes * b });
  }
  // Rayleigh–Ritz: H = (AᵀQ)ᵀ(AᵀQ) = Qᵀ A Aᵀ Q, eigenpairs (θ, y): σ = √θ, u = Q y, v = Aᵀ Q y / σ.
  mc.gemm(h, bm, bm, gemm({ M: N, N, K: m, transP: true, ldp: N }));
  const hv = yield { buf: h, floats: N * N };
  for (let i = 0; i < N; i++)
    for (let j = 0; j < i; j++) {
      const mean = 0.5 * (hv[i * N + j] + hv[j * N + i]);
      hv[i * N + j] = hv[j * N + i] = mean;
    }
  const { values, head } = eigenOfDeflated(hv, N);
  const theta = Float64Array.from(values).reverse();
  const sigmaAll = Float64Array.from(theta, (v) => Math.sqrt(Math.max(v, 0)) / scale);
  const keep = choose(sigmaAll, exact);
  if (keep === null) return null;
  const yu = new Float64Array(N * keep),
    yv = new Float64Array(N * keep);
  for (let c = 0; c < keep; c++) {
    const l = N - 1 - c;
    const f = theta[c] > 0 ? 1 / Math.sqrt(theta[c]) : 0;
    for (let r = 0; r < N; r++) {
      yu[r * keep + c] = head[r * N + l];
      yv[r * keep + c] = head[r * N + l] * f;
    }
  }
  const yub = mc.alloc('ritz vectors', N * keep),
    yvb = mc.alloc('ritz vectors / sigma', N * keep);
  const ub = mc.alloc('U', n * keep),
    vb = mc.alloc('V', m * keep);
  mc.upload(yub, yu);
  mc.upload(yvb, yv);
  mc.gemm(ub, q, yub, gemm({ M: n, N: keep, K: N, ldp: N }));
  mc.gemm(vb, bm, yvb, gemm({ M: m, N: keep, K: N, ldp: N }));
  const uShort = yield { buf: ub, floats: n * keep };
  const vLong = yield { buf: vb, floats: m * keep };
  return refineByNorms({ keep, sigma: sigmaAll.slice(0, keep), uShort, vLong }, n, m, theta, scale);
}

/**
 * σ_i = ‖Aᵀ u_i‖ from the columns v_i = Aᵀ Q y_i / √θ_i as computed, each then normalized: the
 * eigenvalues θ of H = BᵀB carry H's rounding, eps·σ₁² (a relative eps·(σ₁/σ_i)² in σ_i, 1.5e-4 in
 * f32 at σ_i = σ₁/50), where the norm of a vector carries eps·σ₁/σ_i. Sorted again, as the refined
 * values of near ties can change places.
 */
function refineByNorms(r: Ritz, n: number, m: number, theta: Float64Array, scale: number): Ritz {
  const { keep, uShort, vLong } = r;
  const sigma = Float64Array.from(r.sigma);
  for (let c = 0; c < keep; c++) {
    let ss = 0;
    for (let i = 0; i < m; i++) ss += vLong[i * keep + c] ** 2;
    const norm = Math.sqrt(ss);
    if (!(theta[c] > 0) || !(norm > 0)) continue;
    sigma[c] = (Math.sqrt(theta[c]) * norm) / scale;
    for (let i = 0; i < m; i++) vLong[i * keep + c] /= norm;
  }
  const order = Array.from({ length: keep }, (_, c) => c).sort((a, b) => sigma[b] - sigma[a]);
  if (order.every((c, i) => c === i)) return { keep, sigma, uShort, vLong };
  const permute = (mat: Float64Array, len: number): Float64Array => {
    const out = new Float64Array(len * keep);
    for (let i = 0; i < len; i++) for (let c = 0; c < keep; c++) out[i * keep + c] = mat[i * keep + order[c]];
    return out;
  };
  return { keep, sigma: Float64Array.from(order, (c) => sigma[c]), uShort: permute(uShort, n), vLong: permute(vLong, m) };
}

/**
 * Columns of a len × k row-major matrix that σ cannot vouch for (σ_i within the Gram's rounding of
 * zero: the direction is rounding noise, or zero where the space ran out) made orthonormal to all
 * the others, and replaced by a seeded random direction where nothing is left of them: any
 * orthonormal completion is a valid singular vector for σ = 0.
 */
export function settleColumns(mat: Float64Array, len: number, k: number, suspect: readonly boolean[], seed: number): void {
  const col = new Float64Array(len);
  const settled = suspect.map((x) => !x);
  const orthogonalize = (): void => {
    for (let pass = 0; pass < 2; pass++)
      for (let j = 0; j < k; j++) {
        if (!settled[j]) continue;
        let d = 0;
        for (let r = 0; r < len; r++) d += mat[r * k + j] * col[r];
        for (let r = 0; r < len; r++) col[r] -= d * mat[r * k + j];
      }
  };
  const norm = (): number => {
    let s = 0;
    for (let r = 0; r < len; r++) s += col[r] * col[r];
    return Math.sqrt(s);
  };
  for (let i = 0; i < k; i++) {
    if (settled[i]) continue;
    let before = 0;
    for (let r = 0; r < len; r++) {
      col[r] = mat[r * k + i];
      before += col[r] * col[r];
    }
    orthogonalize();
    let nrm = norm();
    for (let attempt = 0; !(nrm > 0.5 * Math.sqrt(before)) || !(nrm > 0); attempt++) {
      // A random direction, orthogonalized: in the complement of the others whenever len > k.
      col.set(gaussianBlock(len, seed + 7919 * (i + 1) + attempt));
      before = len > 0 ? norm() ** 2 : 0;
      orthogonalize();
      nrm = norm();
      if (attempt > 8 || len === 0) break;
    }
    for (let r = 0; r < len; r++) mat[r * k + i] = nrm > 0 ? col[r] / nrm : 0;
    settled[i] = true;
  }
}

/** The options with their defaults, checked. */
export function resolveLowRank(
  opts: LowRankOptions,
  n: number,
): { rank?: number; energy?: number; maxRank: number; oversample: number; passes: number; seed: number } {
  const { rank, energy } = opts;
  if ((rank === undefined) === (energy === undefined)) throw new RangeError('low rank: give exactly one of rank and energy');
  if (rank !== undefined && (!Number.isInteger(rank) || rank < 0)) throw new RangeError(`low rank: rank ${rank} is not a whole number ≥ 0`);
  if (energy !== undefined && !(energy > 0 && energy <= 1)) throw new RangeError(`low rank: energy ${energy} is not in (0, 1]`);
  const oversample = opts.oversample ?? DEFAULT_OVERSAMPLE;
  const passes = opts.passes ?? DEFAULT_PASSES;
  if (!Number.isInteger(oversample) || oversample < 0) throw new RangeError(`low rank: oversample ${oversample} is not a whole number ≥ 0`);
  if (!Number.isInteger(passes) || passes < 0) throw new RangeError(`low rank: passes ${passes} is not a whole number ≥ 0`);
  const maxRank = Math.min(n, opts.maxRank ?? n);
  return { rank: rank === undefined ? undefined : Math.min(rank, n), energy, maxRank, oversample, passes, seed: opts.seed ?? DEFAULT_SEED };
}

/** ‖W‖_F² in float64, and whether every value is finite. */
export function frobeniusSquaredOf(m: Float32Array | Float64Array, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i++) s += m[i] * m[i];
  return s;
}

/**
 * The whole method on any machine: the block grows (doubling from ENERGY_START_RANK) until an energy
 * target is reached, by the Ritz values of the top `block − oversample`, or the space is all of
 * R^n. Returns the triplets oriented as W (u: rows × rank, v: cols × rank).
 */
export function* lowRankScript<B>(
  machine: () => Machine<B>,
  m: Float32Array | Float64Array,
  rows: number,
  cols: number,
  scale: number,
  opts: LowRankOptions,
): Generator<ReadRequest<B>, SingularTriplets, Float64Array> {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) throw new RangeError(`invalid shape ${rows}x${cols}`);
  if (m.length < rows * cols) throw new RangeError(`matrix has ${m.length} values, shape ${rows}x${cols} needs ${rows * cols}`);
  const n = Math.min(rows, cols),
    long = Math.max(rows, cols);
  const cfg = resolveLowRank(opts, n);
  const frob = frobeniusSquaredOf(m, rows * cols);
  if (!Number.isFinite(frob)) throw new EngineError('NON_FINITE', `singular triplets: the ${rows}x${cols} matrix holds NaN or Infinity`);
  const mc = n === 0 || frob === 0 || cfg.rank === 0 ? undefined : machine();
  let ritz: Ritz | null = null;
  if (!mc) {
    const keep = cfg.rank ?? 0;
    ritz = { keep, sigma: new Float64Array(keep), uShort: new Float64Array(n * keep), vLong: new Float64Array(long * keep) };
  }
  // The Ritz values are lower bounds on σ: the count they give for an energy is never below the true one.
  const target = (cfg.energy ?? 1) * frob * (1 - 16 * Math.sqrt(n) * (mc?.eps ?? 0));
  let tryRank = cfg.rank ?? Math.min(cfg.maxRank, ENERGY_START_RANK);
  while (ritz === null) {
    const trying = tryRank;
    const choose: Choose = (sigma, exact) => {
      if (cfg.rank !== undefined) return cfg.rank;
      const trusted = exact ? Math.min(n, cfg.maxRank) : trying;
      let acc = 0;
      for (let i = 0; i < trusted; i++) {
        acc += sigma[i] * sigma[i];
        if (acc >= target) return i + 1;
      }
      return exact || trying >= cfg.maxRank ? trusted : null;
    };
    ritz = yield* tripletScript(mc!, rows, cols, scale, trying + cfg.oversample, cfg.passes, cfg.seed, choose);
    tryRank = Math.min(cfg.maxRank, 2 * tryRank);
  }
  const { keep, sigma, uShort, vLong } = ritz;
  // σ below what the Gram resolves (its eigenvalues are known to about n·eps·σ₁²) cannot vouch for their vectors.
  const floor = sigma.length > 0 ? 16 * Math.sqrt(n * (mc?.eps ?? 2 ** -53)) * sigma[0] : 0;
  const suspect = Array.from(sigma, (s) => !(s > floor));
  settleColumns(uShort, n, keep, suspect, cfg.seed + 1);
  settleColumns(vLong, long, keep, suspect, cfg.seed + 2);
  const wide = rows <= cols;
  return { rows, cols, rank: keep, sigma, u: wide ? uShort : vLong, v: wide ? vLong : uShort, frobeniusSquared: frob };
}

/** Runs the script on the CPU: every read is the machine's own array. */
function drainSync<T>(script: Generator<ReadRequest<Float64Array>, T, Float64Array>, signal?: AbortSignal): T {
  let step = script.next(new Float64Array(0));
  while (!step.done) {
    if (signal?.aborted) throw abortError();
    step = script.next(step.value.buf.slice(0, step.value.floats));
  }
  return step.value;
}

/** Runs the script on any machine, awaiting each read-back. */
export async function drainOn<B, T>(
  mc: () => Machine<B>,
  script: (machine: () => Machine<B>) => Generator<ReadRequest<B>, T, Float64Array>,
  signal?: AbortSignal,
): Promise<T> {
  let made: Machine<B> | undefined;
  const gen = script(() => (made ??= mc()));
  let step = gen.next(new Float64Array(0));
  while (!step.done) {
    if (signal?.aborted) throw abortError();
    const values = await made!.read(step.value.buf, step.value.floats);
    step = gen.next(values);
  }
  return step.value;
}

/**
 * The top singular triplets of a rows × cols row-major matrix in float64 on the CPU, synchronously:
 * `rank` of them, or the fewest whose Σσ² reaches `energy`·‖W‖_F² (at most maxRank). Exact to
 * rounding where rank + oversample (or the Krylov space) reaches min(rows, cols).
 */
export function topSingularTripletsCpu(m: Float32Array | Float64Array, rows: number, cols: number, opts: LowRankOptions): SingularTriplets {
  if (opts.signal?.aborted) throw abortError();
  let made: BlockedCpuMachine | undefined;
  return drainSync(
    lowRankScript(() => (made ??= new BlockedCpuMachine(m)), m, rows, cols, 1, opts),
    opts.signal,
  );
}

/** topSingularTripletsCpu, yielding to the event loop between the script's steps (abort checks). */
export async function topSingularTripletsCpuAsync(
  m: Float32Array | Float64Array,
  rows: number,
  cols: number,
  opts: LowRankOptions,
): Promise<SingularTriplets> {
  if (opts.signal?.aborted) throw abortError();
  return drainOn(
    () => new BlockedCpuMachine(m),
    (machine) => lowRankScript(machine, m, rows, cols, 1, opts),
    opts.signal,
  );
}
