import type { ErrorRecord } from '../../core/errors.ts';
import { openCheckpoint, type CheckpointInfo } from '../../core/formats/checkpoint.ts';
import { modelName } from '../../core/naming/model-name.ts';
import { writeMetricsCsv } from '../../core/exports/csv.ts';
import { writeMetricsJson } from '../../core/exports/metrics-json.ts';
import { spectrumFiles, type ExportFile } from '../../core/exports/spectrum-bundle.ts';
import { spectrumEntries, spectrumYamlFileName, spectrumYamlRefusals } from '../../core/exports/spectrum-files.ts';
import type { SpectrumVariant } from '../../core/metrics/spectrum.ts';
import { adapterConfigErrors } from '../../core/scan/plan-lora.ts';
import { planScan, type ScanPlan } from '../../core/scan/plan.ts';
import { withFarms } from '../../core/metrics/farms.ts';
import { planResult, type RunScanResult } from '../../core/scan/run.ts';
import type { EngineKind, MatrixRecord, ScanMode } from '../../core/scan/record.ts';
import { spectrumModules } from '../../core/scan/result.ts';
import { selectTopPercent } from '../../core/selection/select.ts';
import { choice, memoryBudget, option, percents, threads, UsageError, type ParsedArgs } from '../args.ts';
import { fileSource, type FileByteSource } from '../file-source.ts';
import { resolveCheckpoint } from '../inputs.ts';
import { ensureFolder, markIncomplete, resultFolder, writeFilesAtomically } from '../output.ts';
import { cliScanPool, type CliScanPool } from '../pool.ts';
import { whenAborted, type ScanStop } from '../signals.ts';
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
  /** bytes the jobs running at once may hold (default: cliScanPool's) */
  memoryBudget?: number;
  quiet: boolean;
  /** also write metrics.csv, one row per matrix */
  csv: boolean;
  /** also FARMS alpha (alpha_farms) for every matrix */
  farms?: boolean;
  /** a scan stopped early replaces a complete result in `out` (else its files go to out/partial-<time>/) */
  force: boolean;
}

export function scanSettings(args: ParsedArgs): ScanSettings {
  const out = option(args, 'out');
  if (!out) throw new UsageError(`${args.command ?? 'scan'} needs --out DIR`);
  const only = option(args, 'only');
  const threadCount = threads(args);
  const budget = memoryBudget(args);
  const modelName = option(args, 'model-name');
  return {
    out,
    percents: percents(args, [25]),
    variant: choice(args, 'spectrum-variant', ['current', 'legacy'] as const, 'current'),
    mode: choice(args, 'mode', ['exact', 'fast'] as const, 'exact'),
    engine: choice(args, 'engine', ['auto', 'webgpu', 'cpu'] as const, 'auto'),
    ...(only !== undefined ? { only: onlyPattern(only) } : {}),
    ...(modelName ? { modelName } : {}),
    ...(threadCount !== undefined ? { threads: threadCount } : {}),
    ...(budget !== undefined ? { memoryBudget: budget } : {}),
    quiet: args.options.has('quiet'),
    csv: args.options.has('csv'),
    ...(args.options.has('farms') ? { farms: true } : {}),
    force: args.options.has('force'),
  };
}

