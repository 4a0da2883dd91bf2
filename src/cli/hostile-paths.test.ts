/**
 * What a user types that is not quite a checkpoint, through the CLI as a process: a folder with a loop of
 * symbolic links, two checkpoints given to one scan, a phase that cannot be read, a Spectrum JSON that is not one.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSafetensors, gaussianMatrix } from '../../test-fixtures/builders/safetensors.ts';

const root = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'sw-paths-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(...args: string[]) {
  return promisify(execFile)(process.execPath, [join(root, 'bin/spectral-workbench.js'), ...args], { cwd: root }).then(
    (x) => ({ code: 0, stderr: x.stderr }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );
}

const UP = ['model.layers.0.mlp.up_proj.weight', 'model.layers.1.mlp.up_proj.weight'];

/** A two-layer checkpoint (one module type), Gaussian: `seed` makes two of them differ. */
function checkpoint(path: string, seed = 1): string {
  writeFileSync(
    path,
    buildSafetensors(UP.map((name, i) => ({ name, dtype: 'F32', shape: [24, 16], values: gaussianMatrix(24, 16, seed + i) }))),
  );
  return path;
}

const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('error: '));

describe('a checkpoint folder with a loop of symbolic links', () => {
  it('reports the loop as one bad entry and scans the rest', async () => {
    const dir = join(tmp, 'looped');
    mkdirSync(dir);
    checkpoint(join(dir, 'model.safetensors'));
    symlinkSync('.', join(dir, 'loop'));
    // a.safetensors → b → a.safetensors
    symlinkSync('b', join(dir, 'a.safetensors'));
    symlinkSync('a.safetensors', join(dir, 'b'));
    const out = join(tmp, 'looped-out');
    const r = await cli('scan', dir, '--out', out, '--threads', '1', '--quiet', '--engine', 'cpu');
    expect(r.code, r.stderr).toBe(2);
    expect(errorLines(r.stderr)).toEqual([`error: ${join(dir, 'a.safetensors')}: left out: a loop of symbolic links (ELOOP)`]);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as {
      matrices: { name: string }[];
      errors: { file: string; code: string }[];
    };
    expect(metrics.matrices.map((m) => m.name).sort()).toEqual(UP);
    expect(metrics.errors).toEqual([expect.objectContaining({ file: join(dir, 'a.safetensors'), code: 'READ_FAILED' })]);
  });
});

describe('two checkpoints given to one scan', () => {
  it('is refused as a usage error naming both (their files have the same name)', async () => {
    const a = join(tmp, 'A');
    const b = join(tmp, 'B');
    mkdirSync(a);
    mkdirSync(b);
    const fileA = checkpoint(join(a, 'model.safetensors'), 1);
    const fileB = checkpoint(join(b, 'model.safetensors'), 5);
    const out = join(tmp, 'two-out');
    const r = await cli('scan', fileA, fileB, '--out', out, '--threads', '1', '--quiet');
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(fileA);
    expect(lines[0]).toContain(fileB);
    expect(lines[0]).toContain('phases');
    expect(lines[0]).toContain('two scans');
  });
});

describe('phases with a phase that cannot be read', () => {
  it('marks that phase broken, goes on with the others, and exits 2', async () => {
    const base = checkpoint(join(tmp, 'base.safetensors'));
    const garbage = join(tmp, 'garbage.safetensors');
    writeFileSync(garbage, 'this is not a safetensors file at all');
    const missing = join(tmp, 'missing.safetensors');
    const out = join(tmp, 'phases-out');
    // the last phase is the base again: its transition from the base keeps the same layer (identical weights)
    const r = await cli('phases', base, garbage, missing, base, '--percent', '50', '--out', out, '--quiet', '--engine', 'cpu');
    expect(r.code, r.stderr).toBe(2);
    const report = JSON.parse(readFileSync(join(out, 'transitions.json'), 'utf8')) as {
      phases: {
        checkpoint: string;
        broken?: string;
        selected?: Record<string, string[]>;
        transition: { from: string; kept: number; newly_selected: number; dropped: number; jaccard: number } | null;
      }[];
    };
    expect(report.phases.map((p) => p.checkpoint)).toEqual(['base', 'garbage', 'missing', 'base']);
    expect(report.phases.map((p) => p.broken !== undefined)).toEqual([false, true, true, false]);
    expect(report.phases[1].broken).toContain('garbage.safetensors');
    expect(report.phases[2].broken).toBe(`${missing}: no such file or folder`);
    expect(report.phases[1].selected).toBeUndefined();
    // 50% of two layers of one type: one selected in each phase that was read
    expect(report.phases[0].selected?.['mlp.up_proj']).toHaveLength(1);
    expect(report.phases[3].transition).toEqual(
      expect.objectContaining({ from: 'base', kept: 1, newly_selected: 0, dropped: 0, jaccard: 1 }),
    );
    const md = readFileSync(join(out, 'transitions.md'), 'utf8');
    expect(md).toContain(`| 3 | missing | 50% | broken: ${missing}: no such file or folder |`);
    expect(md).toContain('| 1 | base | 50% | 1 |');
    expect(md).toContain('| 4 | base | 50% | 1 |');
    expect(md.match(/^## /gm)).toHaveLength(1);
    expect(md).toContain('## base → base\n\n1 kept, 0 newly selected, 0 dropped; Jaccard 1.000.');
  });
});

describe('select on a file that is not a Spectrum JSON', () => {
  const cases: [string, (path: string) => void, string][] = [
    ['bad JSON', (p) => writeFileSync(p, '{"model.layers.0.mlp.up_proj": '), 'not valid JSON'],
    [
      'JSON nested deeper than a parser can follow',
      (p) => writeFileSync(p, `${'['.repeat(200_000)}${']'.repeat(200_000)}`),
      'nested too deeply',
    ],
    ['a folder', (p) => mkdirSync(p), 'is a folder'],
  ];
  it.each(cases)('%s: one line naming the file, exit 2', async (_, make, reason) => {
    const file = join(tmp, `select-${reason.replace(/\W+/g, '-')}.json`);
    make(file);
    const r = await cli('select', file, '--out', join(tmp, 'select-out'));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^error: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*${reason}`)),
    ]);
  });
});

describe('select with an --out it cannot write to', () => {
  it('says so in one line naming the folder (exit 1); an --out that does not exist yet is made', async () => {
    const json = join(tmp, 'scores.json');
    writeFileSync(json, JSON.stringify({ 'model.layers.0.mlp.up_proj': { snr: 2, type: 'mlp.up_proj' } }));
    const underFile = join(json, 'out');
    const r = await cli('select', json, '--out', underFile);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([`error: --out ${underFile} is under ${json}, which is a file`]);
    const fresh = join(tmp, 'not-yet', 'made');
    const ok = await cli('select', json, '--out', fresh, '--percent', '100');
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(join(fresh, 'scores_unfrozenparameters_100percent.yaml'), 'utf8')).toContain('- model.layers.0.mlp.up_proj');
  });
});

describe('--only that is not a regular expression', () => {
  it('is a usage error (exit 1)', async () => {
    const r = await cli('scan', checkpoint(join(tmp, 'only.safetensors')), '--out', join(tmp, 'only-out'), '--only', '(');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(
      'error: --only is not a valid regular expression (got "("): Invalid regular expression: /(/: Unterminated group',
    );
  });
});
