import { EngineError } from '../cpu/errors.ts';
import type { KernelDescriptor } from './pipelines.ts';
import { dispatch } from './pipelines.ts';
import { STORAGE, UNIFORM, type GpuKit } from './kit.ts';

/**
 * The Gram kernel's block of G per workgroup and its K-tile, set into shaders/gram.wgsl as its TILE
 * and KT: dispatches count blocks of GRAM_TILE, chunks of the long side are multiples of KT.
 */
export const GRAM_TILE = 64;
const KT = 32;

export function gramKernel(transposed: boolean): KernelDescriptor {
  return {
    label: transposed ? 'gram (tall)' : 'gram (wide)',
    shader: 'gram',
    entryPoint: 'main',
    constants: { TRANSPOSED: transposed ? 1 : 0, TILE: GRAM_TILE, KT },
    bindings: ['uniform', 'read-only-storage', 'storage', 'storage'],
  };
}

export interface GramShape {
  /** size of G = min(rows, cols) */
  n: number;
  /** the long side, summed over */
  k: number;
  /** rows <= cols: G = W Wᵀ (A = W); else G = Wᵀ W (A = Wᵀ) */
  wide: boolean;
}

export function gramShape(rows: number, cols: number): GramShape {
  return { n: Math.min(rows, cols), k: Math.max(rows, cols), wide: rows <= cols };
}

/**
 * Steps of the long side per upload: all of them when W fits one binding, else as many as fit in
 * `maxChunkBytes` (n f32 per step), a multiple of the kernel's K-tile.
 */
export function gramChunkSteps(shape: GramShape, maxChunkBytes: number): number {
  const bytesPerStep = shape.n * 4;
  if (shape.k * bytesPerStep <= maxChunkBytes) return shape.k;
  const steps = Math.floor(maxChunkBytes / bytesPerStep / KT) * KT;
  if (steps < KT)
    throw new EngineError('ENGINE_FAILED', `Gram: ${KT} steps of ${shape.n} values exceed the ${maxChunkBytes}-byte binding limit`);
  return steps;
}

/**
 * Records and submits G = scale² · A Aᵀ into `g` (n × n f32, both halves), uploading W in chunks
 * of the long side when it is larger than one binding may be. Each chunk is its own submit after
 * its upload (queue order keeps uploads and dispatches in step), reusing one upload buffer.
 */
export function submitGram(
  kit: GpuKit,
  m: Float32Array,
  rows: number,
  cols: number,
  scale: number,
  g: GPUBuffer,
  maxChunkBytes: number,
): void {
  const shape = gramShape(rows, cols);
  const { n, k, wide } = shape;
  const steps = gramChunkSteps(shape, maxChunkBytes);
  const chunks = Math.ceil(k / steps);
  const { device, pipelines, pool } = kit;
  const kernel = gramKernel(!wide);
  const params = pool.acquire(32, UNIFORM, 'gram params');
  const upload = pool.acquire(n * steps * 4, STORAGE, 'gram input');
  // The lo halves wait between chunks only; one chunk needs no buffer for them (but a binding).
  const lo = pool.acquire(chunks > 1 ? n * n * 4 : 4, STORAGE, 'gram lo');
  const group = pipelines.bindGroup(kernel, [params, upload, g, lo]);
  const blocks = Math.ceil(n / GRAM_TILE);
  const u32 = new Uint32Array(8);
  const f32 = new Float32Array(u32.buffer);
  for (let c = 0; c < chunks; c++) {
    const k0 = c * steps;
    const kc = Math.min(steps, k - k0);
    // Tall W: steps of the long side are rows of W, contiguous. Wide W: a column block of each row.
    if (!wide) device.queue.writeBuffer(upload, 0, m.buffer, m.byteOffset + k0 * cols * 4, kc * cols * 4);
    else if (chunks === 1) device.queue.writeBuffer(upload, 0, m.buffer, m.byteOffset, rows * cols * 4);
    else for (let i = 0; i < n; i++) device.queue.writeBuffer(upload, i * kc * 4, m.buffer, m.byteOffset + (i * cols + k0) * 4, kc * 4);
    u32.set([n, kc, wide ? (chunks === 1 ? cols : kc) : cols, c === 0 ? 1 : 0, c === chunks - 1 ? 1 : 0]);
    f32[5] = scale;
    device.queue.writeBuffer(params, 0, u32);
    const enc = device.createCommandEncoder({ label: `gram chunk ${c + 1}/${chunks}` });
    const pass = enc.beginComputePass({ label: 'gram' });
    dispatch(pass, pipelines.get(kernel), group, blocks, blocks);
    pass.end();
    device.queue.submit([enc.finish()]);
  }
  pool.release(params, upload, lo);
}
