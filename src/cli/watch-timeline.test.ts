/**
 * `watch DIR --out OUT` extends OUT's timeline as checkpoints appear: after each checkpoint's scan, OUT holds the
 * timeline.json / timeline.csv / timeline.md that `timeline DIR --out` writes for the checkpoints there so far,
 * byte for byte, beside each checkpoint's phase folder. The test writes a synthetic Trainer run one checkpoint at a
 * time and waits for the watcher's own line before writing the next.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { followStderr } from '../../test-fixtures/builders/watched-child.ts';
import { buildSafetensors } from '../../test-fixtures/builders/safetensors.ts';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/spectral-workbench.js');
const tmp = mkdtempSync(join(tmpdir(), 'sw-watch-timeline-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const children: ChildProcess[] = [];
afterAll(() => children.forEach((c) => c.exitCode === null && c.signalCode === null && c.kill('SIGKILL')));
/** How long a wait may last before the test fails with the watcher's stderr instead of hanging (a guard, not a timing). */
const HANG_GUARD_MS = 60_000;

const LAYERS = 3;
const MODULES = ['self_attn.q_proj', 'self_attn.v_proj', 'mlp.down_proj'];
const [ROWS, COLS] = [24, 40];

/**
 * The singular values planted in a matrix: σ_j = 1 / (1 + j·d) with d growing with the step and the layer, so its
 * stable rank Σσ²/σ_max² is known in closed form and falls over training.
 */
function plantedSingularValues(step: number, layer: number, module: number): number[] {
  const d = 0.05 + step / 1000 + layer * 0.03 + module * 0.01;
  return Array.from({ length: ROWS }, (_, j) => 1 / (1 + j * d));
}
const stableRank = (s: number[]) => s.reduce((a, x) => a + x * x, 0) / (s[0] * s[0]);

/** A ROWS × COLS matrix with exactly those singular values: σ_j at (j, (3j + 1) mod COLS), every column used once at most. */
function plantedMatrix(singular: number[]): Float32Array {
  const m = new Float32Array(ROWS * COLS);
  singular.forEach((s, j) => (m[j * COLS + ((3 * j + 1) % COLS)] = j % 2 === 0 ? s : -s));
  return m;
}

/** checkpoint-<step>/ as the Hugging Face Trainer writes it: the weights, then trainer_state.json (its completion marker). */
function writeCheckpoint(run: string, step: number): void {
  const folder = join(run, `checkpoint-${step}`);
  mkdirSync(folder, { recursive: true });
  const tensors = [];
  for (let layer = 0; layer < LAYERS; layer++)
    for (const [i, module] of MODULES.entries())
      tensors.push({
        name: `model.layers.${layer}.${module}.weight`,
        dtype: 'F32',
        shape: [ROWS, COLS],
        values: plantedMatrix(plantedSingularValues(step, layer, i)),
      });
  writeFileSync(join(folder, 'model.safetensors'), buildSafetensors(tensors));
  const logHistory = Array.from({ length: step / 50 }, (_, i) => ({ step: (i + 1) * 50, loss: 4 - i * 0.25, learning_rate: 1e-4 }));
  writeFileSync(join(folder, 'trainer_state.json'), JSON.stringify({ global_step: step, log_history: logHistory }));
}

function watch(run: string, out: string) {
  const child = spawn(
    process.execPath,
    [bin, 'watch', run, '--out', out, '--percent', '25', '--interval', '0.2', '--engine', 'cpu', '--threads', '1', '--quiet'],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.push(child);
  return { child, ...followStderr(child, 'watch', HANG_GUARD_MS) };
}

const FILES = ['timeline.json', 'timeline.csv', 'timeline.md'];

interface TimelineFile {
  checkpoints: { step: number | null; label: string; scanned: boolean }[];
  matrices: { name: string; layer: number; module: string; stable_rank: (number | null)[] }[];
  history: { step: number; loss?: number }[];
}

describe('watch extends the timeline as checkpoints appear', () => {
  it('writes, after each checkpoint, the files `timeline DIR` writes for the checkpoints so far, beside the phase folders', async () => {
    const run = join(tmp, 'run');
    const out = join(tmp, 'watch-out');
    mkdirSync(run);
    const steps = [100, 200, 300];
    const w = watch(run, out);
    try {
      for (const [k, step] of steps.entries()) {
        writeCheckpoint(run, step);
        await w.waitFor(/timeline of \d+ of \d+ checkpoints written to /, k + 1);
        expect(w.stderr()).toContain(`timeline of ${k + 1} of ${k + 1} checkpoints written to ${join(out, 'timeline.json')}`);
        const watched = FILES.map((f) => readFileSync(join(out, f), 'utf8'));

        // the reference: `timeline` on the run folder as it stands (the next checkpoint is written only after this)
        const reference = join(tmp, `timeline-${step}`);
        await promisify(execFile)(
          process.execPath,
          [bin, 'timeline', run, '--out', reference, '--engine', 'cpu', '--threads', '1', '--quiet'],
          {
            cwd: root,
          },
        );
        FILES.forEach((f, i) => expect(watched[i], `${f} after checkpoint-${step}`).toBe(readFileSync(join(reference, f), 'utf8')));

        // and what it says, against the planted spectra
        const t = JSON.parse(watched[0]) as TimelineFile;
        const upTo = steps.slice(0, k + 1);
        expect(t.checkpoints.map((c) => [c.step, c.label, c.scanned])).toEqual(upTo.map((s) => [s, `checkpoint-${s}`, true]));
        expect(t.history.map((p) => p.step)).toEqual(Array.from({ length: step / 50 }, (_, i) => (i + 1) * 50));
        expect(t.matrices.length).toBe(LAYERS * MODULES.length);
        for (const m of t.matrices) {
          const i = MODULES.findIndex((name) => m.name.endsWith(`.${name}.weight`));
          upTo.forEach((s, j) => {
            const expected = stableRank(plantedSingularValues(s, m.layer, i));
            expect(Math.abs(m.stable_rank[j]! - expected) / expected, `${m.name} at step ${s}`).toBeLessThan(1e-5);
          });
        }
        // the phase's YAML is still written per checkpoint, in its own folder beside the timeline
        expect(existsSync(join(out, `checkpoint-${step}`, `snr_results_checkpoint-${step}_unfrozenparameters_25percent.yaml`))).toBe(true);
      }
    } finally {
      w.child.kill('SIGINT');
    }
    expect(await w.exited, w.stderr()).toBe(0);
  }, 180_000);
});
