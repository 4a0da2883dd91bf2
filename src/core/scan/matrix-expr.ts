import { abortError } from '../errors.ts';
import type { TensorInfo } from '../formats/tensor-info.ts';

/**
 * Matrices that are not one stored tensor as stored (docs/architecture.md): halves and thirds of fused
 * tensors, GPT-2's Conv1D (stored in × out), LoRA's ΔW = scale·B·A, a base with its adapter merged,
 * and ΔW between two checkpoints. A job carries the recipe as a small expression over the tensors it
 * reads; `materialize` evaluates it in the worker, reading each operand through its own `ref`, so that
 * one job may read two files (a delta between checkpoints) and the plan stays plain data.
 */

/** A stored tensor and the file it is read from (`ref`: a path in the CLI, `${checkpointId}/${file}` in the page). */
export interface Operand {
  tensor: TensorInfo;
  ref: string;
}

export type MatrixExpr =
  /** a stored tensor, row-major as stored (a 1-D tensor is 1 × d) */
  | { op: 'read'; operand: Operand }
  | { op: 'transpose'; of: MatrixExpr }
  /** these row ranges [start, end), concatenated (fused splits, per-head de-interleaving) */
  | { op: 'rows'; of: MatrixExpr; ranges: [number, number][] }
  | { op: 'cols'; of: MatrixExpr; start: number; end: number }
  /** scale · B·A, accumulated in float64 (LoRA: B is out × r, A is r × in) */
  | { op: 'lowRank'; b: MatrixExpr; a: MatrixExpr; scale: number }
  | { op: 'add'; a: MatrixExpr; b: MatrixExpr }
  /** a − b (ΔW between checkpoints: next − previous) */
  | { op: 'sub'; a: MatrixExpr; b: MatrixExpr };

export interface Matrix {
  values: Float32Array;
  rows: number;
  cols: number;
}

/** Reads one operand as f32 (all of it, or the sub-tensor of a row range: see rowSlice). */
export type ReadOperand = (operand: Operand) => Promise<Float32Array>;

export class DeriveError extends Error {
  override readonly name = 'DeriveError';
}

export const read = (tensor: TensorInfo, ref: string): MatrixExpr => ({ op: 'read', operand: { tensor, ref } });

/** rows × cols of an expression, checked: a mismatch is a planning error, found before any byte is read. */
export function shapeOf(e: MatrixExpr): [number, number] {
  switch (e.op) {
    case 'read': {
      const s = e.operand.tensor.shape;
      if (s.length === 1) return [1, s[0]];
      if (s.length === 2) return [s[0], s[1]];
      throw new DeriveError(`${e.operand.tensor.name}: a ${s.length}-D tensor is not a matrix`);
    }
    case 'transpose': {
      const [r, c] = shapeOf(e.of);
      return [c, r];
    }
    case 'rows': {
      const [r, c] = shapeOf(e.of);
      let n = 0;
      for (const [s, t] of e.ranges) {
        if (!(s >= 0 && t > s && t <= r)) throw new DeriveError(`row range ${s}–${t} is outside 0–${r}`);
        n += t - s;
      }
      return [n, c];
    }
    case 'cols': {
      const [r, c] = shapeOf(e.of);
      if (!(e.start >= 0 && e.end > e.start && e.end <= c)) throw new DeriveError(`column range ${e.start}–${e.end} is outside 0–${c}`);
      return [r, e.end - e.start];
    }
    case 'lowRank': {
      const [m, r1] = shapeOf(e.b);
      const [r2, n] = shapeOf(e.a);
      if (r1 !== r2) throw new DeriveError(`B is ${m} × ${r1} but A is ${r2} × ${n}: ranks differ`);
      return [m, n];
    }
    case 'add':
    case 'sub': {
      const a = shapeOf(e.a);
      const b = shapeOf(e.b);
      if (a[0] !== b[0] || a[1] !== b[1]) throw new DeriveError(`shapes differ: ${a.join(' × ')} and ${b.join(' × ')}`);
      return a;
    }
  }
}

/** The operands an expression reads, as materialize reads them (row slices become sub-tensors). */
export function operandsOf(e: MatrixExpr): Operand[] {
  const pushed = pushRows(e);
  switch (pushed.op) {
    case 'read':
      return [pushed.operand];
    case 'transpose':
      return operandsOf(pushed.of);
    case 'rows': {
      const of = pushed.of;
      if (of.op !== 'read') return operandsOf(of);
      return pushed.ranges.map(([s, t]) => ({ ref: of.operand.ref, tensor: rowSlice(of.operand.tensor, s, t) }));
    }
    case 'cols':
      return operandsOf(pushed.of);
    case 'lowRank':
      return [...operandsOf(pushed.b), ...operandsOf(pushed.a)];
    case 'add':
    case 'sub':
      return [...operandsOf(pushed.a), ...operandsOf(pushed.b)];
  }
}

/** Bytes a job reads (progress and the plan's total). */
export function bytesRead(e: MatrixExpr): number {
  return operandsOf(e).reduce((a, o) => a + o.tensor.byteLength, 0);
}

