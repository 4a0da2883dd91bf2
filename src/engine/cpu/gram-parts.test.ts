import { describe, expect, it } from 'vitest';
import { gramPartLength, gramParts } from '../../core/gram-parts.ts';
import type { MatrixSlice, PartGram, SlicedMatrix } from '../types.ts';
import { CpuEngine } from './cpu-engine.ts';
import { gramOfSmallerSide } from './gram.ts';
import { gaussian, naiveGram } from './testing.ts';

// n = 16: a part is 2^24 / 16 = 1,048,576 steps; the long side below spans two whole parts and a third one
// that does not end on a 256-step chunk.
const N = 16;
const K = 2 * gramPartLength(N) + 300_000 + 77;

/** Steps [from, to) of a wide n × k matrix as a SlicedMatrix slice (row-major n × length). */
function wideSlice(m: Float32Array, n: number, k: number, from: number, to: number): MatrixSlice {
  const length = to - from;
  const values = new Float32Array(n * length);
  for (let i = 0; i < n; i++) values.set(m.subarray(i * k + from, i * k + to), i * length);
  return { values, length, start: from };
}

/** A part's slices, cut at `cuts` steps into it (multiples of 256). */
function partSlices(m: Float32Array, part: number, cuts: number[] = []): MatrixSlice[] {
  const { start, length } = gramParts(N, K)[part];
  const edges = [0, ...cuts, length].map((c) => start + c);
  return edges.slice(1).map((to, i) => wideSlice(m, N, K, edges[i], to));
}

async function* items(list: (MatrixSlice | PartGram)[]): AsyncGenerator<MatrixSlice | PartGram> {
  for (const x of list) yield x;
}

/** Small integers: every product and every sum of the Gram is exact in f64, whatever the order. */
function integerMatrix(count: number, seed: number): Float32Array {
  const m = new Float32Array(count);
  let s = seed;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    m[i] = ((s >>> 16) % 7) - 3;
  }
  return m;
}

describe('a Gram in parts (core/gram-parts.ts)', () => {
  it('splits the long side into parts of 64 MiB of f32, aligned to the 256-step chunks', () => {
    expect(gramPartLength(896)).toBe(18_688); // floor(2^24 / 896 / 256) · 256
    expect(gramPartLength(4096)).toBe(4096);
    expect(gramPartLength(100_000)).toBe(256);
    expect(gramParts(896, 151_936).map((p) => p.length)).toEqual([...Array(8).fill(18_688), 2432]);
    expect(gramParts(896, 4864)).toEqual([{ start: 0, length: 4864 }]);
    expect(gramParts(3, 0)).toEqual([{ start: 0, length: 0 }]);
  });

  it('equals the exact Gram of an integer matrix of three parts, wide and tall', () => {
    const m = integerMatrix(N * K, 7);
    // the definition in plain loops is exact here (integers: no rounding in any order); the same values read as a
    // tall K × N matrix give the Gram of its columns
    expect(gramOfSmallerSide(m, N, K).gram).toEqual(naiveGram(m, N, K));
    expect(gramOfSmallerSide(m, K, N).gram).toEqual(naiveGram(m, K, N));
  });

  it('gives the same singular values to the bit however its parts are shared out and in whatever order they arrive', async () => {
    const m = gaussian(N * K, 11);
    const owner = new CpuEngine();
    const helper = new CpuEngine();
    const whole = await owner.singularValues(m, N, K);
    const matrix = (list: (MatrixSlice | PartGram)[]): SlicedMatrix => ({ rows: N, cols: K, slices: items(list) });
    // one worker, slices that cross the parts' edges
    const gramPartSlices = [0, 1, 2].flatMap((p) => partSlices(m, p, [1024, 262_144]));
    expect(await owner.singularValuesOfSlices(matrix(gramPartSlices))).toEqual(whole);
    // parts 2 and 0 summed by another engine and arriving before and after part 1's slices
    const helped = async (part: number): Promise<PartGram> => ({
      part,
      gram: await helper.gramOfPart(matrix(partSlices(m, part, [512])), part),
    });
    const [p0, p2] = [await helped(0), await helped(2)];
    expect(await owner.singularValuesOfSlices(matrix([p2, ...partSlices(m, 1), p0]))).toEqual(whole);
    expect(await owner.singularValuesOfSlices(matrix([...partSlices(m, 1), p0, p2]))).toEqual(whole);
    // the order of the sum shows in the bits: parts added as they arrived (2, 1, 0) would give another Gram
    const p1 = await helped(1);
    const inOrder = p0.gram.map((x, i) => x + p1.gram[i] + p2.gram[i]);
    const asArrived = p2.gram.map((x, i) => x + p1.gram[i] + p0.gram[i]);
    expect(inOrder.some((x, i) => x !== asArrived[i])).toBe(true);
  }, 60_000);

  it('refuses a part given twice and a part missing', async () => {
    const m = gaussian(N * K, 12);
    const engine = new CpuEngine();
    const slicedMatrix = (list: (MatrixSlice | PartGram)[]): SlicedMatrix => ({ rows: N, cols: K, slices: items(list) });
    const p0: PartGram = { part: 0, gram: await engine.gramOfPart(slicedMatrix(partSlices(m, 0)), 0) };
    await expect(
      engine.singularValuesOfSlices(slicedMatrix([p0, ...partSlices(m, 0), ...partSlices(m, 1), ...partSlices(m, 2)])),
    ).rejects.toThrow(/part 0 came twice/);
    await expect(engine.singularValuesOfSlices(slicedMatrix([p0, ...partSlices(m, 2)]))).rejects.toThrow(/1 of its 3 parts/);
    await expect(engine.gramOfPart(slicedMatrix(partSlices(m, 1)), 3)).rejects.toThrow(/no Gram part 3/);
  }, 60_000);
});
