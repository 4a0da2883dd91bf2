// What the page asks of its scan workers' engines, from its address to each worker's name. A module
// of its own with no imports, so that the page's main bundle takes none of the engine with it.

/**
 * auto: WebGPU on a hardware adapter, else the CPU (a software adapter such as SwiftShader is
 * slower than the float64 CPU engine); webgpu: any adapter, software included; cpu: the CPU.
 */
export type EnginePreference = 'auto' | 'webgpu' | 'cpu';

export function parsePreference(value: string | null | undefined): EnginePreference {
  return value === 'webgpu' || value === 'cpu' ? value : 'auto';
}

/** What the page asks of its workers' engines (from its address, through each worker's name). */
export interface EngineRequest {
  preference: EnginePreference;
  /** TEST HOOK: see AutoEngineOptions.loseDeviceAfter */
  loseDeviceAfter?: number;
}

/** A small count written in decimal, or undefined. */
function smallCount(value: string | null | undefined): number | undefined {
  return value && /^\d{1,6}$/.test(value) ? Number(value) : undefined;
}

function request(preference: string | null | undefined, loseDeviceAfter: string | null | undefined): EngineRequest {
  const lose = smallCount(loseDeviceAfter);
  return { preference: parsePreference(preference), ...(lose !== undefined ? { loseDeviceAfter: lose } : {}) };
}

/**
 * The engine request in the page's address: `?engine=auto|webgpu|cpu`, and the TEST HOOK
 * `?loseDeviceAfter=N` (e2e/webgpu.spec.ts), which only ever moves work from the GPU to the CPU.
 */
export function engineRequestFromQuery(query: URLSearchParams): EngineRequest {
  return request(query.get('engine'), query.get('loseDeviceAfter'));
}

/** A scan worker's name carries the request: "scan:<preference>[:loseDeviceAfter=N]". */
export function workerName(req: EngineRequest): string {
  return ['scan', req.preference, ...(req.loseDeviceAfter !== undefined ? [`loseDeviceAfter=${req.loseDeviceAfter}`] : [])].join(':');
}

export function engineRequestFromWorkerName(name: string): EngineRequest {
  const [, preference, ...rest] = name.split(':');
  return request(preference, rest.find((part) => part.startsWith('loseDeviceAfter='))?.slice('loseDeviceAfter='.length));
}
