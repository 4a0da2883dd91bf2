import { readFileSync } from 'node:fs';

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
