import { BufferPool } from './buffer-pool.ts';
import { checkDevice, DeviceLostError, type GpuContext } from './device.ts';
import { Pipelines } from './pipelines.ts';
import type { ShaderSources } from './shader-source.ts';

/** What every GPU stage needs: the device, its compiled kernels and its buffers. */
export interface GpuKit {
  readonly ctx: GpuContext;
  readonly device: GPUDevice;
  readonly pipelines: Pipelines;
  readonly pool: BufferPool;
}

export function createKit(ctx: GpuContext, shaders: ShaderSources): GpuKit {
  return { ctx, device: ctx.device, pipelines: new Pipelines(ctx.device, shaders), pool: new BufferPool(ctx.device) };
}

// The flags' values are fixed by the WebGPU spec; spelled out so that nothing here needs the
// GPUBufferUsage global before a GPU exists (in Node, Dawn provides it only once loaded).
const MAP_READ = 0x1,
  COPY_SRC = 0x4,
  COPY_DST = 0x8,
  UNIFORM_USAGE = 0x40,
  STORAGE_USAGE = 0x80;
const MAP_MODE_READ = 0x1;
export const SHADER_STAGE_COMPUTE = 0x4;

export const STORAGE = STORAGE_USAGE | COPY_SRC | COPY_DST;
export const UNIFORM = UNIFORM_USAGE | COPY_DST;
export const READBACK = MAP_READ | COPY_DST;

/** A uniform buffer of `slots` slots of `slotBytes` each, for dynamic offsets. */
export function slotBytes(kit: GpuKit): number {
  return Math.max(256, kit.ctx.limits.minUniformBufferOffsetAlignment);
}

/**
 * Copies `bytes` of `src` into a mappable buffer and reads them back. A failure while the device
 * is being lost is reported as DeviceLostError, so that the caller can go on on the CPU.
 */
export async function readBack(kit: GpuKit, src: GPUBuffer, bytes: number, what: string): Promise<ArrayBuffer> {
  const size = Math.ceil(bytes / 4) * 4;
  const staging = kit.pool.acquire(size, READBACK, `${what} readback`);
  const enc = kit.device.createCommandEncoder({ label: `${what} readback` });
  enc.copyBufferToBuffer(src, 0, staging, 0, size);
  kit.device.queue.submit([enc.finish()]);
  try {
    await staging.mapAsync(MAP_MODE_READ, 0, size);
  } catch (e) {
    kit.pool.release(staging);
    // The lost promise may settle just after the map fails: give it a turn before deciding.
    await new Promise((r) => setTimeout(r, 0));
    checkDevice(kit.ctx, what);
    throw new DeviceLostError(`${what}: reading results back failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  const out = staging.getMappedRange(0, size).slice(0, bytes);
  staging.unmap();
  kit.pool.release(staging);
  checkDevice(kit.ctx, what);
  return out;
}

/** Resolves when the GPU has done everything submitted so far (stage timings in benchmarks). */
export async function settle(kit: GpuKit): Promise<void> {
  await kit.device.queue.onSubmittedWorkDone();
}
