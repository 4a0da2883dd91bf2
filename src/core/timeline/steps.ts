/**
 * The training step a checkpoint's name carries: `checkpoint-1500` (Hugging Face Trainer), `global_step1000`
 * (DeepSpeed), `step_1000` / `step-1000` / `step1000`, `iter_0001000` (Megatron), `ckpt-1k`, and `epoch-3`.
 */

export type StepUnit = 'step' | 'epoch';

export interface NamedStep {
  value: number;
  unit: StepUnit;
}

/** A count as names write it: digits, optionally with a decimal part and a k (thousand) or m (million) suffix. */
const COUNT = String.raw`(\d+(?:\.\d+)?)([km]?)`;

/**
 * Keyword then count, in the order tried: a name with both a step and an epoch (`epoch-2-step-900`) is ordered by
 * the step, the finer of the two. The keyword starts the name or follows a character that is not a letter, and the
 * count ends the name or is followed by something that is not a letter or digit.
 */
const PATTERNS: { unit: StepUnit; re: RegExp }[] = [
  ...['checkpoint', 'global_step', 'step', 'steps', 'iter', 'iteration', 'ckpt'].map((k) => ({
    unit: 'step' as const,
    re: new RegExp(String.raw`(?:^|[^a-z])${k}[-_=]?${COUNT}(?![a-z0-9])`),
  })),
  { unit: 'epoch', re: new RegExp(String.raw`(?:^|[^a-z])epoch[-_=]?${COUNT}(?![a-z0-9])`) },
];

const SUFFIX: Record<string, number> = { '': 1, k: 1_000, m: 1_000_000 };

/** Weight files whose name says nothing of the step: their folder does. */
const EXTENSION = /\.(safetensors(\.index\.json)?|gguf|bin|pt|pth)$/;

/** The step one name (a file or folder name, not a path) carries, or null. `ckpt-1.5k` is 1500; `ckpt-1.2345k` is no step. */
export function stepOfName(name: string): NamedStep | null {
  const lower = name.toLowerCase().replace(EXTENSION, '');
  for (const { unit, re } of PATTERNS) {
    const m = re.exec(lower);
    if (!m) continue;
    const value = Number(m[1]) * SUFFIX[m[2]];
    // 1.5k is 1500 (the multiplication is exact for whole results of a few decimals); a fraction of a step is no step
    const whole = Math.round(value);
    if (Math.abs(value - whole) > 1e-9 * Math.max(1, whole) || !Number.isSafeInteger(whole)) continue;
    return { value: whole, unit };
  }
  return null;
}

/**
 * The step a path carries: its deepest part that names one (`run/checkpoint-500/model.safetensors` → 500),
 * and that part, which names the checkpoint.
 */
export function stepOfPath(path: string): { step: NamedStep; part: string } | null {
  const parts = path.split(/[\\/]+/).filter((p) => p.length > 0);
  for (let i = parts.length - 1; i >= 0; i--) {
    const step = stepOfName(parts[i]);
    if (step) return { step, part: parts[i] };
  }
  return null;
}
