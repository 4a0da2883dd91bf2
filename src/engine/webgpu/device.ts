import { EngineError } from '../cpu/errors.ts';

/**
 * The limits the engine asks for. The defaults of WebGPU (128 MiB bindings, 16 KiB of workgroup
 * memory) are far below what adapters offer, and a device only gets what was requested.
 */
const REQUESTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

export type RequestedLimit = (typeof REQUESTED_LIMITS)[number];

/** The GPU failed under us (device lost, out of memory): the caller should go on on the CPU. */
export class DeviceLostError extends EngineError {
  readonly deviceLost = true;
  constructor(message: string) {
    super('ENGINE_FAILED', message);
    this.name = 'DeviceLostError';
  }
}

export function isDeviceLost(err: unknown): err is DeviceLostError {
  return err instanceof Error && (err as Partial<DeviceLostError>).deviceLost === true;
}

export interface AdapterSummary {
  description: string;
  /** a software (CPU) adapter such as SwiftShader: slower than the CPU engine */
  fallback: boolean;
}

export interface GpuContext {
  readonly device: GPUDevice;
  readonly adapter: AdapterSummary;
  readonly limits: Readonly<Record<RequestedLimit, number>> & { minUniformBufferOffsetAlignment: number };
  /** set once the device is lost (destroyed by us, or by the driver) */
  lostReason: string | null;
  /** uncaptured validation / out-of-memory errors since the last check */
  errors: string[];
}

export interface OpenGpuOptions {
  /** accept a software adapter (SwiftShader, …): tests and `--engine webgpu` do, `auto` does not */
  allowFallbackAdapter?: boolean;
  /** called once when the device is lost (not when we destroyed it ourselves) */
  onLost?: (reason: string) => void;
}

export function summarize(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info;
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((s) => s && s.length > 0);
  // isFallbackAdapter moved from the adapter to its info; read both.
  const legacy = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const viaInfo = (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const software = /swiftshader|llvmpipe|lavapipe|warp|software/i.test(parts.join(' '));
  return { description: [...new Set(parts)].join(' ') || 'unknown adapter', fallback: Boolean(viaInfo ?? legacy) || software };
}

/** An adapter and a device with the adapter's own limits; the reason in words when there is none. */
export async function openGpu(gpu: GPU, opts: OpenGpuOptions = {}): Promise<GpuContext | { reason: string }> {
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { reason: `requestAdapter failed: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (!adapter) return { reason: 'no WebGPU adapter' };
  const summary = summarize(adapter);
  if (summary.fallback && !opts.allowFallbackAdapter) {
    return { reason: `only a software WebGPU adapter (${summary.description}), slower than the CPU engine` };
  }
  const requiredLimits: Record<string, number> = {};
  for (const key of REQUESTED_LIMITS) requiredLimits[key] = adapter.limits[key];
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ label: 'spectral-workbench', requiredLimits });
  } catch (e) {
    return { reason: `requestDevice failed: ${e instanceof Error ? e.message : String(e)}` };
  }
  const granted: Record<string, number> = { minUniformBufferOffsetAlignment: device.limits.minUniformBufferOffsetAlignment };
  for (const key of REQUESTED_LIMITS) granted[key] = device.limits[key];
  const limits = granted as GpuContext['limits'];
  const ctx: GpuContext = { device, adapter: summary, limits, lostReason: null, errors: [] };
  void device.lost.then((info) => {
    ctx.lostReason = `${info.reason}: ${info.message || 'the GPU device was lost'}`;
    if (info.reason !== 'destroyed') opts.onLost?.(ctx.lostReason);
  });
  device.addEventListener('uncapturederror', (ev) => {
    const err = (ev as GPUUncapturedErrorEvent).error;
    if (ctx.errors.length < 16) ctx.errors.push(err.message);
  });
  return ctx;
}

/** Throws DeviceLostError when the device is gone, EngineError for errors the GPU reported. */
export function checkDevice(ctx: GpuContext, what: string): void {
  if (ctx.lostReason !== null) throw new DeviceLostError(`${what}: WebGPU device lost (${ctx.lostReason})`);
  if (ctx.errors.length > 0) {
    const first = ctx.errors.splice(0).join('; ');
    throw new EngineError('ENGINE_FAILED', `${what}: WebGPU error: ${first}`);
  }
}
