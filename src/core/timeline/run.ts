import { stepOfPath, type StepUnit } from './steps.ts';

/**
 * A training run: its checkpoints in training order, each with the step it was saved at. Found from a list of
 * checkpoints (folders or files, as paths or names): a Trainer output folder's `checkpoint-<step>/`, names that
 * carry a step, or an order the user gives.
 */

/** A checkpoint offered to a run: its path (or name), and `global_step` from its `trainer_state.json` if it has one. */
export interface RunCandidate {
  path: string;
  globalStep?: number | null;
}

export interface RunCheckpoint {
  path: string;
  /** the part of the path that names the checkpoint (`checkpoint-500`), else its last part */
  label: string;
  /** null when neither trainer_state.json nor the name gives one (an order given by hand) */
  step: number | null;
  unit: StepUnit | null;
  /** where the step came from: `global_step` wins over the name */
  stepSource: 'trainer_state' | 'name' | null;
}

export interface RunDiscovery {
  /** in training order */
  checkpoints: RunCheckpoint[];
  /** candidates left out of the run, and why (no step, a step another checkpoint has) */
  left: { path: string; reason: string }[];
  /** what the user should know: a `global_step` that differs from the name's step */
  notes: string[];
}

/** The weight file names that name no checkpoint: their folder does. */
const GENERIC_FILE = /^(model|pytorch_model|adapter_model|consolidated)([-.\w]*)?\.(safetensors|bin|pt|pth|gguf)$|\.index\.json$/i;

function labelOf(path: string, named: string | undefined): string {
  if (named) return named;
  const parts = path.split(/[\\/]+/).filter((p) => p.length > 0);
  const last = parts.at(-1) ?? path;
  return GENERIC_FILE.test(last) && parts.length > 1 ? parts[parts.length - 2] : last;
}

function checkpointOf(c: RunCandidate, notes: string[]): RunCheckpoint {
  const named = stepOfPath(c.path);
  const label = labelOf(c.path, named?.part);
  if (c.globalStep !== undefined && c.globalStep !== null) {
    if (named && (named.step.unit !== 'step' || named.step.value !== c.globalStep)) {
      const said = named.step.unit === 'epoch' ? `epoch ${named.step.value}` : `step ${named.step.value}`;
      notes.push(`${label}: trainer_state.json's global_step ${c.globalStep} is used, not the name's ${said}`);
    }
    return { path: c.path, label, step: c.globalStep, unit: 'step', stepSource: 'trainer_state' };
  }
  if (named) return { path: c.path, label, step: named.step.value, unit: named.step.unit, stepSource: 'name' };
  return { path: c.path, label, step: null, unit: null, stepSource: null };
}

/**
 * The run's checkpoints ordered by step. A candidate without a step, or with the step (and unit) of one already
 * taken, is left out with the reason. When some are named by epoch and others by step, the epochs are left out:
 * the two cannot be ordered together.
 */
export function discoverRun(candidates: readonly RunCandidate[]): RunDiscovery {
  const notes: string[] = [];
  const left: RunDiscovery['left'] = [];
  const all = candidates.map((c) => checkpointOf(c, notes));
  const bySteps = all.some((c) => c.unit === 'step');
  const kept = new Map<number, RunCheckpoint>();
  for (const c of all) {
    if (c.step === null) {
      left.push({ path: c.path, reason: 'no step: neither a trainer_state.json with global_step nor a step in its name' });
    } else if (bySteps && c.unit === 'epoch') {
      left.push({ path: c.path, reason: `named by epoch (${c.step}) while the run's other checkpoints are named by step` });
    } else if (kept.has(c.step)) {
      left.push({ path: c.path, reason: `${c.unit} ${c.step} again (${kept.get(c.step)!.label} has it)` });
    } else {
      kept.set(c.step, c);
    }
  }
  return { checkpoints: [...kept.values()].sort((a, b) => a.step! - b.step!), left, notes };
}

/**
 * Checkpoints in the order given (files picked one by one, an order edited by hand): each keeps the step that
 * its trainer_state.json or name gives, if any, as its label on the axis; the order is the user's.
 */
export function orderedRun(candidates: readonly RunCandidate[]): RunDiscovery {
  const notes: string[] = [];
  return { checkpoints: candidates.map((c) => checkpointOf(c, notes)), left: [], notes };
}

/**
 * The order to scan a run of `count` checkpoints in: newest and oldest first, then inwards from both ends
 * (9, 0, 8, 1, …), so that a view of the whole run has both ends early.
 */
export function scanOrder(count: number): number[] {
  const order: number[] = [];
  for (let hi = count - 1, lo = 0; lo <= hi; hi--, lo++) {
    order.push(hi);
    if (lo !== hi) order.push(lo);
  }
  return order;
}
