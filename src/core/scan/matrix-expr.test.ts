import { describe, expect, it } from 'vitest';
import { gaussianMatrix } from '../../../test-fixtures/builders/safetensors.ts';
import type { TensorInfo } from '../formats/tensor-info.ts';
import { bytesRead, DeriveError, materialize, operandsOf, read, rowSlice, shapeOf, type MatrixExpr, type Operand } from './matrix-expr.ts';

/** Tensors held in memory as F32: reads return their values, sliced by the byte range asked for. */
function store(tensors: Record<string, { shape: number[]; values: Float32Array }>) {
  const reads: { name: string; begin: number; byteLength: number }[] = [];
  const info = (name: string): TensorInfo => {
    const t = tensors[name];
    return { name, dtype: 'F32', shape: t.shape, file: 'f', begin: 1000, byteLength: t.values.length * 4 };
  };
  const readOperand = async (o: Operand) => {
    reads.push({ name: o.tensor.name, begin: o.tensor.begin, byteLength: o.tensor.byteLength });
    const at = (o.tensor.begin - 1000) / 4;
    return tensors[o.tensor.name].values.slice(at, at + o.tensor.byteLength / 4);
  };
  return { info, readOperand, reads, leaf: (name: string) => read(info(name), 'ref') };
}

const at = (m: { values: Float32Array; cols: number }, i: number, j: number) => m.values[i * m.cols + j];

describe('derivations', () => {
  const W = gaussianMatrix(6, 4, 1);
  const B = gaussianMatrix(6, 2, 2);
  const A = gaussianMatrix(2, 4, 3);
  const s = store({ W: { shape: [6, 4], values: W }, B: { shape: [6, 2], values: B }, A: { shape: [2, 4], values: A } });

  it('transposes (Conv1D) and takes columns', async () => {
    const t = await materialize({ op: 'transpose', of: s.leaf('W') }, s.readOperand);
    expect([t.rows, t.cols]).toEqual([4, 6]);
    expect(at(t, 3, 5)).toBe(W[5 * 4 + 3]);
    const c = await materialize({ op: 'cols', of: s.leaf('W'), start: 1, end: 3 }, s.readOperand);
    expect([c.rows, c.cols, at(c, 4, 1)]).toEqual([6, 2, W[4 * 4 + 2]]);
  });

  it('reads only the bytes of the rows a split needs', async () => {
    s.reads.length = 0;
    const e: MatrixExpr = {
      op: 'rows',
      of: s.leaf('W'),
      ranges: [
        [1, 2],
        [4, 6],
      ],
    };
    const m = await materialize(e, s.readOperand);
    expect([m.rows, m.cols]).toEqual([3, 4]);
    expect(Array.from(m.values)).toEqual([...W.slice(4, 8), ...W.slice(16, 24)]);
    expect(s.reads).toEqual([
      { name: 'W', begin: 1016, byteLength: 16 },
      { name: 'W', begin: 1064, byteLength: 32 },
    ]);
    expect(bytesRead(e)).toBe(48);
    expect(operandsOf(e).map((o) => o.tensor.shape)).toEqual([
      [1, 4],
      [2, 4],
    ]);
  });

  it('computes scale·B·A in float64, and a row split of it from B’s rows alone', async () => {
    const lr: MatrixExpr = { op: 'lowRank', b: s.leaf('B'), a: s.leaf('A'), scale: 4 };
    const m = await materialize(lr, s.readOperand);
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 4; j++) {
        const exact = 4 * (B[i * 2] * A[j] + B[i * 2 + 1] * A[4 + j]);
        expect(at(m, i, j)).toBe(Math.fround(exact));
      }
    }
    s.reads.length = 0;
    const split = await materialize({ op: 'rows', of: lr, ranges: [[2, 4]] }, s.readOperand);
    expect(Array.from(split.values)).toEqual(Array.from(m.values.slice(8, 16)));
    expect(s.reads.find((r) => r.name === 'B')).toEqual({ name: 'B', begin: 1016, byteLength: 16 });
  });

  it('adds (a merged adapter) and subtracts (ΔW between checkpoints), and splits through both', async () => {
    const lr: MatrixExpr = { op: 'lowRank', b: s.leaf('B'), a: s.leaf('A'), scale: 1 };
    const merged = await materialize({ op: 'add', a: s.leaf('W'), b: lr }, s.readOperand);
    const delta = await materialize({ op: 'sub', a: { op: 'add', a: s.leaf('W'), b: lr }, b: s.leaf('W') }, s.readOperand);
    const product = await materialize(lr, s.readOperand);
    for (let i = 0; i < W.length; i++) {
      expect(merged.values[i]).toBe(Math.fround(W[i] + product.values[i]));
      expect(Math.abs(delta.values[i] - product.values[i])).toBeLessThanOrEqual(Math.abs(merged.values[i]) * 2 ** -23);
    }
    const rows = await materialize({ op: 'rows', of: { op: 'sub', a: s.leaf('W'), b: s.leaf('W') }, ranges: [[0, 3]] }, s.readOperand);
    expect([rows.rows, rows.cols, Math.max(...rows.values.map(Math.abs))]).toEqual([3, 4, 0]);
  });

  it('composes row selections (rows of rows) and pushes them through transposes by computing in full', async () => {
    const inner: MatrixExpr = {
      op: 'rows',
      of: s.leaf('W'),
      ranges: [
        [0, 2],
        [3, 6],
      ],
    }; // rows 0 1 3 4 5
    const m = await materialize({ op: 'rows', of: inner, ranges: [[1, 3]] }, s.readOperand); // rows 1 3
    expect(Array.from(m.values)).toEqual([...W.slice(4, 8), ...W.slice(12, 16)]);
    const t = await materialize({ op: 'rows', of: { op: 'transpose', of: s.leaf('W') }, ranges: [[1, 2]] }, s.readOperand);
    expect(Array.from(t.values)).toEqual([0, 1, 2, 3, 4, 5].map((i) => W[i * 4 + 1]));
  });

  it('finds shape mismatches before reading anything', () => {
    expect(() => shapeOf({ op: 'lowRank', b: s.leaf('W'), a: s.leaf('A'), scale: 1 })).toThrow(DeriveError);
    expect(() => shapeOf({ op: 'add', a: s.leaf('W'), b: s.leaf('A') })).toThrow(/shapes differ/);
    expect(() => shapeOf({ op: 'rows', of: s.leaf('W'), ranges: [[4, 7]] })).toThrow(/outside/);
    expect(() => rowSlice({ ...s.info('W'), byteLength: 23 }, 0, 1)).toThrow(/contiguous/);
  });
});
