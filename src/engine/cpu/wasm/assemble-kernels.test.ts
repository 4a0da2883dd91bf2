import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assembleKernels, kernelsWasmSource, lowerMadd } from './assemble-kernels.ts';
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from './kernels-wasm.ts';

describe('the committed WebAssembly kernels', () => {
  it('are what kernels.wat assembles to, byte for byte, in both builds (run npm run build:wasm after editing kernels.wat)', async () => {
    const plain = await assembleKernels('plain');
    const relaxed = await assembleKernels('relaxed');
    expect(Buffer.compare(Buffer.from(KERNELS_WASM_BASE64, 'base64'), plain)).toBe(0);
    expect(Buffer.compare(Buffer.from(KERNELS_RELAXED_WASM_BASE64, 'base64'), relaxed)).toBe(0);
    expect(readFileSync(new URL('./kernels-wasm.ts', import.meta.url), 'utf8')).toBe(kernelsWasmSource(plain, relaxed));
  });
});

describe('lowerMadd', () => {
  const source =
    '(local.set $c (f64x2.madd (local.get $x) (v128.load (i32.add (local.get $b) (i32.const 16))) (f64x2.madd (local.get $p) (local.get $q) (local.get $c))))';
  it('writes f64x2.madd A B C as relaxed_madd, nested ones included', () => {
    expect(lowerMadd(source, 'relaxed')).toBe(
      '(local.set $c (f64x2.relaxed_madd (local.get $x) (v128.load (i32.add (local.get $b) (i32.const 16))) (f64x2.relaxed_madd (local.get $p) (local.get $q) (local.get $c))))',
    );
  });
  it('writes it as (A·B) + C for the plain build', () => {
    expect(lowerMadd(source, 'plain')).toBe(
      '(local.set $c (f64x2.add (f64x2.mul (local.get $x) (v128.load (i32.add (local.get $b) (i32.const 16)))) (f64x2.add (f64x2.mul (local.get $p) (local.get $q)) (local.get $c))))',
    );
  });
  it('refuses an operand that is not an expression', () => {
    expect(() => lowerMadd('(f64x2.madd $x (local.get $y) (local.get $z))', 'plain')).toThrow(SyntaxError);
  });
});