/**
 * Rows `start`–`end` of a stored 2-D tensor as a tensor of its own: rows are contiguous in the file
 * (row-major; a GGUF row is a whole number of quantization blocks), so a split reads only its bytes.
 */
export function rowSlice(t: TensorInfo, start: number, end: number): TensorInfo {
  const rows = t.shape[0];
  if (t.shape.length !== 2 || t.byteLength % rows !== 0)
    throw new DeriveError(`${t.name}: rows of ${t.shape.join(' × ')} are not contiguous byte ranges`);
  const perRow = t.byteLength / rows;
  return { ...t, shape: [end - start, t.shape[1]], begin: t.begin + start * perRow, byteLength: (end - start) * perRow };
}

/** Row selections pushed towards the leaves, so that only the rows needed are read and multiplied. */
function pushRows(e: MatrixExpr): MatrixExpr {
  if (e.op !== 'rows') return e;
  const of = e.of;
  switch (of.op) {
    case 'rows': {
      // rows of rows: map the outer ranges through the inner concatenation
      const inner: number[] = of.ranges.flatMap(([s, t]) => Array.from({ length: t - s }, (_, i) => s + i));
      return pushRows({ op: 'rows', of: of.of, ranges: toRanges(e.ranges.flatMap(([s, t]) => inner.slice(s, t))) });
    }
    case 'lowRank':
      return { op: 'lowRank', scale: of.scale, a: of.a, b: pushRows({ op: 'rows', of: of.b, ranges: e.ranges }) };
    case 'add':
    case 'sub':
      return {
        op: of.op,
        a: pushRows({ op: 'rows', of: of.a, ranges: e.ranges }),
        b: pushRows({ op: 'rows', of: of.b, ranges: e.ranges }),
      };
    default:
      return e;
  }
}

function toRanges(indices: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const i of indices) {
    const last = out[out.length - 1];
    if (last && last[1] === i) last[1] = i + 1;
    else out.push([i, i + 1]);
  }
  return out;
}

/**
 * Evaluate an expression into the f32 row-major matrix the engine analyses. Each operation is computed
 * in float64 and rounded once; peak memory is the operands of the step in progress plus its result.
 */
export async function materialize(expr: MatrixExpr, readOperand: ReadOperand, signal?: AbortSignal): Promise<Matrix> {
  if (signal?.aborted) throw abortError();
  const e = pushRows(expr);
  const [rows, cols] = shapeOf(e);
  switch (e.op) {
    case 'read':
      return { values: await readOperand(e.operand), rows, cols };
    case 'rows': {
      const out = new Float32Array(rows * cols);
      if (e.of.op === 'read') {
        const operand = e.of.operand;
        let at = 0;
        for (const [s, t] of e.ranges) {
          out.set(await readOperand({ ...operand, tensor: rowSlice(operand.tensor, s, t) }), at);
          at += (t - s) * cols;
        }
      } else {
        const full = await materialize(e.of, readOperand, signal);
        let at = 0;
        for (const [s, t] of e.ranges) {
          out.set(full.values.subarray(s * cols, t * cols), at);
          at += (t - s) * cols;
        }
      }
      return { values: out, rows, cols };
    }
    case 'cols': {
      const full = await materialize(e.of, readOperand, signal);
      const out = new Float32Array(rows * cols);
      for (let i = 0; i < rows; i++) out.set(full.values.subarray(i * full.cols + e.start, i * full.cols + e.end), i * cols);
      return { values: out, rows, cols };
    }
    case 'transpose': {
      const m = await materialize(e.of, readOperand, signal);
      const out = new Float32Array(rows * cols);
      for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) out[j * m.rows + i] = m.values[i * m.cols + j];
      return { values: out, rows, cols };
    }
    case 'lowRank': {
      const b = await materialize(e.b, readOperand, signal);
      const a = await materialize(e.a, readOperand, signal);
      return { values: lowRankProduct(b, a, e.scale), rows, cols };
    }
    case 'add':
    case 'sub': {
      const a = await materialize(e.a, readOperand, signal);
      const b = await materialize(e.b, readOperand, signal);
      const out = new Float32Array(rows * cols);
      const sign = e.op === 'add' ? 1 : -1;
      for (let i = 0; i < out.length; i++) out[i] = a.values[i] + sign * b.values[i];
      return { values: out, rows, cols };
    }
  }
}

/** scale · B·A with a float64 accumulator per output row (r is small: 4–256 for LoRA). */
export function lowRankProduct(b: Matrix, a: Matrix, scale: number): Float32Array {
  const m = b.rows;
  const r = b.cols;
  const n = a.cols;
  const out = new Float32Array(m * n);
  const acc = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    acc.fill(0);
    for (let k = 0; k < r; k++) {
      const bik = b.values[i * r + k];
      if (bik === 0) continue;
      const row = k * n;
      for (let j = 0; j < n; j++) acc[j] += bik * a.values[row + j];
    }
    for (let j = 0; j < n; j++) out[i * n + j] = scale * acc[j];
  }
  return out;
}
