import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { TIMELINE_METRICS } from '../core/timeline/model.ts';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/spectral-workbench.js');
const demoRun = join(root, 'public/demo/timeline');
const tmp = () => mkdtempSync(join(tmpdir(), 'sw-timeline-'));

async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { cwd: root });
    return { code: 0, stderr };
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    return { code: err.code ?? -1, stderr: err.stderr ?? '' };
  }
}

interface TimelineFile {
  checkpoints: { step: number | null; label: string; step_source: string | null; scanned: boolean; errors: number }[];
  matrices: { name: string; layer: number; module: string; stable_rank: (number | null)[]; alpha: (number | null)[] }[];
  history: { step: number; loss?: number; learning_rate?: number }[];
  left_out: { path: string; reason: string }[];
}

interface MetricsFile {
  matrices: { name: string; layer: number | null; module: string; shape: number[]; stable_rank: number | null; alpha: number | null }[];
}

describe('spectral-workbench timeline on the demo training run', () => {
  const out = tmp();
  let timeline: TimelineFile;

  beforeAll(async () => {
    const r = await cli(['timeline', demoRun, '--out', out, '--engine', 'cpu', '--quiet']);
    expect(r.stderr).toContain('10 of 10 checkpoints scanned, 0 errors');
    expect(r.code).toBe(0);
    timeline = JSON.parse(readFileSync(join(out, 'timeline.json'), 'utf8')) as TimelineFile;
  }, 240_000);

  it("orders the Trainer folder's checkpoints by trainer_state.json's global_step and merges the loss history", () => {
    expect(timeline.checkpoints.map((c) => [c.step, c.label, c.step_source, c.scanned])).toEqual(
      [0, 25, 50, 100, 200, 350, 500, 750, 1000, 1500].map((s) => [s, `checkpoint-${s}`, 'trainer_state', true]),
    );
    // 16 layers × q k v o gate up down
    expect(timeline.matrices.length).toBe(16 * 7);
    // the newest checkpoint's log holds every earlier one's
    const state = JSON.parse(readFileSync(join(demoRun, 'checkpoint-1500/trainer_state.json'), 'utf8')) as {
      log_history: { step: number; loss: number; learning_rate: number }[];
    };
    expect(state.log_history.length).toBe(60);
    expect(timeline.history).toEqual(state.log_history.map((p) => ({ step: p.step, loss: p.loss, learning_rate: p.learning_rate })));
  });

  it.each(['checkpoint-100', 'checkpoint-1500'])(
    'has, at %s, the stable rank and alpha of every matrix that a scan of that checkpoint writes, to the last digit',
    async (label) => {
      const scanned = tmp();
      const r = await cli(['scan', join(demoRun, label), '--out', scanned, '--engine', 'cpu', '--quiet']);
      expect(r.code).toBe(0);
      const metrics = JSON.parse(readFileSync(join(scanned, 'metrics.json'), 'utf8')) as MetricsFile;
      const i = timeline.checkpoints.findIndex((c) => c.label === label);
      const layerMatrices = metrics.matrices.filter((m) => m.layer !== null && m.shape.length === 2);
      expect(layerMatrices.length).toBe(timeline.matrices.length);
      for (const m of layerMatrices) {
        const t = timeline.matrices.find((x) => x.name === m.name)!;
        expect([t.layer, t.module]).toEqual([m.layer, m.module]);
        expect(t.stable_rank[i], m.name).toBe(m.stable_rank);
        expect(t.alpha[i], m.name).toBe(m.alpha);
      }
    },
    120_000,
  );

  it('writes the long-format CSV and the summary', () => {
    const csv = readFileSync(join(out, 'timeline.csv'), 'utf8').trimEnd().split('\n');
    expect(csv[0]).toBe('step,checkpoint,layer,module,metric,value');
    expect(csv.length).toBe(1 + 10 * 112 * TIMELINE_METRICS.length);
    const q0 = timeline.matrices.find((m) => m.module === 'self_attn.q_proj' && m.layer === 0)!;
    expect(csv).toContain(`1500,checkpoint-1500,0,self_attn.q_proj,stable_rank,${q0.stable_rank[9]}`);
    const md = readFileSync(join(out, 'timeline.md'), 'utf8');
    expect(md).toContain('10 checkpoints (0, 25, 50, 100, 200, 350, 500, 750, 1000, 1500); 7 module types over 16 layers.');
    expect(md).toContain('## Depth profile at the last step (1500)');
    expect(md).toContain('| Module | 0→25 | 25→50 | 50→100 | 100→200 | 200→350 | 350→500 | 500→750 | 750→1000 | 1000→1500 | Travel |');
    expect(md).toContain('Groups: Q/K = self_attn.q_proj, self_attn.k_proj; V/O = self_attn.v_proj, self_attn.o_proj.');
  });
});

