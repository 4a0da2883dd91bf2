// `spectral-workbench plan` on the demo checkpoint, a metrics.json and a shipped Spectrum result JSON, against
// Spectrum's own YAML files and the published methods' defaults (docs/plans.md).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/spectral-workbench.js');
const run = promisify(execFile);

async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, [bin, ...args], { cwd: root });
    return { code: 0, stderr };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
}

const tmp = () => mkdtempSync(join(tmpdir(), 'sw-plan-'));
const readJson = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;

interface LrMatrix {
  name: string;
  lr: number;
  tuned: boolean;
  reason?: string;
}
interface PlanJson {
  source: string;
  learning_rates: {
    rule_used: string;
    tempbalance: { metric: string; matrices: LrMatrix[] } | { unavailable: string };
    snr: { matrices: (LrMatrix & { snr: number | string | null })[] };
  };
  sparsity: { unavailable?: string };
  ranks: { unavailable?: string; matrices?: { name: string; mp_rank: number | null; max_rank: number }[] };
}
interface SparsityJson {
  sparsity: number;
  blocks: { layer: number; mean_alpha_peak: number; params: number; ratio: number }[];
  matrices: { name: string; layer: number; params: number; ratio: number }[];
  ratios: number[];
}

describe('spectral-workbench plan', () => {
  it('plans the demo checkpoint: lr_groups after Spectrum’s own YAML bytes, TempBalance’s endpoints, AlphaPruning’s mean S', async () => {
    const out = tmp();
    const r = await cli(['plan', 'public/demo/phase1-25pct.safetensors', '--out', out, '--engine', 'cpu', '--threads', '2', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      'drop-order.json',
      'laser.json',
      'lr_groups.json',
      'lr_groups.yaml',
      'plan.json',
      'rank_pattern.json',
      'sparsity.json',
    ]);
    // the unfrozen_parameters part is spectrum.py's own file for this checkpoint at 25 %, byte for byte
    const spectrumYaml = readFileSync(
      join(
        root,
        'test-fixtures/expected/demo-phases/spectrum-phase1-25pct/snr_results_spectral-workbench-demo-phase1-25pct_unfrozenparameters_25percent.yaml',
      ),
      'utf8',
    );
    const yaml = readFileSync(join(out, 'lr_groups.yaml'), 'utf8');
    expect(yaml.startsWith(spectrumYaml)).toBe(true);
    const doc = parse(yaml, { version: '1.1' }) as { learning_rate: number; lr_groups: { name: string; modules: string[]; lr: number }[] };
    expect(doc.learning_rate).toBe(2e-5);
    // 7 × 16 block matrices and lm_head are Linear; TempBalance leaves the first (layer 0's q_proj) and the last (lm_head) at η
    expect(doc.lr_groups).toHaveLength(7 * 16 - 1);
    const lrs = doc.lr_groups.map((g) => g.lr);
    expect(Math.min(...lrs)).toBe(0.5 * 2e-5);
    expect(Math.max(...lrs)).toBe(1.5 * 2e-5);
    expect(doc.lr_groups.map((g) => g.modules[0])).not.toContain('model.layers.0.self_attn.q_proj.weight');
    const plan = readJson<PlanJson>(join(out, 'plan.json'));
    const tb = plan.learning_rates.tempbalance as { metric: string; matrices: LrMatrix[] };
    expect(tb.matrices.find((m) => m.name === 'lm_head.weight')).toMatchObject({ tuned: false, lr: 2e-5 });
    // the scan keeps every singular value for the plan, so TempBalance uses its own median fit; the ends of its
    // range are those of the numpy port of TempBalance's code (test-fixtures/expected/plans-reference.json)
    expect(tb.metric).toBe('alpha_mid');
    const byLr = [...tb.matrices].filter((m) => m.tuned).sort((a, b) => a.lr - b.lr);
    expect(byLr[0].name).toBe('model.layers.15.self_attn.o_proj.weight');
    expect(byLr[byLr.length - 1].name).toBe('model.layers.1.mlp.up_proj.weight');

    const sparsity = readJson<SparsityJson>(join(out, 'sparsity.json'));
    expect(sparsity.blocks).toHaveLength(16);
    // the demo's blocks: 4 · 128² attention + 3 · 128 · 352 MLP parameters each
    expect(sparsity.blocks.every((b) => b.params === 4 * 128 * 128 + 3 * 128 * 352)).toBe(true);
    const total = sparsity.matrices.reduce((a, m) => a + m.params, 0);
    const mean = sparsity.matrices.reduce((a, m) => a + m.params * m.ratio, 0) / total;
    expect(Math.abs(mean - 0.5)).toBeLessThan(1e-12);
    expect(sparsity.ratios).toEqual(sparsity.matrices.map((m) => m.ratio));
    const byScore = [...sparsity.blocks].sort((a, b) => a.mean_alpha_peak - b.mean_alpha_peak);
    for (let i = 1; i < byScore.length; i++) expect(byScore[i].ratio).toBeGreaterThanOrEqual(byScore[i - 1].ratio);
    // unscaled ratios span [0.7, 1.3]: one common factor keeps max/min
    const ratios = sparsity.blocks.map((b) => b.ratio);
    expect(Math.max(...ratios) / Math.min(...ratios)).toBeCloseTo(1.3 / 0.7, 12);

    const pattern = readJson<Record<string, number>>(join(out, 'rank_pattern.json'));
    expect(Object.keys(pattern)).toHaveLength(7 * 16);
    expect(Object.keys(pattern)[0]).toBe('model.layers.0.self_attn.q_proj');
    for (const [k, v] of Object.entries(pattern)) expect(v >= 1 && v <= 128, k).toBe(true); // min(rows, cols) = 128 for every demo matrix

    // a second run does not replace the files without --force
    const again = await cli(['plan', 'public/demo/phase1-25pct.safetensors', '--out', out, '--engine', 'cpu']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds lr_groups\.yaml, .*drop-order\.json.*--force to replace them/);
  }, 240_000);

  it('plans a shipped Spectrum result JSON with the SNR rule only, after spectrum.py’s own 50 % YAML', async () => {
    const out = tmp();
    const base = 'test-fixtures/spectrum-results/snr_results_meta-llama-Meta-Llama-3.1-8B-Instruct';
    const r = await cli(['plan', `${base}.json`, '--out', out, '--percent', '50', '--lr', '1e-4']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/no sparsity\.json: a Spectrum result JSON holds the SNR of each module only/);
    expect(readdirSync(out).sort()).toEqual(['lr_groups.json', 'lr_groups.yaml', 'plan.json']);
    const spectrumYaml = readFileSync(`${base}_unfrozenparameters_50percent.yaml`, 'utf8');
    const yaml = readFileSync(join(out, 'lr_groups.yaml'), 'utf8');
    expect(yaml.startsWith(spectrumYaml)).toBe(true);
    const plan = readJson<PlanJson>(join(out, 'plan.json'));
    expect(plan.learning_rates.rule_used).toBe('snr');
    expect(plan.learning_rates.tempbalance).toEqual({ unavailable: expect.stringMatching(/SNR of each module only/) as unknown });
    // per type, from the file itself: the highest stored SNR gets 1.5η, the lowest 0.5η
    // Spectrum's file holds Python's Infinity: 1e999 reads as Infinity
    const theirs = JSON.parse(readFileSync(`${base}.json`, 'utf8').replace(/\bInfinity\b/g, '1e999')) as Record<
      string,
      Record<string, number>
    >;
    const lrOf = new Map(plan.learning_rates.snr.matrices.map((m) => [m.name, m.lr]));
    for (const type of ['mlp.down_proj', 'self_attn.q_proj', 'self_attn.v_proj']) {
      const entries = Object.entries(theirs[type]);
      const top = entries.reduce((a, b) => (b[1] > a[1] ? b : a));
      const bottom = entries.reduce((a, b) => (b[1] < a[1] ? b : a));
      expect(lrOf.get(`${top[0]}.weight`), type).toBe(1.5 * 1e-4);
      expect(lrOf.get(`${bottom[0]}.weight`), type).toBe(0.5 * 1e-4);
    }
    const asked = await cli(['plan', `${base}.json`, '--out', tmp(), '--lr-rule', 'tempbalance']);
    expect(asked.code).toBe(1);
    expect(asked.stderr).toMatch(/TempBalance needs spectra/);
  }, 60_000);

  it('plans from a metrics.json: alpha stands in for the median fit, and mp_rank is read', async () => {
    const dir = tmp();
    const row = (layer: number, module: string, alpha: number, snr: number) => ({
      name: `model.layers.${layer}.${module}.weight`,
      file: 'm.safetensors',
      layer,
      module,
      shape: [64, 32],
      dtype: 'F32',
      status: 'ok',
      snr,
      alpha,
      alpha_peak: alpha + 0.5,
      mp_rank: 3 + layer,
    });
    const metrics = {
      tool: 'spectral-workbench',
      model: 'tiny',
      matrices: [
        row(0, 'self_attn.q_proj', 3, 1),
        row(0, 'mlp.up_proj', 4, 2),
        row(1, 'self_attn.q_proj', 2, 3),
        row(1, 'mlp.up_proj', 6, 4),
      ],
    };
    writeFileSync(join(dir, 'metrics.json'), JSON.stringify(metrics));
    const out = join(dir, 'plan');
    const r = await cli(['plan', join(dir, 'metrics.json'), '--out', out, '--sparsity', '0.6', '--epsilon', '0.2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/WeightWatcher's alpha \(KS-optimal xmin\) stands in/);
    const plan = readJson<PlanJson>(join(out, 'plan.json'));
    const tb = plan.learning_rates.tempbalance as { metric: string; matrices: LrMatrix[] };
    expect(tb.metric).toBe('alpha');
    // no lm_head: the last Linear is layer 1's up_proj; tuned: layer 0 up (4) and layer 1 q (2) → 1.5η and 0.5η
    expect(tb.matrices.map((m) => [m.tuned, m.lr])).toEqual([
      [false, 2e-5],
      [true, 1.5 * 2e-5],
      [true, 0.5 * 2e-5],
      [false, 2e-5],
    ]);
    // blocks of 4096 parameters with mean alpha_peak 4 and 4.5: 0.8 and 1.2, scaled by 0.6 · 2 / 2
    const sparsity = readJson<SparsityJson>(join(out, 'sparsity.json'));
    expect(sparsity.blocks.map((b) => b.ratio)).toEqual([expect.closeTo(0.48, 15), expect.closeTo(0.72, 15)]);
    expect(readJson<Record<string, number>>(join(out, 'rank_pattern.json'))).toEqual({
      'model.layers.0.self_attn.q_proj': 3,
      'model.layers.0.mlp.up_proj': 3,
      'model.layers.1.self_attn.q_proj': 4,
      'model.layers.1.mlp.up_proj': 4,
    });
  }, 60_000);

  it('refuses a bad number with one line', async () => {
    for (const [flag, value] of [
      ['--lr', '0'],
      ['--sparsity', '1'],
      ['--epsilon', 'x'],
    ]) {
      const r = await cli(['plan', 'public/demo/phase1-25pct.safetensors', '--out', tmp(), flag, value]);
      expect(r.code, flag).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`${flag} must be a number`));
    }
  }, 60_000);
});
