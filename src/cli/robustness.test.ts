/**
 * Damaged inputs through the CLI, as a user meets them: weights with NaN and Infinity, a sharded checkpoint
 * with a shard missing or cut short. The scan goes on; metrics.json says what happened to each tensor.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSafetensors, gaussianMatrix } from '../../test-fixtures/builders/safetensors.ts';
import { shardSafetensors } from '../../test-fixtures/builders/shard.ts';

const root = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'sw-robust-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function scan(input: string, ...extra: string[]) {
  const out = join(tmp, `out-${Math.random().toString(36).slice(2)}`);
  const args = [join(root, 'bin/spectral-workbench.js'), 'scan', input, '--out', out, '--threads', '2', '--quiet', ...extra];
  const r = await promisify(execFile)(process.execPath, args, { cwd: root }).then(
    (x) => ({ code: 0, stderr: x.stderr }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );
  return { ...r, out, metrics: JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as Metrics };
}

interface Row {
  name: string;
  status: string;
  non_finite?: number;
  snr: number | null;
  reasons?: Record<string, string>;
}
interface Metrics {
  matrices: Row[];
  missing: { name: string; file: string }[];
  errors: { file: string; tensor?: string; code: string; message: string }[];
}

/** Two layers of a small Llama-like block: q, k, v, o and the MLP, Gaussian. */
function layers(count: number, poison: (name: string, values: Float32Array) => void = () => {}) {
  const shapes: Record<string, [number, number]> = {
    'self_attn.q_proj': [32, 32],
    'self_attn.k_proj': [16, 32],
    'self_attn.v_proj': [16, 32],
    'self_attn.o_proj': [32, 32],
    'mlp.gate_proj': [48, 32],
    'mlp.up_proj': [48, 32],
    'mlp.down_proj': [32, 48],
  };
  let seed = 1;
  return Array.from({ length: count }, (_, layer) =>
    Object.entries(shapes).map(([m, [r, c]]) => {
      const name = `model.layers.${layer}.${m}.weight`;
      const values = gaussianMatrix(r, c, seed++, 0.05);
      poison(name, values);
      return { name, dtype: 'F32', shape: [r, c], values };
    }),
  ).flat();
}

describe('weights with NaN or Infinity', () => {
  it('are reported as non-finite with their count; every other matrix is analysed', async () => {
    const nan = 'model.layers.0.mlp.up_proj.weight';
    const inf = 'model.layers.1.self_attn.k_proj.weight';
    const tensors = layers(2, (name, v) => {
      if (name === nan) [3, 50, 51, 700].forEach((i) => (v[i] = NaN));
      if (name === inf) [0, 9].forEach((i, k) => (v[i] = k ? -Infinity : Infinity));
    });
    const file = join(tmp, 'nonfinite.safetensors');
    writeFileSync(file, buildSafetensors(tensors));
    const r = await scan(file, '--csv');
    expect(r.code, r.stderr).toBe(0);
    expect(r.metrics.matrices).toHaveLength(14);
    const row = (n: string) => r.metrics.matrices.find((m) => m.name === n)!;
    expect(row(nan)).toMatchObject({ status: 'non-finite', non_finite: 4, snr: null, reasons: { snr: 'non-finite (4 values)' } });
    expect(row(inf)).toMatchObject({ status: 'non-finite', non_finite: 2, snr: null, reasons: { snr: 'non-finite (2 values)' } });
    for (const m of r.metrics.matrices.filter((x) => x.name !== nan && x.name !== inf)) {
      expect(m.status, m.name).toBe('ok');
      expect(m.snr, m.name).toEqual(expect.any(Number));
    }
    const csv = readFileSync(join(r.out, 'metrics.csv'), 'utf8');
    expect(csv).toContain(`${nan},nonfinite.safetensors,0,mlp.up_proj,48,32,F32,non-finite (4 values),`);
  });
});

describe('a sharded checkpoint with a shard missing or cut short', () => {
  const full = buildSafetensors(layers(6));
  const names = layers(6).map((t) => t.name);

  async function sharded(name: string, damage: (files: Map<string, Uint8Array>) => void) {
    const files = await shardSafetensors(full, 3);
    damage(files);
    const dir = join(tmp, name);
    mkdirSync(dir);
    for (const [f, bytes] of files) writeFileSync(join(dir, f), bytes);
    return dir;
  }
  const tensorsOf = (files: Map<string, Uint8Array>, shard: string) =>
    Object.entries(JSON.parse(new TextDecoder().decode(files.get('model.safetensors.index.json'))).weight_map as Record<string, string>)
      .filter(([, f]) => f === shard)
      .map(([t]) => t);

  it('missing: the other shards are analysed and the absent tensors listed, with their shard', async () => {
    let absent: string[] = [];
    const dir = await sharded('missing', (files) => {
      absent = tensorsOf(files, 'model-00002-of-00003.safetensors');
      files.delete('model-00002-of-00003.safetensors');
    });
    const r = await scan(dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `error: model-00002-of-00003.safetensors: shard named by the index is missing: ${absent.length} tensors not analysed`,
    );
    expect(r.metrics.missing.map((m) => m.name).sort()).toEqual([...absent].sort());
    expect(r.metrics.missing.every((m) => m.file === 'model-00002-of-00003.safetensors')).toBe(true);
    expect(r.metrics.matrices.map((m) => m.name).sort()).toEqual(names.filter((n) => !absent.includes(n)).sort());
    expect(r.metrics.errors.map((e) => e.code)).toEqual(['MISSING_SHARD']);
  });

  it('truncated in its data: the tensors before the cut are analysed, those after it listed', async () => {
    const shard = 'model-00003-of-00003.safetensors';
    const dir = await sharded('truncated', (files) => {
      const bytes = files.get(shard)!;
      files.set(shard, bytes.subarray(0, bytes.byteLength - 5000));
    });
    const r = await scan(dir);
    expect(r.code).toBe(2);
    const cut = r.metrics.missing.map((m) => m.name);
    expect(cut.length).toBeGreaterThan(0);
    // each cut tensor has one error, saying why (not a second "missing" one)
    expect(r.metrics.errors.map((e) => [e.code, e.file, e.tensor]).sort()).toEqual(
      cut.map((t) => ['OFFSET_OUT_OF_RANGE', shard, t]).sort(),
    );
    expect(r.metrics.matrices.map((m) => m.name).sort()).toEqual(names.filter((n) => !cut.includes(n)).sort());
    expect(r.metrics.matrices.some((m) => (m as Row & { file: string }).file === shard)).toBe(true);
  });

  it('truncated in its header: the shard is unreadable, its tensors listed, the rest analysed', async () => {
    const shard = 'model-00001-of-00003.safetensors';
    let absent: string[] = [];
    const dir = await sharded('header-cut', (files) => {
      absent = tensorsOf(files, shard);
      files.set(shard, files.get(shard)!.subarray(0, 100));
    });
    const r = await scan(dir);
    expect(r.code).toBe(2);
    expect(r.metrics.errors).toEqual([expect.objectContaining({ code: 'HEADER_LENGTH_OUT_OF_RANGE', file: shard })]);
    expect(r.metrics.missing.map((m) => m.name).sort()).toEqual([...absent].sort());
    expect(r.metrics.matrices).toHaveLength(names.length - absent.length);
  });
});
