/**
 * Interrupted runs, fuzzed: a CLI scan gets Ctrl-C (once, twice, three times), SIGTERM, or its checkpoint
 * grown, rewritten in place or deleted, at a point drawn from a seeded generator. Whatever the point, the
 * process exits; a complete earlier result in --out is never replaced by a partial one; every JSON written
 * parses and is complete or marked `"complete": false` with `not_analysed`; no analysed matrix mixes the
 * two models; nothing is written outside --out and no temporary file is left. The draws are reproducible
 * (SW_FUZZ_SEED picks another sequence); the moments they land on depend on the machine's speed.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededUniform } from '../core/random.ts';
import { buildSafetensors, gaussianMatrix } from '../../test-fixtures/builders/safetensors.ts';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/spectral-workbench.js');
const tmp = mkdtempSync(join(tmpdir(), 'sw-interrupt-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SEED = Number(process.env.SW_FUZZ_SEED ?? 20261130);
const TRIALS = 6;
/** Trials run at once (each is mostly a process starting and waiting on its worker). */
const AT_ONCE = 3;
/** A trial's process that has not exited by then is killed and the trial fails: a hang, not a slow machine. */
const WATCHDOG_MS = 120_000;

const MATRICES = 12;
const SIZE = 256;
const names = Array.from({ length: MATRICES }, (_, i) => `model.layers.${i}.mlp.down_proj.weight`);
/** Two models of the same layout at scales 0.05 and 0.5: a matrix's norm says which it was read from. */
const weights = (scale: number, seed: number) => names.map((_, i) => gaussianMatrix(SIZE, SIZE, seed + i, scale));
const build = (w: Float32Array[]) => buildSafetensors(names.map((name, i) => ({ name, dtype: 'F32', shape: [SIZE, SIZE], values: w[i] })));
const frobenius = (w: Float32Array) => Math.sqrt(w.reduce((s, x) => s + x * x, 0));
let original: { bytes: Uint8Array; norms: number[] };
let rewrite: { bytes: Uint8Array; norms: number[] };

beforeAll(() => {
  const a = weights(0.05, 1);
  const b = weights(0.5, 101);
  original = { bytes: build(a), norms: a.map(frobenius) };
  rewrite = { bytes: build(b), norms: b.map(frobenius) };
});

