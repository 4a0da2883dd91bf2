// Thin worker_threads entry: the logic lives in workers/analyze.ts (shared with the page's Web Worker).
import { parentPort, workerData } from 'node:worker_threads';
import { expose } from 'comlink';
import '../workers/comlink-errors.ts';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { CpuEngine } from '../engine/cpu/cpu-engine.ts';
import { AutoEngine, parsePreference } from '../engine/webgpu/auto-engine.ts';
import { gpuDevicePresent, nodeGpu } from '../engine/webgpu/node-gpu.ts';
import { nodeShaders } from '../engine/webgpu/shaders-node.ts';
import { createAnalyzer } from '../workers/analyzer.ts';
import { fileSourceOfRef } from './file-source.ts';

if (!parentPort) throw new Error('scan-worker must run in a worker thread');
// --engine, passed by the pool: the CPU engine, or WebGPU through Dawn when it finds an adapter.
const preference = parsePreference((workerData as { engine?: string } | null)?.engine ?? 'cpu');
const engine =
  preference === 'cpu'
    ? new CpuEngine()
    : new AutoEngine({ preference, gpu: nodeGpu, hardwarePresent: gpuDevicePresent, shaders: () => nodeShaders() });
expose(
  createAnalyzer((ref: string) => fileSourceOfRef(ref), engine),
  nodeEndpoint(parentPort),
);
