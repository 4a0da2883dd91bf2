import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { seededUniform } from '../random.ts';
import { phaseTransition } from '../selection/phases.ts';
import { selectTopPercent, type ScoredModule, type TypeSelection } from '../selection/select.ts';
import { axolotlReadsLiterally, parseSpectrumJson, spectrumEntries, spectrumYamlRefusals, writeSpectrumYaml } from './spectrum-files.ts';
import { transitionsMarkdown } from './transitions-report.ts';
import { isPlainYamlSafe, oneLineText, yamlScalar } from './yaml-scalar.ts';

// Tensor names from a crafted checkpoint, written into the YAML that decides what axolotl unfreezes,
// are read back with a real YAML parser (the `yaml` package, in its 1.2 and 1.1 modes).

const LINE_BREAKS = ['\n', '\r', '\r\n', '\u0085', '\u2028', '\u2029'];
const INDICATORS = ['-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`', '\\', '~', '<<', '='];
const SEPARATORS = [': ', ' #', ' ', '  ', '\t', '- ', '? ', ':\t', '---', '...', ' \n', '\n- ', '\n#'];
const ODD = [
  '\0',
  '\x07',
  '\b',
  '\v',
  '\f',
  '\x1b',
  '\x7f',
  '\x9f',
  '\u00a0',
  '\u200b',
  '\u202e',
  '\u2066',
  '\ufeff',
  '\ufffe',
  '\uffff',
  '\ud800',
  '\udfff',
  '\u{e0001}',
  '\u3000',
];
const UNICODE = ['é', 'ß', '模型', 'слой', '😀', '\u{1d400}', 'ǅ', 'ﬁ'];
/** Words and numbers YAML 1.1 or 1.2 reads as something other than a string when bare. */
const NOT_STRINGS = [
  'true',
  'False',
  'TRUE',
  'null',
  'Null',
  'NULL',
  'yes',
  'No',
  'ON',
  'off',
  'y',
  'N',
  '.inf',
  '-.Inf',
  '+.INF',
  '.NaN',
  '0x1F',
  '0o17',
  '0b101',
  '017',
  '1e5',
  '1.',
  '1.5',
  '0.e5',
  '-3',
  '+7',
  '1_000',
  '12:30:00',
  '2024-01-31',
  '2001-12-14t21:59:43.10-05:00',
];
const REAL = [
  'model',
  'layers',
  '0',
  '7',
  '31',
  'self_attn',
  'q_proj',
  'mlp',
  'down_proj',
  'experts',
  'lm_head',
  'weight',
  'blk',
  'attn_q',
];
const POOLS = [LINE_BREAKS, INDICATORS, SEPARATORS, ODD, UNICODE, NOT_STRINGS, REAL, REAL, REAL];

/** A name of 1–6 pieces from the pools, joined by dots or nothing: hazards at its start, middle and end. */
function randomName(u: () => number): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(u() * xs.length)];
  const n = 1 + Math.floor(u() * 6);
  let name = u() < 0.3 ? `model.layers.${Math.floor(u() * 40)}.` : '';
  for (let i = 0; i < n; i++) name += (i > 0 && u() < 0.6 ? '.' : '') + pick(pick(POOLS));
  return name;
}

/** Every hazard alone, and at the start, in the middle and at the end of a real name. */
const HAZARDS = [...LINE_BREAKS, ...INDICATORS, ...SEPARATORS, ...ODD, ...UNICODE, ...NOT_STRINGS];
const PLACED = [
  '',
  ' ',
  '  x',
  'x  ',
  ...HAZARDS.flatMap((h) => [h, `${h}model.layers.0.q_proj`, `model.layers.0${h}q_proj`, `model.layers.0.q_proj${h}`]),
  // a module that, written bare, adds `.*` to unfrozen_parameters: every parameter unfrozen
  ...[0, 1, 2, 3].map((i) => `model.layers.${i}.evil\n- .*\n#x`),
  ...LINE_BREAKS.map((b) => `model.layers.0.evil${b}- .*${b}#x`),
];

