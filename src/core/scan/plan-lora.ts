import { errorRecord, type ErrorRecord } from '../errors.ts';
import type { TensorInfo } from '../formats/tensor-info.ts';
import type { MatrixExpr } from './matrix-expr.ts';

/**
 * LoRA / PEFT adapters (docs/formats.md): `base_model.model.<module>.lora_A.weight` (r × in) and
 * `lora_B.weight` (out × r) give ΔW = (lora_alpha / r)·B·A, out × in whatever the base stores
 * (PEFT's fan_in_fan_out only transposes ΔW when it merges into a Conv1D). Embedding adapters store
 * `lora_embedding_A` (r × vocab) and `lora_embedding_B` (dim × r), and their ΔW is (B·A)ᵀ.
 */
export interface LoraPair {
  /** the adapter's module path, `base_model.model.model.layers.0.self_attn.q_proj` */
  module: string;
  /** the base model's tensor that ΔW updates: `model.layers.0.self_attn.q_proj.weight` */
  baseName: string;
  a: TensorInfo;
  b: TensorInfo;
  embedding: boolean;
  rank: number;
  scale: number;
}

export interface LoraScan {
  pairs: LoraPair[];
  /** tensor names the pairs consume (not analysed on their own) */
  consumed: Set<string>;
  skipped: { name: string; reason: string }[];
}

const LORA = /^(.*)\.lora_(embedding_)?(A|B)(?:\.[\w-]+)?(?:\.weight)?$/;
const MAGNITUDE = /\.lora_magnitude_vector(?:\.[\w-]+)?(?:\.weight)?$/;

function num(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : null;
}

/*
 * rank_pattern / alpha_pattern keys are regular expressions from a file anyone can publish. They run
 * here as a Thompson NFA: time linear in the name whatever the pattern (no backtracking, so `(a+)+` or
 * `(.*.*)*z` cannot hang the scan). It knows the syntax PEFT configs use: literals and escapes, `.`,
 * classes (`[0-9]`, `[^a]`, `\d`, `\w`, `\s`), groups (`(…)`, `(?:…)`), `|`, `*`, `+`, `?`, `{n,m}`
 * (lazy forms too), `^` and `$`. Anything else (backreferences, lookaround, flags) is a PatternError.
 */

/** Why a key's regular-expression form is not run (the key then selects modules of its exact name only). */
class PatternError extends Error {}

/** Bounds that keep a hostile key cheap: its length, and the NFA states that `{n,m}` copies may make. */
const MAX_PATTERN_CHARS = 2000;
const MAX_STATES = 20_000;

type CharTest = (c: string) => boolean;
type PatternNode =
  | { kind: 'char'; test: CharTest }
  | { kind: 'seq'; items: PatternNode[] }
  | { kind: 'alt'; options: PatternNode[] }
  | { kind: 'repeat'; of: PatternNode; min: number; max: number }
  | { kind: 'start' }
  | { kind: 'end' };

const CLASS_ESCAPES = new Map<string, CharTest>([
  ['d', (c) => c >= '0' && c <= '9'],
  ['w', (c) => /^[\p{L}\p{N}_]$/u.test(c)],
  ['s', (c) => /^\s$/u.test(c)],
]);

/** `\x` outside or inside a class: a class escape, or the character itself when it is punctuation. */
function escapeTest(c: string | undefined): CharTest {
  if (c === undefined) throw new PatternError('ends with a lone backslash');
  const cls = CLASS_ESCAPES.get(c.toLowerCase());
  if (cls) return c === c.toLowerCase() ? cls : (x) => !cls(x);
  if (/^[\p{L}\p{N}]$/u.test(c))
    throw new PatternError(`\\${c} (backreferences, anchors, and escapes other than \\d \\w \\s) is not supported`);
  return (x) => x === c;
}

