import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';

// `select` on a Spectrum JSON whose keys were crafted: the YAML it writes, read back by a YAML parser,
// holds exactly the names the JSON selects, whatever characters they hold, but for those axolotl would
// read as a regular expression (it escapes only "."): these are left out, each with an error line.

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/spectral-workbench.js');
const run = promisify(execFile);

const EVIL = [
  'model.layers.0.evil\n- .*\n#x',
  'model.layers.1.evil\r- .*\r#x',
  'model.layers.2.evil\u0085- .*\u0085#x',
  'model.layers.3.evil\u2028- .*\u2029#x',
  'model.layers.4.a: b',
  'model.layers.5.a #cut',
  '- model.layers.6.dash',
  '*alias',
  '&anchor',
  '!!python/object:os.system',
  '[model.layers.8]',
  '{a: b}',
  "'single'",
  '"double"',
  '|',
  '>',
  '%TAG',
  '@at',
  '`tick`',
  'model.layers.9.trailing ',
  '\tmodel.layers.10.tab',
  'true',
  'null',
  '~',
  '0x1F',
  '',
  '模型.layers.11.é😀',
  '\ufeffmodel.layers.12.bom',
];

/** What axolotl reads as regular-expression syntax in an entry, but for "." (which it escapes). */
const REGEX_SYNTAX = /[|*+?()[\]{}^$\\]/;

async function select(json: unknown, percent: number): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'sw-select-'));
  writeFileSync(join(dir, 'crafted.json'), JSON.stringify(json, null, 4));
  const yamlFile = join(dir, `crafted_unfrozenparameters_${percent}percent.yaml`);
  const { stderr, code } = await run(
    process.execPath,
    [bin, 'select', join(dir, 'crafted.json'), '--percent', String(percent), '--out', dir],
    {
      cwd: root,
    },
  ).then(
    (r) => ({ ...r, code: 0 }),
    (e: { stderr: string; code: number }) => e,
  );
  const errors = stderr.split('\n').filter((l) => l.startsWith('error: '));
  expect(stderr.split('\n').filter((l) => l.startsWith('wrote '))).toEqual([`wrote ${yamlFile}`]);
  expect(code).toBe(errors.length > 0 ? 2 : 0);
  refusedLines.push(...errors);
  const text = readFileSync(yamlFile, 'utf8');
  expect(text).not.toMatch(/[\r\u0085\u2028\u2029]/);
  const doc = parseDocument(text, { version: '1.1', uniqueKeys: true });
  expect(doc.errors.map((e) => e.message)).toEqual([]);
  return doc.toJS();
}

let refusedLines: string[] = [];

describe('spectral-workbench select with crafted names', () => {
  it('writes every module of a raw-layout JSON as exactly its name, and its type only inside its comment', async () => {
    // one type per name (the type is the name: its comment line is the hazard too), all selected at 100%
    const json = Object.fromEntries(EVIL.map((name, i) => [name, { snr: i + 1, type: name }]));
    refusedLines = [];
    const refused = [...EVIL.slice(0, 4), '*alias', '[model.layers.8]', '{a: b}', '|'];
    const written = EVIL.filter((n) => !refused.includes(n));
    expect(written.some((n) => REGEX_SYNTAX.test(n))).toBe(false);
    expect(await select(json, 100)).toEqual({ unfrozen_parameters: ['^lm_head.weight$', '^model.embed_tokens.weight$', ...written] });
    // each refused name in one error line (its line breaks escaped), in the JSON's order
    expect(refusedLines).toHaveLength(refused.length);
    for (const [i, line] of refusedLines.entries()) {
      expect(line.startsWith('error: crafted_unfrozenparameters_100percent.yaml: tensor "'), line).toBe(true);
      expect(line, refused[i]).toContain(' in this name would unfreeze parameters it does not name');
    }
    expect(refusedLines[4]).toBe(
      'error: crafted_unfrozenparameters_100percent.yaml: tensor "*alias": left out: axolotl reads each entry as a regular expression, and "*" in this name would unfreeze parameters it does not name',
    );
  });

  it('selects by value within a crafted type of a sorted-layout JSON and writes nothing else', async () => {
    const type = 'evil\n- .*\n#x';
    const values = [0.5, 3, 1, 2];
    const names = ['model.layers.4.a: b', 'model.layers.5.a #cut', '- model.layers.6.dash', '&anchor'];
    const json = { [type]: Object.fromEntries(names.map((name, i) => [name, values[i]])) };
    refusedLines = [];
    // 50% of 4 = the two highest values: 3 (names[1]) and 2 (names[3]), highest first
    expect(await select(json, 50)).toEqual({
      unfrozen_parameters: ['^lm_head.weight$', '^model.embed_tokens.weight$', names[1], names[3]],
    });
    // nothing selected (10% of 4 is none): before, the comment line alone added `.*` (every parameter)
    expect(await select(json, 10)).toEqual({ unfrozen_parameters: ['^lm_head.weight$', '^model.embed_tokens.weight$'] });
    // the `.*` names themselves, selected, are refused
    const evil = { [type]: Object.fromEntries(EVIL.slice(0, 4).map((name, i) => [name, values[i]])) };
    expect(await select(evil, 100)).toEqual({ unfrozen_parameters: ['^lm_head.weight$', '^model.embed_tokens.weight$'] });
    expect(refusedLines).toHaveLength(4);
  });
});
