// Thin Web Worker entry: the logic lives in low-rank-api.ts (float64 on the CPU: the SVDs with vectors).
import { expose } from 'comlink';
import './comlink-errors.ts';
import { topSingularTripletsCpuAsync } from '../engine/low-rank/randomized-svd.ts';
import { createLowRankWorkerApi } from './low-rank-api.ts';

expose(createLowRankWorkerApi(topSingularTripletsCpuAsync));