function parsePattern(pattern: string): PatternNode {
  const chars = Array.from(pattern);
  let at = 0;
  const alternation = (): PatternNode => {
    const options = [sequence()];
    while (chars[at] === '|') {
      at++;
      options.push(sequence());
    }
    return options.length === 1 ? options[0] : { kind: 'alt', options };
  };
  const sequence = (): PatternNode => {
    const items: PatternNode[] = [];
    while (at < chars.length && chars[at] !== '|' && chars[at] !== ')') items.push(quantified(atom()));
    return { kind: 'seq', items };
  };
  const atom = (): PatternNode => {
    const c = chars[at++];
    if (c === '(') {
      if (chars[at] === '?') {
        if (chars[at + 1] !== ':') throw new PatternError('lookaround, named groups and flags are not supported');
        at += 2;
      }
      const inner = alternation();
      if (chars[at++] !== ')') throw new PatternError('a group is not closed');
      return inner;
    }
    if (c === '[') return { kind: 'char', test: charClass() };
    if (c === '.') return { kind: 'char', test: (x) => x !== '\n' };
    if (c === '^') return { kind: 'start' };
    if (c === '$') return { kind: 'end' };
    if (c === '\\') return { kind: 'char', test: escapeTest(chars[at++]) };
    if (c === '*' || c === '+' || c === '?' || c === '{' || c === ')') throw new PatternError(`"${c}" has nothing to apply to`);
    return { kind: 'char', test: (x) => x === c };
  };
  const charClass = (): CharTest => {
    const negated = chars[at] === '^';
    if (negated) at++;
    const tests: CharTest[] = [];
    let first = true;
    while (chars[at] !== ']' || first) {
      first = false;
      const c = chars[at++];
      if (c === undefined) throw new PatternError('a character class is not closed');
      if (c === '[' && (chars[at] === ':' || chars[at] === '=' || chars[at] === '.'))
        throw new PatternError('POSIX classes are not supported');
      const low = c === '\\' ? chars[at++] : c;
      if (c === '\\' && low !== undefined && CLASS_ESCAPES.has(low.toLowerCase())) {
        tests.push(escapeTest(low));
        continue;
      }
      if (c === '\\') escapeTest(low); // refuses \1 and the like
      if (chars[at] === '-' && chars[at + 1] !== undefined && chars[at + 1] !== ']') {
        at++;
        const h = chars[at++];
        const high = h === '\\' ? chars[at++] : h;
        if (low === undefined || high === undefined || high < low) throw new PatternError('a character range is out of order');
        tests.push((x) => x >= low && x <= high);
      } else if (low !== undefined) {
        tests.push((x) => x === low);
      }
    }
    at++;
    return negated ? (x) => x !== '\n' && !tests.some((t) => t(x)) : (x) => tests.some((t) => t(x));
  };
  const quantified = (node: PatternNode): PatternNode => {
    let out = node;
    for (;;) {
      const c = chars[at];
      let min: number;
      let max: number;
      if (c === '*' || c === '+' || c === '?') {
        at++;
        [min, max] = c === '*' ? [0, Infinity] : c === '+' ? [1, Infinity] : [0, 1];
      } else if (c === '{' && /^\{\d*(,\d*)?\}/.test(chars.slice(at, at + 24).join(''))) {
        const m = /^\{(\d*)(,(\d*))?\}/.exec(chars.slice(at, at + 24).join(''))!;
        at += m[0].length;
        min = m[1] === '' ? 0 : Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        if (max < min) throw new PatternError('a repetition count is out of order');
      } else {
        return out;
      }
      if (chars[at] === '?')
        at++; // lazy: the same matches
      else if (chars[at] === '+') throw new PatternError('possessive quantifiers are not supported');
      if (out.kind === 'start' || out.kind === 'end') throw new PatternError('a repeated anchor is not supported');
      out = { kind: 'repeat', of: out, min, max };
    }
  };
  const node = alternation();
  if (at < chars.length) throw new PatternError('a ")" has no "("');
  return node;
}

type NfaState =
  | { kind: 'char'; test: CharTest; next: number }
  | { kind: 'split'; a: number; b: number }
  | { kind: 'start' | 'end'; next: number }
  | { kind: 'match' };

interface Nfa {
  states: NfaState[];
  entry: number;
}

