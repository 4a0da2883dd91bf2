// What a plan needs of one weight matrix, from a scan's records, a metrics.json or a Spectrum result
// JSON. Definitions of every plan: docs/plans.md.

import { deltaMetrics, type EnergyLevel } from '../metrics/weight-delta.ts';
import type { HtsrMetrics } from '../metrics/htsr.ts';
import type { SpectrumVariant } from '../metrics/spectrum.ts';
import { compareJobs } from '../scan/plan.ts';
import { importedRecord, type MatrixRecord } from '../scan/record.ts';
import { recordSpectrumValue } from '../scan/result.ts';
import type { ScoredModule } from '../selection/select.ts';
import { spectrumModuleName, spectrumType } from '../naming/spectrum-type.ts';

/** One trainable weight matrix of the model, as the plans see it (null: not known from the input). */
export interface PlanMatrix {
  /** the parameter's name (the tensor name in the file) */
  name: string;
  layer: number | null;
  /** heatmap row (`self_attn.q_proj`; `lm_head`, `model.embed_tokens`) */
  module: string;
  expert?: number;
  /** Spectrum's module type, within which the SNR rule ranks */
  spectrumType: string;
  /** rows × cols (null: a Spectrum result JSON does not say) */
  params: number | null;
  /** min(rows, cols): the largest rank */
  maxRank: number | null;
  /** Spectrum's stored value (the `snr` of metrics.json) */
  snr: number | null;
  /** WeightWatcher's alpha (xmin at the first minimum of the KS distance) */
  alpha: number | null;
  /** alpha with xmin at the peak of the ESD (WeightWatcher's fix_fingers='xmin_peak') */
  alphaPeak: number | null;
  /** alpha with xmin at the median eigenvalue (TempBalance's `pl_fitting='median'`); needs the singular values */
  alphaMid: number | null;
  /** number of singular values above Spectrum's noise edge τ */
  mpRank: number | null;
  /** fewest leading singular values holding 90/95/99 % of Σσ² (needs the singular values) */
  energyRank: Readonly<Record<EnergyLevel, number>> | null;
}

/** Where the matrices came from, which decides the plans that can be made. */
export type PlanSource = 'scan' | 'metrics-json' | 'spectrum-json';

/** The metric fields the plans read that HtsrMetrics may not carry (older results, other producers). */
type PlanHtsrFields = { readonly alpha_peak?: number | null; readonly mp_rank?: number | null };

const finiteOrNull = (x: number | null | undefined): number | null => (x !== null && x !== undefined && Number.isFinite(x) ? x : null);

/**
 * TempBalance's alpha (`net_esd_estimator`, pl_fitting='median', xmin_pos=2, filter_zeros=False):
 * the eigenvalues λ = σ² ascending, all of them, i = ⌊N/2⌋, n = N − i, alpha = 1 + n / Σ_{j≥i} ln(λ_j/λ_i).
 * null where λ_i is 0 (more than half the spectrum is zero) or the tail is flat (alpha infinite).
 */
export function alphaMid(singularValuesDescending: Float64Array): number | null {
  const N = singularValuesDescending.length;
  if (N < 2) return null;
  const ascending = Array.from(singularValuesDescending, (s) => s * s).sort((a, b) => a - b);
  const i = Math.floor(N / 2);
  const xmin = ascending[i];
  if (!(xmin > 0)) return null;
  const n = N - i;
  let logSum = 0;
  for (let j = i; j < N; j++) logSum += Math.log(ascending[j] / xmin);
  if (!(logSum > 0)) return null;
  return 1 + n / logSum;
}

/** The ΔW page's energy ranks (weight-delta.ts) applied to W itself: its singular values hold all its energy. */
export function energyRanks(singularValuesDescending: Float64Array): Record<EnergyLevel, number> {
  let energy = 0;
  for (const s of singularValuesDescending) energy += s * s;
  return { ...deltaMetrics(singularValuesDescending, { energy, baseEnergy: energy, headEnergy: null }).energy_rank };
}

/**
 * A record that is a parameter of the model as stored: not a view of another tensor (a split of a fused
 * matrix, one expert of a stacked tensor, a tied head, a LoRA ΔW). An adapter merged into its base keeps the
 * base's name (its first source) and is that parameter.
 */
function isStoredParameter(r: Pick<MatrixRecord, 'name' | 'source' | 'lora'>): boolean {
  return r.lora === undefined && (r.source === undefined || r.source[0] === r.name);
}

/** The tied lm_head: not a tensor of its own, but TempBalance's last layer. */
function isTiedHead(r: MatrixRecord): boolean {
  return r.module === 'lm_head' && r.source !== undefined && r.source[0] !== r.name;
}

/**
 * alpha_mid and the energy ranks of one spectrum, kept per array: the page builds the plans again each time
 * records arrive, and sorting every spectrum again each time took most of that.
 */
const fromSpectrum = new WeakMap<Float64Array, Pick<PlanMatrix, 'alphaMid' | 'energyRank'>>();

function spectrumFields(sv: Float64Array): Pick<PlanMatrix, 'alphaMid' | 'energyRank'> {
  let fields = fromSpectrum.get(sv);
  if (!fields) {
    fields = { alphaMid: alphaMid(sv), energyRank: sv.length > 0 ? energyRanks(sv) : null };
    fromSpectrum.set(sv, fields);
  }
  return fields;
}

