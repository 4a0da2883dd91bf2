import { dispatch, type KernelDescriptor } from '../pipelines.ts';
import { readBack, slotBytes, STORAGE, UNIFORM, type GpuKit } from '../kit.ts';
import type { GemmParams, Machine } from './machine.ts';

/**
 * The gemm kernel's block of out per workgroup (TM rows × TN columns) and its K-tile, set into
 * krylov.wgsl as the overrides of the same names (TM a multiple of 4, TN even, TM/4 · TN/2 ≤ 256).
 */
const GEMM_SIZES = { TM: 64, TN: 32, KT: 32 } as const;
const GEMM: KernelDescriptor = {
  label: 'krylov gemm',
  shader: 'krylov',
  entryPoint: 'gemm',
  constants: GEMM_SIZES,
  bindings: ['uniform-dynamic', 'read-only-storage', 'read-only-storage', 'storage'],
};
const NORM: KernelDescriptor = {
  label: 'krylov norm_inv',
  shader: 'krylov',
  entryPoint: 'norm_inv',
  bindings: ['uniform-dynamic', 'read-only-storage', 'storage'],
};

type Op = { kernel: KernelDescriptor; buffers: GPUBuffer[]; words: ArrayBuffer; groups: [number, number] };

/**
 * The Krylov script's operations in f32 on the GPU (krylov.wgsl). Operations are gathered as the
 * script runs and recorded all at once when it reads a result: one uniform buffer of parameter
 * slots, one command buffer, one submit, one readback.
 */
export class GpuMachine implements Machine<GPUBuffer> {
  readonly eps = 2 ** -24;
  readonly w: GPUBuffer;
  private ops: Op[] = [];
  private readonly owned: GPUBuffer[] = [];

  constructor(
    private readonly kit: GpuKit,
    m: Float32Array,
    len: number,
  ) {
    this.w = this.alloc('W', len);
    kit.device.queue.writeBuffer(this.w, 0, m.buffer, m.byteOffset, len * 4);
  }

  alloc(label: string, floats: number): GPUBuffer {
    const buf = this.kit.pool.acquire(Math.max(1, floats) * 4, STORAGE, `krylov ${label}`);
    this.owned.push(buf);
    // Pooled buffers keep old contents; the script expects zeros.
    const enc = this.kit.device.createCommandEncoder();
    enc.clearBuffer(buf);
    this.kit.device.queue.submit([enc.finish()]);
    return buf;
  }

  upload(buf: GPUBuffer, data: Float64Array): void {
    this.kit.device.queue.writeBuffer(buf, 0, Float32Array.from(data));
  }

  gemm(out: GPUBuffer, p: GPUBuffer, x: GPUBuffer, g: GemmParams): void {
    const words = new ArrayBuffer(64);
    const u = new Uint32Array(words);
    u.set([g.M, g.N, g.K, g.transP ? 1 : 0, g.ldp, g.pOff, g.ldx, g.xOff, g.ldo, g.oOff, g.maskMod, 0]);
    new Float32Array(words, 48, 2).set([g.alpha, g.beta]);
    this.ops.push({ kernel: GEMM, buffers: [p, x, out], words, groups: [Math.ceil(g.N / GEMM_SIZES.TN), Math.ceil(g.M / GEMM_SIZES.TM)] });
  }

  normInv(s: GPUBuffer, rinv: GPUBuffer, b: number, deadRel: number): void {
    const words = new ArrayBuffer(16);
    new Uint32Array(words, 0, 1)[0] = b;
    new Float32Array(words, 4, 1)[0] = deadRel;
    this.ops.push({ kernel: NORM, buffers: [s, rinv], words, groups: [1, 1] });
  }

  async read(buf: GPUBuffer, floats: number): Promise<Float64Array> {
    this.flush();
    return Float64Array.from(new Float32Array(await readBack(this.kit, buf, floats * 4, 'fast mode')));
  }

  /** Records and submits what was gathered. */
  private flush(): void {
    if (this.ops.length === 0) return;
    const { device, pipelines, pool } = this.kit;
    const slot = slotBytes(this.kit);
    const params = pool.acquire(this.ops.length * slot, UNIFORM, 'krylov params');
    const all = new Uint8Array(this.ops.length * slot);
    this.ops.forEach((op, i) => all.set(new Uint8Array(op.words), i * slot));
    device.queue.writeBuffer(params, 0, all);
    const groups = new Map<string, GPUBindGroup>();
    const ids = new Map<GPUBuffer, number>();
    const id = (b: GPUBuffer) => ids.get(b) ?? (ids.set(b, ids.size), ids.size - 1);
    const enc = device.createCommandEncoder({ label: 'krylov' });
    const pass = enc.beginComputePass({ label: 'krylov' });
    this.ops.forEach((op, i) => {
      const key = `${op.kernel.entryPoint}:${op.buffers.map(id).join(',')}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = pipelines.bindGroup(op.kernel, [{ buffer: params, size: op.words.byteLength }, ...op.buffers])));
      dispatch(pass, pipelines.get(op.kernel), group, op.groups[0], op.groups[1], 1, i * slot);
    });
    pass.end();
    device.queue.submit([enc.finish()]);
    pool.release(params);
    this.ops = [];
  }

  /** Gives every buffer back to the pool. */
  release(): void {
    this.kit.pool.release(...this.owned);
    this.owned.length = 0;
  }
}
