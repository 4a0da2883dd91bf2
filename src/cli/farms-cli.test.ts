import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildSafetensors, gaussianMatrix } from '../../test-fixtures/builders/safetensors.ts';
import { CpuEngine } from '../engine/cpu/cpu-engine.ts';
import { farmsAlpha } from '../core/metrics/farms.ts';
import { farmsExtras } from '../workers/analyze.ts';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/spectral-workbench.js');
const run = promisify(execFile);

interface Row {
  name: string;
  alpha_farms: number | null;
  alpha_peak: number | null;
  mp_rank: number | null;
  n_signal: number | null;
  reasons?: Record<string, string>;
}

async function scan(file: string, extra: string[]): Promise<Row[]> {
  const out = mkdtempSync(join(tmpdir(), 'sw-farms-'));
  await run(process.execPath, [bin, 'scan', file, '--out', out, '--engine', 'cpu', '--quiet', ...extra], { cwd: root });
  return (JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { matrices: Row[] }).matrices;
}

describe('scan --farms', () => {
  it('writes alpha_farms only when asked, null with the reason otherwise; the new fits always', async () => {
    const rows = 120;
    const cols = 240;
    const values = gaussianMatrix(rows, cols, 11, 1 / Math.sqrt(cols));
    const dir = mkdtempSync(join(tmpdir(), 'sw-farms-in-'));
    const file = join(dir, 'model.safetensors');
    writeFileSync(file, buildSafetensors([{ name: 'model.layers.0.mlp.down_proj.weight', dtype: 'F32', shape: [rows, cols], values }]));

    const [plain] = await scan(file, []);
    expect(plain.alpha_farms).toBeNull();
    expect(plain.reasons?.alpha_farms).toMatch(/--farms/);
    expect(plain.alpha_peak).not.toBeNull();
    expect(plain.mp_rank).toBe(plain.n_signal);

    const [withFarms] = await scan(file, ['--farms']);
    // the same windows and fit as in-process: the flag reached the worker (10 × 10 windows of 100 × 200)
    const extras = await farmsExtras(new CpuEngine(), values, rows, cols);
    expect(extras.farmsEigenvalues?.length).toBe(100 * 100);
    const fit = farmsAlpha(extras.farmsEigenvalues ?? new Float64Array());
    expect(fit.status).toBe('success');
    if (fit.status === 'success') expect(withFarms.alpha_farms).toBeCloseTo(fit.alpha, 12);
  });
});
