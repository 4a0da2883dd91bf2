import type { KernelDescriptor } from './pipelines.ts';
import { dispatch } from './pipelines.ts';
import { slotBytes, STORAGE, UNIFORM, type GpuKit } from './kit.ts';

// The sizes below are set into the shaders as their `override`s of the same names (householder.wgsl,
// householder-small.wgsl, tridiagonal-eigenvalues.wgsl), which have no defaults: this is their one source.

/** Columns per panel (the V and W buffers hold NB columns each; 2·NB ≤ ROWS). */
export const NB = 32;
/** Columns of the trailing matrix per symv segment (one workgroup's share of a row; a uniform, not an override). */
const SEGMENT = 256;
/** Where the symv partial sums start in the work buffer (τ is work[0]). */
const PART = 1;
/** Rows per workgroup of row_update, symv and finish (4 lanes each: 256 invocations). */
const ROWS = 64;
/** Per block of ROWS rows in the parts buffer: its shares of the 2·NB dot products and of yᵀv. */
const STRIDE = 2 * NB + 1;
/** Rows and columns of A per workgroup of the trailing update (16, 32 or 64). */
const TRAILING_TILE = 64;
/** Panels per command buffer: the GPU starts on the first while the next are recorded. */
const PANELS_PER_SUBMIT = 8;

const BINDINGS = ['uniform-dynamic', 'storage', 'storage', 'storage', 'storage', 'storage'] as const;
const kernel = (entryPoint: string): KernelDescriptor => ({
  label: `householder ${entryPoint}`,
  shader: 'householder',
  entryPoint,
  constants: { NB, PART, ROWS, STRIDE, TRAILING_TILE },
  bindings: BINDINGS,
});
const ROW_UPDATE = kernel('row_update');
const REFLECTOR = kernel('reflector');
const SYMV = kernel('symv');
const FINISH = kernel('finish');
const W_FINISH = kernel('w_finish');
const TRAILING = kernel('trailing');
/** Threads of the one-workgroup reduction for small matrices. */
const SMALL_WG = 64;
const SMALL: KernelDescriptor = {
  label: 'householder small',
  shader: 'householder-small',
  entryPoint: 'small',
  constants: { NB, SMALL_WG },
  bindings: BINDINGS,
};

/**
 * Up to this size the unblocked one-workgroup reduction (one dispatch) is used; above it the
 * blocked one (four dispatches per column, spread over the whole GPU).
 */
export const DEFAULT_SMALL_N = 384;

/** Eigenvalues per bisection workgroup (one per invocation). */
const EIGEN_WG = 64;
const EIGEN: KernelDescriptor = {
  label: 'tridiagonal eigenvalues',
  shader: 'tridiagonal-eigenvalues',
  entryPoint: 'main',
  constants: { WG: EIGEN_WG },
  bindings: ['uniform', 'read-only-storage', 'storage'],
};

/**
 * Submits the reduction of the symmetric n × n matrix in `a` (destroyed) to tridiagonal form and
 * the bisection for its eigenvalues into `lambda` (n f32, ascending up to rounding). Nothing is
 * read back here, and nothing waits: each dispatch finds its column in a slot of one uniform
 * buffer, and the dispatches go in command buffers of a few panels each, so that the GPU works on
 * the first while the rest are recorded. Returns the buffers to release (the queue keeps them
 * until its work is done).
 */