const SPECTRUM_FILES = ['snr_results_m.json', 'snr_results_m_unfrozenparameters_25percent.yaml'];
const ACTIONS = ['SIGINT', 'SIGINT twice', 'SIGINT three times', 'SIGTERM', 'grow', 'overwrite', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

interface Trial {
  n: number;
  action: Action;
  /** from the process's start, or from its first line (the checkpoint's header read, the pool ready) */
  after: 'start' | 'first line';
  delayMs: number;
  /** between the signals of one action */
  gapMs: number;
  /** --out already holds a complete result */
  earlier: boolean;
}

function drawTrials(seed: number): Trial[] {
  const u = seededUniform(seed);
  return Array.from({ length: TRIALS }, (_, n) => ({
    n,
    action: ACTIONS[Math.floor(u() * ACTIONS.length)],
    after: u() < 0.25 ? 'start' : 'first line',
    delayMs: Math.round(u() * 2000),
    gapMs: Math.round(u() * 300),
    earlier: u() < 0.5,
  }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

interface Metrics {
  complete?: boolean;
  not_analysed?: unknown;
  matrices: { name: string; frobenius: number | null }[];
  errors: { tensor?: string }[];
}

async function runTrial(t: Trial): Promise<void> {
  const where = join(tmp, `trial-${t.n}`);
  const out = join(where, 'out');
  const model = join(where, 'model.safetensors');
  mkdirSync(where);
  writeFileSync(model, original.bytes);
  const before = new Map<string, string>();
  if (t.earlier) {
    mkdirSync(out);
    writeFileSync(join(out, 'metrics.json'), `${JSON.stringify({ earlier: true, matrices: [] }, null, 2)}\n`);
    for (const f of SPECTRUM_FILES)
      writeFileSync(join(out, f), f.endsWith('.json') ? `{ "earlier": "${f}" }\n` : `# the earlier complete scan's ${f}\n`);
    for (const f of filesUnder(out)) before.set(f, readFileSync(join(out, f), 'utf8'));
  }
  const label = JSON.stringify(t);
  const started = Date.now();
  // cwd: the trial's folder, so that a file written beside --out would show there
  const child = spawn(process.execPath, [bin, 'scan', model, '--out', out, '--threads', '1', '--model-name', 'm', '--percent', '25'], {
    cwd: where,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  const firstLine = new Promise<void>((resolve) =>
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('\n')) resolve();
    }),
  );
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let hung = false;
  const watchdog = setTimeout(() => {
    hung = true;
    child.kill('SIGKILL');
  }, WATCHDOG_MS);
  const act = async () => {
    await Promise.race([t.after === 'first line' ? firstLine : Promise.resolve(), exited]);
    await sleep(t.delayMs);
    const signals = { SIGINT: 1, 'SIGINT twice': 2, 'SIGINT three times': 3, SIGTERM: 1 } as Partial<Record<Action, number>>;
    if (signals[t.action]) {
      for (let i = 0; i < signals[t.action]!; i++) {
        if (i > 0) await sleep(t.gapMs);
        child.kill(t.action === 'SIGTERM' ? 'SIGTERM' : 'SIGINT');
      }
    } else if (t.action === 'grow') appendFileSync(model, new Uint8Array(4096).fill(7));
    else if (t.action === 'overwrite') writeFileSync(model, rewrite.bytes);
    else unlinkSync(model);
  };
  await Promise.all([act(), exited]);
  const { code, signal } = await exited;
  clearTimeout(watchdog);
  if (process.env.SW_FUZZ_LOG) process.stderr.write(`${label} → ${code ?? signal} after ${Date.now() - started} ms\n`);

  expect(hung, `${label}: the process did not exit\n${stderr}`).toBe(false);
  // exited by its own code, or by the signal's default action before its handlers were installed
  if (code === null) expect(['SIGINT', 'SIGTERM'], label).toContain(signal);
  else expect([0, 2, 130, 143], `${label}\n${stderr}`).toContain(code);

  // nothing beside --out but the checkpoint (if not deleted); nothing temporary inside it
  expect(
    readdirSync(where).filter((f) => f !== 'out' && f !== 'model.safetensors'),
    label,
  ).toEqual([]);
  const written = filesUnder(out);
  expect(
    written.filter((f) => /(^|\/)\./.test(f) || f.endsWith('.tmp')),
    label,
  ).toEqual([]);

  for (const f of written.filter((x) => x.endsWith('.json'))) {
    const text = readFileSync(join(out, f), 'utf8');
    let parsed: unknown;
    expect(() => (parsed = JSON.parse(text)), `${label}: ${f} does not parse`).not.toThrow();
    if (!f.endsWith('metrics.json') || before.get(f) === text) continue;
    const m = parsed as Metrics;
    if ('complete' in m) {
      expect(m.complete, `${label}: ${f}`).toBe(false);
      expect(Array.isArray(m.not_analysed), `${label}: ${f}`).toBe(true);
    }
    // every matrix is accounted for, and all analysed ones come from one model, never a mix
    const accounted = new Set([...m.matrices.map((r) => r.name), ...m.errors.flatMap((e) => (e.tensor ? [e.tensor] : []))]);
    for (const x of Array.isArray(m.not_analysed) ? (m.not_analysed as string[]) : []) accounted.add(x);
    expect([...accounted].sort(), `${label}: ${f}`).toEqual([...names].sort());
    const from = (ref: { norms: number[] }) =>
      m.matrices.every((r) => r.frobenius !== null && Math.abs(r.frobenius / ref.norms[names.indexOf(r.name)] - 1) < 1e-6);
    expect(from(original) || from(rewrite), `${label}: ${f} mixes two models\n${stderr}`).toBe(true);
  }

  // a complete earlier result stays, byte for byte, unless a complete run replaced it
  if (t.earlier) {
    const now = readFileSync(join(out, 'metrics.json'), 'utf8');
    if (now !== before.get('metrics.json')) {
      expect((JSON.parse(now) as Metrics).complete, `${label}: a partial result replaced a complete one`).toBeUndefined();
    } else {
      for (const f of SPECTRUM_FILES) expect(readFileSync(join(out, f), 'utf8'), `${label}: ${f}`).toBe(before.get(f));
    }
  }
}

describe('interrupted runs, fuzzed', () => {
  it(`keeps its promises over ${TRIALS} seeded trials (seed ${SEED})`, { timeout: 600_000 }, async () => {
    const trials = drawTrials(SEED);
    for (let i = 0; i < trials.length; i += AT_ONCE) await Promise.all(trials.slice(i, i + AT_ONCE).map(runTrial));
  });
});
