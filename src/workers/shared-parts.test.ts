// A job's Gram shared out over idle workers (core/gram-parts.ts): the pool lends parts of a long matrix to a
// worker that has nothing else to do, the owner adds them in part order, and the records are the very ones
// of a scan on one worker, to the bit — also when a lent part fails and comes back to the owner.
import { describe, expect, it } from 'vitest';
import { memorySource } from '../core/formats/byte-source.ts';
import { openCheckpoint } from '../core/formats/checkpoint.ts';
import { gramPartLength, gramParts } from '../core/gram-parts.ts';
import { planScan } from '../core/scan/plan.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import { CpuEngine } from '../engine/cpu/cpu-engine.ts';
import { gaussian } from '../engine/cpu/testing.ts';
import { buildSafetensors } from '../../test-fixtures/builders/safetensors.ts';
import { createAnalyzer } from './analyzer.ts';
import { ScanPool, scanOnPool, type ScanWorkerApi } from './scan-pool.ts';

const FILE = 'model.safetensors';
const HIDDEN = 16;
// three parts of the embedding's long side, the last one not a whole number of 256-step chunks
const VOCAB = 2 * gramPartLength(HIDDEN) + 123_457;

/** bf16 bytes of Gaussian values: each f32's upper half (truncated, as exact as any bf16). */
function bf16(values: Float32Array): Uint8Array {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = words[i] >>> 16;
  return new Uint8Array(out.buffer);
}

function checkpoint(): Uint8Array {
  const layer = 'model.layers.0';
  return buildSafetensors([
    { name: 'model.embed_tokens.weight', dtype: 'BF16', shape: [VOCAB, HIDDEN], bytes: bf16(gaussian(VOCAB * HIDDEN, 5, 0.02)) },
    ...['q_proj', 'k_proj', 'v_proj', 'o_proj'].map((m, i) => ({
      name: `${layer}.self_attn.${m}.weight`,
      dtype: 'BF16',
      shape: [HIDDEN, HIDDEN],
      bytes: bf16(gaussian(HIDDEN * HIDDEN, 10 + i, 0.02)),
    })),
    ...['gate_proj', 'up_proj'].map((m, i) => ({
      name: `${layer}.mlp.${m}.weight`,
      dtype: 'BF16',
      shape: [64, HIDDEN],
      bytes: bf16(gaussian(64 * HIDDEN, 20 + i, 0.02)),
    })),
    { name: `${layer}.mlp.down_proj.weight`, dtype: 'BF16', shape: [HIDDEN, 64], bytes: bf16(gaussian(64 * HIDDEN, 30, 0.02)) },
  ]);
}

/** A pool of `workers` analyzers in this thread (the pool's protocol as in the page and the CLI, without the messages). */
function inThreadPool(bytes: Uint8Array, workers: number, failParts: Set<number> = new Set(), onLend: (part: number) => void = () => {}) {
  const lent: number[] = [];
  const source = () => memorySource(FILE, bytes);
  const pool = new ScanPool<ScanWorkerApi>({
    engine: 'cpu',
    cpuWorkers: workers,
    gpuJobs: 1,
    spawn: (_engine, onBytes, claimPart) => {
      const analyzer = createAnalyzer((_ref: string) => source(), new CpuEngine());
      analyzer.onBytes(onBytes);
      analyzer.onClaim(claimPart);
      const api: ScanWorkerApi = {
        ...analyzer,
        gramPart: async (job, ref, part) => {
          lent.push(part);
          onLend(part);
          if (failParts.delete(part)) throw new Error(`part ${part} failed on the helper`);
          return analyzer.gramPart(job, ref, part);
        },
      };
      return { api, terminate: () => {} };
    },
  });
  const run = async (signal?: AbortSignal) => {
    const ckpt = await openCheckpoint([source()]);
    return scanOnPool(pool, ckpt, planScan(ckpt), { refOf: () => FILE, mode: 'exact', ...(signal ? { signal } : {}) });
  };
  return { pool, lent, run };
}

