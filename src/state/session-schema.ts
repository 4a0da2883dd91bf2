import { HTSR_METRIC_KEYS } from '../core/metrics/htsr.ts';
import { dataRecord } from '../core/data-record.ts';

/**
 * The shape of a session file, checked field by field before anything reaches the store: a file
 * from elsewhere (or damaged) is refused with the path of the first wrong field, never half-loaded
 * into a page that then cannot render it.
 */
export class SchemaError extends Error {
  constructor(
    readonly path: string,
    expected: string,
  ) {
    super(`${path}: expected ${expected}`);
  }
}

export type Check<T> = (value: unknown, path: string) => T;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const str: Check<string> = (v, path) => {
  if (typeof v !== 'string') throw new SchemaError(path, 'a string');
  return v;
};

/** A number; JSON has no Infinity or NaN, the session file writes them as strings and they come back as numbers. */
export const num: Check<number> = (v, path) => {
  if (typeof v !== 'number') throw new SchemaError(path, 'a number');
  return v;
};

/**
 * A whole number from 0 to `max`: a layer or expert number, which the heatmap turns into that many
 * columns (a layer of 1e308 or −1 would make a grid no array can hold).
 */
export function whole(max: number): Check<number> {
  return (v, path) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new SchemaError(path, `a whole number from 0 to ${max}`);
    return v;
  };
}

export const bool: Check<boolean> = (v, path) => {
  if (typeof v !== 'boolean') throw new SchemaError(path, 'true or false');
  return v;
};

export function oneOf<const T extends string>(...options: T[]): Check<T> {
  return (v, path) => {
    if (typeof v !== 'string' || !(options as string[]).includes(v)) throw new SchemaError(path, `one of ${options.join(', ')}`);
    return v as T;
  };
}

export function nullable<T>(check: Check<T>): Check<T | null> {
  return (v, path) => (v === null ? null : check(v, path));
}

export function arrayOf<T>(check: Check<T>): Check<T[]> {
  return (v, path) => {
    if (!Array.isArray(v)) throw new SchemaError(path, 'a list');
    return v.map((item, i) => check(item, `${path}[${i}]`));
  };
}

/** An object with these fields (`optional` ones may be absent); fields not named pass through unchecked. */
export function object<T extends object>(fields: { [K in keyof T]-?: Check<T[K]> }, optional: readonly (keyof T)[] = []): Check<T> {
  return (v, path) => {
    if (!isObject(v)) throw new SchemaError(path, 'an object');
    const out: Record<string, unknown> = dataRecord<unknown>();
    for (const [key, value] of Object.entries(v)) out[key] = value;
    for (const [key, check] of Object.entries(fields) as [string, Check<unknown>][]) {
      if (!Object.hasOwn(v, key) || v[key] === undefined) {
        if ((optional as readonly string[]).includes(key)) continue;
        throw new SchemaError(`${path}.${key}`, 'a value (it is missing)');
      }
      out[key] = check(v[key], `${path}.${key}`);
    }
    return out as T;
  };
}

/** An object whose every value passes `check` (names are data: the result has no prototype). */
export function recordOf<T>(check: Check<T>): Check<Record<string, T>> {
  return (v, path) => {
    if (!isObject(v)) throw new SchemaError(path, 'an object');
    const out = dataRecord<T>();
    for (const [key, value] of Object.entries(v)) out[key] = check(value, `${path}.${key}`);
    return out;
  };
}

/** WeightWatcher's metrics: each a number or null, with the reasons as text. */
export const htsrShape: Check<Record<string, unknown>> = (v, path) => {
  if (!isObject(v)) throw new SchemaError(path, 'an object');
  if (v.reasons !== undefined) recordOf(str)(v.reasons, `${path}.reasons`);
  // a session saved before a metric was added lacks it: null, with the reason, rather than refused
  const missing = HTSR_METRIC_KEYS.filter((key) => v[key] === undefined);
  if (missing.length === 0) {
    for (const key of HTSR_METRIC_KEYS) nullable(num)(v[key], `${path}.${key}`);
    return v;
  }
  const reasons = dataRecord<string>();
  if (isObject(v.reasons)) for (const [key, reason] of Object.entries(v.reasons)) reasons[key] = reason as string;
  const filled: Record<string, unknown> = { ...v, reasons };
  for (const key of missing) {
    filled[key] = null;
    reasons[key] = 'not in this session file (saved before this metric was added)';
  }
  for (const key of HTSR_METRIC_KEYS) nullable(num)(filled[key], `${path}.${key}`);
  return filled;
};
