/**
 * Runs cut short and output folders that cannot be written, through the CLI as a process: Ctrl-C once,
 * twice 20 ms apart, SIGTERM; a re-run into a folder that holds a complete result; --out a file.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSafetensors, gaussianMatrix } from '../../test-fixtures/builders/safetensors.ts';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/spectral-workbench.js');
const tmp = mkdtempSync(join(tmpdir(), 'sw-interrupted-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  return promisify(execFile)(process.execPath, [bin, ...args], { cwd: root }).then(
    (x) => ({ code: 0, stderr: x.stderr }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );
}

/** The CLI as a child process, its stderr as it comes, and a way to wait for a line of it. */
function start(args: string[]) {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
    for (const w of waiters.filter((x) => x.pattern.test(stderr))) w.resolve();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    exited,
    stderr: () => stderr,
    /** resolves once stderr matches (the scan has started: its first progress line) */
    waitFor: (pattern: RegExp) => new Promise<void>((resolve) => (pattern.test(stderr) ? resolve() : waiters.push({ pattern, resolve }))),
  };
}

const PROGRESS = /\[\s*\d+\/\d+\] /;
const MATRICES = 16;
const names = Array.from({ length: MATRICES }, (_, i) => `model.layers.${i}.mlp.down_proj.weight`);
let model: string;

beforeAll(() => {
  // 768 × 768 matrices, one thread: the scan lasts long enough to be interrupted after it has started
  model = join(tmp, 'model.safetensors');
  writeFileSync(
    model,
    buildSafetensors(names.map((name, i) => ({ name, dtype: 'F32', shape: [768, 768], values: gaussianMatrix(768, 768, i + 1, 0.05) }))),
  );
});

const scanArgs = (out: string, ...extra: string[]) => [
  'scan',
  model,
  '--out',
  out,
  '--threads',
  '1',
  '--model-name',
  'm',
  '--percent',
  '25',
  '50',
  ...extra,
];
const SPECTRUM_FILES = [
  'snr_results_m.json',
  'snr_results_m_unfrozenparameters_25percent.yaml',
  'snr_results_m_unfrozenparameters_50percent.yaml',
];

interface Metrics {
  complete?: boolean;
  not_analysed?: string[];
  matrices: { name: string }[];
}
const metricsIn = (dir: string) => JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as Metrics;
/** The files in `dir` (not its folders), name → text. */
const contents = (dir: string) =>
  new Map(
    readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => [e.name, readFileSync(join(dir, e.name), 'utf8')]),
  );

/** A partial metrics.json: marked incomplete, and every matrix either analysed or listed as not analysed. */
function expectPartial(m: Metrics): void {
  expect(m.complete).toBe(false);
  expect(m.not_analysed!.length).toBeGreaterThan(0);
  expect([...m.matrices.map((r) => r.name), ...m.not_analysed!].sort()).toEqual([...names].sort());
}

/** A scan into `out`, interrupted by `signals` (sent `gapMs` apart) once it has started. */
async function interrupted(out: string, signals: NodeJS.Signals[], gapMs: number, ...extra: string[]) {
  const run = start(scanArgs(out, ...extra));
  await run.waitFor(PROGRESS);
  for (const [i, s] of signals.entries()) {
    if (i > 0) await new Promise((r) => setTimeout(r, gapMs));
    run.child.kill(s);
  }
  const { code } = await run.exited;
  return { code, stderr: run.stderr() };
}