async function scan(bytes: Uint8Array, workers: number, failParts: Set<number> = new Set()) {
  const { pool, lent, run } = inThreadPool(bytes, workers, failParts);
  const result = await run();
  await pool.close();
  return { result, lent };
}

/** ‖W‖_F² of a bf16 tensor of the file, from its bytes. */
function frobeniusSquared(file: Uint8Array, name: string): number {
  const headerLength = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + headerLength))) as Record<
    string,
    { data_offsets: [number, number] }
  >;
  const [begin, end] = header[name].data_offsets;
  const words = new Uint16Array(file.buffer.slice(file.byteOffset + 8 + headerLength + begin, file.byteOffset + 8 + headerLength + end));
  const f32 = new Float32Array(1);
  const bits = new Uint32Array(f32.buffer);
  let sum = 0;
  for (const w of words) {
    bits[0] = w << 16;
    sum += f32[0] * f32[0];
  }
  return sum;
}

const byName = (records: readonly MatrixRecord[]) => new Map(records.map((r) => [r.name, r]));

describe('a long matrix whose Gram parts idle workers sum', () => {
  const bytes = checkpoint();

  it('gives the records of a one-worker scan to the bit, with parts summed on the idle worker', async () => {
    expect(gramParts(HIDDEN, VOCAB)).toHaveLength(3);
    const one = await scan(bytes, 1);
    const two = await scan(bytes, 2);
    expect(one.lent).toEqual([]);
    // the embedding (the costliest job) starts first; once the other worker has run out of jobs it sums parts
    expect(two.lent.length).toBeGreaterThan(0);
    expect(two.result.errors).toEqual([]);
    const want = byName(one.result.records);
    expect(two.result.records).toHaveLength(want.size);
    for (const r of two.result.records) {
      const w = want.get(r.name)!;
      expect(r.singularValues, r.name).toEqual(w.singularValues);
      expect(r.spectrum, r.name).toEqual(w.spectrum);
      expect(r.htsr, r.name).toEqual(w.htsr);
    }
    // every part counted once (a part missed or added twice moves it by a third): Σσ² is ‖W‖_F², summed here in
    // float64 from the file's values; both sums run over 35 million terms, so they agree to about 1e-12
    const sigma = two.result.records.find((r) => r.name === 'model.embed_tokens.weight')!.singularValues!;
    expect(sigma).toHaveLength(HIDDEN);
    const sumSquares = sigma.reduce((a, s) => a + s * s, 0);
    expect(Math.abs(sumSquares - frobeniusSquared(bytes, 'model.embed_tokens.weight')) / sumSquares).toBeLessThan(1e-10);
  }, 120_000);

  it('stops when cancelled while a part is lent, and the same pool then scans to the same bits', async () => {
    const controller = new AbortController();
    const { pool, lent, run } = inThreadPool(bytes, 2, new Set(), () => controller.abort());
    const cancelled = await run(controller.signal);
    expect(lent.length).toBeGreaterThan(0);
    expect(cancelled.cancelled).toBe(true);
    expect(cancelled.errors).toEqual([]);
    expect(cancelled.records.map((r) => r.name)).not.toContain('model.embed_tokens.weight');
    const again = await run();
    await pool.close();
    const want = byName((await scan(bytes, 1)).result.records);
    expect(again.records).toHaveLength(want.size);
    for (const r of again.records) expect(r.singularValues, r.name).toEqual(want.get(r.name)!.singularValues);
  }, 120_000);

  it('sums a lent part that failed on its helper on the owner, and loses nothing', async () => {
    const one = await scan(bytes, 1);
    const failed = await scan(bytes, 2, new Set([1, 2]));
    expect(failed.lent.length).toBeGreaterThan(0);
    expect(failed.result.errors).toEqual([]);
    const want = byName(one.result.records);
    for (const r of failed.result.records) expect(r.singularValues, r.name).toEqual(want.get(r.name)!.singularValues);
  }, 120_000);
});
