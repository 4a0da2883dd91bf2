import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { shardSafetensors } from '../../test-fixtures/builders/shard.ts';
import type { DeltaRow } from '../core/exports/delta-metrics.ts';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/spectral-workbench.js');
const demo = (p: string) => join(root, 'public/demo', `${p}.safetensors`);
const tmp = () => mkdtempSync(join(tmpdir(), 'sw-compare-'));

interface DeltaFile {
  from: string;
  to: string;
  changed: number;
  unchanged: number;
  matrices: DeltaRow[];
  errors: unknown[];
}

async function compare(a: string, b: string, extra: string[] = []): Promise<{ out: string; stderr: string; delta: DeltaFile }> {
  const out = tmp();
  const { stderr } = await promisify(execFile)(process.execPath, [bin, 'compare', a, b, '--out', out, '--threads', '2', ...extra], {
    cwd: root,
  });
  return { out, stderr, delta: JSON.parse(readFileSync(join(out, 'delta.json'), 'utf8')) as DeltaFile };
}

describe('spectral-workbench compare', () => {
  const log = JSON.parse(readFileSync(join(root, 'public/demo/training_log.json'), 'utf8')) as Record<
    string,
    { selected?: Record<string, number[]> }
  >;

  it("marks as changed exactly the layers that the demo's training log says phase 1 trained; everything else is exactly zero", async () => {
    const { out, stderr, delta } = await compare(demo('phase0-base'), demo('phase1-25pct'), ['--csv']);
    expect(stderr).toMatch(/phase0-base → phase1-25pct: 147 matrices to analyse/);
    expect(stderr).toMatch(/\[147\/147\] 100%/);
    expect(stderr).toMatch(/147 ΔW analysed \(28 changed, 119 unchanged\), 0 errors/);
    expect([delta.from, delta.to, delta.errors]).toEqual(['phase0-base', 'phase1-25pct', []]);

    const trained = Object.entries(log.phase1.selected!)
      .flatMap(([module, layers]) => layers.map((l) => `${module}@${l}`))
      .sort();
    const changed = delta.matrices
      .filter((m) => !m.unchanged)
      .map((m) => `${m.module}@${m.layer}`)
      .sort();
    expect(trained).toHaveLength(28);
    expect(changed).toEqual(trained);
    expect([delta.changed, delta.unchanged]).toEqual([28, 147 - 28]);

    // Unchanged (norms, embeddings and head included): zeros, no NaN, no null.
    for (const m of delta.matrices.filter((x) => x.unchanged)) {
      expect([m.frobenius, m.relative_norm, m.stable_rank, m.sigma_max, m.energy_rank_90, m.truncatable_99], m.name).toEqual([
        0, 0, 0, 0, 0, 1,
      ]);
    }
    // ‖W_base‖_F, summed while subtracting, against the float64 reference scan of the base checkpoint.
    const reference = JSON.parse(readFileSync(join(root, 'test-fixtures/expected/demo-phases/phase0-base.json'), 'utf8')) as {
      tensors: Record<string, { spectrum: { frobenius: number } }>;
    };
    let checked = 0;
    for (const m of delta.matrices) {
      const want = reference.tensors[m.name]?.spectrum.frobenius;
      if (want === undefined) continue;
      expect(Math.abs(m.base_frobenius! - want) / want, m.name).toBeLessThan(1e-9);
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
    for (const m of delta.matrices.filter((x) => !x.unchanged)) {
      expect(m.relative_norm!).toBeCloseTo(m.frobenius! / m.base_frobenius!, 14);
      expect(m.stable_rank!).toBeGreaterThanOrEqual(1);
      expect(m.truncatable_90!).toBeGreaterThanOrEqual(m.truncatable_95!);
      expect(m.truncatable_95!).toBeGreaterThanOrEqual(m.truncatable_99!);
      // attention: four heads (config.json beside the file), shares of ‖ΔW‖² that sum to 1
      if (m.module.startsWith('self_attn.')) {
        expect(m.head_shares, m.name).toHaveLength(4);
        expect(m.head_axis).toBe(m.module === 'self_attn.o_proj' ? 'cols' : 'rows');
        expect(m.head_shares!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      } else expect(m.head_shares).toBeNull();
    }
    const csv = readFileSync(join(out, 'delta.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(148);
    expect(csv[0]).toMatch(/^name,layer,module,rows,cols,status,unchanged,relative_norm,/);
  }, 60_000);

  it('reads a sharded folder as scan does, with the same numbers', async () => {
    const folder = join(tmp(), 'base');
    mkdirSync(folder);
    for (const [name, bytes] of await shardSafetensors(readFileSync(demo('phase0-base')), 3)) writeFileSync(join(folder, name), bytes);
    copyFileSync(join(root, 'public/demo/config.json'), join(folder, 'config.json'));
    const [fromFolder, fromFile] = [
      await compare(folder, demo('phase2-20pct'), ['--quiet']),
      await compare(demo('phase0-base'), demo('phase2-20pct'), ['--quiet']),
    ];
    const rows = (d: DeltaFile) => d.matrices.map(({ source: _s, ...rest }) => rest);
    expect(rows(fromFolder.delta)).toEqual(rows(fromFile.delta));
    // base → phase 2: what phase 1 and phase 2 trained, together
    const trained = new Set(
      ['phase1', 'phase2'].flatMap((p) =>
        Object.entries(log[p].selected!).flatMap(([module, layers]) => layers.map((l) => `${module}@${l}`)),
      ),
    );
    expect(new Set(fromFile.delta.matrices.filter((m) => !m.unchanged).map((m) => `${m.module}@${m.layer}`))).toEqual(trained);
  }, 60_000);

  it('needs two checkpoints', async () => {
    const r = await promisify(execFile)(process.execPath, [bin, 'compare', demo('phase0-base'), '--out', tmp()], { cwd: root }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect('code' in r && r.code).toBe(1);
    expect(r.stderr).toMatch(/compare needs two checkpoints/);
  });
});