export function submitEigenvalues(kit: GpuKit, a: GPUBuffer, n: number, lambda: GPUBuffer, smallN = DEFAULT_SMALL_N): GPUBuffer[] {
  const { device, pipelines, pool } = kit;
  const small = n <= smallN;
  const columns = small ? 0 : Math.max(0, n - 1);
  const panels = Math.ceil(columns / NB);
  const slot = slotBytes(kit);
  const slotWords = slot / 4;
  const segMax = Math.max(1, Math.ceil(columns / SEGMENT));
  const params = pool.acquire(Math.max(1, columns + panels) * slot, UNIFORM, 'householder params');
  const vw = pool.acquire(2 * NB * n * 4, STORAGE, 'householder V W');
  const work = pool.acquire((PART + segMax * n) * 4, STORAGE, 'householder work');
  const tri = pool.acquire(2 * n * 4, STORAGE, 'tridiagonal');
  const parts = pool.acquire(Math.max(1, Math.ceil(columns / ROWS)) * STRIDE * 4, STORAGE, 'householder parts');
  const eigenParams = pool.acquire(16, UNIFORM, 'bisection params');

  const words = new Uint32Array(Math.max(1, columns + panels) * slotWords);
  for (let k = 0; k < columns; k++) {
    const len = n - k - 1;
    words.set([n, k, k % NB, Math.min(SEGMENT, len)], k * slotWords);
  }
  for (let p = 0; p < panels; p++) {
    const k0 = p * NB;
    words.set([n, k0, Math.min(NB, columns - k0), SEGMENT], (columns + p) * slotWords);
  }
  if (small) words.set([n, 0, 0, 0]);
  device.queue.writeBuffer(params, 0, words);
  device.queue.writeBuffer(eigenParams, 0, Uint32Array.of(n, 0, 0, 0));

  const group = pipelines.bindGroup(REFLECTOR, [{ buffer: params, size: 16 }, a, vw, work, tri, parts]);
  const rowUpdate = pipelines.get(ROW_UPDATE);
  const reflector = pipelines.get(REFLECTOR);
  const symv = pipelines.get(SYMV);
  const finish = pipelines.get(FINISH);
  const wFinish = pipelines.get(W_FINISH);
  const trailing = pipelines.get(TRAILING);
  let enc = device.createCommandEncoder({ label: 'eigenvalues' });
  for (let p = 0; p < panels; p++) {
    const k0 = p * NB;
    const jb = Math.min(NB, columns - k0);
    enc.clearBuffer(vw);
    const pass = enc.beginComputePass({ label: `householder panel ${p}` });
    for (let k = k0; k < k0 + jb; k++) {
      const len = n - k - 1;
      const off = k * slot;
      const blocks = Math.ceil(len / ROWS);
      if (k > k0) dispatch(pass, rowUpdate, group, Math.ceil((len + 1) / ROWS), 1, 1, off);
      dispatch(pass, reflector, group, 1, 1, 1, off);
      dispatch(pass, symv, group, blocks, Math.ceil(len / Math.min(SEGMENT, len)) + 1, 1, off);
      dispatch(pass, finish, group, blocks, 1, 1, off);
    }
    const panelSlot = (columns + p) * slot;
    const m = n - (k0 + jb);
    if (m > 0) {
      dispatch(pass, wFinish, group, Math.ceil(m / (4 * ROWS)), 1, 1, panelSlot);
      const tiles = Math.ceil(m / TRAILING_TILE);
      dispatch(pass, trailing, group, tiles, tiles, 1, panelSlot);
    }
    pass.end();
    if ((p + 1) % PANELS_PER_SUBMIT === 0 && p + 1 < panels) {
      device.queue.submit([enc.finish()]);
      enc = device.createCommandEncoder({ label: 'eigenvalues' });
    }
  }
  let pass = enc.beginComputePass({ label: 'bisection' });
  if (small) {
    dispatch(pass, pipelines.get(SMALL), group, 1, 1, 1, 0);
  } else {
    // The last diagonal entry is never a column's: it is what the updates left in a[n-1, n-1].
    pass.end();
    enc.copyBufferToBuffer(a, ((n - 1) * n + (n - 1)) * 4, tri, (n - 1) * 4, 4);
    pass = enc.beginComputePass({ label: 'bisection' });
  }
  dispatch(pass, pipelines.get(EIGEN), pipelines.bindGroup(EIGEN, [eigenParams, tri, lambda]), Math.ceil(n / EIGEN_WG));
  pass.end();
  device.queue.submit([enc.finish()]);
  return [params, vw, work, tri, parts, eigenParams];
}
