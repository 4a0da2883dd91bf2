/**
 * Long thin matrices read slice by slice into their Gram (src/core/scan/long-thin.ts): the same
 * singular values and metrics as the whole-matrix path, the slices no larger than asked, NaN still
 * reported, and an engine that cannot take slices replaced by the CPU engine with a note.
 */
import { describe, expect, it } from 'vitest';
import { memorySource, type ByteSource } from '../core/formats/byte-source.ts';
import { openCheckpoint } from '../core/formats/checkpoint.ts';
import { isLongThin, LONG_THIN, longSideSlices, type LongThinPolicy } from '../core/scan/long-thin.ts';
import { planScan, type MatrixJob } from '../core/scan/plan.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import { CpuEngine } from '../engine/cpu/cpu-engine.ts';
import { gaussian, jacobiSingularValues } from '../engine/cpu/testing.ts';
import type { SpectralEngine } from '../engine/types.ts';
import { buildGguf, ggufName } from '../../test-fixtures/builders/gguf.ts';
import { buildSafetensors } from '../../test-fixtures/builders/safetensors.ts';
import { analyzeJob } from './analyze.ts';

const NAME = 'model.layers.0.mlp.down_proj.weight';
const engine = new CpuEngine();

/** Slices of 1024 steps for n = 32 (f32): a matrix of 8292 steps comes in 9 slices, the last one partial. */
const SLICED: LongThinPolicy = { minRatio: 100, minBytes: 0, sliceBytes: 32 * 4 * 1024 };

async function jobOf(file: string, bytes: Uint8Array): Promise<{ job: MatrixJob; source: ByteSource }> {
  const source = memorySource(file, bytes);
  const ckpt = await openCheckpoint([source]);
  const job = planScan(ckpt).jobs.find((j) => !j.vector);
  if (!job) throw new Error('no matrix job');
  return { job, source };
}

async function analyzed(job: MatrixJob, source: ByteSource, longThin: LongThinPolicy, eng: SpectralEngine = engine): Promise<MatrixRecord> {
  const out = await analyzeJob(job, source, eng, { longThin });
  if (!out.ok) throw new Error(out.error.message);
  return out.record;
}

