// Thin Web Worker entry: the logic lives in browser-worker-api.ts and analyzer.ts.
import { expose } from 'comlink';
import './comlink-errors.ts';
import { AutoEngine, parsePreference } from '../engine/webgpu/auto-engine.ts';
import { browserGpu } from '../engine/webgpu/browser-gpu.ts';
import { viteShaders } from '../engine/webgpu/shaders-vite.ts';
import { setDefaultEngine } from './analyzer.ts';
import { createBrowserWorkerApi } from './browser-worker-api.ts';

// WebGPU when the browser gives this worker an adapter, else the CPU; the page names the worker
// "scan:<auto|webgpu|cpu>" (worker-pool.ts) to pass the user's choice.
setDefaultEngine(() => new AutoEngine({ preference: parsePreference(self.name.split(':')[1]), gpu: browserGpu, shaders: () => viteShaders }));
expose(createBrowserWorkerApi());
