/**
 * Uniform values in [−1, 1) from a 32-bit hash of the index (hash_matrix in numpy_svdvals.py makes
 * the same matrix, so NumPy's float64 singular values of it give the accuracy column).
 */
export function hashMatrix(len: number): Float32Array {
  const m = new Float32Array(len);
  for (let i = 0; i < len; i++) {
    let h = Math.imul(i, 0x9e3779b1) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
    m[i] = h / 2147483648 - 1;
  }
  return m;
}
