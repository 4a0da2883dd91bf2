import type { PhaseTransition } from '../selection/phases.ts';
import type { TypeSelection } from '../selection/select.ts';
import { oneLineText } from './yaml-scalar.ts';

export interface PhaseSummary {
  name: string;
  percent: number;
  selection: TypeSelection[];
  transition: PhaseTransition | null;
  /** why the phase's checkpoint could not be read: it has no selection, and the next phase's transition is from the phase before it */
  broken?: string;
}

/** The phase a transition starts from: the last one before `i` that is not broken. */
const previousPhase = (phases: readonly PhaseSummary[], i: number) => phases.slice(0, i).findLast((p) => p.broken === undefined);

const layerOf = (name: string) => /\.(\d+)\./.exec(name)?.[1] ?? name;
const layers = (names: readonly string[]) =>
  names
    .map(layerOf)
    .sort((a, b) => Number(a) - Number(b))
    .join(', ');

/** The transitions between phases as JSON: each phase's selection, and kept / newly selected / dropped per type. */
export function transitionsJson(phases: readonly PhaseSummary[]): string {
  return `${JSON.stringify({ phases: phases.map((p, i) => phaseJson(phases, i)) }, null, 2)}\n`;
}

/** One phase of transitions.json: a broken one says why, with no selection. */
function phaseJson(phases: readonly PhaseSummary[], i: number) {
  const p = phases[i];
  if (p.broken !== undefined) return { phase: i + 1, checkpoint: p.name, percent: p.percent, broken: p.broken, transition: null };
  return {
    phase: i + 1,
    checkpoint: p.name,
    percent: p.percent,
    selected: Object.fromEntries(p.selection.map((t) => [t.type, t.selected.map((m) => m.name)])),
    transition: p.transition && {
      from: previousPhase(phases, i)?.name,
      kept: p.transition.kept,
      newly_selected: p.transition.added,
      dropped: p.transition.dropped,
      jaccard: p.transition.jaccard,
      types: p.transition.types,
    },
  };
}

/** Names from files in a Markdown line: on one line, and a `|` stays inside its table cell. */
const md = (text: string) => oneLineText(text).replace(/\|/g, '\\|');

/** The same as Markdown, for a training log or a pull request. */
export function transitionsMarkdown(phases: readonly PhaseSummary[], hiddenTypes: ReadonlySet<string> = new Set()): string {
  const out = ['# Phase transitions', '', '| Phase | Checkpoint | Percent | Selected |', '| --- | --- | --- | --- |'];
  phases.forEach((p, i) =>
    out.push(
      `| ${i + 1} | ${md(p.name)} | ${p.percent}% | ${p.broken !== undefined ? `broken: ${md(p.broken)}` : p.selection.reduce((n, t) => n + t.selected.length, 0)} |`,
    ),
  );
  phases.forEach((p, i) => {
    if (!p.transition) return;
    const t = p.transition;
    out.push(
      '',
      `## ${md(previousPhase(phases, i)?.name ?? '')} → ${md(p.name)}`,
      '',
      `${t.kept} kept, ${t.added} newly selected, ${t.dropped} dropped; Jaccard ${t.jaccard.toFixed(3)}.`,
      '',
    );
    out.push('| Module type | Kept | Newly selected (layers) | Dropped (layers) | Jaccard |', '| --- | --- | --- | --- | --- |');
    for (const r of t.types) {
      if (hiddenTypes.has(r.type)) continue;
      const counted = (list: readonly string[]) => `${list.length}${list.length ? ` (${md(layers(list))})` : ''}`;
      out.push(`| ${[md(r.type), r.kept.length, counted(r.added), counted(r.dropped), r.jaccard.toFixed(3)].join(' | ')} |`);
    }
  });
  return `${out.join('\n')}\n`;
}
