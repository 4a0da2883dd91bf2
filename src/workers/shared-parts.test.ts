// A job's Gram shared out over idle workers (core/gram-parts.ts): the pool lends parts of a long matrix to a
// worker that has nothing else to do, the owner adds them in part order, and the records are the very ones
// of a scan on one worker, to the bit — also when a lent part fails and comes back to the owner.
import { describe, expect, it } from 'vitest';
import { memorySource } from '../core/formats/byte-source.ts';
import { openCheckpoint } from '../core/formats/checkpoint.ts';
import { gramPartLength, gramParts } from '../core/gram-parts.ts';
import { planScan, type MatrixJob } from '../core/scan/plan.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import { CpuEngine } from '../engine/cpu/cpu-engine.ts';
import { gaussian } from '../engine/cpu/testing.ts';
import { buildSafetensors } from '../../test-fixtures/builders/safetensors.ts';
import { createAnalyzer } from './analyzer.ts';
import { ScanPool, scanOnPool, type ScanWorkerApi } from './scan-pool.ts';
import { gramPartMemoryBytes, jobMemoryBytes } from '../core/scan/job-memory.ts';

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
    let lentAfterCancel = 0;
    const onLend = () => (controller.signal.aborted ? lentAfterCancel++ : controller.abort());
    const { pool, lent, run } = inThreadPool(bytes, 2, new Set(), onLend);
    const cancelled = await run(controller.signal);
    await new Promise((r) => setTimeout(r, 300));
    expect(lent.length).toBeGreaterThan(0);
    // nothing is lent once cancelled (the worker that came free would otherwise start the next part)
    expect(lentAfterCancel).toBe(0);
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

/** A worker that owns a job until it is cancelled, or sums parts when its gate opens; it records what it is asked. */
class GatedWorker implements ScanWorkerApi {
  partsAsked: { part: number; afterCancel: boolean }[] = [];
  accepted: number[] = [];
  private cancelled = false;
  private release: (() => void)[] = [];
  constructor(
    private readonly claim: () => Promise<number>,
    /** a part's Gram at once, of this many values, instead of waiting for the gate */
    private readonly partAtOnce = 0,
  ) {}
  async analyze(job: MatrixJob, _ref: string, _mode: string, shareKey?: number) {
    if (shareKey !== undefined) await this.claim();
    await new Promise<void>((r) => this.release.push(r));
    await new Promise((r) => setTimeout(r, 30)); // an owner notices the cancel at its next check, not at once
    return { ok: false as const, error: { code: 'ABORTED' as const, file: job.tensor.file, tensor: job.name, message: 'cancelled' } };
  }
  async gramPart(_job: MatrixJob, _ref: string, part: number) {
    this.partsAsked.push({ part, afterCancel: this.cancelled });
    if (this.partAtOnce > 0) return { gram: new Float64Array(this.partAtOnce), nonFinite: 0 };
    await new Promise<void>((r) => this.release.push(r));
    if (this.cancelled) throw new Error('aborted');
    return { gram: new Float64Array(1), nonFinite: 0 };
  }
  acceptPart(_key: number, arrival: { part: number }) {
    this.accepted.push(arrival.part);
  }
  async engineStatus() {
    return { kind: 'cpu' as const, note: 'CPU engine (float64)' };
  }
  cancel() {
    this.cancelled = true;
    for (const r of this.release.splice(0)) r();
  }
  async dispose() {}
}

describe('the pool lending parts', () => {
  const embedding = {
    name: 'model.embed_tokens.weight',
    rows: 151_936,
    cols: 896,
    vector: false,
    tensor: {
      name: 'model.embed_tokens.weight',
      file: 'm.safetensors',
      dtype: 'BF16',
      shape: [151_936, 896],
      begin: 0,
      byteLength: 151_936 * 896 * 2,
    },
  } as MatrixJob;

  function gatedPool(opts: { partAtOnce?: number; memoryBudget?: number } = {}) {
    const workers: GatedWorker[] = [];
    let claimOf: (key: number) => Promise<number> = async () => -1;
    const pool = new ScanPool<GatedWorker>({
      engine: 'cpu',
      cpuWorkers: 2,
      gpuJobs: 1,
      ...(opts.memoryBudget ? { memoryBudget: opts.memoryBudget } : {}),
      spawn: (_engine, _onBytes, claimPart) => {
        claimOf = claimPart;
        const w = new GatedWorker(() => claimOf(1), opts.partAtOnce);
        workers.push(w);
        return { api: w, terminate: () => {} };
      },
    });
    return { pool, workers };
  }

  it('keeps the parts handed to the owner in the memory budget until its job ends', async () => {
    const gram = 896 * 896;
    // room for the job and one lent part, and for one handed Gram beside them, not two
    const budget = jobMemoryBytes(embedding) + gramPartMemoryBytes(embedding) + gram * 8 * 1.5;
    const { pool, workers } = gatedPool({ partAtOnce: gram, memoryBudget: budget });
    await pool.ready;
    const owned = pool.run(embedding, 'm.safetensors', 'exact');
    await new Promise((r) => setTimeout(r, 50));
    const [owner, helper] = workers;
    expect(helper.partsAsked.map((p) => p.part)).toEqual([1, 2]);
    expect(owner.accepted).toEqual([1, 2]);
    pool.cancel();
    await owned;
    await pool.close();
  });

  it('lends nothing more once the scan is cancelled, and drops what comes back', async () => {
    const { pool, workers } = gatedPool();
    await pool.ready;
    const owned = pool.run(embedding, 'm.safetensors', 'exact');
    // the owner claims part 0; the other worker, idle, is lent part 1 and holds it
    await new Promise((r) => setTimeout(r, 50));
    const [owner, helper] = workers;
    expect(helper.partsAsked).toEqual([{ part: 1, afterCancel: false }]);
    pool.cancel(); // the helper's part fails (cancelled) and its slot comes free
    await owned;
    await new Promise((r) => setTimeout(r, 50));
    expect(helper.partsAsked.filter((p) => p.afterCancel)).toEqual([]);
    expect(owner.accepted).toEqual([]);
    await pool.close();
  });
});
