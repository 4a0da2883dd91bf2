import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SingularTriplets } from '../low-rank.ts';
import { INTRUDER_DEFAULTS, intruderDimensions } from './intruders.ts';

/** Triplets from columns given as arrays (u: rows-long columns, v: cols-long columns). */
function triplets(sigma: number[], uColumns: number[][], vColumns: number[][]): SingularTriplets {
  const rank = sigma.length;
  const rows = uColumns[0].length;
  const cols = vColumns[0].length;
  const u = new Float64Array(rows * rank);
  const v = new Float64Array(cols * rank);
  uColumns.forEach((c, j) => c.forEach((x, i) => (u[i * rank + j] = x)));
  vColumns.forEach((c, j) => c.forEach((x, i) => (v[i * rank + j] = x)));
  return { rows, cols, rank, sigma: Float64Array.from(sigma), u, v, frobeniusSquared: sigma.reduce((s, x) => s + x * x, 0) };
}

const e = (n: number, i: number) => Array.from({ length: n }, (_, k) => (k === i ? 1 : 0));

describe('intruderDimensions: closed forms', () => {
  it("uses the paper's code defaults: top 10 left singular vectors, ε = 0.5", () => {
    expect(INTRUDER_DEFAULTS).toEqual({ k: 10, threshold: 0.5, side: 'left' });
  });

  it('a planted vector orthogonal to every base singular vector has cosine 0: an intruder', () => {
    // base: 4 × 2 with left vectors e0, e1; fine-tuned: a new top direction e3 (orthogonal to both), then e0
    const base = triplets([2, 1], [e(4, 0), e(4, 1)], [e(2, 0), e(2, 1)]);
    const tuned = triplets([5, 2], [e(4, 3), e(4, 0)], [e(2, 1), e(2, 0)]);
    const r = intruderDimensions(tuned, base);
    expect(r.k).toBe(2); // only two exist
    expect(r.baseVectors).toBe(2);
    expect(r.dimensions.map((d) => [d.index, d.sigma, d.maxCos, d.intruder])).toEqual([
      [0, 5, 0, true],
      [1, 2, 1, false],
    ]);
    expect(r.dimensions[1].baseIndex).toBe(0);
    expect(r.intruders).toBe(1);
  });

  it('a vector rotated by θ from its base vector, in a plane away from the others, has max |cos| = |cos θ|', () => {
    // base left vectors e0, e1, e2 of R^4; the fine-tuned top vector is e0 rotated towards e3 by θ
    for (const theta of [Math.PI / 6, Math.PI / 3, 1.2, (2 * Math.PI) / 3]) {
      const rotated = [Math.cos(theta), 0, 0, Math.sin(theta)];
      const base = triplets([3, 2, 1], [e(4, 0), e(4, 1), e(4, 2)], [e(3, 0), e(3, 1), e(3, 2)]);
      const tuned = triplets([3], [rotated], [e(3, 0)]);
      const [d] = intruderDimensions(tuned, base).dimensions;
      expect(d.maxCos).toBeCloseTo(Math.abs(Math.cos(theta)), 15);
      expect(d.baseIndex).toBe(0);
      expect(d.intruder).toBe(Math.abs(Math.cos(theta)) < 0.5);
    }
  });

  it('the threshold is strict, and k and the side are honoured', () => {
    // (1, 1, 1, 1) has norm 2 exactly: cos = 0.5 with e0, on the threshold, is not below it, so not an intruder; (1, 1, 1, 1.001) is
    const base4 = triplets([1], [e(4, 0)], [[1]]);
    const onThreshold = intruderDimensions(triplets([1], [[1, 1, 1, 1]], [[1]]), base4).dimensions[0];
    expect([onThreshold.maxCos, onThreshold.intruder]).toEqual([0.5, false]);
    expect(intruderDimensions(triplets([1], [[1, 1, 1, 1.001]], [[1]]), base4).dimensions[0].intruder).toBe(true);
    const base = triplets([1], [[1, 0]], [[1, 0]]);
    // the right side: v is e1 in the fine-tuned matrix and e0 in the base (the left sides agree)
    const tunedRight = triplets([1], [[1, 0]], [[0, 1]]);
    expect(intruderDimensions(tunedRight, base, { side: 'right' }).dimensions[0].maxCos).toBe(0);
    expect(intruderDimensions(tunedRight, base, { side: 'left' }).dimensions[0].maxCos).toBe(1);
    const many = triplets([4, 3, 2, 1], [e(4, 0), e(4, 1), e(4, 2), e(4, 3)], [e(4, 0), e(4, 1), e(4, 2), e(4, 3)]);
    expect(intruderDimensions(many, many, { k: 3 }).dimensions.map((d) => d.index)).toEqual([0, 1, 2]);
  });

  it('normalises vectors that are unit only to rounding, and a zero vector has cosine 0', () => {
    const base = triplets([1, 1], [e(3, 0), e(3, 1)], [e(2, 0), e(2, 1)]);
    const tuned = triplets(
      [2, 1],
      [
        [3, 4, 0],
        [0, 0, 0],
      ],
      [e(2, 0), e(2, 1)],
    );
    const r = intruderDimensions(tuned, base);
    expect(r.dimensions[0].maxCos).toBeCloseTo(0.8, 15); // (3, 4, 0)/5 against e1
    expect(r.dimensions[0].baseIndex).toBe(1);
    expect(r.dimensions[1].maxCos).toBe(0);
  });

  it('refuses shapes that differ, and a k or ε out of range', () => {
    const a = triplets([1], [[1, 0]], [[1, 0]]);
    const b = triplets([1], [[1, 0, 0]], [[1, 0]]);
    expect(() => intruderDimensions(a, b)).toThrow(/shapes differ: 3 × 2 \(base\) and 2 × 2 \(fine-tuned\)/);
    expect(() => intruderDimensions(a, a, { k: 0 })).toThrow(/k must be a positive integer/);
    expect(() => intruderDimensions(a, a, { threshold: 1.5 })).toThrow(/threshold is a cosine/);
  });
});

describe('intruderDimensions against numpy (test-fixtures/make-intruders.py)', () => {
  interface Svd {
    sigma: number[];
    u: number[];
    v: number[];
  }
  const ref = JSON.parse(readFileSync(join(import.meta.dirname, '../../../test-fixtures/expected/intruders-small.json'), 'utf8')) as {
    rows: number;
    cols: number;
    base: Svd;
    tuned: Svd;
    left: { max_cos: number[]; base_index: number[] };
    right: { max_cos: number[]; base_index: number[] };
  };
  const of = (s: Svd): SingularTriplets => ({
    rows: ref.rows,
    cols: ref.cols,
    rank: s.sigma.length,
    sigma: Float64Array.from(s.sigma),
    u: Float64Array.from(s.u),
    v: Float64Array.from(s.v),
    frobeniusSquared: s.sigma.reduce((a, x) => a + x * x, 0),
  });

  for (const side of ['left', 'right'] as const) {
    it(`a 9 × 6 base and base + a rank-2 change: the ${side} singular vectors' max |cos| and their base vectors`, () => {
      const r = intruderDimensions(of(ref.tuned), of(ref.base), { side });
      expect(r.k).toBe(6);
      r.dimensions.forEach((d, j) => {
        expect(d.maxCos).toBeCloseTo(ref[side].max_cos[j], 12);
        expect(d.baseIndex).toBe(ref[side].base_index[j]);
        expect(d.intruder).toBe(ref[side].max_cos[j] < 0.5);
      });
    });
  }
});