/** Thompson's construction, built from the end: `next` is where a node goes once it has matched. */
function compileNfa(root: PatternNode): Nfa {
  const states: NfaState[] = [{ kind: 'match' }];
  const add = (s: NfaState): number => {
    if (states.length >= MAX_STATES) throw new PatternError('its repetition counts make it too large');
    states.push(s);
    return states.length - 1;
  };
  const build = (n: PatternNode, next: number): number => {
    switch (n.kind) {
      case 'char':
        return add({ kind: 'char', test: n.test, next });
      case 'start':
      case 'end':
        return add({ kind: n.kind, next });
      case 'seq':
        return n.items.reduceRight((to, item) => build(item, to), next);
      case 'alt':
        return n.options.map((o) => build(o, next)).reduceRight((b, a) => add({ kind: 'split', a, b }));
      case 'repeat': {
        let to = next;
        if (n.max === Infinity) {
          const loop = add({ kind: 'split', a: -1, b: next });
          (states[loop] as { a: number }).a = build(n.of, loop);
          to = loop;
        } else {
          for (let i = n.min; i < n.max; i++) to = add({ kind: 'split', a: build(n.of, to), b: next });
        }
        for (let i = 0; i < n.min; i++) to = build(n.of, to);
        return to;
      }
    }
  };
  return { states, entry: build(root, 0) };
}

/** Whether the NFA matches all of `text`: one pass over its characters, with the set of states each step reaches. */
function nfaFullMatch({ states, entry }: Nfa, text: string): boolean {
  const chars = Array.from(text);
  const seen = new Int32Array(states.length).fill(-1);
  let current: number[] = [];
  const closure = (from: number, pos: number, into: number[]) => {
    const stack = [from];
    while (stack.length > 0) {
      const i = stack.pop()!;
      if (seen[i] === pos) continue;
      seen[i] = pos;
      const s = states[i];
      if (s.kind === 'split') stack.push(s.a, s.b);
      else if (s.kind === 'start') {
        if (pos === 0) stack.push(s.next);
      } else if (s.kind === 'end') {
        if (pos === chars.length) stack.push(s.next);
      } else into.push(i);
    }
  };
  closure(entry, 0, current);
  for (let pos = 0; pos < chars.length && current.length > 0; pos++) {
    const next: number[] = [];
    for (const i of current) {
      const s = states[i];
      if (s.kind === 'char' && s.test(chars[pos])) closure(s.next, pos + 1, next);
    }
    current = next;
  }
  return current.some((i) => states[i].kind === 'match');
}

const compiled = new Map<string, Nfa | PatternError>();

/** The key's regular-expression form, PEFT's `(.*\.)?(key)$` from the start of the name, or why it is not run. */
function peftRegex(key: string): Nfa | PatternError {
  let nfa = compiled.get(key);
  if (nfa === undefined) {
    try {
      if (key.length > MAX_PATTERN_CHARS) throw new PatternError(`longer than ${MAX_PATTERN_CHARS} characters`);
      const prefix: PatternNode = {
        kind: 'repeat',
        min: 0,
        max: 1,
        of: {
          kind: 'seq',
          items: [
            { kind: 'repeat', min: 0, max: Infinity, of: { kind: 'char', test: (x) => x !== '\n' } },
            { kind: 'char', test: (x) => x === '.' },
          ],
        },
      };
      nfa = compileNfa({ kind: 'seq', items: [prefix, parsePattern(key), { kind: 'end' }] });
    } catch (e) {
      if (!(e instanceof PatternError)) throw e;
      nfa = e;
    }
    if (compiled.size > 1000) compiled.clear();
    compiled.set(key, nfa);
  }
  return nfa;
}

/**
 * Whether a rank_pattern / alpha_pattern key selects `module`, as PEFT decides it: the key is the module's
 * name or a dotted suffix of it, or, as a regular expression, matches `(.*\.)?(key)$` from the start of the
 * name. The regular expression runs in linear time; one it cannot run is ignored (adapterConfigErrors says so).
 */
export function peftPatternMatches(key: string, module: string): boolean {
  if (module === key || module.endsWith(`.${key}`)) return true;
  const nfa = peftRegex(key);
  return !(nfa instanceof PatternError) && nfaFullMatch(nfa, module);
}

