/** Regenerates kernels-wasm.ts (the module's bytes, base64) from kernels.wat: `npm run build:wasm`. */
import { writeFileSync } from 'node:fs';
import { assembleKernels, kernelsWasmSource } from './assemble-kernels.ts';

const bytes = await assembleKernels();
writeFileSync(new URL('./kernels-wasm.ts', import.meta.url), kernelsWasmSource(bytes));
console.log(`kernels-wasm.ts: ${bytes.length} bytes of WebAssembly`);
