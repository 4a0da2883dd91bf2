import { selectTopPercent, type ScoredModule, type TypeSelection } from './select.ts';

/**
 * Multi-phase training (SauerkrautLM-v2): each phase trains the top P% of layers per module type of
 * the previous phase's checkpoint. A plan is an ordered list of (checkpoint, percent).
 */
export interface PhaseStep {
  checkpointId: string;
  percent: number;
}

/** 25, 20, 15 as in the published recipe; further phases keep the last percent. */
export const DEFAULT_PHASE_PERCENTS = [25, 20, 15];

export function defaultPercent(index: number): number {
  return DEFAULT_PHASE_PERCENTS[Math.min(index, DEFAULT_PHASE_PERCENTS.length - 1)];
}

export interface TypeTransition {
  type: string;
  kept: string[];
  added: string[];
  dropped: string[];
  /** |A ∩ B| / |A ∪ B| of the two selections (1 when both are empty) */
  jaccard: number;
}

export interface PhaseTransition {
  types: TypeTransition[];
  kept: number;
  added: number;
  dropped: number;
  jaccard: number;
}

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  const union = new Set([...a, ...b]).size;
  if (union === 0) return 1;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / union;
}

/** What changes from one phase's selection to the next: kept, newly selected, dropped, per type. */
export function phaseTransition(previous: readonly TypeSelection[], next: readonly TypeSelection[]): PhaseTransition {
  const prevByType = new Map(previous.map((t) => [t.type, new Set(t.selected.map((m) => m.name))]));
  const nextByType = new Map(next.map((t) => [t.type, new Set(t.selected.map((m) => m.name))]));
  const types = [...new Set([...prevByType.keys(), ...nextByType.keys()])];
  const rows = types.map((type): TypeTransition => {
    const a = prevByType.get(type) ?? new Set<string>();
    const b = nextByType.get(type) ?? new Set<string>();
    return {
      type,
      kept: [...b].filter((x) => a.has(x)),
      added: [...b].filter((x) => !a.has(x)),
      dropped: [...a].filter((x) => !b.has(x)),
      jaccard: jaccard(a, b),
    };
  });
  const all = (sel: readonly TypeSelection[]) => new Set(sel.flatMap((t) => t.selected.map((m) => m.name)));
  return {
    types: rows,
    kept: rows.reduce((n, r) => n + r.kept.length, 0),
    added: rows.reduce((n, r) => n + r.added.length, 0),
    dropped: rows.reduce((n, r) => n + r.dropped.length, 0),
    jaccard: jaccard(all(previous), all(next)),
  };
}

/** Each phase's selection, and the transition from the phase before it. */
export function planSelections(
  plan: readonly { entries: readonly ScoredModule[]; percent: number }[],
): { selection: TypeSelection[]; transition: PhaseTransition | null }[] {
  const selections = plan.map((p) => selectTopPercent(p.entries, p.percent));
  return selections.map((selection, i) => ({ selection, transition: i === 0 ? null : phaseTransition(selections[i - 1], selection) }));
}
