import { describe, expect, it } from 'vitest';
import { spectrumScore } from '../core/metrics/spectrum.ts';
import { importedRecord, type MatrixRecord } from '../core/scan/record.ts';
import { unavailableMetrics } from './metric-availability.ts';

const imported = [
  importedRecord({ name: 'model.layers.0.self_attn.q_proj', type: 'self_attn.q_proj', value: 0.0123 }, 'snr_results_x.json'),
  importedRecord({ name: 'model.layers.1.self_attn.q_proj', type: 'self_attn.q_proj', value: 0.0456 }, 'snr_results_x.json'),
];

/** A scanned 2-D record with Spectrum's score but no heavy-tail fit (as a 1-D weight has none). */
function scannedWithoutHtsr(): MatrixRecord {
  const { importedValue: _dropped, ...base } = imported[0];
  const sv = new Float64Array([4, 3, 2, 1]);
  return { ...base, shape: [4, 4], rows: 4, cols: 4, dtype: 'F32', spectrum: spectrumScore(sv, 4, 4), singularValues: sv };
}

describe('unavailableMetrics', () => {
  it("keeps Spectrum's SNR for an imported result file and refuses the rest, saying the file lacks them", () => {
    const out = unavailableMetrics(imported, 'current');
    expect(out.has('snr')).toBe(false);
    expect([...out.keys()].sort()).toEqual(
      [
        'alpha',
        'alpha_weighted',
        'entropy',
        'frobenius',
        'num_spikes',
        'sigma_max',
        'signal_to_noise',
        'stable_rank',
        'alpha_peak',
        'alpha_farms',
        'mp_rank',
      ].sort(),
    );
    expect(out.get('sigma_max')).toBe("Spectral norm σ_max: not in Spectrum's result file, which stores only each module's SNR");
  });

  it('refuses only what no scanned record has', () => {
    const out = unavailableMetrics([scannedWithoutHtsr()], 'current');
    expect(out.has('snr')).toBe(false);
    expect(out.has('sigma_max')).toBe(false);
    expect(out.has('frobenius')).toBe(false);
    expect(out.get('alpha')).toBe('Power-law alpha: no matrix analysed here has a value for it');
  });

  it('refuses nothing before any record is there', () => {
    expect(unavailableMetrics([], 'current').size).toBe(0);
  });
});
