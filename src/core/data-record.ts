/**
 * An object keyed by strings from a file (tensor names, metadata keys): without a prototype, so a key
 * such as `__proto__`, `constructor` or `toString` is stored and read as data like any other, never
 * replacing the prototype or finding one of its members. Lookups by file data elsewhere use a Map.
 */
export function dataRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** `record[key]` when the record holds that key itself; never a member of Object.prototype (`constructor`, `toString`). */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
