/**
 * Tensor names come from files anyone can publish, and the YAML they are written into decides what a
 * trainer unfreezes. A name is written bare, as spectrum.py writes every real name, only when YAML
 * (1.1 as PyYAML reads it, and 1.2) can only read it back as that same string; anything else is
 * double-quoted with escapes, so no name can end a line, start a mapping or a comment, or become a
 * number, a boolean or null.
 */

/**
 * Characters written as escapes, never raw: controls (line feeds, NEL), format characters (bidi
 * overrides, zero-width), line and paragraph separators, surrogates, private use, unassigned, and
 * every space but U+0020. Raw, they break lines, make PyYAML refuse the file, or hide what a name says.
 */
const ESCAPED = /(?! )[\p{C}\p{Z}]/u;

/** Letters, digits, `_`, `.` and `-`, not starting with `.` or `-`: none of them is a YAML indicator. */
const PLAIN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** Words YAML 1.1 or 1.2 reads as booleans or null, compared lower-cased. */
const NOT_STRINGS = new Set(['y', 'n', 'yes', 'no', 'true', 'false', 'on', 'off', 'null']);
/**
 * A name starting with a digit and made only of these can be a number (1_000, 1e5, 0x1F, 0o17, 0b101),
 * a float (1.5, 1.e5) or a date (2024-01-31); one character outside them makes it a plain string.
 */
const NUMBER_LIKE = /^[0-9a-fA-FxXoObB._-]*$/;

/** Whether YAML reads `name` written bare as exactly that string. */
export function isPlainYamlSafe(name: string): boolean {
  if (!PLAIN.test(name) || NOT_STRINGS.has(name.toLowerCase())) return false;
  return !(/^[0-9]/.test(name) && NUMBER_LIKE.test(name));
}

const NAMED_ESCAPES = new Map([
  ['"', '\\"'],
  ['\\', '\\\\'],
  ['\n', '\\n'],
  ['\r', '\\r'],
  ['\t', '\\t'],
]);

function escapeCodePoint(c: number): string {
  const hex = c.toString(16).toUpperCase();
  if (c <= 0xff) return `\\x${hex.padStart(2, '0')}`;
  if (c <= 0xffff) return `\\u${hex.padStart(4, '0')}`;
  return `\\U${hex.padStart(8, '0')}`;
}

/** A YAML double-quoted scalar that reads back as `s`, on one line of printable characters. */
export function yamlDoubleQuoted(s: string): string {
  let out = '"';
  // by code point: a pair stays one character, a lone surrogate is escaped alone
  for (const ch of s) {
    out += NAMED_ESCAPES.get(ch) ?? (ESCAPED.test(ch) ? escapeCodePoint(ch.codePointAt(0)!) : ch);
  }
  return `${out}"`;
}

/** A name as a YAML scalar: bare when that is safe (every real tensor name), else double-quoted. */
export function yamlScalar(name: string): string {
  return isPlainYamlSafe(name) ? name : yamlDoubleQuoted(name);
}

/**
 * Names in a line of text (a YAML `# …` comment, a Markdown report): as they are, unless they hold a
 * character that could end the line, make a YAML reader refuse the file or hide what they say; then
 * double-quoted with escapes.
 */
export function oneLineText(text: string): string {
  for (const ch of text) if (ESCAPED.test(ch)) return yamlDoubleQuoted(text);
  return text;
}
