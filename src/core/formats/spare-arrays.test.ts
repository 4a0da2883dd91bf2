import { describe, expect, it } from 'vitest';
import { SpareArrays } from './spare-arrays.ts';

describe('SpareArrays', () => {
  it('hands a given-back array to the next take that needs at least 4/5 of it, as a view of what it needs', () => {
    const arrays = new SpareArrays<Float32Array>((n) => new Float32Array(n));
    const first = arrays.take(100);
    expect(first.length).toBe(100);
    arrays.give(first);
    const second = arrays.take(80);
    expect(second.buffer).toBe(first.buffer);
    expect(second.length).toBe(80);
    // the view goes back whole: a later take of 100 gets the same 100 values' buffer
    arrays.give(second);
    expect(arrays.take(100).buffer).toBe(first.buffer);
  });

  it('makes a new array when no spare fits, and lets go of the spares that did not', () => {
    const arrays = new SpareArrays<Uint8Array>((n) => new Uint8Array(n));
    const big = arrays.take(1000);
    arrays.give(big);
    const small = arrays.take(10); // 10 < 4/5 of 1000: not served from it
    expect(small.buffer).not.toBe(big.buffer);
    arrays.give(small);
    expect(arrays.take(1000).buffer).not.toBe(big.buffer); // dropped at the previous take
  });

  it('take hands out one spare and lets go of the others', () => {
    const arrays = new SpareArrays<Uint8Array>((n) => new Uint8Array(n));
    const [a, b] = [arrays.take(64), arrays.take(64)];
    arrays.give(a);
    arrays.give(b);
    const got = [arrays.take(64).buffer];
    // take() let go of the other spare: a second take makes a new one
    got.push(arrays.take(64).buffer);
    expect(got[0]).toBe(b.buffer);
    expect([a.buffer, b.buffer]).not.toContain(got[1]);
  });
});
