/**
 * npm run bench:tiny [-- --tensors 200000 --shape 8x8 --threads 2 --no-cli --no-in-process]
 *
 * Memory of a scan of very many tiny matrices: a safetensors file of 200,000 F32 tensors of 8 × 8
 * (`model.layers.N.self_attn.{q,k,v,o}_proj.weight`, 50,000 layers), written to a temporary folder
 * and removed after.
 *
 * - in process: the scan's own loop (runScan over analyzeJob on the CPU engine, no workers), with
 *   process.memoryUsage() after a forced GC every 10,000 records: what the records kept cost per
 *   tensor, apart from the workers and the files written; once keeping each record's singular values
 *   (the page, which draws them) and once without them (runScan's keepSingularValues: false);
 * - the CLI (`scan --engine cpu --threads N --report-memory`): its peak RSS, wall time and the size
 *   of the metrics.json it writes.
 *
 * Not a test: it prints figures and asserts nothing. Run Node with --expose-gc for the in-process
 * figures (the script re-runs itself so when it was started without).
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileSource } from '../src/cli/file-source.ts';
import { openCheckpoint } from '../src/core/formats/checkpoint.ts';
import { planScan } from '../src/core/scan/plan.ts';
import { runScan } from '../src/core/scan/run.ts';
import { CpuEngine } from '../src/engine/cpu/cpu-engine.ts';
import { analyzeJob } from '../src/workers/analyze.ts';
import { writeSparseSafetensors, type SparseTensor } from '../test-fixtures/builders/sparse.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc && !process.env.SW_TINY_CHILD) {
  // --expose-gc cannot be set from inside: run this script again under it
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, SW_TINY_CHILD: '1' },
  });
  process.exit(r.status ?? 1);
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const count = Number(arg('tensors', '200000'));
const [rows, cols] = arg('shape', '8x8').split('x').map(Number);
const threads = arg('threads', '2');
const MiB = 2 ** 20;
const root = join(import.meta.dirname, '..');
const mib = (n: number) => `${(n / MiB).toFixed(0)} MiB`;

function tensors(): SparseTensor[] {
  const proj = ['q', 'k', 'v', 'o'];
  return Array.from({ length: count }, (_, i) => ({
    name: `model.layers.${Math.floor(i / 4)}.self_attn.${proj[i % 4]}_proj.weight`,
    dtype: 'F32' as const,
    shape: [rows, cols],
  }));
}

async function inProcess(path: string, keepSingularValues: boolean): Promise<void> {
  console.log(`in process, ${keepSingularValues ? 'keeping' : 'without'} each record's singular values:`);
  gc?.();
  const before = process.memoryUsage();
  const source = await fileSource(path);
  const ckpt = await openCheckpoint([source]);
  const plan = planScan(ckpt);
  gc?.();
  const planned = process.memoryUsage();
  const held = (m: NodeJS.MemoryUsage) => m.heapUsed + m.arrayBuffers;
  console.log(
    `  ${plan.jobs.length} jobs planned: heap ${mib(planned.heapUsed - before.heapUsed)} more (${((planned.heapUsed - before.heapUsed) / plan.jobs.length).toFixed(0)} B per tensor for header and plan)`,
  );
  const engine = new CpuEngine();
  let done = 0;
  let last = held(planned);
  const started = performance.now();
  const result = await runScan(ckpt, plan, {
    engine: 'cpu',
    mode: 'exact',
    concurrency: 1,
    keepSingularValues,
    run: (job) => analyzeJob(job, source, engine),
    onRecord: () => {
      if (++done % 10_000 !== 0) return;
      gc?.();
      const m = process.memoryUsage();
      console.log(
        `  ${String(done).padStart(7)} records: heap ${mib(m.heapUsed)}, array buffers ${mib(m.arrayBuffers)}, rss ${mib(m.rss)}; ${((held(m) - last) / 10_000).toFixed(0)} B per record in the last 10k`,
      );
      last = held(m);
    },
  });
  gc?.();
  const end = process.memoryUsage();
  console.log(
    `  ${result.records.length} records in ${((performance.now() - started) / 1e3).toFixed(1)} s; held by the scan (heap and array buffers) ${mib(held(end) - held(planned))}, ${((held(end) - held(planned)) / result.records.length).toFixed(0)} B per record`,
  );
  await source.close?.();
}

async function cli(path: string, out: string): Promise<void> {
  const args = [
    join(root, 'bin/spectral-workbench.js'),
    'scan',
    path,
    '--out',
    out,
    '--engine',
    'cpu',
    '--threads',
    threads,
    '--report-memory',
    '--quiet',
  ];
  const started = performance.now();
  const r = await promisify(execFile)(process.execPath, args, { cwd: root, maxBuffer: 64 * MiB }).then(
    (x) => ({ code: 0, stderr: x.stderr }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );
  const seconds = (performance.now() - started) / 1e3;
  const peak = /peak RSS (\d+) MiB/.exec(r.stderr)?.[1] ?? '?';
  const size = statSync(join(out, 'metrics.json'), { throwIfNoEntry: false })?.size;
  console.log(
    `CLI (--threads ${threads}): exit ${r.code}, ${seconds.toFixed(1)} s, peak RSS ${peak} MiB, metrics.json ${size === undefined ? 'missing' : mib(size)}`,
  );
  if (r.code !== 0) console.log(r.stderr.slice(-2000));
}

const tmp = mkdtempSync(join(tmpdir(), 'sw-tiny-'));
try {
  const path = join(tmp, 'tiny.safetensors');
  const file = writeSparseSafetensors(path, tensors(), () => true);
  console.log(`${count} tensors of ${rows} × ${cols} F32: ${mib(file.size)} file`);
  if (!process.argv.includes('--no-in-process')) {
    await inProcess(path, true);
    await inProcess(path, false);
  }
  if (!process.argv.includes('--no-cli')) await cli(path, join(tmp, 'out'));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
