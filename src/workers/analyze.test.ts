import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanFile } from '../../test-fixtures/builders/scan-file.ts';

const root = join(import.meta.dirname, '../..');

interface Expected {
  tensors: Record<
    string,
    { shape: number[]; dtype: string; spectrum: Record<string, number | number[]>; htsr: Record<string, number | string> }
  >;
}

function relErr(a: number, b: number): number {
  if (a === b) return 0; // Infinity === Infinity
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

const cases: [string, string][] = [
  ['test-fixtures/reference/reference-model.safetensors', 'test-fixtures/expected/reference-model.json'],
  ...['phase0-base', 'phase1-25pct', 'phase2-20pct', 'phase3-15pct'].map((p): [string, string] => [
    `public/demo/${p}.safetensors`,
    `test-fixtures/expected/demo-phases/${p}.json`,
  ]),
];

describe('CPU engine against the float64 reference values (relative error ≤ 1e-6)', () => {
  it.each(cases)('%s', async (file, expectedFile) => {
    const expected = JSON.parse(readFileSync(join(root, expectedFile), 'utf8').replace(/\bInfinity\b/g, '1e999')) as Expected;
    const records = await scanFile(join(root, file));
    const names = Object.keys(expected.tensors);
    expect(names.length).toBeGreaterThan(10);
    let worst = 0;
    for (const name of names) {
      const e = expected.tensors[name];
      const r = records.get(name);
      expect(r, name).toBeDefined();
      expect(r!.shape).toEqual(e.shape);
      expect(r!.dtype).toBe(e.dtype);
      const s = r!.spectrum!;
      for (const key of [
        'sigma_max',
        'iqr_sigma',
        'tau',
        'signal',
        'noise',
        'snr',
        'snr_legacy',
        'signal_to_noise',
        'frobenius',
      ] as const) {
        const err = relErr(s[key], e.spectrum[key] as number);
        worst = Math.max(worst, key === 'noise' && e.spectrum.noise === 0 ? 0 : err);
        expect(err, `${name} ${key}: ${s[key]} vs ${e.spectrum[key]}`).toBeLessThanOrEqual(1e-6);
      }
      expect(s.n_signal, `${name} n_signal`).toBe(e.spectrum.n_signal);
      const head = e.spectrum.singular_values_head as number[];
      const tail = e.spectrum.singular_values_tail as number[];
      const sv = r!.singularValues!;
      head.forEach((v, i) => expect(relErr(sv[i], v), `${name} σ${i}`).toBeLessThanOrEqual(1e-6));
      // The smallest σ come from the Gram's eigenvalues, which are accurate to ~nε·λ_max in absolute
      // terms: |Δσ| ≲ nε·σ_max²/(2σ). That is the bound to hold them to, not a relative one.
      tail.forEach((v, i) => {
        const got = sv[sv.length - tail.length + i];
        expect(Math.abs(got - v), `${name} tail σ${i}: ${got} vs ${v}`).toBeLessThanOrEqual((sv.length * 2.3e-16 * sv[0] ** 2) / v);
      });
    }
    // WeightWatcher's metrics, through the whole pipeline (reader, CPU engine, htsr): within 1e-3.
    let worstHtsr = 0;
    for (const name of names) {
      const e = expected.tensors[name].htsr;
      const h = records.get(name)!.htsr!;
      expect(h.status, name).toBe(e.status);
      expect(h.warning, name).toBe(e.warning);
      expect(h.num_spikes, `${name} num_spikes`).toBe(e.num_spikes);
      expect(h.num_pl_spikes, `${name} num_pl_spikes`).toBe(e.num_pl_spikes);
      for (const key of [
        'alpha',
        'xmin',
        'D',
        'alpha_weighted',
        'log_norm',
        'log_spectral_norm',
        'stable_rank',
        'entropy',
        'sigma_mp',
        'mp_softrank',
        'bulk_max',
        'lambda_max',
      ] as const) {
        const err = relErr(h[key]!, e[key] as number);
        worstHtsr = Math.max(worstHtsr, err);
        expect(err, `${name} ${key}: ${h[key]} vs ${e[key]}`).toBeLessThanOrEqual(1e-3);
      }
    }
    console.log(
      `${file}: ${names.length} matrices, worst relative error: Spectrum ${worst.toExponential(2)}, WeightWatcher ${worstHtsr.toExponential(2)}`,
    );
  });
});
