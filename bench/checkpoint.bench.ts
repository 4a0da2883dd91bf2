/**
 * npm run bench:checkpoint [-- --small] [--layers N] [--vocab N] [--passes 3] [--threads N] [--one-worker-too] [--no-cli] [--no-page] [--no-python] [--python PATH]
 * npm run bench:checkpoint -- --write-only FILE   (writes the checkpoint to FILE and stops: for profiling one path alone)
 *
 * A whole checkpoint, scanned three ways in the same run, interleaved pass by pass:
 *
 * - the CLI: `scan FILE --engine cpu` (one worker per core unless --threads), wall time and peak RSS (/usr/bin/time);
 * - the page: built and served by `vite preview`, in Debian's chromium (headless, `?engine=cpu`), the file given to the
 *   file input until the progress line says Done; a PerformanceObserver for 'longtask' counts the main thread's tasks
 *   over 50 ms while it scans, and the renderer's peak RSS is sampled from /proc;
 * - Spectrum's own path, when python3 (or --python PATH) has torch or numpy (`bench/numpy_svdvals.py --checkpoint`): each 2-D tensor to
 *   float32, then `torch.linalg.svdvals` (what spectrum.py runs), or without torch NumPy's float64 Gram + `eigvalsh`
 *   (the algorithm of our CPU engine, in LAPACK), with as many BLAS threads as the CLI has workers.
 *
 * The checkpoint is synthetic and seeded (bench/synthetic-checkpoint.ts): Qwen2.5-0.5B's tensors (24 layers, hidden 896, MLP 4864, 14 / 2 heads,
 * the full 151,936 vocabulary, tied embeddings, bf16: 988 MB), each matrix Gaussian plus a few planted rank-one
 * spikes above the Marchenko–Pastur edge (so that Spectrum's SNR has signal to find). `--small` writes 4 layers and
 * a 16,384 vocabulary (about 130 MB) for quick comparisons. It is written to a temporary folder, removed after.
 *
 * `--one-worker-too` runs the CLI on one worker too, each pass, and prints how the scan scales; with `--layers 0` the
 * checkpoint is the embedding alone (151,936 × 896), one matrix whose Gram parts idle workers sum (core/gram-parts.ts).
 *
 * Each figure is the min and median of --passes runs. Not a test: it prints figures and asserts nothing.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from '@playwright/test';
import { chromiumProcesses, rssMiB } from '../e2e/memory.ts';
import { writeCheckpoint } from './synthetic-checkpoint.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);
const small = flag('small');
const layers = Number(arg('layers', small ? '4' : '24'));
const vocab = Number(arg('vocab', small ? '16384' : '151936'));
const passes = Number(arg('passes', '3'));
/** also the CLI on one worker, each pass: how the scan scales over workers (with --layers 0, how one matrix does) */
const oneWorkerToo = flag('one-worker-too');
const threads = Number(arg('threads', String(availableParallelism())));
/** the interpreter for Spectrum's path: Debian's /usr/bin/python3 has python3-torch where a pyenv one may not */
const python = arg('python', 'python3');
const root = join(import.meta.dirname, '..');
const bin = join(root, 'bin/spectral-workbench.js');

interface Run {
  ms: number;
  peakMiB: number;
  note?: string;
  /** σ_max per tensor name, from the run's output */
  sigmaMax?: Map<string, number>;
}

