import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { defaultMemoryBudget } from '../workers/scan-pool.ts';

/**
 * `--report-memory`: the process's peak resident memory and the bytes it read from files. Worker
 * threads live in the same process, so both cover the whole scan. The byte count comes from Linux's
 * /proc/self/io (rchar: every read(), module loading included) and is left out elsewhere.
 */
export function memoryReport(): string {
  const peakMiB = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
  let read = '';
  try {
    const rchar = /^rchar:\s*(\d+)/m.exec(readFileSync('/proc/self/io', 'utf8'));
    if (rchar) read = `; read ${(Number(rchar[1]) / 2 ** 20).toFixed(1)} MiB from files`;
  } catch {
    // not Linux: the peak is still reported
  }
  return `memory: peak RSS ${peakMiB.toFixed(0)} MiB (worker threads included)${read}\n`;
}

/** The scan pool's memory budget by default: a share of the machine's memory (defaultMemoryBudget). */
export function cliMemoryBudget(): number {
  return defaultMemoryBudget(totalmem());
}

/**
 * A memory budget as a user writes it: bytes, or a number with K, M, G or T (powers of 1024, an
 * optional B or iB after it: 512M, 8GiB, 1.5g). null when it is not one.
 */
export function parseMemoryBudget(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])i?b?|b)?\s*$/i.exec(text);
  if (!m) return null;
  const bytes = Number(m[1]) * 1024 ** (m[2] ? 'kmgt'.indexOf(m[2].toLowerCase()) + 1 : 0);
  return Number.isFinite(bytes) && bytes >= 1 ? Math.floor(bytes) : null;
}