describe('spectral-workbench timeline: runs named by step, and orders given', () => {
  const only = ['--only', String.raw`layers\.0\.self_attn`, '--engine', 'cpu', '--quiet'];
  const weights = (step: number) => join(demoRun, `checkpoint-${step}`, 'model.safetensors');

  it('orders names of several schemes by step, lets global_step win, and leaves out a checkpoint without a step', async () => {
    const run = tmp();
    const put = (folder: string, step: number) => {
      mkdirSync(join(run, folder));
      copyFileSync(weights(step), join(run, folder, 'model.safetensors'));
    };
    put('step_50', 50);
    put('ckpt-1.5k', 1500);
    put('final', 1500);
    put('checkpoint-400', 500);
    writeFileSync(join(run, 'checkpoint-400', 'trainer_state.json'), JSON.stringify({ global_step: 500, log_history: [] }));
    const out = tmp();
    const r = await cli(['timeline', run, '--out', out, ...only]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("note: checkpoint-400: trainer_state.json's global_step 500 is used, not the name's step 400");
    const t = JSON.parse(readFileSync(join(out, 'timeline.json'), 'utf8')) as TimelineFile;
    expect(t.checkpoints.map((c) => [c.step, c.label, c.step_source])).toEqual([
      [50, 'step_50', 'name'],
      [500, 'checkpoint-400', 'trainer_state'],
      [1500, 'ckpt-1.5k', 'name'],
    ]);
    expect(t.left_out).toEqual([
      { path: join(run, 'final'), reason: 'no step: neither a trainer_state.json with global_step nor a step in its name' },
    ]);
    expect(t.matrices.map((m) => m.module)).toEqual(['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj']);
  }, 120_000);

  it('keeps checkpoints given one by one in the order given', async () => {
    const out = tmp();
    const r = await cli(['timeline', join(demoRun, 'checkpoint-200'), join(demoRun, 'checkpoint-25'), '--out', out, ...only]);
    expect(r.code).toBe(0);
    const t = JSON.parse(readFileSync(join(out, 'timeline.json'), 'utf8')) as TimelineFile;
    expect(t.checkpoints.map((c) => [c.step, c.label])).toEqual([
      [200, 'checkpoint-200'],
      [25, 'checkpoint-25'],
    ]);
  }, 120_000);

  it('goes on around a checkpoint that cannot be read, and says so (exit 2)', async () => {
    const run = tmp();
    for (const step of [50, 100]) {
      mkdirSync(join(run, `checkpoint-${step}`));
      copyFileSync(weights(step), join(run, `checkpoint-${step}`, 'model.safetensors'));
    }
    mkdirSync(join(run, 'checkpoint-75'));
    writeFileSync(join(run, 'checkpoint-75', 'model.safetensors'), Buffer.from([1, 2, 3]));
    const out = tmp();
    const r = await cli(['timeline', run, '--out', out, ...only]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: checkpoint-75: not read (1 error, in timeline.json)');
    const t = JSON.parse(readFileSync(join(out, 'timeline.json'), 'utf8')) as TimelineFile;
    expect(t.checkpoints.map((c) => [c.step, c.scanned, c.errors > 0])).toEqual([
      [50, true, false],
      [75, false, true],
      [100, true, false],
    ]);
    expect(t.matrices[0].stable_rank.map((v) => v === null)).toEqual([false, true, false]);
    const errors = (t as unknown as { errors: { message: string }[] }).errors;
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/^checkpoint-75: model\.safetensors: /)]);
  }, 120_000);

  it('writes what is scanned when Ctrl-C stops it, marked incomplete (exit 130)', async () => {
    const out = tmp();
    const child = spawn(process.execPath, [bin, 'timeline', demoRun, '--out', out, '--engine', 'cpu', '--threads', '1'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    // the newest checkpoint is scanned first; once the oldest starts, the newest is done
    const started = new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk: string) => {
        stderr += chunk;
        if (/checkpoint-0: \d+ matrices to analyse/.test(stderr)) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await started;
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const t = JSON.parse(readFileSync(join(out, 'timeline.json'), 'utf8')) as TimelineFile & { complete: boolean; not_analysed: string[] };
    expect(t.complete).toBe(false);
    expect(t.checkpoints[9]).toMatchObject({ label: 'checkpoint-1500', scanned: true });
    const unscanned = t.checkpoints.filter((c) => !c.scanned).map((c) => c.label);
    expect(unscanned).toContain('checkpoint-25');
    expect(t.not_analysed).toEqual(unscanned);
  }, 120_000);

  it('says in one line when there is nothing to follow (exit 1)', async () => {
    const empty = tmp();
    mkdirSync(join(empty, 'notes'));
    const r = await cli(['timeline', empty, '--out', tmp()]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([`error: no checkpoints to follow in ${empty}`]);
    expect((await cli(['timeline', '--out', tmp()])).code).toBe(1);
  });
});
