/** A small argument parser: positional arguments, `--flag value...` lists, and `--switch`. */
export interface ParsedArgs {
  command: string | undefined;
  positional: string[];
  options: Map<string, string[]>;
}

const SWITCHES = new Set(['help', 'h', 'csv', 'quiet', 'version', 'once', 'report-memory']);
/** Options that take several values (`--percent 25 20 15`); the others take one. */
const LISTS = new Set(['percent']);

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const [command, ...rest] = argv;
  const positional: string[] = [];
  const options = new Map<string, string[]>();
  let open: { name: string; values: string[] } | undefined;
  for (const arg of rest) {
    const m = /^--?([a-zA-Z][\w-]*)(?:=(.*))?$/.exec(arg);
    if (m) {
      const values = m[2] !== undefined ? [m[2]] : [];
      options.set(m[1], values);
      open = SWITCHES.has(m[1]) || m[2] !== undefined ? undefined : { name: m[1], values };
    } else if (open && (!LISTS.has(open.name) || open.values.length === 0 || /^[\d.]+$/.test(arg))) {
      // a list takes numbers until something else comes: `--percent 25 20 model.safetensors`
      open.values.push(arg);
      if (!LISTS.has(open.name)) open = undefined;
    } else {
      open = undefined;
      positional.push(arg);
    }
  }
  return { command, positional, options };
}

export function option(args: ParsedArgs, name: string): string | undefined {
  return args.options.get(name)?.[0];
}

export function hasOption(args: ParsedArgs, name: string): boolean {
  return args.options.has(name);
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function choice<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[], fallback: T): T {
  const v = option(args, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')} (got "${v}")`);
  return v as T;
}

export function percents(args: ParsedArgs, fallback: number[]): number[] {
  const raw = args.options.get('percent');
  if (!raw) return fallback;
  if (raw.length === 0) throw new UsageError('--percent needs at least one number, e.g. --percent 25 20 15');
  return raw.map((p) => {
    const n = Number(p);
    if (!Number.isFinite(n) || n < 0 || n > 100) throw new UsageError(`--percent values must be numbers from 0 to 100 (got "${p}")`);
    return n;
  });
}
