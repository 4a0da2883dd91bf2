/**
 * Spectrum's selection: per type, a stable descending sort by the stored value, and the first
 * int(count × P / 100). Ties (Infinity in legacy files) keep model order, as Python's sorted does.
 */
export interface ScoredModule {
  /** Spectrum's module name (tensor name without ".weight") */
  name: string;
  type: string;
  value: number;
}

export interface TypeSelection {
  type: string;
  /** modules of this type, in their given (model) order */
  members: ScoredModule[];
  /** selected modules, highest value first */
  selected: ScoredModule[];
}

/** Python's int(len * P / 100) with float arithmetic, as spectrum.py computes it. */
export function selectionCount(count: number, percent: number): number {
  return Math.trunc((count * percent) / 100);
}

/** Python's `a > b` for sort keys; NaN compares false both ways, so it sorts as a tie (kept in place). */
function descending(a: ScoredModule, b: ScoredModule): number {
  if (a.value > b.value) return -1;
  if (a.value < b.value) return 1;
  return 0;
}

/**
 * `modules` in Spectrum's JSON order; types are grouped in order of first appearance, which is the
 * order of the YAML's "# <type> layers" sections.
 */
export function selectTopPercent(modules: readonly ScoredModule[], percent: number): TypeSelection[] {
  const byType = new Map<string, ScoredModule[]>();
  for (const m of modules) {
    let list = byType.get(m.type);
    if (!list) byType.set(m.type, (list = []));
    list.push(m);
  }
  return [...byType.entries()].map(([type, members]) => ({
    type,
    members,
    // Array.prototype.sort is stable (ES2019), as Python's sorted is.
    selected: [...members].sort(descending).slice(0, selectionCount(members.length, percent)),
  }));
}

/** The set of selected module names, for colouring and for diffs between phases. */
export function selectedNames(selection: readonly TypeSelection[]): Set<string> {
  return new Set(selection.flatMap((t) => t.selected.map((m) => m.name)));
}