function relErr(a: number, b: number): number {
  return a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

/** A source that records the largest read asked of it. */
function measuredSource(inner: ByteSource): ByteSource & { largestRead: number } {
  const out = {
    name: inner.name,
    size: inner.size,
    largestRead: 0,
    read(offset: number, length: number) {
      out.largestRead = Math.max(out.largestRead, length);
      return inner.read(offset, length);
    },
  };
  return out;
}

describe('long thin matrices, read in slices into the Gram', () => {
  it('leaves LLM matrices on the whole-matrix path and takes only really long thin ones', () => {
    const job = (rows: number, cols: number) => ({ rows, cols, tensor: { shape: [rows, cols] } }) as MatrixJob;
    for (const [r, c] of [
      [896, 4864],
      [152064, 5120], // Qwen2.5-14B's vocabulary
      [262144, 640], // Gemma 3 270M's vocabulary
      [256000, 2304],
      [1, 4096], // a norm
    ])
      expect(isLongThin(job(r, c)), `${r} × ${c}`).toBe(false);
    expect(isLongThin(job(4, 500_000_000))).toBe(true);
    expect(isLongThin(job(50_000_000, 4))).toBe(true);
    expect(isLongThin(job(64, 2_000_000))).toBe(true);
  });

  for (const [rows, cols] of [
    [32, 8292],
    [8292, 32],
  ]) {
    it(`${rows} × ${cols} F32: the same Gram to the bit, σ within 1e-10 of one-sided Jacobi, the same metrics`, async () => {
      const values = gaussian(rows * cols, rows + 3 * cols, 0.02);
      const { job, source } = await jobOf('w.safetensors', buildSafetensors([{ name: NAME, dtype: 'F32', shape: [rows, cols], values }]));
      const measured = measuredSource(source);
      const sliced = await analyzed(job, measured, SLICED);
      const whole = await analyzed(job, source, LONG_THIN);
      // one slice is 128 KiB of f32: a wide one is read row by row (4 KiB each), a tall one at once
      expect(measured.largestRead).toBeLessThanOrEqual(SLICED.sliceBytes);
      expect(measured.largestRead).toBeGreaterThan(0);

      const reference = jacobiSingularValues(values, rows, cols);
      const sv = sliced.singularValues!;
      expect(sv).toHaveLength(32);
      for (let i = 0; i < sv.length; i++) expect(relErr(sv[i], reference[i]), `σ${i}`).toBeLessThan(1e-10);
      // slices of whole Gram chunks are summed in the order of the whole matrix
      expect(Array.from(sv)).toEqual(Array.from(whole.singularValues!));

      expect(sliced.engine).toBe('cpu');
      expect(sliced.engineNote).toBeUndefined();
      expect(sliced.htsr!.alpha).not.toBeNull();
      for (const key of ['snr', 'signal_to_noise', 'sigma_max', 'tau'] as const)
        expect(relErr(sliced.spectrum![key], whole.spectrum![key]), key).toBeLessThan(1e-10);
      for (const key of ['alpha', 'stable_rank', 'entropy'] as const)
        expect(relErr(sliced.htsr![key]!, whole.htsr![key]!), key).toBeLessThan(1e-10);
    });
  }

  it('BF16 and GGUF Q8_0, wide and tall: the sliced path decodes as the whole-matrix path does', async () => {
    for (const [rows, cols] of [
      [32, 4160],
      [4160, 32],
    ]) {
      const values = gaussian(rows * cols, 7 * rows + cols, 0.05);
      for (const [file, bytes] of [
        ['w.safetensors', buildSafetensors([{ name: NAME, dtype: 'BF16', shape: [rows, cols], values }])],
        ['w.gguf', buildGguf([{ name: ggufName(NAME), type: 'Q8_0', shape: [rows, cols], values }])],
      ] as const) {
        const { job, source } = await jobOf(file, bytes);
        const policy = { ...SLICED, minRatio: 100, sliceBytes: 32 * 4 * 512 };
        expect(isLongThin(job, policy), file).toBe(true);
        const sliced = await analyzed(job, source, policy);
        const whole = await analyzed(job, source, LONG_THIN);
        expect(Array.from(sliced.singularValues!), `${file} ${rows} × ${cols}`).toEqual(Array.from(whole.singularValues!));
      }
    }
  });

  it('slices a wide matrix into column blocks and a tall one into row blocks, every length but the last a multiple of 256', async () => {
    const [rows, cols] = [3, 1000];
    const values = Float32Array.from({ length: rows * cols }, (_, i) => i);
    const wide = await jobOf('w.safetensors', buildSafetensors([{ name: NAME, dtype: 'F32', shape: [rows, cols], values }]));
    const got: { length: number; values: number[] }[] = [];
    for await (const s of longSideSlices(wide.source, wide.job.tensor, rows, cols, { sliceBytes: 3 * 4 * 256 }))
      got.push({ length: s.length, values: Array.from(s.values) });
    expect(got.map((s) => s.length)).toEqual([256, 256, 256, 232]);
    // the second slice: columns 256–511 of each row, row-major
    const second = [0, 1, 2].flatMap((i) => Array.from({ length: 256 }, (_, j) => i * cols + 256 + j));
    expect(got[1].values).toEqual(second);

    const tall = await jobOf('t.safetensors', buildSafetensors([{ name: NAME, dtype: 'F32', shape: [cols, rows], values }]));
    const rowsGot: number[][] = [];
    for await (const s of longSideSlices(tall.source, tall.job.tensor, cols, rows, { sliceBytes: 3 * 4 * 256 }))
      rowsGot.push(Array.from(s.values));
    expect(rowsGot.map((v) => v.length)).toEqual([768, 768, 768, 696]);
    expect(rowsGot[3]).toEqual(Array.from(values.subarray(768 * 3)));
  });

  it('reports NaN and ±Infinity found in any slice as non-finite, with their count', async () => {
    const [rows, cols] = [32, 8292];
    const values = gaussian(rows * cols, 11);
    values[5 * cols + 7000] = NaN;
    values[31 * cols + 8291] = -Infinity;
    values[0] = Infinity;
    const { job, source } = await jobOf('w.safetensors', buildSafetensors([{ name: NAME, dtype: 'F32', shape: [rows, cols], values }]));
    const record = await analyzed(job, source, SLICED);
    expect(record.status).toBe('non-finite');
    expect(record.nonFinite).toBe(3);
  });

  it('an engine that takes matrices only whole has long thin ones computed on the CPU, and the record says so', async () => {
    const [rows, cols] = [32, 8292];
    const values = gaussian(rows * cols, 5);
    const { job, source } = await jobOf('w.safetensors', buildSafetensors([{ name: NAME, dtype: 'F32', shape: [rows, cols], values }]));
    let wholeCalls = 0;
    const gpuLike: SpectralEngine = {
      kind: 'webgpu',
      singularValues: (m, r, c, opts) => {
        wholeCalls++;
        return engine.singularValues(m, r, c, opts);
      },
      dispose: () => {},
    };
    const record = await analyzed(job, source, SLICED, gpuLike);
    expect(wholeCalls).toBe(0);
    expect(record.engine).toBe('cpu');
    expect(record.engineNote).toMatch(/read in slices into its Gram on the CPU/);
    expect(Array.from(record.singularValues!)).toEqual(Array.from(await engine.singularValues(values, rows, cols)));
  });
});
