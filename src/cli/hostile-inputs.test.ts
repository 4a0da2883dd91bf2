/**
 * Crafted files through the CLI as a process: a tensor name that axolotl would read as "unfreeze
 * everything", and a LoRA adapter whose rank_pattern keys would make a backtracking matcher run for ages.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSafetensors, gaussianMatrix } from '../../test-fixtures/builders/safetensors.ts';

const root = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'sw-hostile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function scan(input: string, out: string, ...extra: string[]) {
  const args = [join(root, 'bin/spectral-workbench.js'), 'scan', input, '--out', out, '--threads', '1', '--quiet', ...extra];
  return promisify(execFile)(process.execPath, args, { cwd: root }).then(
    (x) => ({ code: 0, stderr: x.stderr }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );
}

interface Metrics {
  matrices: { name: string; snr: number | null; sigma_max: number | null }[];
  errors: { file: string; tensor?: string; code: string; message: string }[];
}
const metricsIn = (dir: string) => JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as Metrics;

describe('a tensor name axolotl would read as a pattern', () => {
  it('is analysed, left out of the YAML, and reported as an error naming it', async () => {
    const evil = 'model.layers.0.mlp.x|.*';
    const tensors = ['model.layers.0.mlp.up_proj', 'model.layers.1.mlp.up_proj', evil].map((m, i) => ({
      name: `${m}.weight`,
      dtype: 'F32',
      shape: [24, 16],
      values: gaussianMatrix(24, 16, i + 1),
    }));
    const file = join(tmp, 'evil.safetensors');
    writeFileSync(file, buildSafetensors(tensors));
    const out = join(tmp, 'evil-out');
    const r = await scan(file, out, '--percent', '100', '--model-name', 'm');
    expect(r.code, r.stderr).toBe(2);
    const yamlName = 'snr_results_m_unfrozenparameters_100percent.yaml';
    const yaml = readFileSync(join(out, yamlName), 'utf8');
    // entries only (the "# type layers" comment may show the type: axolotl does not read comments)
    const entries = yaml.split('\n').filter((l) => l.startsWith('- '));
    expect(entries.filter((l) => /[|*]/.test(l))).toEqual([]);
    expect(yaml).toContain('\n- model.layers.0.mlp.up_proj\n');
    expect(yaml).toContain('\n- model.layers.1.mlp.up_proj\n');
    const metrics = metricsIn(out);
    expect(metrics.matrices.map((m) => m.name)).toContain(`${evil}.weight`);
    expect(metrics.errors).toEqual([expect.objectContaining({ file: yamlName, tensor: evil, code: 'TENSOR_ENTRY_INVALID' })]);
    expect(r.stderr).toContain(`error: ${yamlName}: tensor "${evil}": left out: axolotl reads each entry as a regular expression`);
  });
});

describe('a LoRA adapter with hostile rank_pattern keys', () => {
  it('is scanned with the config r and alpha, and the key that cannot be run is reported', async () => {
    const dir = join(tmp, 'adapter');
    mkdirSync(dir);
    // a module name that makes (a+)+ backtrack without end in a regex engine that backtracks
    const module = `base_model.model.model.layers.0.${'a'.repeat(40)}!.q_proj`;
    const a = gaussianMatrix(8, 32, 1);
    const b = gaussianMatrix(48, 8, 2);
    writeFileSync(
      join(dir, 'adapter_model.safetensors'),
      buildSafetensors([
        { name: `${module}.lora_A.weight`, dtype: 'F32', shape: [8, 32], values: a },
        { name: `${module}.lora_B.weight`, dtype: 'F32', shape: [48, 8], values: b },
      ]),
    );
    const config = { r: 8, lora_alpha: 32, rank_pattern: { '(a+)+': 2, '(.*.*)*z': 4 }, alpha_pattern: { '(?<=x)q_proj': 1 } };
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(config));
    const out = join(tmp, 'adapter-out');
    const r = await scan(dir, out, '--engine', 'cpu');
    expect(r.code, r.stderr).toBe(2);
    const metrics = metricsIn(out);
    expect(metrics.errors).toEqual([expect.objectContaining({ file: 'adapter_config.json', code: 'INDEX_INVALID' })]);
    expect(metrics.errors[0].message).toContain('alpha_pattern key "(?<=x)q_proj" is not run as a regular expression');
    expect(r.stderr).toContain('error: adapter_config.json: alpha_pattern key "(?<=x)q_proj"');
    // ΔW = (32 / 8)·B·A (no key matched): σ_max against B·A's, computed here in float64
    const [row] = metrics.matrices;
    expect(row.name).toBe(`${module}.lora_delta`);
    expect(row.sigma_max! / sigmaMaxOf(b, a, 48, 8, 32)).toBeCloseTo(32 / 8, 6);
  });
});

/** σ_max of B·A (m × r times r × n), float64, by power iteration on (BA)ᵀ(BA) to convergence. */
function sigmaMaxOf(b: Float32Array, a: Float32Array, m: number, r: number, n: number): number {
  const w = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let k = 0; k < r; k++) for (let j = 0; j < n; j++) w[i * n + j] += b[i * r + k] * a[k * n + j];
  let v = new Float64Array(n).fill(1);
  let sigma = 0;
  for (let it = 0; it < 5000; it++) {
    const u = new Float64Array(m);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) u[i] += w[i * n + j] * v[j];
    const next = new Float64Array(n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) next[j] += w[i * n + j] * u[i];
    const norm = Math.hypot(...next);
    sigma = Math.sqrt(norm);
    v = next.map((x) => x / norm);
  }
  return sigma;
}
