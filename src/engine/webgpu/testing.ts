/**
 * Test helpers (imported by *.test.ts only): WebGPU engines on whatever adapter Dawn finds here,
 * SwiftShader included, sharing one device per test file (a software GPU compiles each pipeline
 * for seconds), or the reason there is none. Where CI is set the adapter must exist (.ci/run
 * installs chromium's SwiftShader and libvulkan1), so GPU tests cannot pass by skipping.
 */
import { openGpu } from './device.ts';
import { createKit, type GpuKit } from './kit.ts';
import { nodeGpu } from './node-gpu.ts';
import { nodeShaders } from './shaders-node.ts';
import { WebGpuEngine, type WebGpuEngineOptions } from './webgpu-engine.ts';

let shared: Promise<GpuKit | { skip: string }> | undefined;

export function testKit(): Promise<GpuKit | { skip: string }> {
  shared ??= (async () => {
    const gpu = await nodeGpu();
    const ctx = gpu ? await openGpu(gpu, { allowFallbackAdapter: true }) : { reason: 'the webgpu package (Dawn) did not load' };
    if (!('reason' in ctx)) return createKit(ctx, nodeShaders());
    if (process.env.CI) throw new Error(`no WebGPU adapter on CI: ${ctx.reason}`);
    return { skip: `no WebGPU adapter: ${ctx.reason}` };
  })();
  return shared;
}

/** An engine on the shared device (its dispose() leaves the device alone). */
export async function testEngine(opts: WebGpuEngineOptions = {}): Promise<WebGpuEngine | { skip: string }> {
  const kit = await testKit();
  return 'skip' in kit ? kit : new WebGpuEngine(kit, opts);
}

/** Whether the slow GPU tests (the whole demo on a software adapter, minutes) run: SW_SLOW_TESTS=1. */
export const slowTests = process.env.SW_SLOW_TESTS === '1';
