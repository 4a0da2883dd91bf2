import { ownValue } from '../core/data-record.ts';
import { compareModules } from '../core/naming/naming-rules.ts';
import type { MatrixPlace } from '../core/scan/plan.ts';
import type { PlanStep } from './types.ts';

/**
 * Which checkpoints the phase plan takes by default: those of the same architecture as its first
 * step. A phase plan compares one model across training, so an unrelated model opened beside it
 * (another family, a Spectrum JSON of another size) waits outside the plan until added by hand.
 */

/** What two checkpoints must share to be phases of one training: the grid, or Spectrum's names. */
export interface Architecture {
  /** 'weights': scanned from its tensors; 'spectrum': Spectrum's result JSON (names and values only) */
  source: 'weights' | 'spectrum';
  /** module types of the matrices inside the blocks, in the grid's row order */
  modules: string[];
  /** 1 + the largest layer index (0: no layers) */
  layers: number;
  /** Spectrum's module names, sorted */
  names: string[];
}

type Place = Pick<MatrixPlace, 'layer' | 'module' | 'vector' | 'spectrumModule'>;

/** The architecture of a scan plan's jobs (known before any matrix is read) or of a checkpoint's records. */
export function architectureOf(places: Iterable<Place>, source: Architecture['source']): Architecture {
  const modules = new Set<string>();
  const names = new Set<string>();
  let maxLayer = -1;
  for (const p of places) {
    if (p.spectrumModule !== null) names.add(p.spectrumModule);
    if (p.vector || p.layer === null) continue;
    modules.add(p.module);
    maxLayer = Math.max(maxLayer, p.layer);
  }
  return { source, modules: [...modules].sort(compareModules), layers: maxLayer + 1, names: [...names].sort() };
}

const listed = (items: readonly string[], max = 3) =>
  items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;

/**
 * How `other` differs from `first`, in one line; null when it is the same architecture. Checkpoints
 * compare their module types and layer count (the grid); two Spectrum JSONs, which have no shapes,
 * the sets of Spectrum's module names.
 */
export function architectureDifference(first: Architecture, other: Architecture): string | null {
  // a scan against a Spectrum JSON compares grids too: spectrum.py's files often leave out the norms a scan names
  if (first.source === 'weights' || other.source === 'weights') {
    const only = other.modules.filter((m) => !first.modules.includes(m));
    const missing = first.modules.filter((m) => !other.modules.includes(m));
    const parts: string[] = [];
    if (other.layers !== first.layers) parts.push(`${other.layers} layers, not ${first.layers}`);
    if (only.length) parts.push(`module types not in the first: ${listed(only)}`);
    if (missing.length) parts.push(`without ${listed(missing)}`);
    return parts.length ? parts.join('; ') : null;
  }
  const firstNames = new Set(first.names);
  const otherNames = new Set(other.names);
  const only = other.names.filter((n) => !firstNames.has(n));
  const missing = first.names.filter((n) => !otherNames.has(n));
  if (only.length === 0 && missing.length === 0) return null;
  const parts: string[] = [];
  if (only.length) parts.push(`${only.length} Spectrum names not in the first (${listed(only, 1)})`);
  if (missing.length) parts.push(`${missing.length} of the first's missing (${listed(missing, 1)})`);
  return parts.join('; ');
}

/** The step the others are compared with: the plan's first step that was not taken out by hand. */
export function referenceStep(plan: readonly PlanStep[], chosen: ReadonlySet<string>): PlanStep | null {
  return plan.find((p) => p.included || !chosen.has(p.checkpointId)) ?? null;
}

/**
 * The plan with each step's default membership settled: a step whose architecture is known and that
 * nobody included or excluded by hand (`chosen`) is included when it has the reference step's
 * architecture, left out otherwise. Nothing changes while the reference's architecture is unknown
 * (its headers are not read yet); a step not read yet stays as it is.
 */
export function settleMembership(
  plan: readonly PlanStep[],
  architectures: Readonly<Record<string, Architecture>>,
  chosen: ReadonlySet<string>,
): PlanStep[] {
  const reference = referenceStep(plan, chosen);
  const first = reference ? ownValue(architectures, reference.checkpointId) : undefined;
  if (!reference || !first) return [...plan];
  return plan.map((step) => {
    if (chosen.has(step.checkpointId)) return step;
    if (step === reference) return step.included ? step : { ...step, included: true };
    const arch = ownValue(architectures, step.checkpointId);
    if (!arch) return step;
    const included = architectureDifference(first, arch) === null;
    return included === step.included ? step : { ...step, included };
  });
}
