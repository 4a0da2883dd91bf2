import type { LowRankOptions, SingularTriplets } from '../low-rank.ts';
import { ScanError, throwIfAborted } from '../errors.ts';
import type { CheckpointPair, PairedMatrix } from './pair.ts';
import { readFloat64 } from './pair.ts';

/**
 * The top singular triplets of a float64 rows × cols matrix (row-major), to a rank or an energy share.
 * Core does not compute them (the engines do): the caller passes the engine's function, so that the
 * page and the CLI use the same writers.
 */
export type TopTriplets = (
  m: Float64Array,
  rows: number,
  cols: number,
  target: LowRankOptions,
) => SingularTriplets | Promise<SingularTriplets>;

/** A rank, or the fewest triplets whose Σσ² reaches a share of ‖ΔW‖_F². */
export type RankTarget = { rank: number } | { energy: number };

export function targetText(t: RankTarget): string {
  return 'rank' in t ? `rank ${t.rank}` : `${+(t.energy * 100).toFixed(4)} % of the energy`;
}

/** ΔW = FT − BASE of one weight, in float64, as stored (rows × cols), with ‖ΔW‖_F². */
export async function readDelta(
  pair: CheckpointPair,
  m: PairedMatrix,
  signal?: AbortSignal,
): Promise<{ delta: Float64Array; energy: number }> {
  throwIfAborted(signal);
  const delta = await readFloat64(pair.ft, m.ft, signal);
  const base = await readFloat64(pair.base, m.base, signal);
  let energy = 0;
  for (let i = 0; i < delta.length; i++) {
    const d = delta[i] - base[i];
    delta[i] = d;
    energy += d * d;
  }
  return { delta, energy };
}

export function transpose(m: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(m.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = m[i * cols + j];
  return out;
}

/**
 * The triplets of ΔW for a target: the engine's, with the rank capped at the matrix's smaller side.
 * An engine failure becomes a one-line error naming the weight (a cancel stays a cancel).
 */
export async function tripletsFor(
  lowRank: TopTriplets,
  m: Float64Array,
  rows: number,
  cols: number,
  target: RankTarget,
  where: PairedMatrix,
  signal?: AbortSignal,
): Promise<SingularTriplets> {
  const full = Math.min(rows, cols);
  const t: LowRankOptions = 'rank' in target ? { rank: Math.min(target.rank, full) } : { energy: target.energy, maxRank: full };
  try {
    return await lowRank(m, rows, cols, signal ? { ...t, signal } : t);
  } catch (e) {
    if (e instanceof ScanError || (e instanceof Error && e.name === 'AbortError')) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new ScanError('ENGINE_FAILED', where.ft.file, where.name, `the singular triplets of ΔW (${rows} × ${cols}) failed: ${why}`);
  }
}

/** Σσ² / ‖ΔW‖_F² of the triplets kept. */
export function keptEnergy(t: SingularTriplets, energy: number): number {
  let s = 0;
  for (let i = 0; i < t.rank; i++) s += t.sigma[i] * t.sigma[i];
  return energy > 0 ? s / energy : 1;
}
