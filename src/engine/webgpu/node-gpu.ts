// WebGPU in Node (CLI, vitest, benchmarks) through Dawn, the `webgpu` package. Never imported by the
// page's bundle: the browser's GPU is navigator.gpu (browser-gpu.ts).
import { existsSync, readdirSync } from 'node:fs';

/**
 * Vulkan drivers that run on the CPU, where Debian's chromium puts them. Dawn rejects Mesa's
 * lavapipe, so on a machine without a GPU SwiftShader is the one that gives an adapter; it is
 * added to the drivers the loader finds (VK_ADD_DRIVER_FILES), not put in their place, so a real
 * GPU stays the default adapter and SwiftShader is reported as a fallback adapter.
 */
const SOFTWARE_ICDS = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib/chromium-browser/vk_swiftshader_icd.json'];

export function addSoftwareVulkanDriver(env: NodeJS.ProcessEnv = process.env): string | null {
  // A user who names the drivers has chosen them.
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES) return null;
  const icd = SOFTWARE_ICDS.find((p) => existsSync(p));
  if (!icd) return null;
  const added = (env.VK_ADD_DRIVER_FILES ?? '').split(':').filter(Boolean);
  if (!added.includes(icd)) env.VK_ADD_DRIVER_FILES = [...added, icd].join(':');
  return icd;
}

/**
 * Whether this machine shows a GPU to user space at all. On Linux a Vulkan driver needs a device
 * node (/dev/dri/renderD*, /dev/nvidia*, WSL's /dev/dxg); without one, `auto` need not load Dawn
 * (which costs time and prints the driver probes' warnings). Elsewhere: assume yes.
 */
export function gpuDevicePresent(): boolean {
  if (process.platform !== 'linux') return true;
  const list = (dir: string): string[] => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  return list('/dev/dri').some((f) => f.startsWith('renderD')) || list('/dev').some((f) => /^nvidia\d|^dxg$/.test(f));
}

let gpu: Promise<GPU | null> | undefined;

/**
 * Dawn's GPU object, or null when the package or its native module cannot load. Dawn's enums
 * (GPUBufferUsage, GPUMapMode, …) become globals, as in a browser.
 */
export function nodeGpu(): Promise<GPU | null> {
  gpu ??= (async () => {
    addSoftwareVulkanDriver();
    try {
      const dawn = await import('webgpu');
      const g = globalThis as Record<string, unknown>;
      for (const [key, value] of Object.entries(dawn.globals as Record<string, unknown>)) if (!(key in g)) g[key] = value;
      return dawn.create([]);
    } catch {
      return null;
    }
  })();
  return gpu;
}