const PATTERN_FIELDS = ['rank_pattern', 'alpha_pattern'] as const;

/** The rank_pattern / alpha_pattern keys of adapter_config.json that are matched as module names only, and why. */
export function adapterConfigErrors(adapterConfig: Record<string, unknown> | null): ErrorRecord[] {
  const errors: ErrorRecord[] = [];
  for (const field of PATTERN_FIELDS) {
    const patterns = adapterConfig?.[field];
    if (typeof patterns !== 'object' || patterns === null) continue;
    for (const key of Object.keys(patterns)) {
      const nfa = peftRegex(key);
      if (!(nfa instanceof PatternError)) continue;
      const shown = key.length > 120 ? `${key.slice(0, 120)}…` : key;
      const detail = `${field} key "${shown}" is not run as a regular expression (${nfa.message}): it applies only to modules of that exact name`;
      errors.push(errorRecord('INDEX_INVALID', 'adapter_config.json', undefined, detail));
    }
  }
  return errors;
}

/** The value of the first rank_pattern / alpha_pattern key that selects `module` (a positive number), or null. */
function patternValue(patterns: unknown, module: string): number | null {
  if (typeof patterns !== 'object' || patterns === null) return null;
  for (const [key, value] of Object.entries(patterns as Record<string, unknown>)) {
    if (num(value) !== null && peftPatternMatches(key, module)) return value as number;
  }
  return null;
}

export function findLoraPairs(tensors: readonly TensorInfo[], adapterConfig: Record<string, unknown> | null): LoraScan {
  const halves = new Map<string, { a?: TensorInfo; b?: TensorInfo; embedding: boolean }>();
  const consumed = new Set<string>();
  const skipped: LoraScan['skipped'] = [];
  for (const t of tensors) {
    if (MAGNITUDE.test(t.name)) {
      consumed.add(t.name);
      skipped.push({
        name: t.name,
        reason: 'DoRA magnitude vector: ΔW below is the low-rank direction (alpha/r)·B·A, without the magnitude rescaling',
      });
      continue;
    }
    const m = LORA.exec(t.name);
    if (!m) continue;
    consumed.add(t.name);
    const h = halves.get(m[1]) ?? { embedding: m[2] !== undefined };
    if (m[3] === 'A') h.a = t;
    else h.b = t;
    halves.set(m[1], h);
  }
  const pairs: LoraPair[] = [];
  for (const [module, h] of halves) {
    if (!h.a || !h.b) {
      skipped.push({ name: (h.a ?? h.b)!.name, reason: `LoRA ${h.a ? 'A' : 'B'} without its ${h.a ? 'B' : 'A'}: no ΔW` });
      continue;
    }
    const plain = module.replace(/^base_model\.model\./, '');
    const rank = h.a.shape[0];
    const r = patternValue(adapterConfig?.rank_pattern, plain) ?? num(adapterConfig?.r) ?? rank;
    const alpha = patternValue(adapterConfig?.alpha_pattern, plain) ?? num(adapterConfig?.lora_alpha) ?? r;
    const scale = adapterConfig?.use_rslora === true ? alpha / Math.sqrt(r) : alpha / r;
    pairs.push({ module, baseName: `${plain}.weight`, a: h.a, b: h.b, embedding: h.embedding, rank, scale });
  }
  if (pairs.length > 0 && !adapterConfig) {
    skipped.push({
      name: 'adapter_config.json',
      reason:
        'absent: lora_alpha is unknown, so ΔW is taken as B·A (scale 1); σ and Spectrum’s value are off by alpha/r, scale-free metrics are not',
    });
  }
  return { pairs, consumed, skipped };
}

/** ΔW of a pair as out × in (the orientation of an nn.Linear weight). */
export function loraDelta(p: LoraPair, refOf: (file: string) => string): MatrixExpr {
  const product: MatrixExpr = {
    op: 'lowRank',
    scale: p.scale,
    b: { op: 'read', operand: { tensor: p.b, ref: refOf(p.b.file) } },
    a: { op: 'read', operand: { tensor: p.a, ref: refOf(p.a.file) } },
  };
  return p.embedding ? { op: 'transpose', of: product } : product;
}
