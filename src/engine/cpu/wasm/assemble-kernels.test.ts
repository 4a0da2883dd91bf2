import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assembleKernels, kernelsWasmSource } from './assemble-kernels.ts';
import { KERNELS_WASM_BASE64 } from './kernels-wasm.ts';

describe('the committed WebAssembly kernels', () => {
  it('are what kernels.wat assembles to, byte for byte (run npm run build:wasm after editing kernels.wat)', async () => {
    const fresh = await assembleKernels();
    const committed = new Uint8Array(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
    expect(committed.length).toBe(fresh.length);
    expect(Buffer.compare(committed, fresh)).toBe(0);
    expect(readFileSync(new URL('./kernels-wasm.ts', import.meta.url), 'utf8')).toBe(kernelsWasmSource(fresh));
  });
});
