import { MAX_READ_SLICE } from '../formats/byte-source.ts';
import { elementCount } from '../formats/tensor-info.ts';
import { gramPartsOf } from '../gram-parts.ts';
import { CPU_SLICED, isLongThin, LONG_THIN, type LongThinPolicy } from './long-thin.ts';
import { operandsOf } from './matrix-expr.ts';
import { jobBytes, type MatrixJob } from './plan.ts';

/**
 * What a worker holds while it sums one part of another worker's Gram (gramOfPartJob): the part's Gram, its compact
 * copy on the way out, one f32 slice and the raw bytes of one read.
 */
export function gramPartMemoryBytes(job: MatrixJob): number {
  const n = Math.min(job.rows, job.cols);
  return 2 * n * n * 8 + 2 * CPU_SLICED.sliceBytes;
}

/** f64 values of the eigensolver's workspace per row of the Gram (the CPU engine's, docs/engines.md). */
const WORKSPACE_PER_N = 200;

/**
 * About how many bytes a worker holds while it analyses `job`, so that a pool can keep the jobs it
 * runs at once within a memory budget (scan-pool.ts). The Gram of the short side (n² f64) and its
 * workspace, plus: for a long thin matrix, one f32 slice and the raw bytes of one read; otherwise the
 * f32 matrix and one raw read slice, and for a derived matrix (a split, LoRA, ΔW) its operands as
 * f32 and a second matrix-sized array.
 */
export function jobMemoryBytes(job: MatrixJob, policy: LongThinPolicy = LONG_THIN): number {
  const n = Math.min(job.rows, job.cols);
  // a Gram of several parts: the scratch each part is summed in, and one part that came before its turn
  const parts = gramPartsOf(job.rows, job.cols).length > 1 ? 2 * n * n * 8 : 0;
  const gram = n * n * 8 + WORKSPACE_PER_N * n * 8 + parts;
  if (isLongThin(job, policy)) return gram + 2 * policy.sliceBytes;
  const matrix = job.rows * job.cols * 4;
  const rawSlice = Math.min(MAX_READ_SLICE, jobBytes(job));
  if (!job.derive) return gram + matrix + rawSlice;
  const operands = operandsOf(job.derive).reduce((a, o) => a + elementCount(o.tensor.shape) * 4, 0);
  return gram + 2 * matrix + operands + rawSlice;
}
