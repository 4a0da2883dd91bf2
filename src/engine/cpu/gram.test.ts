import { describe, expect, it } from 'vitest';
import { gramOfSmallerSide } from './gram.ts';
import { gaussian, maxRelError, naiveGram } from './testing.ts';

describe('gramOfSmallerSide', () => {
  // Shapes off every multiple: n not a multiple of the 4-row panels, the long side past one 256-step chunk.
  for (const [rows, cols] of [
    [0, 0],
    [0, 5],
    [1, 1],
    [1, 7],
    [7, 1],
    [5, 300],
    [300, 5],
    [37, 261],
    [261, 37],
    [130, 129],
    [8, 8],
  ]) {
    it(`equals the definition for ${rows}x${cols}, full and symmetric`, () => {
      const m = gaussian(rows * cols, rows * 1000 + cols);
      const { gram, n } = gramOfSmallerSide(m, rows, cols);
      expect(n).toBe(Math.min(rows, cols));
      expect(gram).toHaveLength(n * n);
      const want = naiveGram(m, rows, cols);
      let scale = 0;
      for (let i = 0; i < n; i++) scale = Math.max(scale, want[i * n + i]);
      expect(maxRelError(gram, want, scale)).toBeLessThan(1e-14);
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(gram[i * n + j]).toBe(gram[j * n + i]);
    });
  }

  it('is exact for small integers (f32 products are exact in f64)', () => {
    const m = Float32Array.of(1, 2, 3, 4, 5, 6); // 2×3
    expect(Array.from(gramOfSmallerSide(m, 2, 3).gram)).toEqual([14, 32, 32, 77]);
    expect(Array.from(gramOfSmallerSide(m, 3, 2).gram)).toEqual([35, 44, 44, 56]);
  });
});
