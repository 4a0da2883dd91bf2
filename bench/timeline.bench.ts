/**
 * npm run bench:timeline [-- --passes 3 --engine cpu --threads N --no-cli --no-page]
 *
 * The demo training run (public/demo/timeline: 10 checkpoints of the demo's 16-layer architecture):
 *
 * - the CLI: `timeline public/demo/timeline`, every checkpoint on one worker pool, against the reference measured
 *   in the same run: 10 separate `scan` processes, one per checkpoint, summed (the ratio is what one shared pool
 *   saves: a process, a pool and its workers' start per checkpoint, and the idle tail of each scan);
 * - the page (Debian's chromium, headless, built and served by `vite preview`, `?engine=cpu` unless --engine says
 *   otherwise): the Run view's "Open the demo training run" until its 10 checkpoints are scanned, in a fresh
 *   browser context (an empty cache), and again after a reload, when every checkpoint comes from the page's cache.
 *
 * Each figure is the min and median of --passes runs. Not a test: it prints figures and asserts nothing.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Page } from '@playwright/test';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const passes = Number(arg('passes', '3'));
const engine = arg('engine', 'cpu');
const threads = arg('threads', '');
const root = join(import.meta.dirname, '..');
const run = join(root, 'public/demo/timeline');
const bin = join(root, 'bin/spectral-workbench.js');
const checkpoints = readdirSync(run, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const s = (ms: number) => `${(ms / 1e3).toFixed(2)} s`;
const figures = (xs: number[]) => `min ${s(Math.min(...xs)).padStart(8)}, median ${s(median(xs)).padStart(8)}  (${xs.map(s).join(', ')})`;

/** Milliseconds the CLI takes for `args`, which must succeed. */
async function timed(args: string[]): Promise<number> {
  const options = ['--engine', engine, ...(threads ? ['--threads', threads] : []), '--quiet'];
  const started = performance.now();
  await promisify(execFile)(process.execPath, [bin, ...args, ...options], { cwd: root, maxBuffer: 64 * 2 ** 20 }).catch(
    (e: { code?: number; stderr?: string }) => {
      throw new Error(`${args.join(' ')}: exit ${e.code}\n${e.stderr?.slice(-2000) ?? ''}`);
    },
  );
  return performance.now() - started;
}

async function cli(tmp: string): Promise<void> {
  const timeline: number[] = [];
  const scans: number[] = [];
  for (let pass = 0; pass < passes; pass++) {
    timeline.push(await timed(['timeline', run, '--out', join(tmp, `timeline-${pass}`)]));
    let sum = 0;
    for (const c of checkpoints) sum += await timed(['scan', join(run, c), '--out', join(tmp, `scan-${pass}-${c}`)]);
    scans.push(sum);
  }
  console.log(`CLI (--engine ${engine}${threads ? ` --threads ${threads}` : ''}), ${passes} passes:`);
  console.log(`  timeline of the run (one pool)         ${figures(timeline)}`);
  console.log(`  ${checkpoints.length} separate scans, summed (reference) ${figures(scans)}`);
  console.log(`  timeline / separate scans: ${(median(timeline) / median(scans)).toFixed(2)} (medians)`);
}

/** The run view's reason to be skipped, or null when the page has it. */
function pageMissing(): string | null {
  const view = join(root, 'src/ui/run');
  if (!existsSync(view)) return 'the page has no Run view (src/ui/run/)';
  const files = readdirSync(view).filter((f) => f.endsWith('.tsx'));
  if (!files.some((f) => readFileSync(join(view, f), 'utf8').includes('Open the demo training run')))
    return 'its Run view has no "Open the demo training run" button';
  return null;
}

