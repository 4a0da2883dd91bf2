import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/spectral-workbench.js');
const demo = (p: string) => join(root, 'public/demo', `${p}.safetensors`);
const tmp = () => mkdtempSync(join(tmpdir(), 'sw-phases-'));

describe('spectral-workbench phases', () => {
  it("writes each phase's files and a transitions report that matches the demo's training log", async () => {
    const out = tmp();
    await promisify(execFile)(
      process.execPath,
      [
        bin,
        'phases',
        demo('phase0-base'),
        demo('phase1-25pct'),
        demo('phase2-20pct'),
        '--percent',
        '25',
        '20',
        '15',
        '--out',
        out,
        '--quiet',
      ],
      { cwd: root },
    );
    const report = JSON.parse(readFileSync(join(out, 'transitions.json'), 'utf8'));
    const log = JSON.parse(readFileSync(join(root, 'public/demo/training_log.json'), 'utf8'));
    expect(report.phases.map((p: { percent: number }) => p.percent)).toEqual([25, 20, 15]);
    report.phases.forEach((p: { selected: Record<string, string[]> }, i: number) => {
      for (const [type, layers] of Object.entries(log[`phase${i + 1}`].selected as Record<string, number[]>)) {
        const got = p.selected[type].map((n) => Number(/layers\.(\d+)\./.exec(n)![1])).sort((a, b) => a - b);
        expect(got, `phase ${i + 1} ${type}`).toEqual(layers);
      }
    });
    const t = report.phases[1].transition;
    expect(t.kept + t.newly_selected).toBe(
      report.phases[1].selected ? Object.values(report.phases[1].selected as Record<string, string[]>).flat().length : -1,
    );
    expect(readFileSync(join(out, 'transitions.md'), 'utf8')).toMatch(
      /## phase0-base → phase1-25pct\n\n\d+ kept, \d+ newly selected, \d+ dropped; Jaccard 0\.\d{3}\./,
    );
    // each phase folder holds that phase's YAML, byte for byte Spectrum's (as the scan test shows for single files)
    expect(readFileSync(join(out, 'phase-2-phase1-25pct', 'snr_results_phase1-25pct_unfrozenparameters_20percent.yaml'), 'utf8')).toBe(
      readFileSync(
        join(
          root,
          'test-fixtures/expected/demo-phases/spectrum-phase1-25pct/snr_results_spectral-workbench-demo-phase1-25pct_unfrozenparameters_20percent.yaml',
        ),
        'utf8',
      ),
    );
  });
});

describe('spectral-workbench watch', () => {
  it('rescans each new checkpoint that appears in a training run folder and writes its YAML', async () => {
    const run = tmp();
    const out = tmp();
    const child = spawn(process.execPath, [bin, 'watch', run, '--percent', '20', '--out', out, '--interval', '1', '--quiet'], {
      cwd: root,
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const waitFor = async (path: string) => {
      for (let i = 0; i < 120 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 250));
      return existsSync(path);
    };
    try {
      mkdirSync(join(run, 'checkpoint-200'));
      copyFileSync(demo('phase1-25pct'), join(run, 'checkpoint-200', 'model.safetensors'));
      expect(await waitFor(join(out, 'checkpoint-200', 'snr_results_checkpoint-200_unfrozenparameters_20percent.yaml'))).toBe(true);
      copyFileSync(demo('phase2-20pct'), join(run, 'checkpoint-400.safetensors'));
      expect(await waitFor(join(out, 'checkpoint-400', 'snr_results_checkpoint-400_unfrozenparameters_20percent.yaml'))).toBe(true);
    } finally {
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
    }
    expect(stderr).toContain('new checkpoint: checkpoint-200');
    expect(stderr).toContain('new checkpoint: checkpoint-400');
    // the phase-1 checkpoint at 20% selects what the demo's phase 2 trained
    const yaml = readFileSync(join(out, 'checkpoint-200', 'snr_results_checkpoint-200_unfrozenparameters_20percent.yaml'), 'utf8');
    expect(yaml).toBe(
      readFileSync(
        join(
          root,
          'test-fixtures/expected/demo-phases/spectrum-phase1-25pct/snr_results_spectral-workbench-demo-phase1-25pct_unfrozenparameters_20percent.yaml',
        ),
        'utf8',
      ),
    );
  });
});
