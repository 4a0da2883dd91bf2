/**
 * npm run bench:extract-lora
 *
 * The demo end to end (public/demo/phase0-base → phase1-25pct, 147 tensors, 6.6 MB of bf16): the CLI's
 * extract-lora at 90 % energy, rewind of the top 15 % heads and truncate at 95 %, each as its own
 * process under /usr/bin/time (wall time and peak RSS), into a temporary folder removed after; then
 * the adapter's and the truncated checkpoint's sizes, and a scan of each output (it opens, 0 errors).
 *
 * The time is mostly the randomized SVD of each changed matrix (28 of 128 × 128 to 352 × 128) and the
 * process start (tsx compiling the CLI); peak memory is the process's, not only the matrices'.
 * Not a test: it prints figures and asserts nothing.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'bin/spectral-workbench.js');
const demo = (p: string) => join(root, 'public/demo', `${p}.safetensors`);
const tmp = mkdtempSync(join(tmpdir(), 'sw-bench-rewrite-'));

async function timed(args: string[]): Promise<{ s: number; peakMiB: number; stderr: string }> {
  const timeFile = join(tmp, 'time.txt');
  const started = performance.now();
  const { stderr } = await promisify(execFile)('/usr/bin/time', ['-o', timeFile, '-f', '%M', process.execPath, bin, ...args], {
    cwd: root,
    maxBuffer: 1 << 26,
  }).catch((e: { code?: number; stderr?: string }) => {
    throw new Error(`${args.join(' ')}: exit ${e.code}\n${e.stderr?.slice(-2000) ?? ''}`);
  });
  const s = (performance.now() - started) / 1000;
  const kb = Number(readFileSync(timeFile, 'utf8').trim().split('\n').at(-1));
  return { s, peakMiB: kb / 1024, stderr };
}

const base = demo('phase0-base');
const ft = demo('phase1-25pct');
const runs: [string, string[], string][] = [
  ['extract-lora --energy 0.9', ['extract-lora', base, ft, '--energy', '0.9', '--quiet'], 'adapter_model.safetensors'],
  ['rewind --heads 15%', ['rewind', base, ft, '--heads', '15%'], 'phase1-25pct.safetensors'],
  ['truncate --energy 0.95', ['truncate', base, ft, '--energy', '0.95', '--quiet'], 'phase1-25pct.safetensors'],
];
try {
  // one empty start first: the first tsx start compiles and caches, the runs below start warm
  await timed(['version']);
  const start = await timed(['version']);
  console.log(`process start (tsx, warm): ${start.s.toFixed(2)} s, ${start.peakMiB.toFixed(0)} MiB`);
  console.log(`${'command'.padEnd(28)}  ${'wall s'.padStart(7)}  ${'peak MiB'.padStart(8)}  ${'output MB'.padStart(9)}  re-scan`);
  for (const [label, args, file] of runs) {
    const out = join(tmp, label.split(' ')[0]);
    const r = await timed([...args, '--out', out]);
    const size = statSync(join(out, file)).size / 1e6;
    const scan = await timed(['scan', out, '--out', join(out, 'scan'), '--threads', '1']);
    const line = scan.stderr.trim().split('\n').at(-1) ?? '';
    console.log(
      `${label.padEnd(28)}  ${r.s.toFixed(2).padStart(7)}  ${r.peakMiB.toFixed(0).padStart(8)}  ${size.toFixed(3).padStart(9)}  ${line}`,
    );
    if (label.startsWith('extract')) {
      const report = JSON.parse(readFileSync(join(out, 'extract-lora-report.json'), 'utf8')) as {
        modules: { module: string; rank: number }[];
        r: number;
      };
      console.log(
        `  ranks at 90 %: ${report.modules.map((m) => `${m.module.replace('model.layers.', 'L').replace(/self_attn\.|mlp\./, '')} ${m.rank}`).join(', ')}`,
      );
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
