import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../core/formats/checkpoint.ts';
import type { CheckpointInfo } from '../core/formats/checkpoint.ts';
import { topSingularTripletsCpuAsync } from '../engine/low-rank/randomized-svd.ts';
import { blobSource } from '../workers/blob-source.ts';
import { createLowRankWorkerApi } from '../workers/low-rank-api.ts';
import { IntruderRuns, intrudersOfDeltaMatrix, RewriteRuns, type LowRankDeps } from './low-rank.ts';

const root = join(import.meta.dirname, '../..');
const numpy = JSON.parse(readFileSync(join(root, 'test-fixtures/expected/intruders-demo.json'), 'utf8')) as {
  matrices: Record<string, { max_cos: number[]; base_index: number[]; intruders: number }>;
};

/** A demo checkpoint as the page opens it: its weights and the config.json beside them. */
async function demoCheckpoint(name: string): Promise<{ info: CheckpointInfo; files: File[] }> {
  const files = [
    new File([readFileSync(join(root, 'public/demo', `${name}.safetensors`))], `${name}.safetensors`),
    new File([readFileSync(join(root, 'public/demo/config.json'))], 'config.json'),
  ];
  const { sources: _s, ...info } = await openCheckpoint(files.map((f) => blobSource(f)));
  return { info: { ...info, name }, files };
}

/** The CLI's output folder for the same rewrite of the demo (phase 1 against the base). */
async function cliRewrite(command: string, extra: string[]): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'sw-rewrite-'));
  const demo = (p: string) => join(root, 'public/demo', `${p}.safetensors`);
  await promisify(execFile)(
    process.execPath,
    [join(root, 'bin/spectral-workbench.js'), command, demo('phase0-base'), demo('phase1-25pct'), ...extra, '--out', out, '--quiet'],
    { cwd: root },
  );
  return out;
}

