import { isFloatDType } from '../formats/dtype.ts';
import type { TensorInfo } from '../formats/tensor-info.ts';
import { NAMING_RULES, type NameMatch } from './families.ts';
import { firstIndex, spectrumModuleName, spectrumType } from './spectrum-type.ts';

export type TensorRole =
  | { kind: 'matrix' | 'vector'; family: string | null; match: NameMatch }
  | { kind: 'skipped'; reason: string };

/**
 * What a tensor is to the scan: a 2-D matrix (all metrics), a 1-D vector (Spectrum's score only, as a
 * 1 × d matrix, so exports equal Spectrum's default), or skipped with a reason. Names that no family
 * rule knows are still analysed under Spectrum's generic type (family null) and listed as unmapped.
 */
export function tensorRole(t: TensorInfo): TensorRole {
  if (!t.name.endsWith('.weight')) {
    return { kind: 'skipped', reason: t.name.endsWith('.bias') ? 'bias (Spectrum scores weights only)' : 'not a weight' };
  }
  if (!isFloatDType(t.dtype)) return { kind: 'skipped', reason: `${t.dtype} tensor, not a floating-point weight` };
  if (t.shape.length === 0) return { kind: 'skipped', reason: 'scalar' };
  if (t.shape.length > 2) return { kind: 'skipped', reason: `${t.shape.length}-D tensor (Spectrum scores it NaN)` };
  if (t.shape.some((d) => d === 0)) return { kind: 'skipped', reason: 'empty tensor' };
  const kind = t.shape.length === 1 ? 'vector' : 'matrix';
  return { kind, ...matchName(t.name) };
}

/** The heatmap cell a tensor name belongs to, by the first family rule that knows it, else Spectrum's generic type. */
export function matchName(name: string): { family: string | null; match: NameMatch } {
  for (const rule of NAMING_RULES) {
    const m = rule.pattern.exec(name);
    if (m) return { family: rule.family, match: rule.map(m) };
  }
  const module = spectrumModuleName(name);
  return { family: null, match: { layer: firstIndex(module), module: spectrumType(module) } };
}
