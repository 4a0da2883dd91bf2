/**
 * `watch` scans a checkpoint only once it is complete (its files held still between two looks and every
 * byte range its headers name written, or the trainer's marker), scans it again when it is rewritten,
 * and never writes a phase's YAML from part of a scan. Files are written in bursts by the test; the
 * watcher's own lines say when it has looked.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { followStderr } from '../../test-fixtures/builders/watched-child.ts';
import { buildSafetensors, gaussianMatrix } from '../../test-fixtures/builders/safetensors.ts';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/spectral-workbench.js');
const tmp = mkdtempSync(join(tmpdir(), 'sw-watch-complete-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
/** Every watcher started, killed after the tests whatever happened (a test that fails on a hang leaves none behind). */
const children: ChildProcess[] = [];
afterAll(() => children.forEach((c) => c.exitCode === null && c.signalCode === null && c.kill('SIGKILL')));
/** How long a wait may last before the test fails with the watcher's stderr instead of hanging (a guard, not a timing). */
const HANG_GUARD_MS = 45_000;
const demo = (p: string) => readFileSync(join(root, 'public/demo', `${p}.safetensors`));
/** Spectrum's own 20% YAML for a demo checkpoint (spectrum.py's output, test-fixtures/expected). */
const expectedYaml = (p: string) =>
  readFileSync(
    join(
      root,
      `test-fixtures/expected/demo-phases/spectrum-${p}/snr_results_spectral-workbench-demo-${p}_unfrozenparameters_20percent.yaml`,
    ),
    'utf8',
  );