describe("intruder dimensions of a ΔW pair's matrix, through the low-rank worker's API", async () => {
  const checkpoints = new Map([
    ['c1', await demoCheckpoint('phase0-base')],
    ['c2', await demoCheckpoint('phase1-25pct')],
  ]);
  const api = createLowRankWorkerApi(topSingularTripletsCpuAsync);
  const sent: string[][] = [];
  const deps: LowRankDeps = {
    weightsOf: (id) => checkpoints.get(id),
    worker: () => ({
      intruders: (r) => (sent.push(r.files.map(([ref]) => ref)), api.intruders(r)),
      rewrite: (r, out, onProgress) => api.rewrite(r, out, onProgress),
      cancel: () => api.cancel(),
    }),
  };
  const pair = { fromId: 'c1', toId: 'c2' };

  it("gives numpy's values for the demo's changed gate_proj, sending the worker only the two files it reads", async () => {
    const name = 'model.layers.2.mlp.gate_proj.weight';
    const outcome = await intrudersOfDeltaMatrix(deps, pair, name, {});
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    const ref = numpy.matrices[name];
    expect(outcome.report.intruders).toBe(ref.intruders);
    outcome.report.dimensions.forEach((d, j) => {
      expect(Math.abs(d.maxCos - ref.max_cos[j])).toBeLessThan(1e-6);
      expect(d.baseIndex).toBe(ref.base_index[j]);
    });
    expect(sent.at(-1)!.sort()).toEqual(['c1/phase0-base.safetensors', 'c2/phase1-25pct.safetensors']);
  });

  it('says what is missing: a checkpoint without its files, a name that is not a matrix of both', async () => {
    const gone = await intrudersOfDeltaMatrix(deps, { fromId: 'c1', toId: 'c9' }, 'model.layers.0.self_attn.q_proj.weight', {});
    expect(!gone.ok && gone.error.message).toMatch(/this page no longer has their files: open them again/);
    const vector = await intrudersOfDeltaMatrix(deps, pair, 'model.layers.0.input_layernorm.weight', {});
    expect(!vector.ok && vector.error.message).toMatch(/a 1-D tensor has a single singular vector/);
    const absent = await intrudersOfDeltaMatrix(deps, pair, 'model.layers.99.mlp.up_proj.weight', {});
    expect(!absent.ok && absent.error).toMatchObject({
      code: 'MISSING_TENSOR',
      message: expect.stringMatching(/not a matrix both checkpoints hold/),
    });
  });

  it('an abort cancels the computation in the worker: an ABORTED outcome', async () => {
    const controller = new AbortController();
    const running = intrudersOfDeltaMatrix(deps, pair, 'model.layers.2.mlp.gate_proj.weight', {}, controller.signal);
    controller.abort();
    const outcome = await running;
    expect(!outcome.ok && outcome.error.code).toBe('ABORTED');
    // the next request runs again
    const again = await intrudersOfDeltaMatrix(deps, pair, 'model.layers.0.self_attn.q_proj.weight', { k: 2 });
    expect(again.ok && again.report.dimensions.length).toBe(2);
  });

  it('IntruderRuns keeps each result by pair and name; a second run cancels the one in progress', async () => {
    const runs = new IntruderRuns(deps);
    const seen: string[] = [];
    runs.subscribe(() => seen.push(runs.get(IntruderRuns.key(pair, 'model.layers.2.mlp.gate_proj.weight'))?.status ?? 'none'));
    const first = runs.start(pair, 'model.layers.2.mlp.gate_proj.weight');
    expect(runs.get(IntruderRuns.key(pair, 'model.layers.2.mlp.gate_proj.weight'))).toEqual({ status: 'running' });
    const second = runs.start(pair, 'model.layers.0.self_attn.q_proj.weight', { k: 3 });
    await Promise.all([first, second]);
    expect(runs.get(IntruderRuns.key(pair, 'model.layers.2.mlp.gate_proj.weight'))).toEqual({ status: 'cancelled' });
    const done = runs.get(IntruderRuns.key(pair, 'model.layers.0.self_attn.q_proj.weight'));
    expect(done?.status === 'done' && done.report.dimensions.map((d) => d.intruder)).toEqual([false, false, false]);
    expect(seen.slice(0, 2)).toEqual(['running', 'cancelled']);
    expect(runs.get(IntruderRuns.key({ fromId: 'c2', toId: 'c1' }, 'model.layers.0.self_attn.q_proj.weight'))).toBeUndefined();
  });

  for (const [kind, what, command, args] of [
    ['extract-lora', { kind: 'extract-lora', target: { energy: 0.9 } }, 'extract-lora', ['--energy', '0.9']],
    ['rewind', { kind: 'rewind', percent: 15, perLayer: false }, 'rewind', ['--heads', '15%']],
    ['truncate', { kind: 'truncate', target: { energy: 0.95 } }, 'truncate', ['--energy', '0.95']],
  ] as const) {
    it(`${kind} in the worker, kept for a download: the CLI's bytes, file for file`, async () => {
      const runs = new RewriteRuns(deps);
      const progress: number[] = [];
      runs.subscribe(() => {
        const r = runs.current;
        if (r?.status === 'running' && r.progress) progress.push(r.progress.done);
      });
      await runs.start(pair, what);
      const run = runs.current;
      expect(run?.status === 'failed' ? run.message : run?.status).toBe('done');
      if (run?.status !== 'done') return;
      expect(progress.length).toBeGreaterThan(0);
      const out = await cliRewrite(command, [...args]);
      for (const f of run.files) expect(Buffer.from(f.bytes).equals(readFileSync(join(out, f.name))), f.name).toBe(true);
      // the same files as the CLI's, its Markdown report included
      expect(run.files.map((f) => f.name).sort()).toEqual(readdirSync(out).sort());
      expect(run.files.map((f) => f.name)).toContain(`${kind}-report.json`);
    }, 60_000);
  }
});
