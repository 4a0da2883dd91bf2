// ΔW = W_next − W_prev between two checkpoints (docs/metrics.md): how large the change is
// against the weights, how many directions it uses, how far an SVD truncation can shrink it, and for
// attention which heads carry it. A ΔW that is exactly zero is "unchanged": zeros, never NaN.

import { num as configInt } from '../naming/fused.ts';

/** The energy levels (% of Σσ²) that the truncation figures keep. */
export const ENERGY_LEVELS = [90, 95, 99] as const;
export type EnergyLevel = (typeof ENERGY_LEVELS)[number];

/**
 * How an attention projection's out × in matrix divides into heads: q/k/v heads are blocks of rows
 * (each head's outputs), o_proj heads are blocks of columns (each head's inputs).
 */
export interface HeadLayout {
  axis: 'rows' | 'cols';
  count: number;
  /** rows (or columns) per head */
  size: number;
}

const HEAD_MODULES = new Map<string, { axis: HeadLayout['axis']; kv: boolean }>([
  ['self_attn.q_proj', { axis: 'rows', kv: false }],
  ['self_attn.k_proj', { axis: 'rows', kv: true }],
  ['self_attn.v_proj', { axis: 'rows', kv: true }],
  ['self_attn.o_proj', { axis: 'cols', kv: false }],
]);

/**
 * The heads of an attention matrix from config.json (num_attention_heads, num_key_value_heads,
 * head_dim or hidden_size / heads). null for a module that is not q/k/v/o; a reason when the config
 * is missing or its numbers do not tile the matrix (the shares are then not guessed).
 */
export function headLayout(
  module: string,
  rows: number,
  cols: number,
  config: Record<string, unknown> | null,
): HeadLayout | { reason: string } | null {
  const kind = HEAD_MODULES.get(module);
  if (!kind) return null;
  const heads = configInt(config, 'num_attention_heads', 'n_head');
  if (heads === null) return { reason: 'per-head shares need num_attention_heads (config.json beside the weights)' };
  const count = kind.kv ? (configInt(config, 'num_key_value_heads') ?? heads) : heads;
  const extent = kind.axis === 'rows' ? rows : cols;
  const hidden = configInt(config, 'hidden_size', 'n_embd');
  const size = configInt(config, 'head_dim') ?? (hidden !== null && hidden % heads === 0 ? hidden / heads : extent / count);
  if (!Number.isInteger(size) || count * size !== extent) {
    return { reason: `${count} heads of ${size} do not tile the ${extent} ${kind.axis} of ${module}` };
  }
  return { axis: kind.axis, count, size };
}

/** ΔW as the engine analyses it, with what only the entries can tell (measured in the same pass). */
export interface MeasuredDelta {
  values: Float32Array;
  rows: number;
  cols: number;
  /** ‖ΔW‖_F² and ‖W_prev‖_F², summed in float64 */
  energy: number;
  baseEnergy: number;
  /** ‖ΔW‖_F² of each head's block (layout given), else null */
  headEnergy: Float64Array | null;
}

interface Dense {
  values: Float32Array;
  rows: number;
  cols: number;
}

/**
 * ΔW = next − prev, rounded to f32 once (as the derivation's `sub` does), written over `next`'s
 * values (the caller's own copy: a third matrix of an LM head's size would cost gigabytes), and in
 * the same pass ‖W_prev‖_F², ‖ΔW‖_F² and each head's ‖ΔW‖_F² (of the f32 ΔW the engine sees).
 */
export function subtractInPlaceMeasured(next: Dense, prev: Dense, heads: HeadLayout | null): MeasuredDelta {
  const { rows, cols } = next;
  if (prev.rows !== rows || prev.cols !== cols) throw new Error(`ΔW: shapes differ (${prev.rows} × ${prev.cols} and ${rows} × ${cols})`);
  const values = next.values;
  const headEnergy = heads ? new Float64Array(heads.count) : null;
  let energy = 0;
  let baseEnergy = 0;
  for (let i = 0; i < rows; i++) {
    const rowHead = heads?.axis === 'rows' ? Math.floor(i / heads.size) : -1;
    let rowEnergy = 0;
    for (let j = 0; j < cols; j++) {
      const at = i * cols + j;
      const p = prev.values[at];
      values[at] -= p;
      const d = values[at];
      baseEnergy += p * p;
      rowEnergy += d * d;
      if (headEnergy && rowHead < 0) headEnergy[Math.floor(j / heads!.size)] += d * d;
    }
    energy += rowEnergy;
    if (headEnergy && rowHead >= 0) headEnergy[rowHead] += rowEnergy;
  }
  return { values, rows, cols, energy, baseEnergy, headEnergy };
}