describe('a scan cut short', () => {
  it('keeps a complete result when the same scan is re-run and cancelled, and puts the partial one beside it', async () => {
    const out = join(tmp, 'rerun');
    const full = await cli(scanArgs(out));
    expect(full.code, full.stderr).toBe(0);
    const before = contents(out);
    expect([...before.keys()].sort()).toEqual(['metrics.json', ...SPECTRUM_FILES].sort());
    expect(metricsIn(out).matrices).toHaveLength(MATRICES);

    const r = await interrupted(out, ['SIGINT'], 0);
    expect(r.code, r.stderr).toBe(130);
    const partials = readdirSync(out).filter((f) => f.startsWith('partial-'));
    expect(partials).toHaveLength(1);
    expect(partials[0]).toMatch(/^partial-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/);
    // the complete result, byte for byte, and nothing else beside it (no temporary file)
    expect(contents(out)).toEqual(before);
    expect(readdirSync(out).length).toBe(before.size + 1);
    expect(r.stderr).toContain(`${out} holds a complete result, kept as it was: this partial one is in ${join(out, partials[0])}/`);
    expectPartial(metricsIn(join(out, partials[0])));
    expect(readdirSync(join(out, partials[0])).sort()).toEqual(['metrics.json', ...SPECTRUM_FILES].sort());

    // --force: the partial metrics replace the complete ones, Spectrum's files stay those of the complete scan
    const forced = await interrupted(out, ['SIGINT'], 0, '--force');
    expect(forced.code, forced.stderr).toBe(130);
    expectPartial(metricsIn(out));
    for (const f of SPECTRUM_FILES) expect(readFileSync(join(out, f), 'utf8'), f).toBe(before.get(f));
    expect(readdirSync(out).filter((f) => f.startsWith('partial-'))).toHaveLength(1);
  });

  it('writes what is done and exits non-zero on two Ctrl-C 20 ms apart', async () => {
    const out = join(tmp, 'twice');
    const r = await interrupted(out, ['SIGINT', 'SIGINT'], 20);
    expect(r.code, r.stderr).toBe(130);
    expectPartial(metricsIn(out));
    expect(readdirSync(out).sort()).toEqual(['metrics.json', ...SPECTRUM_FILES].sort());
  });

  it('writes what is done and exits 143 on SIGTERM', async () => {
    const out = join(tmp, 'term');
    const r = await interrupted(out, ['SIGTERM'], 0);
    expect(r.code, r.stderr).toBe(143);
    expectPartial(metricsIn(out));
    expect(readdirSync(out).sort()).toEqual(['metrics.json', ...SPECTRUM_FILES].sort());
  });

  it('compare keeps a complete delta.json the same way', async () => {
    const out = join(tmp, 'compare');
    const quick = await cli(['compare', model, model, '--out', out, '--threads', '1', '--only', 'layers\\.0\\.']);
    expect(quick.code, quick.stderr).toBe(0);
    const before = readFileSync(join(out, 'delta.json'), 'utf8');
    const run = start(['compare', model, model, '--out', out, '--threads', '1']);
    await run.waitFor(PROGRESS);
    run.child.kill('SIGTERM');
    expect((await run.exited).code, run.stderr()).toBe(143);
    expect(readFileSync(join(out, 'delta.json'), 'utf8')).toBe(before);
    const [partial, ...more] = readdirSync(out).filter((f) => f.startsWith('partial-'));
    expect(more).toEqual([]);
    const delta = JSON.parse(readFileSync(join(out, partial, 'delta.json'), 'utf8')) as Metrics;
    expectPartial(delta);
  });
});

describe('watch', () => {
  it('stops at Ctrl-C while it waits for the next look, not after the interval', async () => {
    const dir = join(tmp, 'training-run');
    mkdirSync(dir);
    const run = start(['watch', dir, '--out', join(tmp, 'watch-out'), '--interval', '3600']);
    await run.waitFor(/watching /);
    run.child.kill('SIGINT');
    expect((await run.exited).code, run.stderr()).toBe(0);
  });
});

describe('an output folder that cannot be used', () => {
  it('is refused before any work, in one line naming it', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'keep me');
    const cases: [string, string][] = [
      [file, `error: --out ${file} is a file, not a folder`],
      [join(file, 'sub'), `error: --out ${join(file, 'sub')} is under ${file}, which is a file`],
      ['/proc/spectral-workbench-out', 'error: --out /proc/spectral-workbench-out cannot be created: '],
    ];
    for (const [out, message] of cases) {
      const r = await cli(['scan', model, '--out', out, '--threads', '1']);
      expect(r.code, out).toBe(1);
      expect(r.stderr.startsWith(message), r.stderr).toBe(true);
      expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
    }
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  });

  it('is refused by compare, phases, watch and select too', async () => {
    const file = join(tmp, 'another-file');
    writeFileSync(file, '');
    const json = join(root, 'test-fixtures/spectrum-results/snr_results_meta-llama-Meta-Llama-3.1-8B-Instruct.json');
    for (const args of [
      ['compare', model, model, '--out', file],
      ['phases', model, model, '--out', file],
      ['watch', tmp, '--out', file, '--once'],
      ['select', json, '--out', file],
    ]) {
      const r = await cli(args);
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr, args[0]).toBe(`error: --out ${file} is a file, not a folder\n`);
    }
  });
});
