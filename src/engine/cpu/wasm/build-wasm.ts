/** Regenerates kernels-wasm.ts (both builds' bytes, base64) from kernels.wat: `npm run build:wasm`. */
import { writeFileSync } from 'node:fs';
import { assembleKernels, kernelsWasmSource } from './assemble-kernels.ts';

const plain = await assembleKernels('plain');
const relaxed = await assembleKernels('relaxed');
writeFileSync(new URL('./kernels-wasm.ts', import.meta.url), kernelsWasmSource(plain, relaxed));
console.log(`kernels-wasm.ts: ${plain.length} bytes of WebAssembly (plain SIMD), ${relaxed.length} (relaxed SIMD)`);