/** Runs a command under /usr/bin/time: its wall time and peak RSS; rejects when it fails. */
async function timedProcess(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run & { stdout: string }> {
  const timeFile = join(tmp, 'time.txt');
  const started = performance.now();
  const { stdout } = await promisify(execFile)('/usr/bin/time', ['-o', timeFile, '-f', '%M', command, ...args], {
    cwd: root,
    env,
    maxBuffer: 64 * 2 ** 20,
  }).catch((e: { code?: number; stderr?: string }) => {
    throw new Error(`${command} ${args.join(' ')}: exit ${e.code}\n${e.stderr?.slice(-2000) ?? ''}`);
  });
  const ms = performance.now() - started;
  const kb = Number(readFileSync(timeFile, 'utf8').trim().split('\n').at(-1));
  return { ms, peakMiB: kb / 1024, stdout };
}

async function cliRun(file: string, pass: number, workers = threads): Promise<Run> {
  const out = join(tmp, `cli-${pass}-${workers}`);
  const run = await timedProcess(process.execPath, [
    bin,
    'scan',
    file,
    '--out',
    out,
    '--engine',
    'cpu',
    '--threads',
    String(workers),
    '--quiet',
    '--force',
  ]);
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { matrices: { name: string; sigma_max: number | null }[] };
  const sigmaMax = new Map(metrics.matrices.flatMap((m) => (m.sigma_max === null ? [] : [[m.name, m.sigma_max] as [string, number]])));
  return { ms: run.ms, peakMiB: run.peakMiB, sigmaMax };
}

/** python3 with torch or numpy: which, or null. */
async function pythonBackend(): Promise<string | null> {
  const probe = async (mod: string) =>
    promisify(execFile)(python, ['-c', `import ${mod}`]).then(
      () => true,
      () => false,
    );
  if (await probe('torch')) return 'torch';
  if (await probe('numpy')) return 'numpy';
  return null;
}

async function pythonRun(file: string): Promise<Run> {
  const env = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
  const r = await timedProcess(python, [join(root, 'bench/numpy_svdvals.py'), '--checkpoint', file, '--threads', String(threads)], env);
  const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { method: string; matrices: number; sigma_max: Record<string, number> };
  return {
    ms: r.ms,
    peakMiB: r.peakMiB,
    note: `${result.method}, ${result.matrices} matrices`,
    sigmaMax: new Map(Object.entries(result.sigma_max)),
  };
}

interface PageSession {
  browser: Browser;
  url: string;
  close(): Promise<void>;
}

async function startPage(): Promise<PageSession> {
  const outDir = join(tmp, 'dist');
  await promisify(execFile)(
    process.execPath,
    [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'error', '--outDir', outDir, '--emptyOutDir'],
    { cwd: root },
  );
  const port = 4300 + Math.floor(Math.random() * 500);
  const server = spawn(
    process.execPath,
    [join(root, 'node_modules/vite/bin/vite.js'), 'preview', '--outDir', outDir, '--port', String(port), '--strictPort'],
    { cwd: root, stdio: 'ignore' },
  );
  const url = `http://localhost:${port}/?engine=cpu${threads !== availableParallelism() ? `&workers=${threads}` : ''}`;
  for (let i = 0; ; i++) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 300) throw new Error(`vite preview did not answer on port ${port}`);
    await new Promise((done) => setTimeout(done, 100));
  }
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' });
  return {
    browser,
    url,
    async close() {
      await browser.close();
      server.kill();
    },
  };
}

interface PageRun extends Run {
  longTasks: number;
  longestMs: number;
}

/** The main thread's long tasks (over 50 ms) from the moment `window.__benchLongTasks` is reset. */
const LONG_TASK_OBSERVER = `
  window.__benchLongTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__benchLongTasks.push(e.duration);
  }).observe({ type: 'longtask', buffered: true });
`;

