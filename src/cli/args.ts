import { availableParallelism } from 'node:os';
import { parseArgs as parseNodeArgs, type ParseArgsConfig } from 'node:util';
import { parseMemoryBudget } from './memory.ts';

/** The command line: the command (first argument), its positional arguments, and its options' values. */
export interface ParsedArgs {
  command: string | undefined;
  positional: string[];
  /** each option given, with its values: none for a switch (`--csv`), one for `--out DIR`, several for `--percent 25 20 15` */
  options: Map<string, string[]>;
}

/** A mistake in what was typed: one line, exit code 1 (with the usage after it unless `withUsage` is false). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly withUsage = true,
  ) {
    super(message);
  }
}

/** Every command's options (an option a command does not use is ignored by it). */
const OPTIONS = {
  out: { type: 'string' },
  percent: { type: 'string', multiple: true },
  engine: { type: 'string' },
  mode: { type: 'string' },
  'spectrum-variant': { type: 'string' },
  only: { type: 'string' },
  'model-name': { type: 'string' },
  threads: { type: 'string' },
  'memory-budget': { type: 'string' },
  interval: { type: 'string' },
  rank: { type: 'string' },
  energy: { type: 'string' },
  heads: { type: 'string' },
  'heads-file': { type: 'string' },
  matrices: { type: 'string' },
  'per-layer': { type: 'boolean' },
  lr: { type: 'string' },
  'lr-rule': { type: 'string' },
  sparsity: { type: 'string' },
  epsilon: { type: 'string' },
  'rank-by': { type: 'string' },
  k: { type: 'string' },
  threshold: { type: 'string' },
  side: { type: 'string' },
  csv: { type: 'boolean' },
  farms: { type: 'boolean' },
  quiet: { type: 'boolean' },
  once: { type: 'boolean' },
  force: { type: 'boolean' },
  'report-memory': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} satisfies ParseArgsConfig['options'];

type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean };

/** A percent in a `--percent` list (percents() checks the range). */
const LIST_NUMBER = /^[\d.]+$/;

/**
 * `command positional... --option value...`, parsed by node:util's parseArgs. Its strict mode is replaced by the
 * checks below so that each mistake is one line that names the argument as typed. `--percent` takes the numbers
 * that follow it (`--percent 25 20 15 model.safetensors`), and repeats add to its list.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const [command, ...rest] = argv;
  const { tokens } = parseNodeArgs({ args: rest, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const positional: string[] = [];
  const options = new Map<string, string[]>();
  let list: string[] | undefined; // the --percent list still taking numbers
  for (const token of tokens) {
    if (token.kind === 'option-terminator') {
      list = undefined;
    } else if (token.kind === 'positional') {
      if (list && LIST_NUMBER.test(token.value)) {
        list.push(token.value);
      } else {
        list = undefined;
        positional.push(token.value);
      }
    } else {
      list = undefined;
      const typed = rest[token.index];
      const spec: OptionSpec | undefined = Object.hasOwn(OPTIONS, token.name) ? OPTIONS[token.name as keyof typeof OPTIONS] : undefined;
      if (!spec) {
        const dashes = /^-[^-]{2,}/.test(typed) ? ` (long options take two dashes: -${typed})` : '';
        throw new UsageError(`unknown option ${typed}${dashes}`);
      }
      if (spec.type === 'boolean') {
        if (token.value !== undefined) throw new UsageError(`${token.rawName} takes no value (got "${typed}")`);
        options.set(token.name, []);
        continue;
      }
      if (token.value === undefined) throw new UsageError(`${token.rawName} needs a value`);
      if (!token.inlineValue && token.value.startsWith('-'))
        throw new UsageError(
          `${token.rawName} needs a value, not the option "${token.value}" (write ${token.rawName}=${token.value} for a value that starts with -)`,
        );
      if (spec.multiple) {
        list = options.get(token.name) ?? [];
        list.push(token.value);
        options.set(token.name, list);
      } else {
        options.set(token.name, [token.value]);
      }
    }
  }
  return { command, positional, options };
}

export function option(args: ParsedArgs, name: string): string | undefined {
  return args.options.get(name)?.[0];
}

export function choice<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[], fallback: T): T {
  const v = option(args, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')} (got "${v}")`);
  return v as T;
}

/** Digits with an optional decimal point: what Number() reads without surprises (no "", "0x10", "1e3", " 5"). */
const DECIMAL = /^(\d+\.?\d*|\.\d+)$/;

export function percents(args: ParsedArgs, fallback: number[]): number[] {
  const raw = args.options.get('percent');
  if (!raw) return fallback;
  return raw.map((p) => {
    const n = DECIMAL.test(p) ? Number(p) : NaN;
    if (!(n > 0 && n <= 100)) throw new UsageError(`--percent values must be numbers above 0 and at most 100 (got "${p}")`);
    return n;
  });
}

/** `--threads N`: a whole number from 1 to four per core (more only slows the scan down), or undefined when not given. */
export function threads(args: ParsedArgs, cores = availableParallelism()): number | undefined {
  const v = option(args, 'threads');
  if (v === undefined) return undefined;
  const limit = 4 * cores;
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= limit))
    throw new UsageError(`--threads must be a whole number from 1 to ${limit} (4 per core, ${cores} cores) (got "${v}")`);
  return n;
}

/** `--memory-budget 8G`: the bytes the jobs running at once may hold (see cliScanPool), or undefined when not given. */
export function memoryBudget(args: ParsedArgs): number | undefined {
  const v = option(args, 'memory-budget');
  if (v === undefined) return undefined;
  const bytes = parseMemoryBudget(v);
  if (bytes === null) throw new UsageError(`--memory-budget must be a size such as 512M, 8G or 8GiB (got "${v}")`);
  return bytes;
}

/** A day: well within what a timer can wait (past 2^31 − 1 ms, about 24.8 days, setTimeout fires at once). */
const MAX_SECONDS = 86_400;

/** A duration in seconds (`--interval 10`): above 0, at most a day. */
export function seconds(args: ParsedArgs, name: string, fallback: number): number {
  const v = option(args, name);
  if (v === undefined) return fallback;
  const n = DECIMAL.test(v) ? Number(v) : NaN;
  if (!(n > 0 && n <= MAX_SECONDS))
    throw new UsageError(`--${name} must be a number of seconds above 0 and at most ${MAX_SECONDS} (a day) (got "${v}")`);
  return n;
}
