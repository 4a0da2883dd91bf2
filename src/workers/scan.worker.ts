// Thin Web Worker entry: the logic lives in browser-worker-api.ts and analyzer.ts.
import { expose } from 'comlink';
import './comlink-errors.ts';
import { createBrowserWorkerApi } from './browser-worker-api.ts';

expose(createBrowserWorkerApi());