/** PyYAML's reader refuses any other character anywhere in a file (its NON_PRINTABLE set). */
const NOT_PRINTABLE = /[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;

function readBack(text: string, version: '1.1' | '1.2'): unknown {
  const doc = parseDocument(text, { version, uniqueKeys: true });
  expect(doc.errors.map((e) => e.message)).toEqual([]);
  expect(doc.warnings.map((e) => e.message)).toEqual([]);
  return doc.toJS();
}

/** What axolotl reads as regular-expression syntax in an entry (it escapes only `.`), written out independently. */
const REGEX_SYNTAX = ['|', '*', '+', '?', '(', ')', '[', ']', '{', '}', '^', '$', '\\'];
const hasRegexSyntax = (name: string) => REGEX_SYNTAX.some((c) => name.includes(c));

/**
 * The YAML holds the two fixed lines and exactly the selected names that axolotl reads literally, one line
 * each, and a comment per type; every other selected name is refused, with an error naming it.
 */
function expectFaithful(selection: readonly TypeSelection[]): void {
  const text = writeSpectrumYaml(selection);
  const all = selection.flatMap((t) => t.selected.map((m) => m.name));
  const selected = all.filter((n) => !hasRegexSyntax(n));
  const refused = all.filter(hasRegexSyntax);
  expect(spectrumYamlRefusals(selection, 'x.yaml').map((e) => e.tensor)).toEqual(refused);
  for (const version of ['1.2', '1.1'] as const) {
    expect(readBack(text, version), version).toEqual({
      unfrozen_parameters: ['^lm_head.weight$', '^model.embed_tokens.weight$', ...selected],
    });
  }
  // No raw break but the line feeds that end lines (PyYAML also breaks lines at CR, NEL, LS, PS), nothing it refuses.
  expect(text).not.toMatch(/[\r\u0085\u2028\u2029]/);
  expect(text).not.toMatch(NOT_PRINTABLE);
  const lines = text.slice(0, -1).split('\n');
  expect(lines).toHaveLength(3 + selection.length + selected.length);
  let at = 3;
  for (const t of selection) {
    const comment = lines[at++];
    expect(comment.startsWith('# ') && comment.endsWith(' layers'), comment).toBe(true);
    const shown = comment.slice(2, -' layers'.length);
    // the type as it is, or as a double-quoted scalar that reads back as the type
    if (shown !== t.type) expect(parseDocument(shown).toJS()).toBe(t.type);
    for (const m of t.selected.filter((x) => !hasRegexSyntax(x.name))) expect(lines[at++].startsWith('- '), m.name).toBe(true);
  }
}

describe('Spectrum YAML with crafted names', () => {
  it('reads back every hazard alone and at the start, middle and end of a name, in names and in types', () => {
    const modules: ScoredModule[] = PLACED.map((name, i) => ({ name, type: PLACED[(i * 7) % PLACED.length], value: i }));
    const selection = selectTopPercent(modules, 100);
    expect(selection.flatMap((t) => t.selected)).toHaveLength(PLACED.length);
    expectFaithful(selection);
    // both kinds are there: names written (quoted or not) and names refused
    const written = PLACED.filter((n) => !hasRegexSyntax(n)).length;
    expect(written).toBeGreaterThan(100);
    expect(PLACED.length - written).toBeGreaterThan(50);
  });

  it('refuses a name axolotl would read as a pattern, with an error naming it; the rest of the YAML is as before', () => {
    const names = ['model.layers.0.mlp.up_proj', 'model.layers.1.mlp.up_proj', 'model.layers.2.mlp.up_proj'];
    const evil = 'model.layers.0.x|.*';
    const modules = [...names, evil].map((name, i) => ({ name, type: 'mlp.up_proj', value: i }));
    const selection: TypeSelection[] = [{ type: 'mlp.up_proj', members: modules, selected: modules }];
    expect(writeSpectrumYaml(selection)).toBe(
      'unfrozen_parameters:\n- ^lm_head.weight$\n- ^model.embed_tokens.weight$\n# mlp.up_proj layers\n' +
        names.map((n) => `- ${n}\n`).join(''),
    );
    const [error, ...none] = spectrumYamlRefusals(selection, 'snr_results_m_unfrozenparameters_25percent.yaml');
    expect(none).toEqual([]);
    expect(error).toMatchObject({ file: 'snr_results_m_unfrozenparameters_25percent.yaml', tensor: evil });
    expect(error.message).toMatch(/^snr_results_m_unfrozenparameters_25percent\.yaml: tensor "model\.layers\.0\.x\|\.\*": left out/);
    for (const c of REGEX_SYNTAX) expect(axolotlReadsLiterally(`model.layers.0${c}q_proj`), c).toBe(false);
    expect(axolotlReadsLiterally('model.layers.0.self_attn.q_proj')).toBe(true);
  });

  it('never lets the names of the `.*` attack add an entry, through the scan path (types from names)', () => {
    const entries = spectrumEntries([0, 1, 2, 3].map((i) => ({ name: `model.layers.${i}.evil\n- .*\n#x`, value: i })));
    const none = writeSpectrumYaml(selectTopPercent(entries, 0));
    // nothing selected: the comment line alone used to write `- .*`
    expect(readBack(none, '1.1')).toEqual({ unfrozen_parameters: ['^lm_head.weight$', '^model.embed_tokens.weight$'] });
    expect(none).toBe('unfrozen_parameters:\n- ^lm_head.weight$\n- ^model.embed_tokens.weight$\n# "evil\\n- .*\\n#x" layers\n');
    expectFaithful(selectTopPercent(entries, 50));
  });

  it('reads back 400 seeded random selections of random names and types exactly', () => {
    const u = seededUniform(20240531);
    for (let round = 0; round < 400; round++) {
      const count = 1 + Math.floor(u() * 24);
      const types = Array.from({ length: 1 + Math.floor(u() * 4) }, () => randomName(u));
      const modules = Array.from({ length: count }, () => ({
        name: randomName(u),
        type: types[Math.floor(u() * types.length)],
        value: u(),
      }));
      expectFaithful(selectTopPercent(modules, [0, 25, 50, 100][round % 4]));
      // through Spectrum's grouping, which derives types from the names themselves
      expectFaithful(selectTopPercent(spectrumEntries(modules), 50));
    }
  });

  it('quotes the words and numbers that YAML would not read as strings', () => {
    for (const w of NOT_STRINGS) expect(isPlainYamlSafe(w), w).toBe(false);
    expect(yamlScalar('yes')).toBe('"yes"');
    expect(yamlScalar('model.layers.0.a: b')).toBe('"model.layers.0.a: b"');
    expect(yamlScalar('a\u2028b\u{e0001}"\\')).toBe('"a\\u2028b\\U000E0001\\"\\\\"');
    expect(oneLineText('mlp.down_proj')).toBe('mlp.down_proj');
    expect(oneLineText('evil\u0085x')).toBe('"evil\\x85x"');
  });
});

describe("Spectrum's real names stay bare (byte for byte as spectrum.py writes them)", () => {
  const root = join(import.meta.dirname, '../../../test-fixtures');
  const files = [
    ...readdirSync(join(root, 'spectrum-results'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => join(root, 'spectrum-results', f)),
    ...readdirSync(join(root, 'expected/demo-phases'), { recursive: true, encoding: 'utf8' })
      .filter((f) => /snr_results_.*\.json$/.test(f))
      .map((f) => join(root, 'expected/demo-phases', f)),
  ];

  it.each(files.map((f) => [f.slice(root.length + 1), f]))('%s', (_label, file) => {
    const entries = parseSpectrumJson(readFileSync(file, 'utf8'));
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) {
      expect(yamlScalar(e.name)).toBe(e.name);
      expect(axolotlReadsLiterally(e.name), e.name).toBe(true);
      expect(oneLineText(e.type)).toBe(e.type);
    }
  });
});

describe('transitions.md with crafted names', () => {
  it('keeps every name on its line and inside its table cell', () => {
    const type = 'mlp.x\n## injected | cell';
    const modules = [0, 1, 2, 3].map((i) => ({ name: `model.layers.${i}.${type}`, type, value: i }));
    const first = selectTopPercent(modules, 50);
    const second = selectTopPercent(
      modules.map((m) => ({ ...m, value: -m.value })),
      50,
    );
    const text = transitionsMarkdown([
      { name: 'base\nx|y', percent: 50, selection: first, transition: null },
      { name: 'p1', percent: 50, selection: second, transition: phaseTransition(first, second) },
    ]);
    const lines = text.slice(0, -1).split('\n');
    // title, blank, table head (2), a row per phase (2); blank, heading, blank, summary, blank, table head (2), one type
    expect(lines).toHaveLength(6 + 5 + 3);
    expect(lines.filter((l) => l.startsWith('#'))).toEqual(['# Phase transitions', '## "base\\nx\\|y" → p1']);
    const cells = (row: string) => row.split(/(?<!\\)\|/).length - 2;
    expect(lines.filter((l) => l.startsWith('|')).map(cells)).toEqual([4, 4, 4, 4, 5, 5, 5]);
    expect(lines.at(-1)).toBe('| "mlp.x\\n## injected \\| cell" | 0 | 2 (0, 1) | 2 (2, 3) | 0.000 |');
  });
});
