/**
 * The top singular triplets of a rows × cols matrix, W ≈ U diag(σ) Vᵀ: what extracting a LoRA,
 * truncating an update and finding intruder dimensions need (the scans need singular values only).
 */
export interface SingularTriplets {
  rows: number;
  cols: number;
  /** number of triplets kept */
  rank: number;
  /** descending, length rank */
  sigma: Float64Array;
  /** rows × rank, row-major: u[i * rank + j] is entry i of the j-th left singular vector */
  u: Float64Array;
  /** cols × rank, row-major: v[i * rank + j] is entry i of the j-th right singular vector */
  v: Float64Array;
  /** ‖W‖_F² of the whole matrix, so that the kept share of the energy is Σσ² / frobeniusSquared */
  frobeniusSquared: number;
}

/** How many triplets: a fixed rank, or the fewest whose Σσ² reaches a share of ‖W‖_F² (capped at maxRank). */
export interface LowRankTarget {
  rank?: number;
  /** in (0, 1] */
  energy?: number;
  maxRank?: number;
}

export interface LowRankOptions extends LowRankTarget {
  /** extra probe vectors beyond the rank (randomized range finder) */
  oversample?: number;
  /** power / block Krylov passes */
  passes?: number;
  seed?: number;
  signal?: AbortSignal;
}