/**
 * The plans' matrices from a scan's records, in model order (layer by layer, attention then MLP; embeddings
 * and the head last): every analysed 2-D stored parameter, and a tied lm_head.
 */
export function planMatrices(records: readonly MatrixRecord[], variant: SpectrumVariant = 'current'): PlanMatrix[] {
  const out: (PlanMatrix & { sortKey: MatrixRecord })[] = [];
  for (const r of records) {
    if (r.vector || r.status !== 'ok' || !(isStoredParameter(r) || isTiedHead(r))) continue;
    const h: (HtsrMetrics & PlanHtsrFields) | null = r.htsr;
    const sv = r.singularValues;
    const known = r.rows > 0 && r.cols > 0;
    out.push({
      sortKey: r,
      name: r.name,
      layer: r.layer,
      module: r.module,
      ...(r.expert !== undefined ? { expert: r.expert } : {}),
      spectrumType: r.spectrumType ?? r.module,
      params: known ? r.rows * r.cols : null,
      maxRank: known ? Math.min(r.rows, r.cols) : null,
      snr: recordSpectrumValue(r, variant),
      alpha: finiteOrNull(h?.alpha),
      alphaPeak: finiteOrNull(h?.alpha_peak),
      alphaMid: sv ? spectrumFields(sv).alphaMid : null,
      mpRank: finiteOrNull(h?.mp_rank),
      energyRank: sv ? spectrumFields(sv).energyRank : null,
    });
  }
  out.sort((a, b) => compareJobs(a.sortKey, b.sortKey));
  return out.map(({ sortKey: _, ...m }) => m);
}

/** A metrics.json row's fields that the plans read (docs/formats.md). */
interface MetricsJsonRow {
  name: string;
  layer: number | null;
  module: string;
  expert?: number;
  shape: number[];
  status: string;
  source?: string[];
  snr: number | null;
  alpha: number | null;
  alpha_peak?: number | null;
  mp_rank?: number | null;
}

function isMetricsRow(x: unknown): x is MetricsJsonRow {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return typeof r.name === 'string' && typeof r.module === 'string' && Array.isArray(r.shape) && typeof r.status === 'string';
}

/** Whether a parsed JSON file is a metrics.json that this tool wrote. */
export function isMetricsJson(data: unknown): data is { model: string; matrices: unknown[] } {
  if (typeof data !== 'object' || data === null) return false;
  const d = data as Record<string, unknown>;
  return d.tool === 'spectral-workbench' && Array.isArray(d.matrices);
}

/**
 * The plans' matrices from metrics.json rows. The singular values are not in the file, so alphaMid and the
 * energy ranks are null; alpha_peak and mp_rank are read where the file has them.
 */
export function planMatricesFromMetricsJson(data: { matrices: unknown[] }, file = 'metrics.json'): PlanMatrix[] {
  const out: (PlanMatrix & { sortKey: Pick<MatrixRecord, 'name' | 'layer' | 'module' | 'expert'> })[] = [];
  for (const [i, x] of data.matrices.entries()) {
    if (!isMetricsRow(x)) throw new Error(`${file}: matrices[${i}] is not a metrics.json row (name, module, shape, status)`);
    if (x.shape.length !== 2 || x.status !== 'ok') continue;
    const isTied = x.module === 'lm_head' && x.source !== undefined && x.source[0] !== x.name;
    if (x.source !== undefined && x.source[0] !== x.name && !isTied) continue;
    const [rows, cols] = x.shape;
    out.push({
      sortKey: { name: x.name, layer: x.layer, module: x.module, ...(x.expert !== undefined ? { expert: x.expert } : {}) },
      name: x.name,
      layer: x.layer,
      module: x.module,
      ...(x.expert !== undefined ? { expert: x.expert } : {}),
      spectrumType: spectrumType(spectrumModuleName(x.name)),
      params: rows * cols,
      maxRank: Math.min(rows, cols),
      snr: typeof x.snr === 'number' ? x.snr : null,
      alpha: finiteOrNull(x.alpha),
      alphaPeak: finiteOrNull(x.alpha_peak),
      alphaMid: null,
      mpRank: finiteOrNull(x.mp_rank),
      energyRank: null,
    });
  }
  out.sort((a, b) => compareJobs(a.sortKey, b.sortKey));
  return out.map(({ sortKey: _, ...m }) => m);
}

/**
 * The plans' matrices from Spectrum's result JSON: its stored SNR per module and nothing else (no shapes, no
 * spectra), so only the SNR rule can use them. 1-D weights (norms) are left out.
 */
export function planMatricesFromSpectrum(entries: readonly ScoredModule[], file = 'spectrum JSON'): PlanMatrix[] {
  const records = entries.map((e) => importedRecord(e, file)).filter((r) => !r.vector);
  records.sort(compareJobs);
  return records.map((r) => ({
    name: r.name,
    layer: r.layer,
    module: r.module,
    ...(r.expert !== undefined ? { expert: r.expert } : {}),
    spectrumType: r.spectrumType ?? r.module,
    params: null,
    maxRank: null,
    snr: r.importedValue ?? null,
    alpha: null,
    alphaPeak: null,
    alphaMid: null,
    mpRank: null,
    energyRank: null,
  }));
}
