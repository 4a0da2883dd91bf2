// Thin Web Worker entry: the logic lives in browser-worker-api.ts and analyzer.ts.
import { expose } from 'comlink';
import './comlink-errors.ts';
import { AutoEngine } from '../engine/webgpu/auto-engine.ts';
import { browserGpu } from '../engine/webgpu/browser-gpu.ts';
import { engineRequestFromWorkerName } from '../engine/webgpu/engine-request.ts';
import { viteShaders } from '../engine/webgpu/shaders-vite.ts';
import { setDefaultEngine } from './analyzer.ts';
import { createBrowserWorkerApi } from './browser-worker-api.ts';

// WebGPU when the browser gives this worker an adapter, else the CPU; the page names the worker
// "scan:<auto|webgpu|cpu>[:loseDeviceAfter=N]" (worker-pool.ts) to pass the user's choice (and,
// in e2e only, the device-loss test hook).
const { preference, loseDeviceAfter } = engineRequestFromWorkerName(self.name);
setDefaultEngine(() => new AutoEngine({ preference, loseDeviceAfter, gpu: browserGpu, shaders: () => viteShaders }));
expose(createBrowserWorkerApi());
