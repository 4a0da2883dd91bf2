/**
 * SNR sanity: Spectrum's score is (Σσ>τ / Σσ≤τ) / σ_max, so a matrix with no singular value at or
 * below τ has no noise sum at all (spectrum.py before April 2025 stored Infinity, the current one
 * divides by 1), and one whose noise set is a handful of tiny σ gets a huge score. Such a value says
 * nothing about signal against a noise bulk, yet it sorts first in its module type, so a top-P %
 * selection can be made of these cells only. This flags them and says how much of each type's
 * selection they decide. Definitions and the threshold's reasoning: docs/metrics.md, "SNR sanity".
 */
import type { TypeSelection } from '../selection/select.ts';

/**
 * A finite score at or above this is flagged. The score bounds the noise sum: Σσ≤τ = Σσ>τ / (snr · σ_max)
 * ≤ n_signal / snr, so at 10³ the noise sum is under n/1000 in σ's own units, while trained weights'
 * singular values are of order 1 (a d × D matrix with entries of std s has a bulk near s(√D ± √d), about
 * 1 for s = 0.02, D = 4096): a few of the smallest σ at most, not a noise bulk.
 */
export const SNR_HUGE = 1e3;

/** `infinite`: a stored Infinity; `empty-noise`: the spectrum shows no σ ≤ τ (a finite score from the current spectrum.py); `huge`: ≥ SNR_HUGE. */
export type SnrFlagReason = 'infinite' | 'empty-noise' | 'huge';

export const SNR_FLAG_REASONS: readonly SnrFlagReason[] = ['infinite', 'empty-noise', 'huge'];

/**
 * Why a score is flagged, or null. `noiseCount`: how many singular values are at or below τ, when the
 * spectrum is known (a Spectrum result file has the score only).
 */
export function snrFlag(value: number, noiseCount?: number): SnrFlagReason | null {
  if (value === Infinity) return 'infinite';
  if (noiseCount === 0) return 'empty-noise';
  if (value >= SNR_HUGE) return 'huge';
  return null;
}

/** The reason in words, for a tip. */
export function snrFlagText(reason: SnrFlagReason): string {
  switch (reason) {
    case 'infinite':
      return 'SNR ∞: no singular value at or below τ, so the noise sum is empty';
    case 'empty-noise':
      return 'no singular value at or below τ: spectrum.py divides by 1 in place of a noise sum';
    case 'huge':
      return `SNR ≥ ${SNR_HUGE}: the noise sum is under n/${SNR_HUGE}, a few of the smallest σ, not a noise bulk`;
  }
}

export interface TypeSnrSanity {
  type: string;
  /** modules of the type that were checked (1-D weights left out) */
  members: number;
  flagged: number;
  byReason: Record<SnrFlagReason, number>;
  /** how many the top P % selects */
  selected: number;
  /** of those, how many are flagged */
  selectedFlagged: number;
  /**
   * the cut-off falls inside a run of equal values (Infinity ties): which of them are selected is
   * then model order, as Python's stable sort keeps it, not any score
   */
  tiedAtCutoff: boolean;
}

export interface SnrSanity {
  /** Spectrum module name → why it is flagged */
  flags: Map<string, SnrFlagReason>;
  types: TypeSnrSanity[];
  flagged: number;
  selected: number;
  selectedFlagged: number;
}

export interface SnrSanityOptions {
  /** singular values at or below τ, where the spectrum is known */
  noiseCount?(name: string): number | undefined;
  /** modules to leave out (1-D weights: one singular value, never a noise set, a constant score) */
  exclude?(name: string): boolean;
}

/**
 * Flags of every module of a selection (Spectrum's top P % per type, `selectTopPercent`) and, per
 * type, how many of the selected are flagged. Types with nothing checked are left out.
 */
export function snrSanity(selection: readonly TypeSelection[], options: SnrSanityOptions = {}): SnrSanity {
  const flags = new Map<string, SnrFlagReason>();
  const types: TypeSnrSanity[] = [];
  for (const t of selection) {
    const members = t.members.filter((m) => !options.exclude?.(m.name));
    if (members.length === 0) continue;
    const byReason: Record<SnrFlagReason, number> = { infinite: 0, 'empty-noise': 0, huge: 0 };
    for (const m of members) {
      const reason = snrFlag(m.value, options.noiseCount?.(m.name));
      if (reason === null) continue;
      flags.set(m.name, reason);
      byReason[reason]++;
    }
    const selected = t.selected.filter((m) => !options.exclude?.(m.name));
    const k = t.selected.length;
    // `selected` is sorted high to low; the first not selected is the highest of the rest
    const rest = t.members.length > k ? Math.max(...t.members.filter((m) => !t.selected.includes(m)).map((m) => m.value)) : null;
    types.push({
      type: t.type,
      members: members.length,
      flagged: byReason.infinite + byReason['empty-noise'] + byReason.huge,
      byReason,
      selected: selected.length,
      selectedFlagged: selected.filter((m) => flags.has(m.name)).length,
      tiedAtCutoff: k > 0 && rest !== null && t.selected[k - 1].value === rest,
    });
  }
  return {
    flags,
    types,
    flagged: flags.size,
    selected: types.reduce((n, t) => n + t.selected, 0),
    selectedFlagged: types.reduce((n, t) => n + t.selectedFlagged, 0),
  };
}

/** Counts by reason in words: "6 ∞, 7 ≥ 1000". */
export function reasonCounts(byReason: Record<SnrFlagReason, number>): string {
  const words: Record<SnrFlagReason, string> = { infinite: '∞', 'empty-noise': 'no σ ≤ τ', huge: `≥ ${SNR_HUGE}` };
  return SNR_FLAG_REASONS.filter((r) => byReason[r] > 0)
    .map((r) => `${byReason[r]} ${words[r]}`)
    .join(', ');
}

/**
 * One type's verdict in words, for the selection summary: "self_attn.v_proj: 13 of 56 flagged (6 ∞, 7 ≥ 1000);
 * 13 of the 14 selected at 25% are flagged". Null for a type with nothing flagged.
 */
export function typeSanityLine(t: TypeSnrSanity, percent: number): string | null {
  if (t.flagged === 0) return null;
  const head = `${t.type}: ${t.flagged} of ${t.members} flagged (${reasonCounts(t.byReason)})`;
  if (t.selected === 0) return `${head}; nothing selected at ${percent}%`;
  const decided =
    t.selectedFlagged === t.selected
      ? `all ${t.selected} selected at ${percent}% are flagged: the selection is decided by them`
      : t.selectedFlagged > 0
        ? `${t.selectedFlagged} of the ${t.selected} selected at ${percent}% are flagged: they decide part of the selection`
        : `none of the ${t.selected} selected at ${percent}% is flagged`;
  const tie = t.tiedAtCutoff && t.selectedFlagged > 0 ? ', and the cut-off falls among equal values, so model order picks among them' : '';
  return `${head}; ${decided}${tie}`;
}
