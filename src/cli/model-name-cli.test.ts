import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/spectral-workbench.js');
const run = promisify(execFile);
const tmp = () => mkdtempSync(join(tmpdir(), 'sw-name-'));

/** The demo's base checkpoint laid out as the Hugging Face cache keeps a download. */
function cacheSnapshot(config: Record<string, unknown>): string {
  const snapshot = join(
    tmp(),
    'hub',
    'models--spectral-workbench--demo-phase0-base',
    'snapshots',
    '9b2f1c07d3e5a8b4c6d0e2f4a6b8c0d2e4f6a8b0',
  );
  mkdirSync(snapshot, { recursive: true });
  copyFileSync(join(root, 'public/demo/phase0-base.safetensors'), join(snapshot, 'model.safetensors'));
  writeFileSync(join(snapshot, 'config.json'), JSON.stringify(config));
  return snapshot;
}

describe('the model name in Spectrum file names', () => {
  it('a Hugging Face cache snapshot gives snr_results_Org-Name…, the same bytes as Spectrum wrote for it', async () => {
    const demoConfig = JSON.parse(readFileSync(join(root, 'public/demo/config.json'), 'utf8')) as Record<string, unknown>;
    const snapshot = cacheSnapshot(demoConfig);
    const out = tmp();
    await run(process.execPath, [bin, 'scan', snapshot, '--out', out, '--percent', '25', '--engine', 'cpu', '--threads', '2', '--quiet'], {
      cwd: root,
    });
    expect(
      readdirSync(out)
        .filter((f) => f.startsWith('snr_results_'))
        .sort(),
    ).toEqual([
      'snr_results_spectral-workbench-demo-phase0-base.json',
      'snr_results_spectral-workbench-demo-phase0-base_unfrozenparameters_25percent.yaml',
    ]);
    // Spectrum's own output for this model (its file names carry the hub id the same way)
    const spectrum = join(root, 'test-fixtures/expected/demo-phases/spectrum-phase0-base');
    const yaml = 'snr_results_spectral-workbench-demo-phase0-base_unfrozenparameters_25percent.yaml';
    expect(readFileSync(join(out, yaml), 'utf8')).toBe(readFileSync(join(spectrum, yaml), 'utf8'));
  });

  it("config.json's _name_or_path names the model; --model-name still wins", async () => {
    const snapshot = cacheSnapshot({ _name_or_path: 'Org/Declared-Name', model_type: 'llama' });
    const declared = tmp();
    const given = tmp();
    await run(process.execPath, [bin, 'scan', snapshot, '--out', declared, '--engine', 'cpu', '--only', 'layers\\.0\\.', '--quiet'], {
      cwd: root,
    });
    await run(
      process.execPath,
      [bin, 'scan', snapshot, '--out', given, '--engine', 'cpu', '--only', 'layers\\.0\\.', '--model-name', 'mine', '--quiet'],
      { cwd: root },
    );
    expect(readdirSync(declared)).toContain('snr_results_Org-Declared-Name.json');
    expect(readdirSync(given)).toContain('snr_results_mine.json');
  });
});
