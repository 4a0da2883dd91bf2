import { SHADER_STAGE_COMPUTE } from './kit.ts';
import { sourceLine, type ShaderName, type ShaderSources } from './shader-source.ts';

/** How a kernel sees each binding, in binding order (@binding(0), @binding(1), …). */
export type BindingKind = 'uniform' | 'uniform-dynamic' | 'storage' | 'read-only-storage';

/** A compute kernel: which shader and entry point, its `override` constants, its bindings. */
export interface KernelDescriptor {
  readonly label: string;
  readonly shader: ShaderName;
  readonly entryPoint: string;
  /** `override` constants: workgroup sizes, tile sizes, layout flags */
  readonly constants?: Readonly<Record<string, number>>;
  readonly bindings: readonly BindingKind[];
}

export interface Kernel {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

/** A binding: a whole buffer, or a window of one (dynamic uniforms bind one slot). */
export type BufferBinding = GPUBuffer | { buffer: GPUBuffer; offset?: number; size: number };

const BUFFER_TYPE: Record<BindingKind, GPUBufferBindingType> = {
  uniform: 'uniform',
  'uniform-dynamic': 'uniform',
  storage: 'storage',
  'read-only-storage': 'read-only-storage',
};

function cacheKey(d: KernelDescriptor): string {
  const constants = Object.entries(d.constants ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify([d.shader, d.entryPoint, constants, d.bindings]);
}

/**
 * Compiled pipelines by descriptor, with explicit bind group layouts (an 'auto' layout cannot have
 * dynamic offsets, which the per-column steps of the tridiagonalization use).
 */
export class Pipelines {
  private readonly modules = new Map<ShaderName, GPUShaderModule>();
  private readonly kernels = new Map<string, Kernel>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();

  constructor(
    private readonly device: GPUDevice,
    private readonly sources: ShaderSources,
  ) {}

  module(name: ShaderName): GPUShaderModule {
    let m = this.modules.get(name);
    if (!m) this.modules.set(name, (m = this.device.createShaderModule({ label: name, code: this.sources[name].code })));
    return m;
  }

  get(d: KernelDescriptor): Kernel {
    const key = cacheKey(d);
    let k = this.kernels.get(key);
    if (k) return k;
    const layout = this.layout(d.bindings);
    const pipeline = this.device.createComputePipeline({
      label: d.label,
      layout: this.device.createPipelineLayout({ label: d.label, bindGroupLayouts: [layout] }),
      compute: { module: this.module(d.shader), entryPoint: d.entryPoint, constants: { ...(d.constants ?? {}) } },
    });
    this.kernels.set(key, (k = { pipeline, layout }));
    return k;
  }

  /** One layout per list of bindings, shared by the kernels that have it (so they share bind groups). */
  private layout(bindings: readonly BindingKind[]): GPUBindGroupLayout {
    const key = bindings.join(',');
    let layout = this.layouts.get(key);
    if (!layout) {
      layout = this.device.createBindGroupLayout({
        label: key,
        entries: bindings.map((kind, binding) => ({
          binding,
          visibility: SHADER_STAGE_COMPUTE,
          buffer: { type: BUFFER_TYPE[kind], hasDynamicOffset: kind === 'uniform-dynamic' },
        })),
      });
      this.layouts.set(key, layout);
    }
    return layout;
  }

  bindGroup(d: KernelDescriptor, buffers: readonly BufferBinding[]): GPUBindGroup {
    return this.device.createBindGroup({
      label: d.label,
      layout: this.get(d).layout,
      entries: buffers.map((b, binding) => ({
        binding,
        resource: 'buffer' in b ? { buffer: b.buffer, offset: b.offset ?? 0, size: b.size } : { buffer: b },
      })),
    });
  }

  /** Compilation messages of every shader module made so far (errors and warnings), at the .wgsl file and line they are about. */
  async messages(): Promise<string[]> {
    const out: string[] = [];
    for (const [name, m] of this.modules) {
      const info = await m.getCompilationInfo();
      for (const msg of info.messages)
        out.push(`${sourceLine(this.sources[name], msg.lineNum)}:${msg.linePos} ${msg.type}: ${msg.message}`);
    }
    return out;
  }
}

/** Records one dispatch into a pass (the common case, so that call sites stay one line each). */
export function dispatch(
  pass: GPUComputePassEncoder,
  kernel: Kernel,
  group: GPUBindGroup,
  x: number,
  y = 1,
  z = 1,
  dynamicOffset?: number,
): void {
  pass.setPipeline(kernel.pipeline);
  pass.setBindGroup(0, group, dynamicOffset === undefined ? [] : [dynamicOffset]);
  pass.dispatchWorkgroups(x, y, z);
}
