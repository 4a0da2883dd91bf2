import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');
const bin = join(root, 'bin/spectral-workbench.js');
const demo = (p: string) => join(root, 'public/demo', `${p}.safetensors`);

interface IntrudersFile {
  base: string;
  finetuned: string;
  k: number;
  threshold: number;
  side: string;
  matrices: {
    name: string;
    shape: [number, number];
    base_vectors: number;
    intruders: number;
    dimensions: { index: number; sigma: number; max_cos: number; base_index: number; intruder: boolean }[];
  }[];
  errors: { message: string }[];
}

/** numpy's thin SVDs of the demo's matrices (test-fixtures/make-intruders.py) */
const numpy = JSON.parse(readFileSync(join(root, 'test-fixtures/expected/intruders-demo.json'), 'utf8')) as {
  matrices: Record<string, { shape: [number, number]; sigma: number[]; max_cos: number[]; base_index: number[]; intruders: number }>;
};

async function intruders(extra: string[]): Promise<{ out: string; stderr: string; code: number }> {
  const out = mkdtempSync(join(tmpdir(), 'sw-intruders-'));
  try {
    const { stderr } = await promisify(execFile)(process.execPath, [bin, 'intruders', ...extra, '--out', out], { cwd: root });
    return { out, stderr, code: 0 };
  } catch (e) {
    const err = e as { stderr: string; code: number };
    return { out, stderr: err.stderr, code: err.code };
  }
}

describe('spectral-workbench intruders', () => {
  it("the demo's phase 1 against its base: every max |cos|, base vector and count as numpy's SVDs give them", async () => {
    const only = 'layers\\.(0\\.self_attn\\.q_proj|2\\.mlp\\.gate_proj|1\\.self_attn\\.q_proj)\\.';
    const { out, stderr, code } = await intruders([demo('phase0-base'), demo('phase1-25pct'), '--only', only]);
    expect(code).toBe(0);
    expect(stderr).toMatch(/phase0-base → phase1-25pct: 3 matrices, top 10 left singular vectors, threshold 0.5/);
    expect(stderr).toMatch(/3 matrices examined, 7 intruder dimensions, 0 errors/);
    const file = JSON.parse(readFileSync(join(out, 'intruders.json'), 'utf8')) as IntrudersFile;
    expect([file.base, file.finetuned, file.k, file.threshold, file.side, file.errors]).toEqual([
      'phase0-base',
      'phase1-25pct',
      10,
      0.5,
      'left',
      [],
    ]);
    expect(file.matrices.map((m) => m.name).sort()).toEqual(Object.keys(numpy.matrices).sort());
    for (const m of file.matrices) {
      const ref = numpy.matrices[m.name];
      expect(m.shape).toEqual(ref.shape);
      expect(m.base_vectors).toBe(Math.min(...ref.shape));
      expect(m.intruders).toBe(ref.intruders);
      m.dimensions.forEach((d, j) => {
        expect(d.sigma).toBeCloseTo(ref.sigma[j], 6);
        expect(Math.abs(d.max_cos - ref.max_cos[j])).toBeLessThan(1e-6);
        expect(d.base_index).toBe(ref.base_index[j]);
        expect(d.intruder).toBe(ref.max_cos[j] < 0.5);
      });
    }
    // an unchanged matrix has the base's own singular vectors
    expect(file.matrices.find((m) => m.name.includes('layers.1.'))!.dimensions.every((d) => Math.abs(d.max_cos - 1) < 1e-9)).toBe(true);
    const table = readFileSync(join(out, 'intruders.md'), 'utf8');
    expect(table).toContain('| model.layers.2.mlp.gate_proj.weight | 352 × 128 | 7 of 10 |');
  });

  it('--k and --threshold: the top 3 against ε = 0.95', async () => {
    const { out, code } = await intruders([
      demo('phase0-base'),
      demo('phase1-25pct'),
      '--only',
      'layers\\.0\\.self_attn\\.q_proj',
      '--k',
      '3',
      '--threshold',
      '0.95',
    ]);
    expect(code).toBe(0);
    const [m] = (JSON.parse(readFileSync(join(out, 'intruders.json'), 'utf8')) as IntrudersFile).matrices;
    const ref = numpy.matrices['model.layers.0.self_attn.q_proj.weight'].max_cos.slice(0, 3);
    expect(m.dimensions.map((d) => d.intruder)).toEqual(ref.map((c) => c < 0.95));
    expect(m.intruders).toBe(ref.filter((c) => c < 0.95).length);
  });

  it('usage errors are one line each', async () => {
    const pair = [demo('phase0-base'), demo('phase1-25pct')];
    const noOnly = await intruders(pair);
    expect([noOnly.code, noOnly.stderr.split('\n')[0]]).toEqual([1, expect.stringMatching(/^error: intruders needs --only REGEX/)]);
    const badK = await intruders([...pair, '--only', 'q_proj', '--k', '0']);
    expect(badK.stderr).toMatch(/^error: --k must be a whole number of singular vectors from 1 \(got "0"\)/);
    const badT = await intruders([...pair, '--only', 'q_proj', '--threshold', '2']);
    expect(badT.stderr).toMatch(/^error: --threshold must be a cosine above 0 and at most 1, e.g. 0.5 \(got "2"\)/);
    const one = await intruders([pair[0], '--only', 'q_proj']);
    expect(one.stderr).toMatch(/^error: intruders needs two checkpoints: the base and the fine-tuned one/);
  });
});
