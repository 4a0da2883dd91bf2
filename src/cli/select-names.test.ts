import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';

// `select` on a Spectrum JSON whose keys were crafted: the YAML it writes, read back by a YAML parser,
// holds exactly the names the JSON selects, whatever characters they hold.

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

async function select(json: unknown, percent: number): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'sw-select-'));
  writeFileSync(join(dir, 'crafted.json'), JSON.stringify(json, null, 4));
  const yamlFile = join(dir, `crafted_unfrozenparameters_${percent}percent.yaml`);
  const { stderr } = await run(process.execPath, [bin, 'select', join(dir, 'crafted.json'), '--percent', String(percent), '--out', dir], {
    cwd: root,
  });
  expect(stderr).toBe(`wrote ${yamlFile}\n`);
  const text = readFileSync(yamlFile, 'utf8');
  expect(text).not.toMatch(/[\r\u0085\u2028\u2029]/);
  const doc = parseDocument(text, { version: '1.1', uniqueKeys: true });
  expect(doc.errors.map((e) => e.message)).toEqual([]);
  return doc.toJS();
}

describe('spectral-workbench select with crafted names', () => {
  it('writes every module of a raw-layout JSON as exactly its name, and its type only inside its comment', async () => {
    // one type per name (the type is the name: its comment line is the hazard too), all selected at 100%
    const json = Object.fromEntries(EVIL.map((name, i) => [name, { snr: i + 1, type: name }]));
    expect(await select(json, 100)).toEqual({ unfrozen_parameters: ['^lm_head.weight$', '^model.embed_tokens.weight$', ...EVIL] });
  });

  it('selects by value within a crafted type of a sorted-layout JSON and writes nothing else', async () => {
    const type = 'evil\n- .*\n#x';
    const values = [0.5, 3, 1, 2];
    const json = { [type]: Object.fromEntries(EVIL.slice(0, 4).map((name, i) => [name, values[i]])) };
    // 50% of 4 = the two highest values: 3 (EVIL[1]) and 2 (EVIL[3]), highest first
    expect(await select(json, 50)).toEqual({ unfrozen_parameters: ['^lm_head.weight$', '^model.embed_tokens.weight$', EVIL[1], EVIL[3]] });
    // nothing selected: before, the comment line alone added `.*` (every parameter)
    expect(await select(json, 0)).toEqual({ unfrozen_parameters: ['^lm_head.weight$', '^model.embed_tokens.weight$'] });
  });
});
