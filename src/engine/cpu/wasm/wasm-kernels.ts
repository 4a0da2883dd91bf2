import type { Kernels } from '../kernels.ts';
import { tsKernels } from '../ts-kernels.ts';
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from './kernels-wasm.ts';

interface KernelExports {
  panelProducts(a: number, b: number, kc: number, pi0: number, pi1: number, pj0: number, pj1: number, c: number, ldc: number): void;
  symvUpper(a: number, lda: number, m: number, x: number, y: number): void;
  dots(z: number, ldz: number, ncols: number, x: number, len: number, out: number): void;
  subtractColumns(z: number, ldz: number, ncols: number, coef: number, y: number, len: number): void;
}

const PAGE = 65536;
/** wasm32 can address 4 GiB (65536 pages); V8 and browsers allow that much. */
const MAX_PAGES = 65536;
/** A memory larger than this is given back when a matrix needs less than a quarter of it. */
const RELEASE_ABOVE = 256 * 2 ** 20;

function decode(base64: string): Uint8Array<ArrayBuffer> {
  // atob exists in Node >= 16, browsers and workers; Buffer does not exist in browsers.
  const bin = atob(base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/**
 * The two builds of kernels.wat: 'relaxed' fuses its multiply-adds with relaxed SIMD's f64x2.relaxed_madd
 * (Chromium ≥ 114, Node ≥ 22, Node 20 with --experimental-wasm-relaxed-simd), 'plain' is SIMD alone.
 */
export type WasmVariant = 'plain' | 'relaxed';

const compiled = new Map<WasmVariant, Promise<WebAssembly.Module | null>>();

/** The compiled module, or null where WebAssembly or the features the variant needs are missing (validate says no). */
function wasmModule(variant: WasmVariant): Promise<WebAssembly.Module | null> {
  let module = compiled.get(variant);
  if (!module) {
    module = (async () => {
      if (typeof WebAssembly !== 'object') return null;
      const bytes = decode(variant === 'relaxed' ? KERNELS_RELAXED_WASM_BASE64 : KERNELS_WASM_BASE64);
      if (!WebAssembly.validate(bytes)) return null;
      return WebAssembly.compile(bytes);
    })();
    compiled.set(variant, module);
  }
  return module;
}

/** Whether this runtime runs the relaxed-SIMD build (Node 20 only with --experimental-wasm-relaxed-simd). */
export function relaxedSimdAvailable(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(decode(KERNELS_RELAXED_WASM_BASE64));
}

/**
 * The WebAssembly SIMD kernels (f64x2), about 8× the plain TypeScript ones, or null where they
 * cannot run: by default the relaxed-SIMD build where the runtime validates it, else the plain
 * one; `variant` asks for one build only. Each instance owns one memory: arrays from allocate()
 * are views into it, and calls with arrays from elsewhere go to the TypeScript kernels. One
 * instance per worker.
 */
export async function createWasmKernels(variant?: WasmVariant): Promise<Kernels | null> {
  let chosen: WasmVariant = variant ?? 'relaxed';
  let mod = await wasmModule(chosen);
  if (mod === null && variant === undefined) mod = await wasmModule((chosen = 'plain'));
  if (mod === null) return null;
  let memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES });
  let k = (await WebAssembly.instantiate(mod, { env: { memory } })).exports as unknown as KernelExports;
  const mine = (...arrays: Float64Array[]): boolean => arrays.every((x) => x.buffer === memory.buffer);

  return {
    name: 'wasm',
    relaxedSimd: chosen === 'relaxed',
    allocate(lengths) {
      // 16-byte alignment for v128 loads; offsets in bytes.
      const offsets: number[] = [];
      let end = 0;
      for (const len of lengths) {
        offsets.push(end);
        end += Math.ceil((len * 8) / 16) * 16;
      }
      const pages = Math.ceil(end / PAGE);
      if (memory.buffer.byteLength > RELEASE_ABOVE && end < memory.buffer.byteLength / 4) {
        // wasm memory only grows: after the LM head, start a small one again for the layers.
        memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES });
        k = new WebAssembly.Instance(mod, { env: { memory } }).exports as unknown as KernelExports;
      }
      const have = memory.buffer.byteLength / PAGE;
      if (pages > MAX_PAGES) throw new RangeError(`wasm kernels: ${end} bytes exceed the 4 GiB of wasm32 memory`);
      if (pages > have) memory.grow(pages - have); // throws RangeError if the engine refuses
      const buf = memory.buffer;
      return lengths.map((len, i) => {
        const view = new Float64Array(buf, offsets[i], len);
        view.fill(0); // the memory is reused from the previous matrix
        return view;
      });
    },
    panelProducts(a, aOff, b, bOff, kc, pi0, pi1, pj0, pj1, c, cOff, ldc) {
      if (!mine(a, b, c)) return tsKernels.panelProducts(a, aOff, b, bOff, kc, pi0, pi1, pj0, pj1, c, cOff, ldc);
      k.panelProducts(a.byteOffset + 8 * aOff, b.byteOffset + 8 * bOff, kc, pi0, pi1, pj0, pj1, c.byteOffset + 8 * cOff, 8 * ldc);
    },
    symvUpper(a, aOff, lda, m, x, xOff, y, yOff) {
      if (!mine(a, x, y)) return tsKernels.symvUpper(a, aOff, lda, m, x, xOff, y, yOff);
      k.symvUpper(a.byteOffset + 8 * aOff, 8 * lda, m, x.byteOffset + 8 * xOff, y.byteOffset + 8 * yOff);
    },
    dots(z, zOff, ldz, ncols, x, xOff, len, out, outOff) {
      if (!mine(z, x, out)) return tsKernels.dots(z, zOff, ldz, ncols, x, xOff, len, out, outOff);
      k.dots(z.byteOffset + 8 * zOff, 8 * ldz, ncols, x.byteOffset + 8 * xOff, len, out.byteOffset + 8 * outOff);
    },
    subtractColumns(z, zOff, ldz, ncols, coef, coefOff, y, yOff, len) {
      if (!mine(z, coef, y)) return tsKernels.subtractColumns(z, zOff, ldz, ncols, coef, coefOff, y, yOff, len);
      k.subtractColumns(z.byteOffset + 8 * zOff, 8 * ldz, ncols, coef.byteOffset + 8 * coefOff, y.byteOffset + 8 * yOff, len);
    },
  };
}
