import { describe, expect, it } from 'vitest';
import { parseMemoryBudget } from './memory.ts';

describe('parseMemoryBudget', () => {
  it('reads bytes and K/M/G/T in powers of 1024', () => {
    expect(parseMemoryBudget('1048576')).toBe(1048576);
    expect(parseMemoryBudget('512M')).toBe(512 * 2 ** 20);
    expect(parseMemoryBudget('8GiB')).toBe(8 * 2 ** 30);
    expect(parseMemoryBudget('1.5g')).toBe(1.5 * 2 ** 30);
    expect(parseMemoryBudget('2tb')).toBe(2 * 2 ** 40);
    expect(parseMemoryBudget('64 KB')).toBe(64 * 1024);
  });

  it('refuses what is not a size', () => {
    for (const bad of ['', 'G', '-1G', '0', 'eight', '1e9', '5X', '1.2.3M']) expect(parseMemoryBudget(bad), bad).toBeNull();
  });
});
