// One bench worker: computes the singular values of the bench matrix of the given shape, as a CLI worker would.
import { parentPort, workerData } from 'node:worker_threads';
import { CpuEngine } from '../src/engine/cpu/cpu-engine.ts';
import { hashMatrix } from './hash-matrix.ts';

const { rows, cols } = workerData as { rows: number; cols: number };
const m = hashMatrix(rows * cols);
const t0 = performance.now();
await new CpuEngine().singularValues(m, rows, cols);
parentPort?.postMessage((performance.now() - t0) / 1e3);
