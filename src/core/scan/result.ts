import type { ErrorRecord } from '../errors.ts';
import { spectrumValue, type SpectrumVariant } from '../metrics/spectrum.ts';
import type { AliasJob, ScanPlan } from './plan.ts';
import type { EngineKind, MatrixRecord, ScanMode } from './record.ts';

/** Everything one scan of one checkpoint produced; what the exports and the views read. */
export interface ScanResult {
  model: string;
  engine: EngineKind;
  mode: ScanMode;
  records: MatrixRecord[];
  skipped: ScanPlan['skipped'];
  unmapped: string[];
  errors: ErrorRecord[];
  /** tensors named by an index whose shard is absent */
  missing: { name: string; file: string }[];
}

/** A tied lm_head is the embedding's record under Spectrum's second name. */
export function aliasRecord(alias: AliasJob, of: MatrixRecord): MatrixRecord {
  return {
    ...of,
    name: alias.name,
    layer: null,
    module: alias.module,
    spectrumModule: alias.spectrumModule,
    spectrumType: alias.spectrumType,
    source: [of.name],
  };
}

/** Spectrum's value of a record: computed from its spectrum, or as read from a Spectrum result file. */
export function recordSpectrumValue(r: MatrixRecord, variant: SpectrumVariant): number | null {
  if (r.spectrum) return spectrumValue(r.spectrum, variant);
  return r.importedValue ?? null;
}

/** The scored modules of Spectrum's files: every analysed weight (matrices and 1-D vectors). */
export function spectrumModules(records: readonly MatrixRecord[], variant: SpectrumVariant): { name: string; value: number }[] {
  const out: { name: string; value: number }[] = [];
  for (const r of records) {
    // views Spectrum does not see (splits of fused tensors, LoRA ΔW) carry no Spectrum name
    if (r.spectrumModule === null) continue;
    const value = recordSpectrumValue(r, variant);
    if (value !== null) out.push({ name: r.spectrumModule, value });
  }
  return out;
}
