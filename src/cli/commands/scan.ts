import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openCheckpoint, type CheckpointInfo } from '../../core/formats/checkpoint.ts';
import { modelName } from '../../core/naming/model-name.ts';
import { writeMetricsCsv } from '../../core/exports/csv.ts';
import { writeMetricsJson } from '../../core/exports/metrics-json.ts';
import { spectrumFiles } from '../../core/exports/spectrum-bundle.ts';
import type { SpectrumVariant } from '../../core/metrics/spectrum.ts';
import { planScan, type ScanPlan } from '../../core/scan/plan.ts';
import type { RunScanResult } from '../../core/scan/run.ts';
import type { ScanMode } from '../../core/scan/record.ts';
import { choice, option, percents, UsageError, type ParsedArgs } from '../args.ts';
import { fileSource } from '../file-source.ts';
import { resolveCheckpoint } from '../inputs.ts';
import { cliScanPool, type CliScanPool } from '../pool.ts';
import { scanOnPool } from '../../workers/scan-pool.ts';
import { progressPrinter } from '../progress-line.ts';

export interface ScanSettings {
  out: string;
  percents: number[];
  variant: SpectrumVariant;
  mode: ScanMode;
  engine: 'auto' | 'webgpu' | 'cpu';
  only?: RegExp;
  modelName?: string;
  threads?: number;
  quiet: boolean;
  /** also write metrics.csv, one row per matrix */
  csv: boolean;
}

export function scanSettings(args: ParsedArgs): ScanSettings {
  const out = option(args, 'out');
  if (!out) throw new UsageError('scan needs --out DIR');
  const only = option(args, 'only');
  const threads = option(args, 'threads');
  const modelName = option(args, 'model-name');
  return {
    out,
    percents: percents(args, [25]),
    variant: choice(args, 'spectrum-variant', ['current', 'legacy'] as const, 'current'),
    mode: choice(args, 'mode', ['exact', 'fast'] as const, 'exact'),
    engine: choice(args, 'engine', ['auto', 'webgpu', 'cpu'] as const, 'auto'),
    ...(only ? { only: new RegExp(only) } : {}),
    ...(modelName ? { modelName } : {}),
    ...(threads ? { threads: Math.max(1, Math.floor(Number(threads)) || 1) } : {}),
    quiet: args.options.has('quiet'),
    csv: args.options.has('csv'),
  };
}

/** Scan one checkpoint (its files are written by writeResults). */
export async function scanCheckpoint(
  inputs: string[],
  s: ScanSettings,
  signal?: AbortSignal,
  sharedPool?: CliScanPool,
): Promise<RunScanResult> {
  const input = await resolveCheckpoint(inputs);
  const sources = await Promise.all([...input.paths.values()].map((p) => fileSource(p)));
  try {
    const opened = await openCheckpoint(sources, s.modelName);
    // --model-name, else the model's own name (config.json, the Hugging Face cache layout), else the folder or file
    const ckpt = { ...opened, name: s.modelName ?? modelName(opened.config, input.folder, input.name) };
    // derived matrices (fused splits, LoRA) name their operands' files by the path a worker opens
    const plan = planScan(ckpt, { ...(s.only ? { only: s.only } : {}), refOf: (file) => input.paths.get(file) ?? file });
    return await runPlan(ckpt, plan, (file) => input.paths.get(file)!, s, signal, sharedPool);
  } finally {
    await Promise.all(sources.map((x) => x.close?.()));
  }
}

/**
 * Run a scan plan on the pool for `--engine` (or one shared by several scans), with progress and
 * errors on stderr. `pathOf`: the path a worker opens for a job's file (its derivations carry their own).
 */
export async function runPlan(
  ckpt: Pick<CheckpointInfo, 'name' | 'errors' | 'missing'>,
  plan: ScanPlan,
  pathOf: (file: string) => string,
  s: ScanSettings,
  signal?: AbortSignal,
  sharedPool?: CliScanPool,
): Promise<RunScanResult> {
  const pool = sharedPool ?? cliScanPool(s.engine, s.threads);
  const status = await pool.ready;
  if (s.engine === 'webgpu' && status.kind !== 'webgpu') process.stderr.write(`WebGPU was asked for: ${status.note}\n`);
  if (!s.quiet) {
    process.stderr.write(
      `${ckpt.name}: ${plan.jobs.length} matrices to analyse (${plan.skipped.length} skipped, ${plan.unmapped.length} unmapped) on the ${status.note}\n`,
    );
  }
  for (const e of ckpt.errors) process.stderr.write(`error: ${e.message}\n`);
  const progress = progressPrinter();
  try {
    const result = await scanOnPool(pool, ckpt, plan, {
      refOf: pathOf,
      mode: s.mode,
      signal,
      onProgress: s.quiet ? undefined : (p) => progress.update(p),
      onError: (e) => {
        progress.done();
        process.stderr.write(`error: ${e.message}\n`);
      },
      // A lost GPU device: that worker went on on the CPU (records say which engine made them).
      onEngineChange: (now) => {
        progress.done();
        process.stderr.write(`note: ${now.note}\n`);
      },
    });
    progress.done();
    return result;
  } finally {
    if (!sharedPool) await pool.close();
  }
}

export async function writeResults(
  result: RunScanResult,
  s: Pick<ScanSettings, 'out' | 'percents' | 'variant' | 'csv'>,
): Promise<string[]> {
  await mkdir(s.out, { recursive: true });
  const files = [
    { name: 'metrics.json', text: writeMetricsJson(result, s.variant) },
    ...(s.csv ? [{ name: 'metrics.csv', text: writeMetricsCsv(result.records, s.variant) }] : []),
    ...spectrumFiles(result, s.percents, s.variant),
  ];
  for (const f of files) await writeFile(join(s.out, f.name), f.text);
  return files.map((f) => f.name);
}
