/**
 * The parts of a Hugging Face Trainer's `trainer_state.json` a timeline uses: `global_step` (the checkpoint's
 * step) and `log_history` (the loss and learning rate as training logged them).
 */

/** One logged step: the numbers the Trainer logged at it (training and evaluation entries of a step merged). */
export interface HistoryPoint {
  step: number;
  loss?: number;
  learning_rate?: number;
  eval_loss?: number;
  grad_norm?: number;
  epoch?: number;
}

/** The numeric fields of a `log_history` entry that are kept (the final summary's `train_loss` etc. are not). */
const HISTORY_FIELDS = ['loss', 'learning_rate', 'eval_loss', 'grad_norm', 'epoch'] as const;

export interface TrainerState {
  /** null when the file has no whole, non-negative `global_step` */
  globalStep: number | null;
  history: HistoryPoint[];
}

/** Entries of `log_history` read at most: a run logging every step for a million steps is within it. */
export const MAX_HISTORY_ENTRIES = 2_000_000;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const wholeStep = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null);

/**
 * Read `trainer_state.json`. Entries without a whole `step`, and fields that are not finite numbers, are left out;
 * a file that is not a JSON object is an error (thrown, one line).
 */
export function parseTrainerState(text: string): TrainerState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`not valid JSON (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  if (!isObject(parsed)) throw new Error('not a JSON object');
  const log = Array.isArray(parsed.log_history) ? parsed.log_history.slice(0, MAX_HISTORY_ENTRIES) : [];
  return { globalStep: wholeStep(parsed.global_step), history: mergeHistory([log.flatMap(historyPoint)]) };
}

function historyPoint(entry: unknown): HistoryPoint[] {
  if (!isObject(entry)) return [];
  const step = wholeStep(entry.step);
  if (step === null) return [];
  const point: HistoryPoint = { step };
  for (const field of HISTORY_FIELDS) {
    const v = entry[field];
    if (typeof v === 'number' && Number.isFinite(v)) point[field] = v;
  }
  return Object.keys(point).length > 1 ? [point] : [];
}

/**
 * One history from several (each checkpoint's `trainer_state.json` holds the log up to its step), by step
 * ascending; where two give a field at the same step, the later list's value is kept (the newest checkpoint's).
 */
export function mergeHistory(histories: readonly (readonly HistoryPoint[])[]): HistoryPoint[] {
  const byStep = new Map<number, HistoryPoint>();
  for (const history of histories) {
    for (const p of history) byStep.set(p.step, { ...byStep.get(p.step), ...p });
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}
