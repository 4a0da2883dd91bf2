/**
 * The CPU's floating-point peak as WebAssembly reaches it in this runtime: a loop of independent
 * multiply-adds in registers (no memory traffic), f64x2 and f32x4, with relaxed-SIMD's fused
 * `relaxed_madd` where the runtime has it and as a separate mul + add. The Gram's and the
 * tridiagonalization's GFLOP/s are reported as a share of the f64x2 figure the kernels use.
 */
import { setFlagsFromString } from 'node:v8';
import wabtInit from 'wabt';

/** Node 20's V8 (11.3) has relaxed SIMD behind a flag; later ones by default. Set before any compile. */
setFlagsFromString('--experimental-wasm-relaxed-simd');

/**
 * Ten accumulators, each a chain of acc += x·y_j with x changing every iteration (so nothing can be hoisted):
 * the form of the Gram's inner loop, with enough chains to cover the add's or the FMA's latency on two pipes
 * and few enough registers (10 + x, c, y0, y1 of the 16) that nothing spills.
 */
const CHAINS = 10;

function source(type: 'f64x2' | 'f32x4', fused: boolean): string {
  const acc = Array.from({ length: CHAINS }, (_, i) => `$a${i}`);
  const y = (i: number) => `(local.get $y${i % 2})`;
  const step = acc
    .map((a, i) =>
      fused
        ? `(local.set ${a} (${type}.relaxed_madd (local.get $x) ${y(i)} (local.get ${a})))`
        : `(local.set ${a} (${type}.add (local.get ${a}) (${type}.mul (local.get $x) ${y(i)})))`,
    )
    .join('\n');
  const sum = acc.slice(1).reduce((s, a) => `(${type}.add ${s} (local.get ${a}))`, `(local.get ${acc[0]})`);
  const scalar = type === 'f64x2' ? 'f64' : 'f32';
  const splat = (v: number) => `(${type}.splat (${scalar}.const ${v}))`;
  return `(module
    (func (export "run") (param $n i32) (result f64)
      (local $x v128) (local $c v128) (local $y0 v128) (local $y1 v128) ${acc.map((a) => `(local ${a} v128)`).join(' ')}
      (local.set $x ${splat(1)}) (local.set $c ${splat(0.9999999)}) (local.set $y0 ${splat(1e-3)}) (local.set $y1 ${splat(2e-3)})
      (loop $l
        ${step}
        (local.set $x (${type}.mul (local.get $x) (local.get $c)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))
      ${type === 'f64x2' ? `(f64x2.extract_lane 0 ${sum})` : `(f64.promote_f32 (f32x4.extract_lane 0 ${sum}))`}))`;
}

export interface PeakRow {
  kernel: string;
  gflops: number;
}

/** Best GFLOP/s of each variant over `reps` runs of about `ms` each; fused variants only where the runtime validates them. */
export async function wasmPeak(ms = 200, reps = 5): Promise<PeakRow[]> {
  const wabt = await wabtInit();
  const rows: PeakRow[] = [];
  for (const type of ['f64x2', 'f32x4'] as const) {
    for (const fused of [false, true]) {
      const parsed = wabt.parseWat('peak.wat', source(type, fused), { simd: true, relaxed_simd: true });
      const bytes = new Uint8Array(parsed.toBinary({}).buffer);
      parsed.destroy();
      if (!WebAssembly.validate(bytes)) continue;
      const { run } = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as { run(n: number): number };
      const lanes = type === 'f64x2' ? 2 : 4;
      const flopsPerIter = CHAINS * lanes * 2;
      let n = 1e5;
      for (;;) {
        const t0 = performance.now();
        run(n);
        if (performance.now() - t0 > ms / 4) break;
        n *= 4;
      }
      let best = 0;
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        run(n);
        best = Math.max(best, (n * flopsPerIter) / ((performance.now() - t0) / 1e3) / 1e9);
      }
      rows.push({ kernel: `${type} ${fused ? 'relaxed_madd (fused)' : 'mul + add'}`, gflops: best });
    }
  }
  return rows;
}