/** The ΔW metrics of one matrix (record field `delta`; delta.json's columns, docs/formats.md). */
export interface DeltaMetrics {
  /** ΔW is exactly zero: every other figure is 0 (shares: none), not NaN */
  unchanged: boolean;
  /** ‖ΔW‖_F and ‖W_prev‖_F */
  frobenius: number;
  base_frobenius: number;
  /** ‖ΔW‖_F / ‖W_prev‖_F; null (with a reason) when W_prev is zero and ΔW is not */
  relative_norm: number | null;
  /** the largest singular value of ΔW */
  sigma_max: number;
  /** ‖ΔW‖_F² / σ_max² (0 when unchanged) */
  stable_rank: number;
  /** the fewest singular values that keep 90/95/99% of Σσ² (0 when unchanged) */
  energy_rank: Record<EnergyLevel, number>;
  /** the share of ΔW's min(rows, cols) singular values that can be dropped at each level: 1 − rank/n */
  truncatable: Record<EnergyLevel, number>;
  /** attention q/k/v/o: each head's share of ‖ΔW‖_F² (summing to 1), in head order */
  heads: { axis: HeadLayout['axis']; shares: number[] } | null;
  /** why a figure is null or absent */
  reasons: { relative_norm?: string; heads?: string };
}

/** Relative slack for "keeps at least p% of the energy": σ² summed in another order differs in the last bits. */
const ENERGY_SLACK = 1e-12;

/**
 * The metrics of ΔW from its singular values (descending; all min(rows, cols) of them) and the
 * entry sums of subtractMeasured. `heads`: the layout used for headEnergy, or why there is none.
 */
export function deltaMetrics(
  singularValues: Float64Array,
  measured: Pick<MeasuredDelta, 'energy' | 'baseEnergy' | 'headEnergy'>,
  heads: HeadLayout | { reason: string } | null = null,
): DeltaMetrics {
  const n = singularValues.length;
  let svEnergy = 0;
  for (const s of singularValues) svEnergy += s * s;
  const unchanged = measured.energy === 0;
  const reasons: DeltaMetrics['reasons'] = {};
  const frobenius = Math.sqrt(measured.energy);
  const baseFrobenius = Math.sqrt(measured.baseEnergy);
  let relative: number | null = unchanged ? 0 : baseFrobenius > 0 ? frobenius / baseFrobenius : null;
  if (relative === null) reasons.relative_norm = 'the earlier matrix is zero: no norm to compare with';

  const energyRank = {} as Record<EnergyLevel, number>;
  const truncatable = {} as Record<EnergyLevel, number>;
  for (const level of ENERGY_LEVELS) {
    const k = unchanged || svEnergy === 0 ? 0 : rankKeeping(singularValues, (level / 100) * svEnergy * (1 - ENERGY_SLACK));
    energyRank[level] = k;
    truncatable[level] = n === 0 ? 0 : (n - k) / n;
  }
  const sigmaMax = n > 0 ? singularValues[0] : 0;

  let headShares: DeltaMetrics['heads'] = null;
  if (heads && 'reason' in heads) reasons.heads = heads.reason;
  else if (heads && measured.headEnergy) {
    if (unchanged) reasons.heads = 'unchanged: no change to share among heads';
    else headShares = { axis: heads.axis, shares: Array.from(measured.headEnergy, (e) => e / measured.energy) };
  }
  if (!Number.isFinite(relative ?? 0)) relative = null;
  return {
    unchanged,
    frobenius,
    base_frobenius: baseFrobenius,
    relative_norm: relative,
    sigma_max: sigmaMax,
    stable_rank: unchanged || sigmaMax === 0 ? 0 : svEnergy / (sigmaMax * sigmaMax),
    energy_rank: energyRank,
    truncatable,
    heads: headShares,
    reasons,
  };
}

/** The fewest leading σ whose Σσ² reaches `target`. */
function rankKeeping(descending: Float64Array, target: number): number {
  let sum = 0;
  for (let i = 0; i < descending.length; i++) {
    sum += descending[i] * descending[i];
    if (sum >= target) return i + 1;
  }
  return descending.length;
}

/** The share of the largest head: 1/heads when the change is spread evenly, 1 when one head carries it. */
export function largestHeadShare(d: DeltaMetrics): number | null {
  return d.heads ? Math.max(...d.heads.shares) : null;
}
