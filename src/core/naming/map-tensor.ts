import { isFloatDType } from '../formats/dtype.ts';
import { isQuantizedDType, unsupportedQuantReason } from '../formats/gguf-types.ts';
import type { TensorInfo } from '../formats/tensor-info.ts';
import { NAMING_RULES, type NameMatch } from './naming-rules.ts';
import { firstIndex, spectrumModuleName, spectrumType } from './spectrum-type.ts';

export type TensorRole =
  { kind: 'matrix' | 'vector' | 'stacked'; family: string | null; match: NameMatch } | { kind: 'skipped'; reason: string };

/** Parameters that are not module weights, with the reason a user would want (Spectrum scores module weights only). */
const NOT_WEIGHTS: [RegExp, string][] = [
  [/\.A_log$/, 'A_log: the linear-attention decay, a parameter rather than a module weight (Spectrum does not score it)'],
  [/\.dt_bias$/, 'dt_bias: the linear-attention time-step bias, a parameter rather than a module weight (Spectrum does not score it)'],
  [/inv_freq$/, 'rotary-embedding buffer, not a weight'],
];

/**
 * What a tensor is to the scan: a 2-D matrix (all metrics), a 1-D vector (Spectrum's score only, as a
 * 1 × d matrix, so exports equal Spectrum's default), a GGUF stack of expert matrices, or skipped with
 * a reason. Names that no family rule knows are still analysed under Spectrum's generic type (family
 * null) and listed as unmapped.
 */
export function tensorRole(t: TensorInfo): TensorRole {
  if (!t.name.endsWith('.weight')) {
    const known = NOT_WEIGHTS.find(([re]) => re.test(t.name));
    if (known) return { kind: 'skipped', reason: known[1] };
    return { kind: 'skipped', reason: t.name.endsWith('.bias') ? 'bias (Spectrum scores weights only)' : 'not a weight' };
  }
  if (!isFloatDType(t.dtype) && !isQuantizedDType(t.dtype)) {
    return { kind: 'skipped', reason: unsupportedQuantReason(t.dtype) ?? `${t.dtype} tensor, not a floating-point weight` };
  }
  if (t.shape.length === 0) return { kind: 'skipped', reason: 'scalar' };
  if (t.shape.length > 2) {
    const named = matchName(t.name);
    if (t.shape.length === 3 && named.match.layout?.stackedExperts && !t.shape.includes(0)) return { kind: 'stacked', ...named };
    return { kind: 'skipped', reason: `${t.shape.length}-D tensor (Spectrum scores it NaN)` };
  }
  if (t.shape.some((d) => d === 0)) return { kind: 'skipped', reason: 'empty tensor' };
  const kind = t.shape.length === 1 ? 'vector' : 'matrix';
  return { kind, ...matchName(t.name) };
}

/** The heatmap cell a tensor name belongs to, by the first family rule that knows it, else Spectrum's generic type. */
export function matchName(name: string): { family: string | null; match: NameMatch } {
  // PEFT adapters keep the base model's names under `base_model.model.` (modules_to_save, LoRA bases)
  const plain = name.replace(/^base_model\.model\./, '');
  for (const rule of NAMING_RULES) {
    const m = rule.pattern.exec(plain);
    const match = m ? rule.map(m) : null;
    if (match) return { family: rule.family, match };
  }
  const module = spectrumModuleName(name);
  return { family: null, match: { layer: firstIndex(module), module: spectrumType(module) } };
}
