// Thin worker_threads entry: the logic lives in workers/analyze.ts (shared with the page's Web Worker).
import { parentPort } from 'node:worker_threads';
import { expose } from 'comlink';
import '../workers/comlink-errors.ts';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { createAnalyzer } from '../workers/analyzer.ts';
import { fileSource } from './file-source.ts';

if (!parentPort) throw new Error('scan-worker must run in a worker thread');
expose(createAnalyzer((path: string) => fileSource(path)), nodeEndpoint(parentPort));