/** The demo's own scan is done (its checkpoints computed or from the cache): what follows is the run's alone. */
async function demoDone(page: Page): Promise<void> {
  // after a reload the page goes back to the Run view it was on once the workspace is restored, which may come
  // after a first click: the demo's tabs are on the Checkpoint view
  const last = page.getByRole('tab', { name: /phase3-15pct/ });
  for (let i = 0; i < 100 && !(await last.isVisible()); i++) {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Checkpoint' }).click();
    await page.waitForTimeout(200);
  }
  await last.waitFor({ timeout: 120_000 }).catch(async (e: unknown) => {
    const shot = join(tmpdir(), 'bench-timeline-no-demo-tabs.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.error(`the demo's tabs did not show: the page as it was is in ${shot}`);
    throw e;
  });
  await last.click();
  await page.waitForFunction(
    () => /^(Done|From the cache)/.test(document.querySelector('.progress strong')?.textContent ?? ''),
    undefined,
    {
      timeout: 300_000,
    },
  );
}

/** Opens the demo run from the Run view and waits until its checkpoints are scanned: the milliseconds, and the progress line. */
async function openDemoRun(page: Page): Promise<{ ms: number; line: string }> {
  await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Run' }).click();
  const close = page.getByRole('button', { name: 'Close the run' });
  if (await close.isVisible()) await close.click(); // a run the workspace restored: opened again from the start
  const button = page.getByRole('button', { name: 'Open the demo training run' });
  await button.waitFor();
  const started = performance.now();
  await button.click();
  const progress = page.getByTestId('run-progress');
  await page.waitForFunction(
    (n) => {
      const el = document.querySelector('[data-testid="run-progress"]');
      return el?.querySelector('strong')?.textContent === 'Scanned' && (el.textContent ?? '').includes(`${n} / ${n} checkpoints`);
    },
    checkpoints.length,
    { timeout: 600_000, polling: 50 },
  );
  const ms = performance.now() - started;
  return { ms, line: ((await progress.textContent()) ?? '').replace(/\s+/g, ' ').trim() };
}

async function pageBench(tmp: string): Promise<void> {
  const missing = pageMissing();
  if (missing) {
    console.log(`page: skipped, ${missing}`);
    return;
  }
  // the page as users get it: built, then served by `vite preview` in its own process (as the e2e tests do; a
  // server inside this process left the page without its demo tabs)
  const outDir = join(tmp, 'dist');
  await promisify(execFile)(
    process.execPath,
    [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'error', '--outDir', outDir, '--emptyOutDir'],
    {
      cwd: root,
    },
  );
  const port = 4300 + Math.floor(Math.random() * 500);
  const server = spawn(
    process.execPath,
    [join(root, 'node_modules/vite/bin/vite.js'), 'preview', '--outDir', outDir, '--port', String(port), '--strictPort'],
    {
      cwd: root,
      stdio: 'ignore',
    },
  );
  const url = `http://localhost:${port}/?engine=${engine}`;
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
  try {
    const cold: number[] = [];
    const cached: number[] = [];
    let cachedLine = '';
    for (let pass = 0; pass < passes; pass++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } }); // its own, empty, IndexedDB
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
      page.on('console', (m) => m.type() === 'error' && console.error(`page console: ${m.text()}`));
      page.on('requestfailed', (r) => console.error(`page request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
      await page.goto(url);
      await demoDone(page);
      cold.push((await openDemoRun(page)).ms);
      await page.reload();
      await demoDone(page);
      const again = await openDemoRun(page);
      cached.push(again.ms);
      cachedLine = again.line;
      await context.close();
    }
    console.log(`page (headless chromium, ?engine=${engine}), ${passes} passes:`);
    console.log(`  open the demo run, empty cache          ${figures(cold)}`);
    console.log(`  open it again after a reload (cache)    ${figures(cached)}`);
    console.log(`  last reopen said: ${cachedLine}`);
    console.log(`  reopen / first open: ${(median(cached) / median(cold)).toFixed(3)} (medians)`);
  } finally {
    await browser.close();
    server.kill();
  }
}

console.log(`the demo training run: ${checkpoints.length} checkpoints in ${run}`);
const tmp = mkdtempSync(join(tmpdir(), 'sw-timeline-bench-'));
try {
  if (!process.argv.includes('--no-cli')) await cli(tmp);
  if (process.argv.includes('--no-page')) console.log('page: skipped (--no-page)');
  else await pageBench(tmp);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
