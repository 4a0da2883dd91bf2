import { throwIfAborted } from '../errors.ts';
import { memorySource } from '../formats/byte-source.ts';
import { BYTES_PER_ELEMENT, isFloatDType } from '../formats/dtype.ts';
import { readBytes, readFloat64, readFloat64From, type CheckpointPair } from './pair.ts';
import { writeRewrittenCheckpoint, type Replacement, type RewriteLayout, type WrittenFile } from './checkpoint-writer.ts';
import { encodeFloat64 } from './encode.ts';
import { keptEnergy, readDelta, targetText, tripletsFor, type RankTarget, type TopTriplets } from './low-rank-fn.ts';
import type { OutputFolder } from './sink.ts';

export interface TruncatedMatrix {
  tensor: string;
  layer: number | null;
  module: string;
  shape: [number, number];
  dtype: string;
  rank: number;
  /** Σ_{i≤rank} σ_i² / ‖ΔW‖_F² */
  kept_energy: number;
  /** ‖ΔW − ΔW_rank‖_F / ‖ΔW‖_F in float64, before the weights are rounded to their dtype */
  relative_error: number;
  /** ‖(W_written − BASE) − ΔW_rank‖_F / ‖ΔW‖_F: what rounding to the dtype adds */
  rounding_error: number;
}

export interface TruncateReport {
  kind: 'truncate';
  base: string;
  finetuned: string;
  target: string;
  matrices: TruncatedMatrix[];
  unchanged: string[];
  /** 1-D weights (norms) keep the fine-tuned values: a vector has no rank to truncate */
  kept_as_finetuned: string[];
  files: WrittenFile[];
}

/**
 * BASE + ΔW truncated to a rank or an energy share, per matrix, written in each tensor's dtype
 * (rounded to nearest, ties to even, from float64) in the fine-tuned checkpoint's layout. Matrices the
 * fine-tune left as they were, and 1-D weights, are copied from the fine-tuned file.
 */
export async function truncateUpdate(
  pair: CheckpointPair,
  lowRank: TopTriplets,
  out: OutputFolder,
  target: RankTarget,
  layout: RewriteLayout & { onMatrix?: (m: TruncatedMatrix) => void },
): Promise<TruncateReport> {
  const matrices: TruncatedMatrix[] = [];
  const unchanged: string[] = [];
  const replacements = new Map<string, Replacement>();
  for (const m of pair.matrices) {
    if (m.vector) continue;
    replacements.set(m.name, async () => {
      throwIfAborted(layout.signal);
      const { delta, energy } = await readDelta(pair, m, layout.signal);
      if (energy === 0) {
        unchanged.push(m.name);
        return readBytes(pair.ft, m.ft, layout.signal);
      }
      const t = await tripletsFor(lowRank, delta, m.rows, m.cols, target, m, layout.signal);
      const base = await readFloat64(pair.base, m.base, layout.signal);
      const r = t.rank;
      // W = BASE + U·diag(σ)·Vᵀ, row by row; the residual ΔW − ΔW_r measured on the way
      const w = new Float64Array(m.rows * m.cols);
      const low = new Float64Array(m.rows * m.cols);
      let residual = 0;
      for (let i = 0; i < m.rows; i++) {
        for (let k = 0; k < r; k++) {
          const us = t.u[i * r + k] * t.sigma[k];
          if (us === 0) continue;
          for (let j = 0; j < m.cols; j++) low[i * m.cols + j] += us * t.v[j * r + k];
        }
        for (let j = 0; j < m.cols; j++) {
          const at = i * m.cols + j;
          const d = delta[at] - low[at];
          residual += d * d;
          w[at] = base[at] + low[at];
        }
      }
      const bytes = encodeFloat64(m.ft.dtype, w, m.ft.file, m.name);
      // what was written, read back as the dtype holds it: its ΔW against the base, against ΔW_r
      const written = await decodeWritten(m.ft.dtype, bytes, m.ft.file, m.name);
      let rounding = 0;
      for (let i = 0; i < w.length; i++) {
        const d = written[i] - base[i] - low[i];
        rounding += d * d;
      }
      const row: TruncatedMatrix = {
        tensor: m.name,
        layer: m.layer,
        module: m.module,
        shape: [m.rows, m.cols],
        dtype: m.ft.dtype,
        rank: r,
        kept_energy: keptEnergy(t, energy),
        relative_error: Math.sqrt(residual / energy),
        rounding_error: Math.sqrt(rounding / energy),
      };
      matrices.push(row);
      layout.onMatrix?.(row);
      return bytes;
    });
  }
  const note = `truncate: ΔW = ${pair.ft.name} − ${pair.base.name} kept to ${targetText(target)} per matrix, added to the base`;
  const files = await writeRewrittenCheckpoint(pair.ft, out, replacements, note, layout);
  return {
    kind: 'truncate',
    base: pair.base.name,
    finetuned: pair.ft.name,
    target: targetText(target),
    matrices,
    unchanged,
    kept_as_finetuned: pair.matrices.filter((m) => m.vector).map((m) => m.name),
    files,
  };
}

/** The values a dtype's bytes hold, as float64 (the rewritten tensor read back as a reader would). */
function decodeWritten(dtype: string, bytes: Uint8Array, file: string, tensor: string): Promise<Float64Array> {
  const width = isFloatDType(dtype) ? BYTES_PER_ELEMENT[dtype] : 1;
  const info = { name: tensor, dtype, shape: [bytes.byteLength / width], file, begin: 0, byteLength: bytes.byteLength };
  return readFloat64From(memorySource(file, bytes), info);
}