function onlyPattern(source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (e) {
    throw new UsageError(`--only is not a valid regular expression (got "${source}"): ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A scan's result as the CLI writes it: what it did not reach when it stopped early. */
export interface CliScanResult extends RunScanResult {
  /** the matrices of the plan a cancelled scan did not analyse (empty when it ran to the end) */
  notAnalysed: string[];
}

/** Each file's ref for the workers (its path and the state its header was read from), by file name. */
export function fileRefs(paths: ReadonlyMap<string, string>, sources: readonly FileByteSource[]): Map<string, string> {
  return new Map([...paths.keys()].map((file, i) => [file, sources[i].ref]));
}

/** Scan one checkpoint (its files are written by writeResults). */
export async function scanCheckpoint(inputs: string[], s: ScanSettings, stop?: ScanStop, sharedPool?: CliScanPool): Promise<CliScanResult> {
  const input = await resolveCheckpoint(inputs);
  const sources = await Promise.all([...input.paths.values()].map((p) => fileSource(p)));
  try {
    const opened = await openCheckpoint(sources, s.modelName);
    // --model-name, else the model's own name (config.json, the Hugging Face cache layout), else the folder or file
    const ckpt = {
      ...opened,
      name: s.modelName ?? modelName(opened.config, input.folder, input.name),
      errors: [...input.errors, ...opened.errors, ...adapterConfigErrors(opened.adapterConfig)],
    };
    // derived matrices (fused splits, LoRA) name their operands' files by what a worker opens
    const refs = fileRefs(input.paths, sources);
    const planned = planScan(ckpt, { ...(s.only ? { only: s.only } : {}), refOf: (file) => refs.get(file) ?? file });
    const plan = s.farms ? withFarms(planned) : planned;
    return await runPlan(ckpt, plan, (file) => refs.get(file)!, s, stop, sharedPool);
  } finally {
    await Promise.all(sources.map((x) => x.close?.()));
  }
}

/**
 * Run a scan plan on the pool for `--engine` (or one shared by several scans), with progress and
 * errors on stderr. `pathOf`: the path a worker opens for a job's file (its derivations carry their own).
 * A stop at once (`stop.now`) returns the records made so far without waiting for the jobs in progress,
 * and kills the pool's threads (a shared pool too: the command is ending).
 */
export async function runPlan(
  ckpt: Pick<CheckpointInfo, 'name' | 'errors' | 'missing'>,
  plan: ScanPlan,
  pathOf: (file: string) => string,
  s: ScanSettings,
  stop?: ScanStop,
  sharedPool?: CliScanPool,
): Promise<CliScanResult> {
  const pool = sharedPool ?? cliScanPool(s.engine, s.threads, s.memoryBudget);
  const progress = progressPrinter();
  // what is done so far, for a stop at once
  const records = new Map<string, MatrixRecord>();
  const errors: ErrorRecord[] = [...ckpt.errors];
  let engine: EngineKind = 'cpu';
  const scan = async (): Promise<RunScanResult> => {
    const status = await pool.ready;
    engine = status.kind;
    if (s.engine === 'webgpu' && status.kind !== 'webgpu') process.stderr.write(`WebGPU was asked for: ${status.note}\n`);
    if (!s.quiet) {
      process.stderr.write(
        `${ckpt.name}: ${plan.jobs.length} matrices to analyse (${plan.skipped.length} skipped, ${plan.unmapped.length} unmapped) on the ${status.note}\n`,
      );
    }
    for (const e of ckpt.errors) process.stderr.write(`error: ${e.message}\n`);
    return scanOnPool(pool, ckpt, plan, {
      refOf: pathOf,
      mode: s.mode,
      // fast mode: exact recomputes where an estimate could change a --percent selection
      refine: { percents: s.percents, variant: s.variant },
      signal: stop?.signal,
      onRecord: (r) => records.set(r.name, r),
      onProgress: s.quiet ? undefined : (p) => progress.update(p),
      onError: (e) => {
        errors.push(e);
        progress.done();
        process.stderr.write(`error: ${e.message}\n`);
      },
      // A lost GPU device: that worker went on on the CPU (records say which engine made them).
      onEngineChange: (now) => {
        progress.done();
        process.stderr.write(`note: ${now.note}\n`);
      },
    });
  };
  const stopNow = stop ? whenAborted(stop.now) : undefined;
  const scanning = scan();
  scanning.catch(() => {}); // once stopped at once, a failure of the abandoned scan is nobody's concern
  try {
    const result = await Promise.race([scanning, ...(stopNow ? [stopNow.aborted.then(() => null)] : [])]);
    progress.done();
    if (result) return { ...result, notAnalysed: result.cancelled ? notReached(plan, result) : [] };
    pool.kill();
    const partial = planResult(ckpt, plan, { engine, mode: s.mode, records, errors, cancelled: true });
    return { ...partial, notAnalysed: notReached(plan, partial) };
  } finally {
    stopNow?.release();
    if (!sharedPool) await pool.close();
  }
}

/** The plan's matrices that have neither a record nor an error of their own. */
function notReached(plan: ScanPlan, result: RunScanResult): string[] {
  const accounted = new Set([
    ...result.records.map((r) => r.name),
    ...result.errors.flatMap((e) => (e.tensor === undefined ? [] : [e.tensor])),
  ]);
  return [...plan.jobs.map((j) => j.name), ...plan.aliases.map((a) => a.name)].filter((n) => !accounted.has(n));
}

/**
 * The selected names each YAML leaves out (axolotl would read them as patterns), as errors: added to the
 * result's errors, so that metrics.json lists them and the exit code says so, and said on stderr.
 */
function addYamlRefusals(result: CliScanResult, percents: readonly number[], variant: SpectrumVariant): void {
  const entries = spectrumEntries(spectrumModules(result.records, variant));
  for (const p of percents) {
    for (const e of spectrumYamlRefusals(selectTopPercent(entries, p), spectrumYamlFileName(result.model, p))) {
      result.errors.push(e);
      process.stderr.write(`error: ${e.message}\n`);
    }
  }
}

/**
 * Write a scan's files, each through a temporary file renamed into place. A scan that stopped early marks
 * metrics.json `"complete": false` with the matrices it did not reach, and does not replace a complete
 * result: its files go to out/partial-<time>/ (said on stderr). With --force its metrics replace the
 * complete ones, but Spectrum's files (JSON, YAMLs) are never written from it over a complete scan's.
 * Returns the folder written.
 */
export async function writeResults(
  result: CliScanResult,
  s: Pick<ScanSettings, 'out' | 'percents' | 'variant' | 'csv' | 'force'>,
): Promise<string> {
  addYamlRefusals(result, s.percents, s.variant);
  const metrics = writeMetricsJson(result, s.variant);
  const files = [
    { name: 'metrics.json', text: result.cancelled ? markIncomplete(metrics, result.notAnalysed) : metrics },
    ...(s.csv ? [{ name: 'metrics.csv', text: writeMetricsCsv(result.records, s.variant) }] : []),
  ];
  return writeRunFiles(s.out, { files, spectrum: spectrumFiles(result, s.percents, s.variant) }, result, s.force, 'metrics.json');
}

/**
 * Where writeResults and compare put a run's files (resultFolder), written atomically; the folder written
 * (made if new). `spectrum`: files a stopped scan writes only where they replace no complete result's.
 */
export async function writeRunFiles(
  out: string,
  run: { files: ExportFile[]; spectrum?: ExportFile[] },
  result: CliScanResult,
  force: boolean,
  marker: string,
): Promise<string> {
  await ensureFolder(out);
  const where = await resultFolder(out, !result.cancelled, force, marker);
  const spectrum = run.spectrum ?? [];
  if (where.note) process.stderr.write(`${where.note}\n`);
  if (where.replacing) {
    const kept = spectrum.length > 0 ? `; Spectrum's files there stay those of the complete scan (a stopped scan never replaces them)` : '';
    process.stderr.write(`replacing the complete result in ${out} with this partial one (--force)${kept}\n`);
  }
  await writeFilesAtomically(where.dir, where.replacing ? run.files : [...run.files, ...spectrum]);
  return where.dir;
}
