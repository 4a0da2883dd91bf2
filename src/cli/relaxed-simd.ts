import { setFlagsFromString } from 'node:v8';
import { relaxedSimdAvailable } from '../engine/cpu/wasm/wasm-kernels.ts';

// Node 20's V8 has relaxed SIMD behind a flag (Node 22 and Chromium have it on). Imported for its effect, before
// any worker thread compiles the CPU engine's kernels, so that Node runs the build the page runs (on one machine,
// the same bits): by the CLI's pool, and by the unit tests (vitest's setup), which compare the two.
if (!relaxedSimdAvailable()) setFlagsFromString('--experimental-wasm-relaxed-simd');
