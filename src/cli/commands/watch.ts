import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { seconds, UsageError, type ParsedArgs } from '../args.ts';
import { prepareOutputFolder } from '../output.ts';
import { cliScanPool } from '../pool.ts';
import { whenAborted, type ScanStop } from '../signals.ts';
import { scanCheckpoint, scanSettings, writeResults } from './scan.ts';

/** A checkpoint in a training run's output folder: a sub-folder with weights, or a weight file. */
interface Candidate {
  name: string;
  path: string;
  /** total size of its files: a checkpoint still being written changes size between polls */
  size: number;
  complete: boolean;
}

async function candidates(dir: string): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isFile() && entry.name.endsWith('.safetensors')) {
      out.push({ name: entry.name.replace(/\.safetensors$/, ''), path, size: (await stat(path)).size, complete: true });
    } else if (entry.isDirectory()) {
      const files = await readdir(path);
      const weights = files.filter((f) => f.endsWith('.safetensors'));
      if (weights.length === 0) continue;
      let size = 0;
      for (const f of weights) size += (await stat(join(path, f))).size;
      // A sharded checkpoint is complete when every shard its names promise ("-00003-of-00004") is there.
      const shards = weights.map((f) => /-(\d+)-of-(\d+)\.safetensors$/.exec(f)).filter((m) => m !== null);
      const complete = shards.length === 0 || shards.length === Number(shards[0]![2]);
      out.push({ name: entry.name, path, size, complete });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
}

/**
 * `watch DIR --percent 20 --out OUT`: rescan each new checkpoint that appears in a training run's
 * output folder (once its files stop growing) and write the next phase's YAML. `--once` scans
 * what is there and exits. Ctrl-C stops watching (a scan in progress is written as scan writes a partial
 * result, and the exit code says so).
 */
export async function watchCommand(args: ParsedArgs, stop: ScanStop): Promise<number> {
  if (args.positional.length !== 1)
    throw new UsageError('watch needs one folder: the training run output (e.g. checkpoint-500/, checkpoint-1000/)');
  const dir = args.positional[0];
  if (!(await stat(dir).catch(() => null))?.isDirectory()) throw new UsageError(`${dir} is not a folder`);
  const settings = scanSettings(args);
  const interval = seconds(args, 'interval', 10) * 1000;
  await prepareOutputFolder(settings.out);
  const once = args.options.has('once');
  const done = new Set<string>();
  const lastSize = new Map<string, number>();
  const pool = cliScanPool(settings.engine, settings.threads);
  let errors = 0;
  let cut = false;
  try {
    process.stderr.write(`watching ${dir} for new checkpoints (every ${interval / 1000}s; Ctrl-C to stop)\n`);
    while (!stop.signal.aborted) {
      for (const c of await candidates(dir)) {
        if (done.has(c.path)) continue;
        // Scan only when complete and its size held still since the last look (or at once with --once).
        const stable = once || lastSize.get(c.path) === c.size;
        lastSize.set(c.path, c.size);
        if (!c.complete || !stable) continue;
        process.stderr.write(`new checkpoint: ${c.name}\n`);
        const result = await scanCheckpoint([c.path], { ...settings, modelName: c.name }, stop, pool);
        const written = await writeResults(result, { ...settings, out: join(settings.out, c.name) });
        errors += result.errors.length;
        if (result.cancelled) {
          cut = true;
          break;
        }
        done.add(c.path);
        process.stderr.write(`${c.name}: next phase's YAML written to ${written}\n`);
      }
      if (once || stop.signal.aborted) break;
      await sleep(interval, stop.signal);
    }
  } finally {
    await pool.close();
  }
  return cut ? 130 : errors > 0 ? 2 : 0;
}

/** Wait `ms`, or less when `signal` aborts. */
async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  const stopped = whenAborted(signal);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([new Promise((r) => (timer = setTimeout(r, ms))), stopped.aborted]);
  } finally {
    clearTimeout(timer);
    stopped.release();
  }
}
