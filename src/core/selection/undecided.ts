import { spectrumEntries } from '../exports/spectrum-files.ts';
import type { SpectrumVariant } from '../metrics/spectrum.ts';
import type { MatrixRecord } from '../scan/record.ts';
import { spectrumModules } from '../scan/result.ts';
import { selectionCount, type ScoredModule } from './select.ts';

/** Where a module's value lies when it is an estimate: lo ≤ value ≤ hi. */
export interface ValueInterval {
  lo: number;
  hi: number;
}

export type EstimatedModule = ScoredModule & { interval?: ValueInterval };

/**
 * The estimated modules whose side of a selection cut their intervals leave open, for Spectrum's
 * top-P% selection at each of `percents` (per type, the first int(count·P/100) by value).
 *
 * A module is certainly selected when fewer than k others can be at or above it (their upper ends
 * reach its lower end), and certainly not when at least k others are certainly above it (their lower
 * ends exceed its upper end). Otherwise it is undecided. Once no estimated module is undecided, the
 * selection made from the estimates' own values (each inside its interval) is the exact one: each
 * estimate is on the same side of the cut in both orders, and the exact modules keep their order
 * among themselves (ties as well), so they fill the same remaining places.
 *
 * Exact modules have no interval (lo = hi = value). Values are compared as Spectrum's files store
 * them (float32, spectrumEntries), so an interval is rounded the same way (rounding is monotone).
 */
export function undecidedModules(modules: readonly EstimatedModule[], percents: readonly number[]): Set<string> {
  const byType = new Map<string, EstimatedModule[]>();
  for (const m of modules) byType.set(m.type, [...(byType.get(m.type) ?? []), m]);
  const out = new Set<string>();
  for (const members of byType.values()) {
    const ends = members.map((m) => {
      if (!m.interval) return { lo: m.value, hi: m.value };
      const lo = Math.fround(m.interval.lo),
        hi = Math.fround(m.interval.hi);
      // an end that is not a number bounds nothing
      return { lo: Number.isNaN(lo) ? -Infinity : lo, hi: Number.isNaN(hi) ? Infinity : hi };
    });
    for (const percent of percents) {
      const k = selectionCount(members.length, percent);
      if (k === 0 || k >= members.length) continue;
      members.forEach((m, i) => {
        if (!m.interval || out.has(m.name)) return;
        let mayBeAbove = 0,
          surelyAbove = 0;
        ends.forEach((e, j) => {
          if (j === i) return;
          if (e.hi >= ends[i].lo) mayBeAbove++;
          if (e.lo > ends[i].hi) surelyAbove++;
        });
        if (mayBeAbove >= k && surelyAbove < k) out.add(m.name);
      });
    }
  }
  return out;
}

/**
 * The records (by name) whose estimated Spectrum value could change Spectrum's selection at any of
 * `percents`: recomputing them exactly makes the selection, and Spectrum's YAML, exact mode's.
 */
export function undecidedRecords(records: readonly MatrixRecord[], percents: readonly number[], variant: SpectrumVariant): Set<string> {
  const intervals = new Map<string, ValueInterval>();
  const recordOf = new Map<string, string>();
  for (const r of records) {
    if (r.spectrumModule === null) continue;
    recordOf.set(r.spectrumModule, r.name);
    if (r.estimate) intervals.set(r.spectrumModule, r.estimate);
  }
  if (intervals.size === 0) return new Set();
  const entries = spectrumEntries(spectrumModules(records, variant)).map((e) => {
    const interval = intervals.get(e.name);
    return interval ? { ...e, interval } : e;
  });
  return new Set([...undecidedModules(entries, percents)].map((name) => recordOf.get(name) ?? name));
}