/** `watch` as a child process, and a way to wait for its n-th stderr line matching a pattern. */
function watch(run: string, out: string, ...extra: string[]) {
  const child = spawn(
    process.execPath,
    [bin, 'watch', run, '--out', out, '--percent', '20', '--interval', '0.2', '--threads', '1', ...extra],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  children.push(child);
  return { child, ...followStderr(child, 'watch', HANG_GUARD_MS) };
}

async function once(run: string, out: string): Promise<{ code: number; stderr: string }> {
  return promisify(execFile)(process.execPath, [bin, 'watch', run, '--out', out, '--once', '--threads', '1', '--quiet'], {
    cwd: root,
  }).then(
    (x) => ({ code: 0, stderr: x.stderr }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );
}

interface Metrics {
  complete?: boolean;
  not_analysed?: string[];
  matrices: { name: string }[];
  errors: { code: string }[];
}
const metricsIn = (dir: string) => JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as Metrics;

describe('watch', () => {
  it('waits for a checkpoint written in two bursts, writes its YAML once, and scans it again when it is rewritten', async () => {
    const run = join(tmp, 'bursts');
    const out = join(tmp, 'bursts-out');
    mkdirSync(join(run, 'checkpoint-1'), { recursive: true });
    const file = join(run, 'checkpoint-1', 'model.safetensors');
    const yaml = join(out, 'checkpoint-1', 'snr_results_checkpoint-1_unfrozenparameters_20percent.yaml');
    const w = watch(run, out, '--quiet');
    try {
      for (const [n, phase] of [
        [1, 'phase1-25pct'],
        [2, 'phase2-20pct'],
      ] as const) {
        const bytes = demo(phase);
        const half = Math.floor(bytes.byteLength / 2);
        writeFileSync(file, bytes.subarray(0, half));
        // said once the half file held still between two looks: seen, and not scanned
        await w.waitFor(/checkpoint-1: not complete yet \(model\.safetensors holds .* of weights\); waiting\n/, n);
        expect(w.stderr()).not.toMatch(n === 1 ? /new checkpoint: / : /changed: scanning it again/);
        if (n === 1) expect(existsSync(join(out, 'checkpoint-1'))).toBe(false);
        appendFileSync(file, bytes.subarray(half));
        await w.waitFor(/checkpoint-1: next phase's YAML written to /, n);
        expect(readFileSync(yaml, 'utf8'), phase).toBe(expectedYaml(phase));
        const metrics = metricsIn(join(out, 'checkpoint-1'));
        expect(metrics.complete).toBeUndefined();
        expect(metrics.errors).toEqual([]);
      }
      expect(w.stderr().match(/new checkpoint: checkpoint-1\n/g)).toHaveLength(1);
      expect(w.stderr().match(/checkpoint-1 changed: scanning it again\n/g)).toHaveLength(1);
    } finally {
      w.child.kill('SIGINT');
    }
    expect(await w.exited, w.stderr()).toBe(0);
  });

  it('waits for every shard its index names, and takes the trainer’s marker for complete', async () => {
    const run = join(tmp, 'sharded');
    const out = join(tmp, 'sharded-out');
    const names = Array.from({ length: 4 }, (_, i) => `model.layers.${i}.mlp.down_proj.weight`);
    const shard = (part: string[]) =>
      buildSafetensors(
        part.map((name) => ({ name, dtype: 'F32', shape: [48, 32], values: gaussianMatrix(48, 32, names.indexOf(name) + 1) })),
      );
    const [a, b] = [shard(names.slice(0, 2)), shard(names.slice(2))];
    const folder = join(run, 'step-100');
    mkdirSync(folder, { recursive: true });
    const index = { weight_map: Object.fromEntries(names.map((n, i) => [n, i < 2 ? 'weights-a.safetensors' : 'weights-b.safetensors'])) };
    writeFileSync(join(folder, 'model.safetensors.index.json'), JSON.stringify(index));
    writeFileSync(join(folder, 'weights-a.safetensors'), a);

    let r = await once(run, out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('step-100: not complete yet (weights-b.safetensors is not there yet); skipped\n');
    writeFileSync(join(folder, 'weights-b.safetensors'), b.subarray(0, b.byteLength - 100));
    r = await once(run, out);
    expect(r.stderr).toMatch(/step-100: not complete yet \(weights-b\.safetensors holds .* of weights\); skipped\n/);
    expect(readdirSync(out)).toEqual([]);

    appendFileSync(join(folder, 'weights-b.safetensors'), b.subarray(b.byteLength - 100));
    // the trainer's checkpoint-N/ with its marker: complete as the trainer says, its truncation reported by the scan
    mkdirSync(join(run, 'checkpoint-7'));
    writeFileSync(join(run, 'checkpoint-7', 'model.safetensors'), a.subarray(0, a.byteLength - 100));
    writeFileSync(join(run, 'checkpoint-7', 'trainer_state.json'), '{}');
    r = await once(run, out);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('new checkpoint: step-100\n');
    expect(r.stderr).toContain('new checkpoint: checkpoint-7\n');
    const sharded = metricsIn(join(out, 'step-100'));
    expect(sharded.matrices.map((m) => m.name).sort()).toEqual([...names].sort());
    expect(sharded.errors).toEqual([]);
    expect(metricsIn(join(out, 'checkpoint-7')).errors.length).toBeGreaterThan(0);
  });

  it('stopped by Ctrl-C during a scan: metrics.json marked incomplete, no YAML, exit 130', async () => {
    const run = join(tmp, 'cut');
    const out = join(tmp, 'cut-out');
    mkdirSync(join(run, 'checkpoint-3'), { recursive: true });
    const names = Array.from({ length: 16 }, (_, i) => `model.layers.${i}.mlp.down_proj.weight`);
    writeFileSync(
      join(run, 'checkpoint-3', 'model.safetensors'),
      buildSafetensors(names.map((name, i) => ({ name, dtype: 'F32', shape: [768, 768], values: gaussianMatrix(768, 768, i + 1, 0.05) }))),
    );
    const w = watch(run, out);
    await w.waitFor(/\[\s*\d+\/\d+\] /); // its first progress line: the scan has started
    w.child.kill('SIGINT');
    expect(await w.exited, w.stderr()).toBe(130);
    const dir = join(out, 'checkpoint-3');
    expect(readdirSync(dir)).toEqual(['metrics.json']);
    const m = metricsIn(dir);
    expect(m.complete).toBe(false);
    expect(m.not_analysed!.length).toBeGreaterThan(0);
    expect([...m.matrices.map((x) => x.name), ...m.not_analysed!].sort()).toEqual([...names].sort());
    expect(w.stderr()).toMatch(
      /checkpoint-3: stopped after \d+ matrices \(\d+ not analysed\): no YAML written; metrics\.json in .* is marked incomplete\n/,
    );
  });
});
