import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildSafetensors, gaussianMatrix, joinSafetensors, safetensorsParts } from '../../test-fixtures/builders/safetensors.ts';
import { shardSafetensors } from '../../test-fixtures/builders/shard.ts';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/spectral-workbench.js');
const run = promisify(execFile);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const tmp = () => mkdtempSync(join(tmpdir(), 'sw-cli-'));

describe('spectral-workbench scan', () => {
  it.each(['phase0-base', 'phase3-15pct'])("reproduces Spectrum's own YAML files for the demo's %s, byte for byte", async (phase) => {
    const out = tmp();
    const r = await cli([
      'scan',
      `public/demo/${phase}.safetensors`,
      '--out',
      out,
      '--percent',
      '25',
      '20',
      '15',
      '--model-name',
      `spectral-workbench/demo-${phase}`,
      '--threads',
      '2',
    ]);
    expect(r.stderr).toMatch(/\[147\/147\] 100%/);
    expect(r.code).toBe(0);
    const expectedDir = join(root, 'test-fixtures/expected/demo-phases', `spectrum-${phase}`);
    for (const p of [25, 20, 15]) {
      const name = `snr_results_spectral-workbench-demo-${phase}_unfrozenparameters_${p}percent.yaml`;
      expect(readFileSync(join(out, name), 'utf8'), name).toBe(readFileSync(join(expectedDir, name), 'utf8'));
    }
    // Spectrum's JSON: same modules in the same order; values agree to float32 precision (Spectrum's SVD is float32).
    const ours = readFileSync(join(out, `snr_results_spectral-workbench-demo-${phase}.json`), 'utf8');
    const theirs = readFileSync(join(expectedDir, 'model_snr_results', `snr_results_spectral-workbench-demo-${phase}.json`), 'utf8');
    const strip = (s: string) => s.replace(/"snr": [^,\n]+/g, '"snr": _');
    expect(strip(ours)).toBe(strip(theirs));
    const values = (s: string) => [...s.matchAll(/"snr": ([^,\n]+)/g)].map((m) => Number(m[1]));
    values(ours).forEach((v, i) => expect(Math.abs(v - values(theirs)[i]) / Math.abs(values(theirs)[i])).toBeLessThan(1e-6));
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics).toMatchObject({ tool: 'spectral-workbench', engine: 'cpu', mode: 'exact', spectrum_variant: 'current', errors: [] });
    expect(metrics.matrices).toHaveLength(147);
  });

  it('gives identical results for a sharded copy (index + shards in shuffled order) and the single file', async () => {
    const dir = tmp();
    const folder = join(dir, 'demo-sharded');
    mkdirSync(folder);
    for (const [name, bytes] of await shardSafetensors(readFileSync(join(root, 'public/demo/phase0-base.safetensors')), 3))
      writeFileSync(join(folder, name), bytes);
    const [a, b] = [join(dir, 'single'), join(dir, 'sharded')];
    const r1 = await cli(['scan', 'public/demo/phase0-base.safetensors', '--out', a, '--model-name', 'm', '--quiet']);
    const r2 = await cli(['scan', folder, '--out', b, '--model-name', 'm', '--quiet']);
    expect([r1.code, r2.code]).toEqual([0, 0]);
    for (const f of ['snr_results_m.json', 'snr_results_m_unfrozenparameters_25percent.yaml'])
      expect(readFileSync(join(b, f), 'utf8')).toBe(readFileSync(join(a, f), 'utf8'));
    const rows = (d: string) =>
      JSON.parse(readFileSync(join(d, 'metrics.json'), 'utf8')).matrices.map(({ file: _f, ...rest }: { file: string }) => rest);
    expect(rows(b)).toEqual(rows(a));
  });

  it('reports bad tensors in one line each, exits 2, and still analyses and writes the good ones', async () => {
    const dir = tmp();
    const { header, data } = safetensorsParts([
      { name: 'model.layers.0.mlp.up_proj.weight', dtype: 'F32', shape: [12, 8], values: gaussianMatrix(12, 8, 1) },
      { name: 'model.layers.0.mlp.down_proj.weight', dtype: 'F32', shape: [8, 12], values: gaussianMatrix(8, 12, 2) },
      { name: 'model.layers.1.mlp.up_proj.weight', dtype: 'F32', shape: [12, 8], values: gaussianMatrix(12, 8, 3) },
    ]);
    (header['model.layers.0.mlp.down_proj.weight'] as { dtype: string }).dtype = 'F4_MAGIC';
    (header['model.layers.1.mlp.up_proj.weight'] as { data_offsets: number[] }).data_offsets = [384, 99999];
    writeFileSync(join(dir, 'broken.safetensors'), joinSafetensors(header, data));
    const r = await cli(['scan', join(dir, 'broken.safetensors'), '--out', join(dir, 'out'), '--quiet']);
    expect(r.code).toBe(2);
    const errorLines = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
    expect(errorLines).toEqual([
      'error: broken.safetensors: tensor "model.layers.0.mlp.down_proj.weight": unknown dtype "F4_MAGIC"',
      expect.stringMatching(
        /^error: broken\.safetensors: tensor "model\.layers\.1\.mlp\.up_proj\.weight": data_offsets \[384, 99999\] reach beyond the end/,
      ),
    ]);
    const metrics = JSON.parse(readFileSync(join(dir, 'out', 'metrics.json'), 'utf8'));
    expect(metrics.matrices.map((m: { name: string }) => m.name)).toEqual(['model.layers.0.mlp.up_proj.weight']);
    expect(metrics.errors.map((e: { code: string }) => e.code)).toEqual(['UNKNOWN_DTYPE', 'OFFSET_OUT_OF_RANGE']);
    expect(readdirSync(join(dir, 'out'))).toContain('snr_results_broken_unfrozenparameters_25percent.yaml');
  });

  it('fails cleanly on a file that is not safetensors', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'junk.safetensors'), buildSafetensors([]).subarray(0, 4));
    const r = await cli(['scan', join(dir, 'junk.safetensors'), '--out', join(dir, 'o'), '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: junk.safetensors: file is 4 bytes, shorter than the 8-byte header length');
  });
});

describe('spectral-workbench select', () => {
  it("regenerates Spectrum's shipped YAML from its JSON", async () => {
    const out = tmp();
    const json = 'test-fixtures/spectrum-results/snr_results_meta-llama-Meta-Llama-3.1-8B-Instruct.json';
    const r = await cli(['select', json, '--percent', '50', '--out', out]);
    expect(r.code).toBe(0);
    const name = 'snr_results_meta-llama-Meta-Llama-3.1-8B-Instruct_unfrozenparameters_50percent.yaml';
    expect(readFileSync(join(out, name), 'utf8')).toBe(readFileSync(join(root, 'test-fixtures/spectrum-results', name), 'utf8'));
  });
  it('explains its usage', async () => {
    const r = await cli(['select']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('select needs one Spectrum JSON file');
  });
});
