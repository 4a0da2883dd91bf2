// Seeded pseudo-random numbers: the same sequence on every run and in every runtime, for the fast
// mode's Krylov probes, the tests and the fixture builders (one generator, one place).

/** mulberry32: uniform in [0, 1) with 2⁻³² resolution; small, fast, and enough for probes and tests. */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One standard normal value (Box–Muller, cosine branch) from two uniforms; 1 − u keeps log away from 0. */
export function standardNormal(uniform: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}
