// Timing of the HT-SR metrics (not a test): `npx tsx src/core/metrics/htsr.timing.ts`.
// Prints the median of a few runs per spectrum size and shape, for the power-law fit, the MP fit,
// the whole htsrMetrics, and the plain O(n²) candidate scan the fast one replaces.

import { htsrMetrics } from './htsr.ts';
import { fitMarchenkoPastur } from './marchenko-pastur.ts';
import { fitPowerLaw, powerLawCandidates } from './powerlaw.ts';
import { marchenkoPasturQuantiles, paretoSamples } from './synthetic-spectra.ts';

function median(run: () => unknown, reps: number): number {
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[reps >> 1];
}

/** An MP bulk whose top 10% is replaced by a Pareto tail: roughly what trained layers look like. */
function bulkWithTail(M: number, Q: number): Float64Array {
  const ev = marchenkoPasturQuantiles(M, Q, 1);
  const edge = ev[M - 1];
  const k = Math.floor(M / 10);
  const tail = paretoSamples(k, 2.5, edge * 0.8, 17);
  ev.set(tail, M - k);
  return ev.sort();
}

const shapes: [number, number][] = [
  [896, 4864],
  [5120, 13824],
];
for (const [M, N] of shapes) {
  const spectra: [string, Float64Array][] = [
    ['MP noise', marchenkoPasturQuantiles(M, N / M, 1)],
    ['MP + power-law tail', bulkWithTail(M, N / M)],
    ['pure power law', paretoSamples(M, 2.5, 1, 5)],
  ];
  for (const [label, ev] of spectra) {
    const sv = ev.map(Math.sqrt).reverse();
    const reps = M > 2000 ? 7 : 21;
    median(() => htsrMetrics(sv, M, N), 3); // warm up the JIT
    const pl = median(() => fitPowerLaw(ev), reps);
    const mp = median(() => fitMarchenkoPastur(ev, N, M), reps);
    const all = median(() => htsrMetrics(sv, M, N), reps);
    const plain = median(() => powerLawCandidates(ev), 3);
    const fit = fitPowerLaw(ev);
    const alpha = fit.status === 'success' ? fit.alpha.toFixed(3) : fit.reason;
    console.log(
      `${M} x ${N} ${label.padEnd(20)} power law ${pl.toFixed(1)} ms  MP ${mp.toFixed(1)} ms  all ${all.toFixed(1)} ms` +
        `  (plain O(n²) scan ${plain.toFixed(0)} ms)  alpha ${alpha}`,
    );
  }
}
