/**
 * One cheap pass over a header's JSON text, before JSON.parse commits memory to it:
 * - JSON.parse keeps the last of two equal keys; a checkpoint header with a duplicate tensor name is
 *   ambiguous, so the top-level keys that occur twice are found here;
 * - the nesting depth and the number of JSON values bound what parsing will allocate: 60 MB of
 *   `[],[],…` is 20 million arrays, 21 s and 860 MB in V8, while a real header is a few values per tensor.
 * The scan stops as soon as a limit is passed. On text that is not JSON the counts are approximate;
 * JSON.parse then says what is wrong.
 */
export interface JsonTextShape {
  duplicates: string[];
  /** the distinct keys of the top-level object */
  keys: ReadonlySet<string>;
  /** how many times a key of the top-level object occurs (duplicates counted each time) */
  topLevelKeys: number;
  /** deepest nesting of objects and arrays (the top-level object is depth 1) */
  depth: number;
  /** objects, arrays and the separators between values: about the number of values in the text */
  items: number;
  /** which limit the text passed, if any (the scan stopped there) */
  exceeded: 'depth' | 'items' | null;
}

export function scanJsonText(text: string, limits: { maxDepth: number; maxItems: number }): JsonTextShape {
  const seen = new Set<string>();
  const dups = new Set<string>();
  let depth = 0;
  let maxDepth = 0;
  let items = 0;
  let topLevelKeys = 0;
  let expectKey = false;
  const shape = (exceeded: JsonTextShape['exceeded']): JsonTextShape => ({
    duplicates: [...dups],
    keys: seen,
    topLevelKeys,
    depth: maxDepth,
    items,
    exceeded,
  });
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i + 1;
      i++;
      while (i < text.length && text.charCodeAt(i) !== 0x22) {
        if (text.charCodeAt(i) === 0x5c /* \ */) i++;
        i++;
      }
      if (depth === 1 && expectKey) {
        const raw = text.slice(start, i);
        const key = raw.includes('\\') ? safeUnescape(raw) : raw;
        if (seen.has(key)) dups.add(key);
        seen.add(key);
        topLevelKeys++;
        expectKey = false;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      items++;
      if (depth > maxDepth) maxDepth = depth;
      if (depth === 1 && c === 0x7b) expectKey = true;
      if (depth > limits.maxDepth) return shape('depth');
      if (items > limits.maxItems) return shape('items');
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2c /* , */) {
      items++;
      if (depth === 1) expectKey = true;
      if (items > limits.maxItems) return shape('items');
    }
  }
  return shape(null);
}

function safeUnescape(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

/**
 * A short, one-line picture of a JSON value for a message. Never recursive beyond one level and
 * never longer than `max` characters: JSON.stringify of a value nested 100,000 deep overflows the stack.
 */
export function previewJson(x: unknown, max = 80): string {
  const atom = (v: unknown): string => {
    if (Array.isArray(v)) return v.length === 0 ? '[]' : '[…]';
    if (typeof v === 'object' && v !== null) return '{…}';
    if (typeof v === 'string') return JSON.stringify(v.length > max ? `${v.slice(0, max)}…` : v);
    return String(v);
  };
  let out: string;
  if (Array.isArray(x)) {
    const shown: string[] = [];
    let length = 2;
    for (const v of x) {
      const a = atom(v);
      length += a.length + 2;
      if (length > max) {
        shown.push('…');
        break;
      }
      shown.push(a);
    }
    out = `[${shown.join(', ')}]`;
  } else {
    out = atom(x);
  }
  return out.length > max ? `${out.slice(0, max)}…` : out;
}