async function pageRun(session: PageSession, file: string): Promise<PageRun> {
  const context = await session.browser.newContext({ viewport: { width: 1400, height: 1000 } }); // an empty cache
  try {
    await context.addInitScript(LONG_TASK_OBSERVER);
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(session.url);
    // the demo opens first: wait until it is done so that what follows is this file's scan alone
    await page.getByRole('tab', { name: /phase3-15pct/ }).click({ timeout: 120_000 });
    await page.waitForFunction(
      () => /^(Done|From the cache)/.test(document.querySelector('.progress strong')?.textContent ?? ''),
      undefined,
      {
        timeout: 300_000,
      },
    );
    const procs = await chromiumProcesses(session.browser);
    let peakMiB = 0;
    const sampler = setInterval(() => {
      let sum = 0;
      for (const p of procs) if (p.type === 'renderer') sum += rssMiB(p.pid) ?? 0;
      peakMiB = Math.max(peakMiB, sum);
    }, 100);
    await page.evaluate(() => {
      (window as unknown as { __benchLongTasks: number[] }).__benchLongTasks = [];
    });
    const started = performance.now();
    await page.getByTestId('file-input').setInputFiles(file);
    const tabName = /synthetic-qwen/;
    await page.getByRole('tab', { name: tabName, selected: true }).waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => document.querySelector('.progress strong')?.textContent === 'Done', undefined, {
      timeout: 1_800_000,
      polling: 50,
    });
    const ms = performance.now() - started;
    clearInterval(sampler);
    const tasks = await page.evaluate(() => (window as unknown as { __benchLongTasks: number[] }).__benchLongTasks);
    const line = ((await page.locator('.progress').textContent()) ?? '').replace(/\s+/g, ' ').trim();
    return { ms, peakMiB, longTasks: tasks.length, longestMs: Math.max(0, ...tasks), note: line };
  } finally {
    await context.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const s = (ms: number) => `${(ms / 1e3).toFixed(2)} s`;

const writeOnly = arg('write-only', '');
if (writeOnly) {
  const { bytes, matrices } = writeCheckpoint(writeOnly, { layers, vocab });
  console.log(`${writeOnly}: ${(bytes / 1e6).toFixed(0)} MB, ${matrices} matrices`);
  process.exit(0);
}

const tmp = mkdtempSync(join(tmpdir(), 'sw-checkpoint-bench-'));
try {
  const file = join(tmp, small ? 'synthetic-qwen2.5-0.5b-small.safetensors' : 'synthetic-qwen2.5-0.5b.safetensors');
  const t0 = performance.now();
  const { bytes, matrices } = writeCheckpoint(file, { layers, vocab });
  const mb = bytes / 1e6;
  console.log(
    `synthetic Qwen2.5-0.5B-shaped checkpoint: ${layers} layers, vocab ${vocab}, bf16, ${mb.toFixed(0)} MB, ${matrices} matrices ` +
      `(written in ${s(performance.now() - t0)}); ${threads} workers / BLAS threads; ${passes} passes, interleaved; ` +
      `load average at start ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
  );
  const backend = flag('no-python') ? null : await pythonBackend();
  const session = flag('no-page') ? null : await startPage();
  const runs: Record<string, Run[]> = { cli: [], cli1: [], page: [], python: [] };
  try {
    for (let pass = 0; pass < passes; pass++) {
      if (!flag('no-cli')) runs.cli.push(await cliRun(file, pass));
      if (oneWorkerToo) runs.cli1.push(await cliRun(file, pass, 1));
      if (session) runs.page.push(await pageRun(session, file));
      if (backend) runs.python.push(await pythonRun(file));
      const last = Object.entries(runs)
        .filter(([, rs]) => rs.length > pass)
        .map(([k, rs]) => `${k} ${s(rs[pass].ms)}`);
      console.error(`pass ${pass + 1}: ${last.join(', ')}; load ${loadavg()[0].toFixed(2)}`);
    }
  } finally {
    await session?.close();
  }
  const label: Record<string, string> = {
    cli: `CLI scan (CPU engine, ${threads} workers)`,
    cli1: `CLI scan (CPU engine, 1 worker)`,
    page: `page (headless chromium, ?engine=cpu)`,
    python: `Spectrum-style path (${backend === 'torch' ? 'torch.linalg.svdvals, f32' : 'NumPy f64 Gram + eigvalsh'})`,
  };
  console.log(
    `${'path'.padEnd(52)}  ${'min'.padStart(9)}  ${'median'.padStart(9)}  ${'MB/s'.padStart(6)}  ${'peak MiB'.padStart(8)}  all passes`,
  );
  for (const [k, rs] of Object.entries(runs)) {
    if (rs.length === 0) continue;
    const ms = rs.map((r) => r.ms);
    console.log(
      `${label[k].padEnd(52)}  ${s(Math.min(...ms)).padStart(9)}  ${s(median(ms)).padStart(9)}  ${(mb / (median(ms) / 1e3)).toFixed(1).padStart(6)}  ` +
        `${Math.max(...rs.map((r) => r.peakMiB))
          .toFixed(0)
          .padStart(8)}  ${ms.map(s).join(', ')}`,
    );
  }
  if (runs.page.length > 0) {
    const pr = runs.page as PageRun[];
    console.log(
      `page main thread: long tasks (> 50 ms) per scan ${pr.map((r) => r.longTasks).join(', ')}; longest ${pr.map((r) => `${r.longestMs.toFixed(0)} ms`).join(', ')}`,
    );
    console.log(`page's last progress line: ${pr.at(-1)!.note}`);
  }
  if (backend) console.log(`python: ${runs.python.at(-1)!.note}`);
  const ours = runs.cli.at(-1)?.sigmaMax,
    theirs = runs.python.at(-1)?.sigmaMax;
  if (ours && theirs) {
    let worst = 0,
      compared = 0;
    for (const [name, v] of theirs) {
      const o = ours.get(name);
      if (o === undefined) continue;
      compared++;
      worst = Math.max(worst, Math.abs(o - v) / v);
    }
    console.log(`σ_max, CLI against the Python path: ${compared} matrices compared, largest relative difference ${worst.toExponential(1)}`);
  }
  const ratio = (a: Run[], b: Run[]) => (a.length && b.length ? (median(a.map((r) => r.ms)) / median(b.map((r) => r.ms))).toFixed(2) : '-');
  const pairs = (a: Run[], b: Run[]) =>
    a
      .slice(0, Math.min(a.length, b.length))
      .map((r, i) => (r.ms / b[i].ms).toFixed(2))
      .join(', ');
  console.log(`ratios of medians (< 1: the first is faster); per pass in brackets`);
  console.log(`  CLI / Spectrum-style path    ${ratio(runs.cli, runs.python)}  (${pairs(runs.cli, runs.python)})`);
  console.log(`  page / Spectrum-style path   ${ratio(runs.page, runs.python)}  (${pairs(runs.page, runs.python)})`);
  console.log(`  page / CLI                   ${ratio(runs.page, runs.cli)}  (${pairs(runs.page, runs.cli)})`);
  if (oneWorkerToo) console.log(`  CLI, ${threads} workers / 1 worker  ${ratio(runs.cli, runs.cli1)}  (${pairs(runs.cli, runs.cli1)})`);
  console.log(
    `load average at the end ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
